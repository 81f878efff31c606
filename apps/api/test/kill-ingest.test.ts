// kill -9 under ingest: the self-hosted server as a child process on a temp data dir takes probe batches
// from several senders at once and is killed with SIGKILL mid-stream (no shutdown code runs). Restarted on
// the same dir, it is sent everything that was not acknowledged, and some acknowledged batches again, as a
// probe does when an answer was lost. DESIGN §4: a 2xx means durable, so every acknowledged batch must be
// there afterwards, exactly once (its log lines once, not twice).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDb, createDb } from "@vigil/db";
import { afterEach, describe, expect, it } from "vitest";
import { type ServerProcess, savedAdminKey, startServerProcess } from "../scripts/server-process.ts";
import { enrolledHost, pool, probeBatch, sendProbeBatch } from "./multi-process.ts";

const running: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

const BATCHES = 160;
const LINES = 20; // log lines per batch (probeBatch)
const KILL_AFTER_ACKS = 50;

describe("kill -9 under ingest", () => {
  it("keeps every acknowledged batch exactly once across a SIGKILL and the probe's re-sends", {
    timeout: 120_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-kill-"));
    const first = await startServerProcess({ VIGIL_DATA_DIR: dir, VIGIL_TICK_MS: "1000" });
    running.push(first);
    const hostToken = await enrolledHost(first.url, savedAdminKey(dir));
    const now = Date.now();
    const ids = Array.from({ length: BATCHES }, (_, i) => `kill-batch-${String(i).padStart(4, "0")}`);
    const acknowledged = new Set<string>();

    // Phase 1: eight senders at once; the server is killed the moment the 50th answer comes back, so the
    // batches then in flight are cut at every stage of their request.
    let killed: Promise<void> | null = null;
    await pool(BATCHES, 8, async (i) => {
      const id = ids[i] ?? "";
      if (killed) return;
      const answer = await sendProbeBatch(first.url, hostToken, probeBatch(id, now + i));
      if (answer.status === 200) acknowledged.add(id);
      else expect(answer.status).toBe(0); // cut off by the kill, never a 5xx
      if (acknowledged.size >= KILL_AFTER_ACKS) killed ??= first.kill();
    });
    await killed;
    expect(first.process.signalCode).toBe("SIGKILL");
    const beforeKill = new Set(acknowledged);

    // Phase 2: restart on the same dir; send what was never acknowledged, and every third acknowledged one.
    const second = await startServerProcess({ VIGIL_DATA_DIR: dir, VIGIL_TICK_MS: "1000" });
    running.push(second);
    const resend = ids.filter((id, i) => !beforeKill.has(id) || i % 3 === 0);
    const answers = await pool(resend.length, 8, async (i) => {
      const id = resend[i] ?? "";
      const answer = await sendProbeBatch(second.url, hostToken, probeBatch(id, now + ids.indexOf(id)));
      return { id, ...answer };
    });
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    for (const a of answers) {
      acknowledged.add(a.id);
      // A batch acknowledged before the kill is known as a repeat after it: it was durable.
      if (beforeKill.has(a.id)) expect(JSON.parse(a.body)).toMatchObject({ duplicate: true });
    }
    expect(acknowledged.size).toBe(BATCHES);
    await second.stop();

    const db = createDb({ url: `file:${join(dir, "vigil.db")}` });
    try {
      const batches = await db.$client.execute("select batch_id from ingested_batches");
      expect(batches.rows.map((r) => String(r.batch_id)).sort()).toEqual([...ids].sort());
      const lines = await db.$client.execute(
        "select message from log_entries where message like 'kill-batch-%'",
      );
      const perBatch = new Map<string, number>();
      for (const r of lines.rows) {
        const id = String(r.message).split(" ")[0] ?? "";
        perBatch.set(id, (perBatch.get(id) ?? 0) + 1);
      }
      expect([...perBatch.keys()].sort()).toEqual([...ids].sort());
      expect([...perBatch.values()].every((n) => n === LINES)).toBe(true);
    } finally {
      closeDb(db);
    }
  });
});
