import { createServer, type Server } from "node:http";
import { type CheckResult, createCheckRequestSchema } from "@vigil/contract";
import { checkRuns, flips } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import {
  assignmentRev,
  checkAssignments,
  createCheck,
  createEngineState,
  findCheckRow,
  recordCheckResults,
  type TickContext,
  tick,
  toCheck,
  updateCheck,
} from "../src/index.ts";
import { nodeProbes } from "../src/runners/node.ts";
import { createTestCheck, manualClock } from "../src/testing.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
});

async function setup() {
  const db = await createTestDb();
  const clock = manualClock(Date.UTC(2026, 0, 10, 12));
  const project = await createProject(db);
  const state = createEngineState();
  const ctx: TickContext = {
    db,
    clock,
    state,
    probes: nodeProbes({ allowPrivate: true }),
    allowPrivateTargets: true,
  };
  const add = (input: Parameters<typeof createTestCheck>[3]) => createTestCheck(db, clock, project.id, input);
  const check = (id: string) => findCheckRow(db, project.id, id);
  /** what a probe at `location` reports for one run of the check, at the clock's now */
  const report = async (location: string, id: string, seen: Partial<CheckResult>, projectId = project.id) => {
    const row = await check(id);
    return recordCheckResults(
      db,
      state,
      projectId,
      location,
      [{ checkId: id, rev: await assignmentRev(row), at: clock.now(), ...seen }],
      clock.now(),
    );
  };
  const flipsOf = (id: string) =>
    db.query.flips.findMany({ where: eq(flips.subjectId, id), orderBy: (f, { asc }) => [asc(f.id)] });
  const runsOf = (id: string) =>
    db.query.checkRuns.findMany({ where: eq(checkRuns.checkId, id), orderBy: (r, { asc }) => [asc(r.at)] });
  return { db, clock, project, state, ctx, add, check, report, flipsOf, runsOf };
}

const ok = { ms: 42, httpStatus: 200 } satisfies Partial<CheckResult>;
const failing = { ms: 30, httpStatus: 503 } satisfies Partial<CheckResult>;

describe("a check from several locations", () => {
  it("stays up when one of three locations fails, and goes down with exactly one flip when two do", async () => {
    const t = await setup();
    const c = await t.add({
      kind: "http",
      name: "shop",
      url: "https://shop.example/",
      locations: ["fra-1", "ams-2", "home-lab"],
      quorum: 2,
      failuresToDown: 1,
    });
    for (const loc of ["fra-1", "ams-2", "home-lab"]) await t.report(loc, c.id, ok);
    expect((await t.check(c.id)).status).toBe("up");

    t.clock.advance(MINUTE);
    await t.report("fra-1", c.id, failing);
    await t.report("ams-2", c.id, ok);
    await t.report("home-lab", c.id, ok);
    expect((await t.check(c.id)).status).toBe("up");

    t.clock.advance(MINUTE);
    await t.report("fra-1", c.id, failing);
    await t.report("ams-2", c.id, { error: "timed out" });
    await t.report("home-lab", c.id, ok);
    const down = await t.check(c.id);
    expect(down.status).toBe("down");
    const toDown = (await t.flipsOf(c.id)).filter((f) => f.toStatus === "down");
    expect(toDown).toHaveLength(1);
    expect(toDown[0]?.cause).toBe(
      "down from fra-1 (HTTP 503, expected 200-299) and ams-2 (timed out), up from home-lab",
    );

    // More failing runs while down flip nothing more.
    t.clock.advance(MINUTE);
    await t.report("fra-1", c.id, failing);
    await t.report("ams-2", c.id, failing);
    expect((await t.flipsOf(c.id)).filter((f) => f.toStatus === "down")).toHaveLength(1);
  });

  it("recovers once fewer locations than the quorum fail, saying which still do", async () => {
    const t = await setup();
    const c = await t.add({
      kind: "http",
      name: "api",
      url: "https://api.example/",
      locations: ["fra-1", "ams-2", "home-lab"],
      quorum: 2,
      failuresToDown: 1,
    });
    for (const loc of ["fra-1", "ams-2"]) await t.report(loc, c.id, failing);
    await t.report("home-lab", c.id, ok);
    expect((await t.check(c.id)).status).toBe("down");
    t.clock.advance(MINUTE);
    await t.report("ams-2", c.id, ok);
    const back = await t.check(c.id);
    expect(back.status).toBe("up");
    const flipsNow = await t.flipsOf(c.id);
    expect(flipsNow.at(-1)?.cause).toBe(
      "down from fra-1 (HTTP 503, expected 200-299), up from ams-2 and home-lab",
    );
  });

  it("confirms a failure per location: two failed runs from each of two locations before it is down", async () => {
    const t = await setup();
    const c = await t.add({
      kind: "tcp",
      name: "db",
      host: "db.internal",
      port: 5432,
      locations: ["a", "b"],
      quorum: 2,
      failuresToDown: 2,
    });
    for (const loc of ["a", "b"]) await t.report(loc, c.id, { ms: 1 });
    t.clock.advance(MINUTE);
    await t.report("a", c.id, { error: "ECONNREFUSED" });
    await t.report("b", c.id, { error: "ECONNREFUSED" });
    expect((await t.check(c.id)).status).toBe("up");
    t.clock.advance(MINUTE);
    await t.report("a", c.id, { error: "ECONNREFUSED" });
    expect((await t.check(c.id)).status).toBe("up");
    await t.report("b", c.id, { error: "ECONNREFUSED" });
    expect((await t.check(c.id)).status).toBe("down");
  });

  it("calls a location that stopped reporting unknown, never down, and says when too few report", async () => {
    const t = await setup();
    const c = await t.add({
      kind: "http",
      name: "site",
      url: "https://site.example/",
      period: 60,
      locations: ["fra-1", "ams-2", "home-lab"],
      quorum: 2,
      failuresToDown: 1,
    });
    for (const loc of ["fra-1", "ams-2", "home-lab"]) await t.report(loc, c.id, ok);
    // fra-1 and ams-2 go silent; home-lab keeps reporting failures.
    for (let i = 0; i < 4; i++) {
      t.clock.advance(MINUTE);
      await t.report("home-lab", c.id, failing);
      await tick(t.ctx);
    }
    const row = await t.check(c.id);
    expect(row.status).toBe("up");
    expect(row.lastError).toBe(
      "only 1 of 3 locations reporting, 2 needed: down from home-lab (HTTP 503, expected 200-299), unknown from fra-1 and ams-2",
    );
    const shown = toCheck(row, "", t.clock.now()).locationResults;
    expect(shown.map((l) => [l.name, l.status])).toEqual([
      ["fra-1", "unknown"],
      ["ams-2", "unknown"],
      ["home-lab", "down"],
    ]);
    expect((await t.flipsOf(c.id)).filter((f) => f.toStatus === "down")).toHaveLength(0);
  });

  it("runs the edge location itself and weighs it with a probe's runs", async () => {
    const t = await setup();
    let answer = 200;
    const server = createServer((_req, res) => {
      res.statusCode = answer;
      res.end("hi");
    });
    servers.push(server);
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const c = await t.add({
      kind: "http",
      name: "edge+probe",
      url,
      locations: ["edge", "home-lab"],
      quorum: 2,
      failuresToDown: 1,
    });
    await tick(t.ctx);
    await t.report("home-lab", c.id, ok);
    expect((await t.check(c.id)).status).toBe("up");

    answer = 500;
    t.clock.advance(MINUTE);
    await tick(t.ctx);
    expect((await t.check(c.id)).status).toBe("up");
    await t.report("home-lab", c.id, { ms: 5, httpStatus: 500 });
    const down = await t.check(c.id);
    expect(down.status).toBe("down");
    const runs = await t.runsOf(c.id);
    expect(new Set(runs.map((r) => r.location))).toEqual(new Set(["edge", "home-lab"]));
    expect(
      toCheck(down, "", t.clock.now()).locationResults.map((l) => [l.name, l.status, l.responseMs !== null]),
    ).toEqual([
      ["edge", "down", true],
      ["home-lab", "down", true],
    ]);
  });
});

describe("results a probe reports", () => {
  it("are stored once when the same batch is sent again", async () => {
    const t = await setup();
    const c = await t.add({ kind: "http", name: "x", url: "https://x.example/", locations: ["lab"] });
    const row = await t.check(c.id);
    const results = [{ checkId: c.id, rev: await assignmentRev(row), at: t.clock.now(), ...ok }];
    await recordCheckResults(t.db, t.state, t.project.id, "lab", results, t.clock.now());
    await recordCheckResults(t.db, t.state, t.project.id, "lab", results, t.clock.now());
    expect(await t.runsOf(c.id)).toHaveLength(1);
  });

  it("keep a late result (spooled through an outage) as history without moving the state back", async () => {
    const t = await setup();
    const c = await t.add({
      kind: "http",
      name: "x",
      url: "https://x.example/",
      locations: ["lab"],
      failuresToDown: 1,
    });
    const rev = await assignmentRev(await t.check(c.id));
    const now = t.clock.now();
    await recordCheckResults(
      t.db,
      t.state,
      t.project.id,
      "lab",
      [{ checkId: c.id, rev, at: now, ...ok }],
      now,
    );
    await recordCheckResults(
      t.db,
      t.state,
      t.project.id,
      "lab",
      [{ checkId: c.id, rev, at: now - 5 * MINUTE, ...failing }],
      now,
    );
    expect((await t.check(c.id)).status).toBe("up");
    expect((await t.runsOf(c.id)).map((r) => r.result)).toEqual(["down", "up"]);
  });

  it("weigh a batch of runs spooled during an outage in order, ending in the newest's verdict", async () => {
    const t = await setup();
    const c = await t.add({
      kind: "http",
      name: "x",
      url: "https://x.example/",
      locations: ["lab"],
      failuresToDown: 2,
    });
    const rev = await assignmentRev(await t.check(c.id));
    const now = t.clock.now();
    const spooled = [0, 1, 2, 3].map((i) => ({
      checkId: c.id,
      rev,
      at: now - (4 - i) * MINUTE,
      ...(i < 2 ? ok : failing),
    }));
    await recordCheckResults(t.db, t.state, t.project.id, "lab", spooled, now);
    const row = await t.check(c.id);
    expect(row.status).toBe("down");
    expect(await t.runsOf(c.id)).toHaveLength(4);
  });

  it("of a definition since edited are history only", async () => {
    const t = await setup();
    const c = await t.add({
      kind: "http",
      name: "x",
      url: "https://old.example/",
      locations: ["lab"],
      failuresToDown: 1,
    });
    const oldRev = await assignmentRev(await t.check(c.id));
    await updateCheck(
      t.db,
      t.clock,
      t.project.id,
      c.id,
      { url: "https://new.example/" },
      { allowPrivateTargets: true },
    );
    expect(await assignmentRev(await t.check(c.id))).not.toBe(oldRev);
    await recordCheckResults(
      t.db,
      t.state,
      t.project.id,
      "lab",
      [{ checkId: c.id, rev: oldRev, at: t.clock.now(), ...failing }],
      t.clock.now(),
    );
    expect((await t.check(c.id)).status).toBe("new");
    expect(await t.runsOf(c.id)).toHaveLength(1);
  });

  it("are ignored for checks that do not list the location, and for checks of another project", async () => {
    const t = await setup();
    const c = await t.add({ kind: "http", name: "x", url: "https://x.example/", locations: ["lab"] });
    const other = await createProject(t.db);
    expect(await t.report("elsewhere", c.id, ok)).toEqual({ recorded: 0, ignored: 1 });
    expect(await t.report("lab", c.id, ok, other.id)).toEqual({ recorded: 0, ignored: 1 });
    expect(await t.runsOf(c.id)).toHaveLength(0);
  });

  it("turn a location unknown, not down, when its operator forbids the target", async () => {
    const t = await setup();
    const c = await t.add({
      kind: "http",
      name: "x",
      url: "https://x.example/",
      locations: ["lab", "fra-1"],
      quorum: 1,
      failuresToDown: 1,
    });
    await t.report("fra-1", c.id, ok);
    await t.report("lab", c.id, { refused: "x.example is denied by this probe's checks.deny" });
    const row = await t.check(c.id);
    expect(row.status).toBe("up");
    expect(toCheck(row, "", t.clock.now()).locationResults.find((l) => l.name === "lab")).toMatchObject({
      status: "unknown",
      error: "x.example is denied by this probe's checks.deny",
    });
    expect(await t.runsOf(c.id)).toHaveLength(1);
  });

  it("judge a certificate a probe saw: days left counted, degraded inside the warning, down once expired", async () => {
    const t = await setup();
    const c = await t.add({
      kind: "tls",
      name: "cert",
      host: "shop.example",
      warnDays: 14,
      locations: ["lab"],
      failuresToDown: 1,
    });
    await t.report("lab", c.id, { ms: 80, tls: { validTo: t.clock.now() + 60 * DAY, authorized: true } });
    expect((await t.check(c.id)).status).toBe("up");
    expect((await t.runsOf(c.id)).at(-1)?.tlsDaysLeft).toBe(60);
    t.clock.advance(MINUTE);
    await t.report("lab", c.id, { ms: 80, tls: { validTo: t.clock.now() + 5 * DAY, authorized: true } });
    const soon = await t.check(c.id);
    expect(soon.status).toBe("degraded");
    expect(soon.lastError).toBe("the certificate expires in 5 days");
    t.clock.advance(MINUTE);
    await t.report("lab", c.id, { ms: 80, tls: { validTo: t.clock.now() - DAY, authorized: true } });
    expect((await t.check(c.id)).status).toBe("down");
  });

  it("judge DNS answers and ICMP replies by the check's settings", async () => {
    const t = await setup();
    const dns = await t.add({
      kind: "dns",
      name: "mx",
      host: "example.org",
      recordType: "MX",
      expected: "mail.example.org",
      locations: ["lab"],
      failuresToDown: 1,
    });
    await t.report("lab", dns.id, { ms: 3, dns: { values: ["Mail.Example.org."] } });
    expect((await t.check(dns.id)).status).toBe("up");
    t.clock.advance(MINUTE);
    await t.report("lab", dns.id, { ms: 3, dns: { values: ["other.example.net"] } });
    expect((await t.check(dns.id)).lastError).toBe(
      "MX example.org is other.example.net, expected mail.example.org",
    );

    const icmp = await t.add({
      kind: "icmp",
      name: "router",
      host: "10.0.0.1",
      locations: ["lab"],
      failuresToDown: 1,
    });
    await t.report("lab", icmp.id, { ms: 1.2, icmp: { sent: 3, received: 2 } });
    expect((await t.check(icmp.id)).status).toBe("degraded");
    expect((await t.check(icmp.id)).lastError).toBe("1 of 3 pings lost");
    t.clock.advance(MINUTE);
    await t.report("lab", icmp.id, { icmp: { sent: 3, received: 0 } });
    expect((await t.check(icmp.id)).lastError).toBe("no reply to 3 pings");
  });
});

describe("assignments handed to a probe", () => {
  it("list the checks naming its location that it can run, not paused ones, with a rev that follows the definition", async () => {
    const t = await setup();
    const web = await t.add({
      kind: "http",
      name: "web",
      url: "https://web.example/",
      headers: { authorization: "Bearer s3cret" },
      locations: ["lab", "edge"],
    });
    await t.add({ kind: "icmp", name: "router", host: "10.0.0.1", locations: ["lab"] });
    await t.add({ kind: "tcp", name: "elsewhere", host: "db.example", port: 5432, locations: ["fra-1"] });
    await t.add({ kind: "http", name: "edge only", url: "https://edge.example/" });
    await t.add({
      kind: "http",
      name: "paused",
      url: "https://p.example/",
      locations: ["lab"],
      paused: true,
    });

    const handed = await checkAssignments(t.db, t.project.id, { name: "lab", kinds: ["http", "tcp"] }, 500);
    expect(handed?.map((a) => a.id)).toEqual([web.id]);
    expect(handed?.[0]).toMatchObject({
      kind: "http",
      intervalSec: 60,
      http: { url: "https://web.example/", method: "GET", headers: { authorization: "Bearer s3cret" } },
    });
    const withIcmp = await checkAssignments(
      t.db,
      t.project.id,
      { name: "lab", kinds: ["http", "icmp"] },
      500,
    );
    expect(withIcmp).toHaveLength(2);
    expect(withIcmp?.find((a) => a.kind === "icmp")?.target).toEqual({ host: "10.0.0.1" });

    const rev = handed?.[0]?.rev;
    await updateCheck(t.db, t.clock, t.project.id, web.id, { period: 120 }, { allowPrivateTargets: true });
    const after = await checkAssignments(t.db, t.project.id, { name: "lab", kinds: ["http"] }, 500);
    expect(after?.[0]?.rev).not.toBe(rev);
    expect(after?.[0]?.intervalSec).toBe(120);
    expect(await checkAssignments(t.db, t.project.id, undefined, 500)).toBeUndefined();
  });
});

describe("where a check may run from", () => {
  it("refuses a quorum larger than its locations, ICMP from edge, and TLS from an edge that cannot see certificates", async () => {
    const t = await setup();
    const create = (input: Record<string, unknown>, edgeKinds?: string[]) =>
      createCheck(t.db, t.clock, t.project.id, createCheckRequestSchema.parse({ name: "c", ...input }), {
        allowPrivateTargets: false,
        ...(edgeKinds ? { edgeKinds } : {}),
      });
    await expect(
      create({ kind: "http", url: "https://a.example/", locations: ["edge", "lab"], quorum: 3 }),
    ).rejects.toMatchObject({ path: "body.quorum" });
    await expect(create({ kind: "icmp", host: "a.example", locations: ["edge"] })).rejects.toMatchObject({
      path: "body.locations",
    });
    await expect(
      create({ kind: "tls", host: "a.example", locations: ["edge"] }, ["http", "tcp"]),
    ).rejects.toMatchObject({ path: "body.locations" });
    // From a probe location, a private target is what it is for; from edge it is refused.
    await expect(
      create({ kind: "tcp", host: "10.0.0.5", port: 22, locations: ["lab"] }),
    ).resolves.toMatchObject({
      locations: ["lab"],
    });
    await expect(create({ kind: "tcp", host: "10.0.0.5", port: 22 })).rejects.toMatchObject({
      path: "body.host",
    });
  });
});
