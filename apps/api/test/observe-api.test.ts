/**
 * The live tail opened with a session cookie on the project-scoped path (accounts and a fast-polling app);
 * the rest of the observe screens' API is behaviour cases (test/behaviour/observe-api.cases.ts).
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { accountsApp, ORIGIN, setUpOwner } from "./accounts-helpers.ts";
import { batch, enrollHost, sendBatch } from "./helpers.ts";

const T0 = Date.UTC(2026, 10, 27, 12);

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

describe("the live tail with a session", () => {
  it("streams a line ingested after it opened to a signed-in member on the project's path", async () => {
    const env = await accountsApp({ mail: false });
    const { owner } = await setUpOwner(env);
    const me = await json<{ organizations: { projects: { id: string }[] }[] }>(owner.request("/api/v1/me"));
    const projectId = me.organizations[0]?.projects[0]?.id ?? "";
    const key = await json<{ key: string }>(
      owner.request(`/api/v1/projects/${projectId}/api-keys`, { body: { name: "k", scopes: ["admin"] } }),
    );
    const host = await enrollHost(env.app, key.key);
    const fast = createApp({ ...env.deps, config: { ...env.deps.config, tailPollMs: 5, tailMaxMs: 60_000 } });

    const controller = new AbortController();
    const res = await fast.request(`${ORIGIN}/api/v1/projects/${projectId}/logs/tail?q=deploy`, {
      headers: { cookie: owner.cookieHeader() },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil("event: ready");
    await sendBatch(
      env.app,
      host.hostToken,
      batch({
        logs: [
          { ts: T0, priority: 6, message: "unrelated" },
          { ts: T0, priority: 6, message: "deploy finished" },
        ],
      }),
    );
    await readUntil("deploy finished");
    controller.abort();
    await reader.cancel();
    expect(text).not.toContain("unrelated");
  });
});
