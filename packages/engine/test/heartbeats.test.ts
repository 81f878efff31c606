import { type Db, flips, incidents } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
// the pruning statement itself, internal to the check state writer
import { pruneStatement } from "../src/checks/state.ts";
import {
  createEngineState,
  type EngineState,
  findCheckRow,
  getUptime,
  listFlips,
  listPings,
  type PingInput,
  pauseCheck,
  recordPing,
  tick,
  toCheck,
  updateCheck,
} from "../src/index.ts";
import { createTestCheck, manualClock } from "../src/testing.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;

async function setup(input: Parameters<typeof createTestCheck>[3] = {}) {
  const db = await createTestDb();
  const clock = manualClock(Date.UTC(2026, 0, 10, 12));
  const project = await createProject(db);
  const check = await createTestCheck(db, clock, project.id, { period: 3600, grace: 600, ...input });
  const engine = createEngineState();
  /** a ping; `from` is another process's engine state (its own cache, turns and commits) */
  const ping = (
    action: PingInput["action"] = "success",
    extra: Partial<PingInput> = {},
    from: EngineState = engine,
  ) =>
    recordPing(db, clock, from, {
      target: { checkId: check.id },
      action,
      exitStatus: null,
      rid: null,
      method: "GET",
      body: null,
      userAgent: "curl/8",
      remoteAddr: "203.0.113.9",
      ...extra,
    });
  const state = async () =>
    toCheck(await findCheckRow(db, project.id, check.id), "https://vigil.test", clock.now());
  const run = () => tick({ db, clock, state: engine });
  return { db, clock, project, check, ping, state, run, engine };
}

const flipsOf = (db: Db, checkId: string) =>
  db.query.flips.findMany({ where: eq(flips.subjectId, checkId), orderBy: (f, { asc }) => [asc(f.id)] });

describe("a heartbeat with a period", () => {
  it("is new until its first ping and never goes late while new", async () => {
    const { clock, state, run } = await setup();
    clock.advance(48 * HOUR);
    await run();
    expect((await state()).status).toBe("new");
  });

  it("is up after a success ping and expects the next one a period later", async () => {
    const { clock, ping, state } = await setup();
    await ping();
    expect(await state()).toMatchObject({
      status: "up",
      lastPingAt: clock.now(),
      nextDueAt: clock.now() + HOUR,
    });
  });

  it("goes late exactly at the due time and down exactly when grace ends", async () => {
    const { clock, ping, state, run } = await setup();
    await ping();
    const due = clock.now() + HOUR;
    clock.set(due - 1);
    await run();
    expect((await state()).status).toBe("up");
    clock.set(due);
    await run();
    expect((await state()).status).toBe("late");
    clock.set(due + 10 * MIN - 1);
    await run();
    expect((await state()).status).toBe("late");
    clock.set(due + 10 * MIN);
    await run();
    expect((await state()).status).toBe("down");
  });

  it("records every change as a flip with its cause, and never the same flip twice", async () => {
    const { db, clock, check, ping, run } = await setup();
    await ping();
    clock.advance(HOUR + 10 * MIN);
    await run();
    await run();
    clock.advance(HOUR);
    await run();
    const rows = await flipsOf(db, check.id);
    expect(rows.map((f) => [f.fromStatus, f.toStatus])).toEqual([
      ["new", "up"],
      ["up", "down"],
    ]);
    expect(rows[1]?.cause).toMatch(/no ping for 70 min/);
  });

  it("gives one flip when two ticks overlap", async () => {
    const { db, clock, check, ping, run } = await setup();
    await ping();
    clock.advance(HOUR);
    const reports = await Promise.all([run(), run(), run()]);
    expect(reports.reduce((n, r) => n + r.flips, 0)).toBe(1);
    expect((await flipsOf(db, check.id)).map((f) => f.toStatus)).toEqual(["up", "late"]);
  });

  it("is down after a fail ping and up again after a success", async () => {
    const { clock, ping, state, db, check } = await setup();
    await ping();
    await ping("fail");
    expect((await state()).status).toBe("down");
    clock.advance(MIN);
    await ping();
    expect((await state()).status).toBe("up");
    expect((await flipsOf(db, check.id)).map((f) => f.cause)).toEqual([
      "success ping",
      "fail ping",
      "success ping",
    ]);
  });

  it("never changes state on a log ping", async () => {
    const { ping, state } = await setup();
    await ping("log", { body: "half way" });
    expect((await state()).status).toBe("new");
    await ping();
    await ping("log");
    expect((await state()).status).toBe("up");
  });
});

describe("pings arriving together", () => {
  it("are all recorded, even several to one check in the same commit", async () => {
    const { db, project, check, clock, ping, state } = await setup();
    await ping();
    clock.advance(MIN);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => ping()));
    expect(outcomes.every((o) => o.result === "ok")).toBe(true);
    expect(await listPings(db, project.id, check.id)).toHaveLength(7);
    expect(await state()).toMatchObject({
      status: "up",
      lastPingAt: clock.now(),
      nextDueAt: clock.now() + HOUR,
    });
  });

  it("land in one commit when they are plain pings to one check from one process", async () => {
    // A job run by a fleet behind one process (or a burst of retries) must not cost a commit per ping.
    // The process knows the row from the last ping (its cache keeps it for a minute).
    const { db, project, check, clock, ping, state } = await setup();
    await ping();
    clock.advance(MIN / 2);
    const client = db.$client;
    const batch = client.batch.bind(client);
    let writes = 0;
    client.batch = ((statements, mode) => {
      if (mode === "write") writes++;
      return batch(statements, mode);
    }) as typeof client.batch;
    try {
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => ping()));
      expect(outcomes.every((o) => o.result === "ok")).toBe(true);
    } finally {
      client.batch = batch;
    }
    expect(writes).toBe(1);
    expect(await listPings(db, project.id, check.id, 100)).toHaveLength(21);
    expect(await state()).toMatchObject({
      status: "up",
      lastPingAt: clock.now(),
      nextDueAt: clock.now() + HOUR,
    });
  });

  it("are all recorded in a burst of many to one check", async () => {
    const { db, project, check, ping, state } = await setup();
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => ping(i % 5 === 0 ? "start" : "success")),
    );
    expect(outcomes.every((o) => o.result === "ok")).toBe(true);
    expect(await listPings(db, project.id, check.id, 100)).toHaveLength(40);
    expect((await state()).status).toBe("up");
  });

  it("are all accepted when a fleet of servers pings one check at once, each through its own process", async () => {
    // Twenty processes (or Worker isolates) share the database but no turns and no commits: each plain ping
    // writes against the same read of the row, and none of them may be turned away as a conflict.
    const { db, project, check, clock, ping, state } = await setup();
    await ping();
    clock.advance(MIN);
    const fleet = Array.from({ length: 20 }, () => createEngineState());
    for (const process of fleet) await ping("log", {}, process);
    const outcomes = await Promise.all(fleet.map((process) => ping("success", {}, process)));
    expect(outcomes.every((o) => o.result === "ok")).toBe(true);
    expect((await listPings(db, project.id, check.id, 100)).filter((p) => p.kind === "success")).toHaveLength(
      21,
    );
    expect(await state()).toMatchObject({ status: "up", nextDueAt: clock.now() + HOUR });
  });

  it("are all accepted from many processes while the first of them brings a new check up", async () => {
    const { db, project, check, ping, state } = await setup();
    const fleet = Array.from({ length: 20 }, () => createEngineState());
    const outcomes = await Promise.all(
      fleet.map((process, i) => ping(i % 2 ? "success" : "fail", {}, process)),
    );
    expect(outcomes.every((o) => o.result === "ok")).toBe(true);
    expect(await listPings(db, project.id, check.id, 100)).toHaveLength(20);
    expect(["up", "down"]).toContain((await state()).status);
  });

  it("moves a plain ping's deadlines by the settings the check has now, not those another process cached", async () => {
    const { db, project, check, clock, ping, state } = await setup();
    const other = createEngineState();
    await ping("success", {}, other);
    await updateCheck(db, clock, project.id, check.id, { period: 2 * 3600 });
    clock.advance(MIN);
    await ping("success", {}, other);
    expect(await state()).toMatchObject({ status: "up", nextDueAt: clock.now() + 2 * HOUR });
  });

  it("lose nothing when the scheduler changes the check at the same moment", async () => {
    const { db, project, check, clock, ping, state, run } = await setup();
    await ping();
    clock.advance(HOUR);
    // The tick turns the check late while pings (written against the up state) are in flight.
    const [, ...outcomes] = await Promise.all([run(), ping(), ping()]);
    expect(outcomes.every((o) => o.result === "ok")).toBe(true);
    expect((await state()).status).toBe("up");
    expect(await listPings(db, project.id, check.id)).toHaveLength(3);
  });
});

describe("changing a heartbeat's cadence", () => {
  it("moves its deadlines from the last ping, and a late check that is no longer due is up again", async () => {
    const { db, clock, project, check, ping, state, run } = await setup();
    await ping();
    clock.advance(HOUR + MIN);
    await run();
    expect((await state()).status).toBe("late");
    await updateCheck(db, clock, project.id, check.id, { period: 2 * 3600 });
    await run();
    expect(await state()).toMatchObject({ status: "up", nextDueAt: clock.now() - HOUR - MIN + 2 * HOUR });
  });

  it("keeps working for a check whose name gave no slug", async () => {
    const { db, clock, project } = await setup();
    const odd = await createTestCheck(db, clock, project.id, { name: "!!!" });
    expect(odd.slug).toBeNull();
    const renamed = await updateCheck(db, clock, project.id, odd.id, { description: "x" });
    expect(renamed.description).toBe("x");
  });
});

describe("start pings and run ids", () => {
  it("shows a started run and times it from start to end", async () => {
    const { db, project, check, clock, ping, state } = await setup();
    await ping("start");
    expect((await state()).status).toBe("started");
    clock.advance(90_000);
    await ping();
    expect((await state()).status).toBe("up");
    const [end] = await listPings(db, project.id, check.id);
    expect(end).toMatchObject({ kind: "success", durationMs: 90_000 });
  });

  it("pairs overlapping runs by rid", async () => {
    const { db, project, check, clock, ping } = await setup();
    const a = "0b3e3c1e-4c5a-4d2b-9f6e-111111111111";
    const b = "0b3e3c1e-4c5a-4d2b-9f6e-222222222222";
    await ping("start", { rid: a });
    clock.advance(10_000);
    await ping("start", { rid: b });
    clock.advance(5_000);
    await ping("success", { rid: a });
    clock.advance(20_000);
    await ping("fail", { rid: b });
    const [endB, endA] = await listPings(db, project.id, check.id);
    expect(endA).toMatchObject({ rid: a, kind: "success", durationMs: 15_000 });
    expect(endB).toMatchObject({ rid: b, kind: "fail", durationMs: 25_000 });
  });

  it("goes down when a started run does not finish within grace", async () => {
    const { db, check, clock, ping, state, run } = await setup();
    await ping();
    clock.advance(5 * MIN);
    await ping("start");
    clock.advance(10 * MIN - 1);
    await run();
    expect((await state()).status).toBe("started");
    clock.advance(1);
    await run();
    expect((await state()).status).toBe("down");
    expect((await flipsOf(db, check.id)).at(-1)?.cause).toMatch(/started run did not finish/);
  });

  it("takes an exit status: 0 is success, anything else failure", async () => {
    const { db, project, check, ping, state } = await setup();
    await ping("success", { exitStatus: 0 });
    expect((await state()).status).toBe("up");
    await ping("fail", { exitStatus: 3 });
    expect((await state()).status).toBe("down");
    const [failed] = await listPings(db, project.id, check.id);
    expect(failed).toMatchObject({ kind: "fail", exitStatus: 3 });
    expect((await flipsOf(db, check.id)).at(-1)?.cause).toBe("exit status 3");
  });
});

describe("pings that do not count", () => {
  it("records other methods as ignored on a POST-only check", async () => {
    const { db, project, check, ping, state } = await setup({ postOnly: true });
    await ping("success", { method: "GET" });
    expect((await state()).status).toBe("new");
    await ping("success", { method: "POST" });
    expect((await state()).status).toBe("up");
    const kinds = (await listPings(db, project.id, check.id)).map((p) => p.kind);
    expect(kinds).toEqual(["success", "ignored"]);
  });

  it("resumes a paused check on a ping", async () => {
    const { db, clock, project, check, ping, state } = await setup();
    await pauseCheck(db, clock, project.id, check.id);
    expect((await state()).status).toBe("paused");
    await ping();
    expect((await state()).status).toBe("up");
  });

  it("keeps a check paused that is set to stay paused, recording its pings as ignored", async () => {
    const { db, clock, project, check, ping, state } = await setup({ keepPaused: true });
    await pauseCheck(db, clock, project.id, check.id);
    await ping();
    expect((await state()).status).toBe("paused");
    expect((await listPings(db, project.id, check.id))[0]?.kind).toBe("ignored");
  });
});

describe("keywords in the ping body", () => {
  const bodyKeywords = { success: ["backup complete"], failure: ["error", "fatal"], start: ["starting"] };

  it("turns a plain ping into a failure, a success or a start by what its body says", async () => {
    const { db, project, check, ping, state } = await setup({ bodyKeywords });
    await ping("success", { method: "POST", body: "Starting nightly run" });
    expect((await state()).status).toBe("started");
    await ping("success", { method: "POST", body: "42 files, BACKUP COMPLETE" });
    expect((await state()).status).toBe("up");
    await ping("success", { method: "POST", body: "backup complete with 1 error" });
    expect((await state()).status).toBe("down");
    const kinds = (await listPings(db, project.id, check.id)).map((p) => p.kind);
    expect(kinds).toEqual(["fail", "success", "start"]);
    expect((await flipsOf(db, check.id)).at(-1)?.cause).toBe("failure keyword in the ping body");
  });

  it("ignores a body that holds none of the keywords and leaves the state alone", async () => {
    const { db, project, check, ping, state } = await setup({ bodyKeywords });
    await ping("success", { method: "POST", body: "backup complete" });
    await ping("success", { method: "POST", body: "nothing to see" });
    expect((await state()).status).toBe("up");
    expect((await listPings(db, project.id, check.id))[0]?.kind).toBe("ignored");
  });

  it("never reinterprets an explicit fail, start or exit status, nor a ping without a body", async () => {
    const { db, project, check, ping, state } = await setup({ bodyKeywords });
    await ping("fail", { method: "POST", body: "backup complete" });
    expect((await state()).status).toBe("down");
    await ping("success", { exitStatus: 0, method: "POST", body: "fatal: disk full" });
    expect((await state()).status).toBe("up");
    await ping("success");
    const kinds = (await listPings(db, project.id, check.id)).map((p) => p.kind);
    expect(kinds).toEqual(["success", "success", "fail"]);
  });

  it("applies keywords set through another process to a check this process has cached", async () => {
    const { db, clock, project, check, ping, state } = await setup();
    await ping("success", { method: "POST", body: "fatal: disk full" });
    expect((await state()).status).toBe("up");
    // The API in another process sets keywords; this process's cache still holds the row without them.
    await updateCheck(db, clock, project.id, check.id, { bodyKeywords });
    await ping("success", { method: "POST", body: "fatal: disk full" });
    expect((await state()).status).toBe("down");
  });

  it("refuses keyword settings with no keyword at all", async () => {
    const { db, clock, project, check } = await setup();
    await expect(
      updateCheck(db, clock, project.id, check.id, { bodyKeywords: { success: [], failure: [], start: [] } }),
    ).rejects.toThrow(/at least one keyword/);
  });
});

describe("runs that are too short, too long or too frequent", () => {
  it("goes down when a run ends sooner than its minimum, and up with the next run of a sound length", async () => {
    const { db, clock, check, ping, state } = await setup({ minRun: 60 });
    await ping("start");
    clock.advance(5_000);
    await ping("success");
    expect((await state()).status).toBe("down");
    expect((await flipsOf(db, check.id)).at(-1)?.cause).toBe(
      "the run took 5 s, shorter than the minimum of 60 s",
    );
    await ping("start");
    clock.advance(2 * MIN);
    await ping("success");
    expect((await state()).status).toBe("up");
  });

  it("goes down when a run ends later than its maximum, measured by run id when runs overlap", async () => {
    const { db, clock, check, ping, state } = await setup({ maxRun: 600 });
    await ping("start", { rid: "6f1c1f3e-0000-4000-8000-000000000001" });
    clock.advance(2 * MIN);
    await ping("start", { rid: "6f1c1f3e-0000-4000-8000-000000000002" });
    clock.advance(9 * MIN);
    await ping("success", { rid: "6f1c1f3e-0000-4000-8000-000000000002" });
    expect((await state()).status).toBe("up");
    await ping("success", { rid: "6f1c1f3e-0000-4000-8000-000000000001" });
    expect((await state()).status).toBe("down");
    expect((await flipsOf(db, check.id)).at(-1)?.cause).toBe(
      "the run took 11 min, longer than the maximum of 10 min",
    );
  });

  it("judges nothing by length when a success has no start to pair with", async () => {
    const { ping, state } = await setup({ minRun: 60, maxRun: 120 });
    await ping("success");
    expect((await state()).status).toBe("up");
  });

  it("gives a started run its own grace, apart from the grace for a missing ping", async () => {
    const { db, clock, check, ping, state, run } = await setup({ startGrace: 300 });
    await ping();
    await ping("start");
    clock.advance(5 * MIN - 1);
    await run();
    expect((await state()).status).toBe("started");
    clock.advance(1);
    await run();
    expect((await state()).status).toBe("down");
    expect((await flipsOf(db, check.id)).at(-1)?.cause).toBe("a started run did not finish within 5 min");
  });

  it("goes down when a job runs too often, and up once it keeps its pace again", async () => {
    const { db, clock, check, ping, state } = await setup({ minInterval: 1800 });
    await ping();
    clock.advance(10 * MIN);
    await ping();
    expect((await state()).status).toBe("down");
    expect((await flipsOf(db, check.id)).at(-1)?.cause).toBe(
      "success 10 min after the previous one, expected at most one every 30 min",
    );
    clock.advance(5 * MIN);
    await ping();
    expect((await state()).status).toBe("down");
    clock.advance(31 * MIN);
    await ping();
    expect((await state()).status).toBe("up");
  });

  it("lets a retry after a failed run succeed at once, however soon", async () => {
    const { clock, ping, state } = await setup({ minInterval: 1800 });
    await ping();
    clock.advance(10 * MIN);
    await ping("fail");
    clock.advance(MIN);
    await ping();
    expect((await state()).status).toBe("up");
  });

  it("refuses a minimum run that is not shorter than the maximum", async () => {
    const { db, clock, project, check } = await setup();
    await expect(updateCheck(db, clock, project.id, check.id, { minRun: 600, maxRun: 60 })).rejects.toThrow(
      /minRun must be shorter than maxRun/,
    );
  });
});

describe("a heartbeat on a cron schedule", () => {
  it("follows its time zone across a daylight-saving change", async () => {
    // Europe/Tallinn moves from UTC+2 to UTC+3 on 2026-03-29: noon local is 10:00Z before, 09:00Z after.
    const { clock, ping, state, run } = await setup({
      period: undefined,
      schedule: "0 12 * * *",
      tz: "Europe/Tallinn",
    });
    clock.set(Date.UTC(2026, 2, 28, 10, 5));
    await ping();
    const due = Date.UTC(2026, 2, 29, 9, 0);
    expect((await state()).nextDueAt).toBe(due);
    clock.set(due - 1);
    await run();
    expect((await state()).status).toBe("up");
    clock.set(due);
    await run();
    expect((await state()).status).toBe("late");
  });
});

describe("slug-form pings", () => {
  it("create a missing check when asked to, and say so", async () => {
    const { db, clock, project, engine } = await setup();
    const base = {
      action: "success" as const,
      exitStatus: null,
      rid: null,
      method: "GET",
      body: null,
      userAgent: null,
      remoteAddr: null,
    };
    const missing = await recordPing(db, clock, engine, {
      ...base,
      target: { pingKey: project.pingKey, slug: "db-dump", create: false },
    });
    expect(missing).toEqual({ result: "not_found" });
    const created = await recordPing(db, clock, engine, {
      ...base,
      target: { pingKey: project.pingKey, slug: "db-dump", create: true },
    });
    expect(created.result).toBe("created");
    const again = await recordPing(db, clock, engine, {
      ...base,
      target: { pingKey: project.pingKey, slug: "db-dump", create: true },
    });
    expect(again.result).toBe("ok");
  });

  it("refuse an ambiguous slug", async () => {
    const { db, clock, project, engine } = await setup({ slug: "twin" });
    await createTestCheck(db, clock, project.id, { slug: "twin" });
    const outcome = await recordPing(db, clock, engine, {
      target: { pingKey: project.pingKey, slug: "twin", create: false },
      action: "success",
      exitStatus: null,
      rid: null,
      method: "GET",
      body: null,
      userAgent: null,
      remoteAddr: null,
    });
    expect(outcome).toEqual({ result: "ambiguous" });
  });
});

describe("incidents and uptime", () => {
  it("opens an incident when a check goes down and resolves it when it recovers", async () => {
    const { db, clock, check, ping, run } = await setup();
    await ping();
    clock.advance(HOUR + 10 * MIN);
    await run();
    let rows = await db.query.incidents.findMany({ where: eq(incidents.subjectId, check.id) });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.resolvedAt).toBeNull();
    clock.advance(20 * MIN);
    await ping();
    rows = await db.query.incidents.findMany({ where: eq(incidents.subjectId, check.id) });
    expect(rows[0]?.resolvedAt).toBe(clock.now());
  });

  it("keeps daily uptime, split at midnight UTC", async () => {
    const { db, clock, project, check, ping, run } = await setup();
    clock.set(Date.UTC(2026, 0, 10, 22));
    await ping();
    // up 22:00 → 23:10 (late at 23:00 still counts as up), down 23:10 → 00:30, up again after.
    clock.set(Date.UTC(2026, 0, 10, 23, 10));
    await run();
    clock.set(Date.UTC(2026, 0, 11, 0, 30));
    await ping();
    clock.set(Date.UTC(2026, 0, 11, 1, 0));
    const days = await getUptime(db, project.id, check.id, clock.now(), 2);
    expect(days).toEqual([
      { day: "2026-01-10", upMs: 70 * MIN, degradedMs: 0, downMs: 50 * MIN, uptime: 70 / 120 },
      { day: "2026-01-11", upMs: 30 * MIN, degradedMs: 0, downMs: 30 * MIN, uptime: 0.5 },
    ]);
    expect((await listFlips(db, project.id, check.id)).map((f) => f.to)).toEqual(["up", "down", "up"]);
  });
});

describe("history", () => {
  it("keeps the newest pings of a check and drops older ones", async () => {
    const { db, project, check, clock, ping } = await setup();
    for (let i = 0; i < 12; i++) {
      clock.advance(1000);
      await ping("log", { body: `#${i}` });
    }
    await db.$client.execute(pruneStatement("pings", check.id, 5));
    const kept = await listPings(db, project.id, check.id);
    expect(kept.map((p) => p.body)).toEqual(["#11", "#10", "#9", "#8", "#7"]);
  });
});
