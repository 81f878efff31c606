import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { isReadStatement, WriterGate, withWriterGate } from "../src/writers.ts";

/** A gate whose pauses end on the next turn of the event loop and whose clock the test moves. */
function gateOf(max: number, leaseMs = 60_000) {
  const clock = { now: 0 };
  const gate = new WriterGate({
    max,
    leaseMs,
    now: () => clock.now,
    sleep: () => new Promise((turn) => setImmediate(turn)),
    random: () => 0.5,
  });
  return { gate, clock };
}

/** Work that runs until the test lets it end. */
function heldWork() {
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { work: () => done, finish: () => finish() };
}

/** `n` held works started through `gate` at once; `started()` tells how many have begun. */
function startHeld(gate: WriterGate, n: number) {
  const works = Array.from({ length: n }, () => heldWork());
  let started = 0;
  const runs = works.map((w) =>
    gate.run(() => {
      started++;
      return w.work();
    }),
  );
  return { works, runs, started: () => started };
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((turn) => setImmediate(turn));
};

describe("the cap on writes in flight", () => {
  it("runs at most its number of writes at once and starts the others as permits come back", async () => {
    const { gate } = gateOf(2);
    const { works, runs, started } = startHeld(gate, 5);
    await turns(5);
    expect(started()).toBe(2);
    expect(gate.inFlight).toBe(2);
    works[0]?.finish();
    await turns(5);
    expect(started()).toBe(3);
    for (const w of works) w.finish();
    await Promise.all(runs);
    expect(started()).toBe(5);
    expect(gate.inFlight).toBe(0);
  });

  it("gives the permit back when the write fails", async () => {
    const { gate } = gateOf(1);
    await expect(gate.run(() => Promise.reject(new Error("constraint")))).rejects.toThrow("constraint");
    expect(gate.inFlight).toBe(0);
    await expect(gate.run(async () => "next")).resolves.toBe("next");
  });

  it("takes back a permit whose holder never returned once its lease has passed", async () => {
    const { gate, clock } = gateOf(1, 1000);
    const lost = heldWork();
    void gate.run(lost.work);
    let ran = false;
    const waiting = gate.run(async () => {
      ran = true;
    });
    await turns(5);
    expect(ran).toBe(false);
    clock.now = 1000;
    await waiting;
    expect(ran).toBe(true);
    lost.finish();
  });

  it("caps nothing when its number is 0", async () => {
    const { gate } = gateOf(0);
    const { works, runs, started } = startHeld(gate, 10);
    expect(started()).toBe(10);
    for (const w of works) w.finish();
    await Promise.all(runs);
  });
});

describe("a client behind the gate", () => {
  it("sends batches and writing statements through the gate and reads straight to the database", async () => {
    const { gate } = gateOf(1);
    const client = withWriterGate(createClient({ url: ":memory:" }), gate);
    await client.execute("create table t (v text)");
    const holder = heldWork();
    const held = gate.run(holder.work);

    const read = await client.execute("select count(*) as n from t");
    expect(read.rows[0]?.n).toBe(0);
    await client.batch(["select 1", "select 2"], "read");

    let written = false;
    const write = client.batch([{ sql: "insert into t values (?)", args: ["a"] }], "write").then(() => {
      written = true;
    });
    let inserted = false;
    const insert = client.execute({ sql: "insert into t values (?)", args: ["b"] }).then(() => {
      inserted = true;
    });
    await turns(10);
    expect([written, inserted]).toEqual([false, false]);

    holder.finish();
    await Promise.all([held, write, insert]);
    expect((await client.execute("select v from t order by v")).rows.map((r) => r.v)).toEqual(["a", "b"]);
    client.close();
  });

  it("counts select, explain and a bare pragma as reads, and anything else as a write", () => {
    expect(
      ["select 1", "  SELECT * from t", "explain select 1", "pragma user_version"].map(isReadStatement),
    ).toEqual([true, true, true, true]);
    expect(
      [
        "insert into t values (1)",
        "with x as (select 1) insert into t select * from x",
        "pragma user_version = 3",
        "update t set v = 1",
      ].map((sql) => isReadStatement({ sql })),
    ).toEqual([false, false, false, false]);
  });
});
