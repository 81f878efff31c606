import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isBusyError, retryOnBusy } from "../src/busy.ts";
import { closeDb, createDb } from "../src/client.ts";

// Two clients on one file stand in for two processes: one holds the write lock in an open transaction.
describe("a write that finds the database locked", () => {
  it("waits and retries until the other writer commits, instead of failing with SQLITE_BUSY", async () => {
    const url = `file:${join(mkdtempSync(join(tmpdir(), "vigil-busy-")), "t.db")}`;
    const [holder, waiter] = [createDb({ url }), createDb({ url })];
    try {
      await holder.$client.execute("pragma journal_mode = wal");
      await holder.$client.execute("create table t (v text)");
      const tx = await holder.$client.transaction("write");
      await tx.execute("insert into t values ('first')");
      // The waiter's write starts while the lock is held: its first try waits out the driver's busy timeout
      // and meets SQLITE_BUSY (the holder cannot commit meanwhile: same thread). Once the waiter has tried
      // (the setImmediate turn), the holder commits and the waiter's retry goes through.
      const written = waiter.$client.execute("insert into t values ('second')");
      await new Promise((turn) => setImmediate(turn));
      await tx.commit();
      await written;
      const rows = await waiter.$client.execute("select v from t order by rowid");
      expect(rows.rows.map((r) => r.v)).toEqual(["first", "second"]);
    } finally {
      closeDb(holder);
      closeDb(waiter);
    }
  });

  it("retries only BUSY and LOCKED answers, and gives up after the bounded number of retries", async () => {
    const policy = { retries: 3, baseMs: 1, maxMs: 1, sleep: async () => {}, random: () => 1 };
    let calls = 0;
    const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
    await expect(
      retryOnBusy(async () => {
        calls++;
        throw busy;
      }, policy),
    ).rejects.toBe(busy);
    expect(calls).toBe(4);

    calls = 0;
    const constraint = Object.assign(new Error("UNIQUE constraint failed"), { code: "SQLITE_CONSTRAINT" });
    await expect(
      retryOnBusy(async () => {
        calls++;
        throw constraint;
      }, policy),
    ).rejects.toBe(constraint);
    expect(calls).toBe(1);
    expect(isBusyError({ cause: { code: "SQLITE_BUSY_SNAPSHOT" } })).toBe(true);
  });
});
