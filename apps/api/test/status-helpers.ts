import { expect } from "vitest";
import { bearer, jsonRequest, type testApp } from "./helpers.ts";

type App = Awaited<ReturnType<typeof testApp>>["app"];

export async function post<T = Record<string, unknown>>(app: App, key: string, path: string, body: unknown) {
  const res = await app.request(path, jsonRequest("POST", body, key));
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as T;
}

export async function patch<T = Record<string, unknown>>(app: App, key: string, path: string, body: unknown) {
  const res = await app.request(path, jsonRequest("PATCH", body, key));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}

/** A public heartbeat with a one-hour period; pings move it up or down. */
export async function publicHeartbeat(app: App, key: string, name: string, isPublic = true) {
  return post<{ id: string }>(app, key, "/api/v1/checks", {
    kind: "heartbeat",
    name,
    period: 3600,
    grace: 3600,
    public: isPublic,
  });
}

export async function getJson<T>(app: App, path: string, key?: string) {
  const res = await app.request(path, key ? { headers: bearer(key) } : {});
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

export const at = (iso: string) => Date.parse(iso);
