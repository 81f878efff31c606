/**
 * The dashboard's only door to Vigil: same-origin fetch to the public REST API, the session cookie riding
 * along. Errors arrive as `{"error":{"code","message"}}` and leave as ApiError.
 */
import type { Me, RoleName } from "@vigil/contract";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    credentials: "same-origin",
    headers: init.body === undefined ? {} : { "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const data = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? "HTTP_ERROR", err?.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const post = <T>(path: string, body: unknown = {}) => api<T>(path, { body });

export type { Me };

/** A project-scoped REST path, the form signed-in people use. */
export const projectPath = (projectId: string, rest: string) =>
  `/api/v1/projects/${encodeURIComponent(projectId)}${rest}`;

/** What a role may do in a project, mirroring the API's checks so the screen hides what would be refused. */
export function can(role: RoleName | undefined, action: "write" | "admin"): boolean {
  if (role === "owner" || role === "admin") return true;
  return action === "write" && role === "member";
}
