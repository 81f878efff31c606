// Runs inside workerd: concurrent pings through the real Worker entry, against sqld. The isolate's requests
// share its caches; work in flight (turns, group commits) stays with each request, as in production.
// These 60 pings once stalled sqld itself (it stops answering under many concurrent write transactions);
// the Worker's writes now take turns a few at a time (@vigil/db writers.ts, bench/sqld-writers.ts).
import { describe, expect, inject, it } from "vitest";
import type { Env } from "../../src/worker.ts";
import { callWorker, cronOnlyEnv } from "./bindings.ts";

const workerEnv = (): Env => ({
  ...cronOnlyEnv(),
  LIBSQL_URL: inject("sqldUrl"),
  VIGIL_CHECK_SPREAD_MS: "0",
  // Every ping here comes from one address: the per-address ping limit is not what is tested.
  VIGIL_LIMIT_PINGS_PER_ADDRESS: "0",
});

const call = (path: string, init?: RequestInit) => callWorker(workerEnv(), path, init);

const admin = () => ({ authorization: `Bearer ${inject("adminKey")}`, "content-type": "application/json" });

async function heartbeat(name: string): Promise<string> {
  const res = await call("/api/v1/checks", {
    method: "POST",
    headers: admin(),
    body: JSON.stringify({ kind: "heartbeat", name, period: 3600 }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function pingsOf(id: string): Promise<{ kind: string; body: string | null }[]> {
  const res = await call(`/api/v1/checks/${id}/pings?limit=100`, { headers: admin() });
  return ((await res.json()) as { pings: { kind: string; body: string | null }[] }).pings;
}

describe("concurrent pings on the Worker", () => {
  it("accepts and records every one of 20 pings to one check sent at once, as a fleet's cron job does", async () => {
    const id = await heartbeat("fleet job");
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(`/ping/${id}`, { method: "POST", body: `server-${i}` })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = (await pingsOf(id)).map((p) => p.body).sort();
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => `server-${i}`).sort());
    const check = (await (await call(`/api/v1/checks/${id}`, { headers: admin() })).json()) as {
      status: string;
    };
    expect(check.status).toBe("up");
  });

  it("accepts pings spread over 20 checks at once, each recorded against its own check", async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => heartbeat(`job ${i}`)));
    const answers = await Promise.all(
      ids.flatMap((id) => [1, 2, 3].map((n) => call(`/ping/${id}`, { method: "POST", body: `${id}-${n}` }))),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    for (const id of ids) {
      expect((await pingsOf(id)).map((p) => p.body).sort()).toEqual([1, 2, 3].map((n) => `${id}-${n}`));
    }
  });
});
