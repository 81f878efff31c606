import { recordProjectAudit } from "@vigil/engine";
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { AppEnv } from "../env.ts";
import { clientAddress } from "./client.ts";

const VERB_OF_METHOD: Record<string, string> = {
  POST: "create",
  PATCH: "update",
  PUT: "update",
  DELETE: "delete",
};

/** `status-pages` → `status_page`, `api-keys` → `api_key`, `silences` → `silence`. */
function singular(resource: string): string {
  return resource
    .replace(/ies$/, "y")
    .replace(/(?<!s)s$/, "")
    .replace(/-/g, "_");
}

/**
 * Every successful write to a project resource becomes an audit row: who (key or person), what
 * (`channel.update`, `api_key.create`, `check.pause`, `host.delete`…), which row, from where. Bodies are
 * never copied: they can hold webhook secrets and addresses.
 */
export const auditWrites = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!(c.req.method in VERB_OF_METHOD) || c.res.status >= 300) return;
  const principal = c.var.principal;
  if (!principal) return;
  // The handler's pattern (e.g. /api/v1/projects/:projectId/checks/:id/pause) lined up with the path.
  const pattern = routePath(c, -1).split("/").filter(Boolean);
  const actual = c.req.path.split("/").filter(Boolean);
  const start = pattern.includes(":projectId") ? pattern.indexOf(":projectId") + 1 : 2;
  const [resource, idParam, ...rest] = pattern.slice(start);
  if (!resource) return;
  // The last fixed word after the row names the act: checks/:id/pause, runbook-runs/:id/steps/:index/skip.
  const act = rest
    .filter((part) => !part.startsWith(":"))
    .at(-1)
    ?.replace(/-/g, "_");
  const verb = act ?? VERB_OF_METHOD[c.req.method] ?? "change";
  let targetId = idParam?.startsWith(":") ? actual[start + 1] : undefined;
  if (!targetId && c.res.headers.get("content-type")?.includes("json")) {
    const body = (await c.res
      .clone()
      .json()
      .catch(() => null)) as { id?: unknown } | null;
    if (typeof body?.id === "string") targetId = body.id;
  }
  const { db, clock } = c.var.deps;
  await recordProjectAudit(db, clock, principal.projectId, {
    action: `${singular(resource)}.${verb}`,
    actor: principal.actor,
    target: targetId ? { type: singular(resource), id: targetId } : null,
    origin: { ip: clientAddress(c), userAgent: c.req.header("user-agent") ?? null },
  });
});
