import { type ProbeBatchV1Input, probeBatchV1Schema } from "@vigil/contract";
import { type Db, rules } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { and, eq, notInArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  authenticateHost,
  createEngineState,
  createEnrollmentToken,
  type EngineState,
  enrollHost,
  ensureBuiltinRules,
  evaluateBatchRules,
  ingestBatch,
  type PingInput,
  pauseCheck,
  recordPing,
  tick,
} from "../src/index.ts";
import { buildWeeklyReport, renderWeeklyReport, type WeeklyReport } from "../src/reports/weekly.ts";
import { createTestCheck, type ManualClock, manualClock } from "../src/testing.ts";
import { DAY, fs, HOUR, healthy, MIN } from "./rules-fixture.ts";

/** The window's start: midday, so the window cuts its first and last UTC days in half. */
const T0 = Date.UTC(2026, 0, 12, 12);
const NOW = T0 + 7 * DAY;
/** A heartbeat that only its pings move within the test's weeks. */
const MONTHLY = { period: 30 * 86_400, grace: 3600 };

let batches = 0;

/** A project whose only rules are the built-ins named, so the alerts fired are the ones a test provokes. */
async function projectWithRules(
  db: Db,
  clock: ManualClock,
  name: string,
  keep = ["fs-full", "backup-stale"],
) {
  const project = await createProject(db, { name });
  await ensureBuiltinRules(db, project.id, clock.now());
  await db
    .update(rules)
    .set({ enabled: false })
    .where(and(eq(rules.projectId, project.id), notInArray(rules.builtin, keep)));
  return project;
}

/** Enrolls a host; `send` ingests a batch at the clock's time and evaluates rules on it, as the API does. */
async function enroll(db: Db, clock: ManualClock, engine: EngineState, projectId: string, hostname: string) {
  const { token } = await createEnrollmentToken(db, clock, projectId, { name: hostname });
  const enrolled = await enrollHost(db, clock, {
    token,
    facts: { hostname, machineId: crypto.randomUUID(), cpuCount: 2 },
  });
  const send = async (fields: Partial<ProbeBatchV1Input> = healthy(clock.now())) => {
    const principal = await authenticateHost(db, enrolled.hostToken);
    if (!principal) throw new Error("host token not valid");
    const batch = probeBatchV1Schema.parse({
      v: 1,
      batchId: `weekly-${batches++}-x`,
      sentAt: clock.now(),
      ...fields,
    });
    const result = await ingestBatch(db, clock, principal, batch, engine);
    await evaluateBatchRules(db, clock, engine, principal, { batch, ...result });
  };
  /** The root filesystem above 90% for six minutes (fs-full fires after five), then back to 40%. */
  const fillDisk = async () => {
    for (let i = 0; i <= 6; i++) {
      await send(healthy(clock.now(), { filesystems: [fs(clock.now(), "/", 95)] }));
      clock.advance(MIN);
    }
    await send(healthy(clock.now()));
  };
  const backup = (name: string, status: "success" | "failure", endedAt = clock.now()) =>
    send(
      healthy(clock.now(), {
        backups: [{ name, tool: "restic", status, startedAt: endedAt - MIN, endedAt }],
      }),
    );
  return { hostId: enrolled.hostId, send, fillDisk, backup };
}

function pinger(db: Db, clock: ManualClock, engine: EngineState) {
  return (checkId: string, action: PingInput["action"] = "success") =>
    recordPing(db, clock, engine, {
      target: { checkId },
      action,
      exitStatus: null,
      rid: null,
      method: "GET",
      body: null,
      userAgent: "curl/8",
      remoteAddr: "203.0.113.9",
    });
}

/**
 * A busy week of project "Acme", and a project "Other" in the same database with troubles of its own:
 * - "nightly backup" is up, down from T0 + 3 d to T0 + 5 d, then up again;
 * - "api" went down a day before the window and recovered an hour into it;
 * - "paused job" was paused before the window;
 * - web-1 has security updates pending and needs a reboot, filled its disk twice, and its backups are
 *   "db" (fresh), "files" (last run failed) and "media" (last success three days ago);
 * - db-1 fell silent before the window.
 */
async function busyWeek() {
  const db = await createTestDb();
  const clock = manualClock(T0 - 2 * DAY);
  const engine = createEngineState();
  const ping = pinger(db, clock, engine);
  const run = () => tick({ db, clock, state: engine });
  const at = async (t: number) => {
    clock.set(t);
    await run();
  };

  const acme = await projectWithRules(db, clock, "Acme");
  const other = await projectWithRules(db, clock, "Other");
  const nightly = await createTestCheck(db, clock, acme.id, { name: "nightly backup", ...MONTHLY });
  const api = await createTestCheck(db, clock, acme.id, { name: "api", ...MONTHLY });
  const paused = await createTestCheck(db, clock, acme.id, { name: "paused job", ...MONTHLY });
  const otherCheck = await createTestCheck(db, clock, other.id, { name: "other-check", ...MONTHLY });
  const web = await enroll(db, clock, engine, acme.id, "web-1");
  const dbHost = await enroll(db, clock, engine, acme.id, "db-1");
  const otherHost = await enroll(db, clock, engine, other.id, "other-host");

  await ping(nightly.id);
  await ping(api.id);
  await ping(otherCheck.id);
  await pauseCheck(db, clock, acme.id, paused.id);
  await dbHost.send();
  await web.send();

  await at(T0 - DAY);
  await ping(api.id, "fail");
  await at(T0 + HOUR);
  await ping(api.id);

  await at(T0 + DAY);
  const pending = {
    collectedAt: clock.now(),
    updates: { manager: "apt" as const, pending: 5, security: 3 },
    reboot: { required: true, since: T0 + DAY - HOUR },
  };
  await web.send(healthy(clock.now(), { state: pending }));
  await otherHost.send(healthy(clock.now(), { state: { ...pending, collectedAt: clock.now() } }));

  await at(T0 + 2 * DAY);
  await web.fillDisk();
  await otherHost.fillDisk();
  await at(T0 + 3 * DAY);
  await ping(nightly.id, "fail");
  await ping(otherCheck.id, "fail");
  await at(T0 + 4 * DAY);
  await web.backup("media", "success");
  await web.backup("files", "success");
  await web.fillDisk();
  await at(T0 + 5 * DAY);
  await ping(nightly.id);

  await at(NOW - 3 * HOUR);
  await web.backup("files", "failure");
  await otherHost.backup("other-backup", "failure");
  await at(NOW - 2 * HOUR);
  await web.backup("db", "success");
  await at(NOW - MIN);
  await web.send();
  await at(NOW);

  return { db, clock, acme, other, nightly, api, paused, web, dbHost, otherHost };
}

const names = (report: WeeklyReport) => report.checks.map((c) => c.name);

describe("the weekly report", () => {
  it("shows a check down for 2 of the 7 days at about 71.4% uptime with one outage, worst first", async () => {
    const { db, acme } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    expect(report.from).toBe(T0);
    expect(report.to).toBe(NOW);
    expect(names(report)).toEqual(["nightly backup", "api"]);
    const [nightly, api] = report.checks;
    expect(nightly).toMatchObject({
      kind: "heartbeat",
      status: "up",
      downs: 1,
      downMs: 2 * DAY,
      upMs: 5 * DAY,
    });
    expect(nightly?.uptime).toBeCloseTo(5 / 7, 6);
    // Down since before the window: the hour it stayed down counts, the outage itself began last week.
    expect(api).toMatchObject({ status: "up", downs: 0, downMs: HOUR });
    expect(api?.uptime).toBeCloseTo(1 - 1 / 168, 6);
    expect(report.uptime).toBeCloseTo((12 * DAY - HOUR) / (14 * DAY), 6);
  });

  it("leaves out a check paused all week", async () => {
    const { db, acme } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    expect(names(report)).not.toContain("paused job");
  });

  it("lists an incident opened and resolved in the window with its duration, but not one opened before it", async () => {
    const { db, acme, nightly, api } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    const checkIncidents = report.incidents.filter((i) => i.subjectType === "check");
    expect(checkIncidents).toEqual([
      expect.objectContaining({
        subjectId: nightly.id,
        name: "nightly backup",
        openedAt: T0 + 3 * DAY,
        resolvedAt: T0 + 5 * DAY,
        durationMs: 2 * DAY,
      }),
    ]);
    expect(report.incidents.map((i) => i.subjectId)).not.toContain(api.id);
  });

  it("names an alert's incident by its rule, host and target", async () => {
    const { db, acme } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    const disk = report.incidents.filter((i) => i.name === "Filesystem above 90%");
    expect(disk).toHaveLength(2);
    expect(disk[0]).toMatchObject({ subjectType: "alert", hostName: "web-1", target: "disk /" });
    expect(disk[0]?.resolvedAt).not.toBeNull();
    const files = report.incidents.find((i) => i.name === "Backup older than 26 hours or failed");
    expect(files).toMatchObject({ hostName: "web-1", target: "backup files", resolvedAt: null });
    expect(files && files.durationMs === NOW - files.openedAt).toBe(true);
  });

  it("counts alerts fired in the window and names the rules that fired most", async () => {
    const { db, acme } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    expect(report.alerts.topRules).toContainEqual(
      expect.objectContaining({ name: "Filesystem above 90%", fired: 2 }),
    );
    expect(report.alerts.topRules).toContainEqual(
      expect.objectContaining({ name: "Backup older than 26 hours or failed" }),
    );
    expect(report.alerts.fired).toBe(report.alerts.topRules.reduce((n, r) => n + r.fired, 0));
  });

  it("lists a host with security updates pending and a reboot required, and since when", async () => {
    const { db, acme, web } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    expect(report.updates).toEqual([
      {
        hostId: web.hostId,
        hostName: "web-1",
        securityUpdates: 3,
        pendingUpdates: 5,
        securitySince: T0 + DAY,
        rebootRequired: true,
        rebootSince: T0 + DAY - HOUR,
        collectedAt: T0 + DAY,
      },
    ]);
  });

  it("lists a backup whose last run failed and one overdue, but not a fresh successful one", async () => {
    const { db, acme } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    expect(report.backups).toEqual([
      expect.objectContaining({
        hostName: "web-1",
        name: "files",
        reason: "failed",
        lastRunAt: NOW - 3 * HOUR,
        lastSuccessAt: T0 + 4 * DAY,
      }),
      expect.objectContaining({
        hostName: "web-1",
        name: "media",
        reason: "stale",
        lastSuccessAt: T0 + 4 * DAY,
      }),
    ]);
  });

  it("lists a host that stopped reporting and not one that reported a minute ago", async () => {
    const { db, acme, dbHost } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    expect(report.silentHosts).toEqual([
      { hostId: dbHost.hostId, hostName: "db-1", lastSeenAt: T0 - 2 * DAY },
    ]);
  });

  it("never shows another project's checks, incidents, alerts, hosts or backups", async () => {
    const { db, acme, other } = await busyWeek();
    const acmeReport = await buildWeeklyReport(db, acme.id, NOW);
    expect(JSON.stringify(acmeReport)).not.toMatch(/other-/);
    const otherReport = await buildWeeklyReport(db, other.id, NOW);
    expect(names(otherReport)).toEqual(["other-check"]);
    expect(otherReport.updates.map((u) => u.hostName)).toEqual(["other-host"]);
    expect(otherReport.backups.map((b) => b.name)).toEqual(["other-backup"]);
    expect(otherReport.alerts.topRules.find((r) => r.name === "Filesystem above 90%")?.fired).toBe(1);
    expect(JSON.stringify(otherReport)).not.toMatch(/web-1|db-1|nightly|"api"/);
  });

  it("keeps what happened after the week out of the week's figures", async () => {
    const { db, clock, acme, nightly } = await busyWeek();
    const before = await buildWeeklyReport(db, acme.id, NOW);
    clock.advance(DAY);
    await pinger(db, clock, createEngineState())(nightly.id, "fail");
    const after = await buildWeeklyReport(db, acme.id, NOW);
    const figures = (r: WeeklyReport) => r.checks.map(({ status: _now, ...c }) => c);
    expect(figures(after)).toEqual(figures(before));
    expect(after.incidents).toEqual(before.incidents);
    expect(after.alerts).toEqual(before.alerts);
  });

  it("refuses a project that does not exist", async () => {
    const db = await createTestDb();
    await expect(buildWeeklyReport(db, crypto.randomUUID(), NOW)).rejects.toThrow(/project/);
  });
});

describe("the weekly email", () => {
  it("says the uptime and the number of incidents in its subject", async () => {
    const { db, acme } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    const { subject, text } = renderWeeklyReport(report, { dashboardUrl: null });
    expect(subject).toBe(`Vigil weekly: Acme — 85.41% uptime, ${report.incidents.length} incidents`);
    expect(text).toContain("  71.42%  nightly backup (heartbeat), 2 d down in 1 outage, now up");
    expect(text).toContain("  99.40%  api (heartbeat), 1 h down, now up");
    expect(text).toMatch(/nightly backup — opened 2026-01-15 12:00 UTC, resolved after 2 d/);
    expect(text).toContain("web-1 — 3 security updates pending since 2026-01-13 12:00 UTC");
    expect(text).toContain("web-1 backup files — last run failed");
    expect(text).toContain("db-1 — last seen 2026-01-10 12:00 UTC");
  });

  it("shows times in the time zone asked for", async () => {
    const { db, acme } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    const { text } = renderWeeklyReport(report, { dashboardUrl: null, timezone: "Europe/Berlin" });
    expect(text).toContain("nightly backup — opened 2026-01-15 13:00 Europe/Berlin");
  });

  it("links checks and hosts to the dashboard when it knows where that is", async () => {
    const { db, acme, nightly, web } = await busyWeek();
    const report = await buildWeeklyReport(db, acme.id, NOW);
    const { html, text } = renderWeeklyReport(report, { dashboardUrl: "https://vigil.example/" });
    expect(html).toContain(`href="https://vigil.example/p/${acme.id}/checks/${nightly.id}"`);
    expect(html).toContain(`href="https://vigil.example/p/${acme.id}/hosts/${web.hostId}"`);
    expect(text).toContain(`https://vigil.example/p/${acme.id}`);
    expect(renderWeeklyReport(report, { dashboardUrl: null }).html).not.toContain("<a ");
  });

  it("escapes what people named: a check called <script> stays text", async () => {
    const db = await createTestDb();
    const clock = manualClock(T0);
    const engine = createEngineState();
    const project = await createProject(db, { name: `Tom & "Jerry's"` });
    const check = await createTestCheck(db, clock, project.id, {
      name: "<script>alert(1)</script>",
      ...MONTHLY,
    });
    await pinger(db, clock, engine)(check.id, "fail");
    clock.set(NOW);
    const report = await buildWeeklyReport(db, project.id, NOW);
    const { html, text } = renderWeeklyReport(report, { dashboardUrl: "https://vigil.example" });
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("Tom &amp; &quot;Jerry&#39;s&quot;");
    expect(text).toContain("<script>alert(1)</script>");
  });

  it("says so in one line for every empty section", async () => {
    const db = await createTestDb();
    const project = await createProject(db, { name: "Quiet" });
    const report = await buildWeeklyReport(db, project.id, NOW);
    expect(report).toMatchObject({
      uptime: null,
      checks: [],
      incidents: [],
      alerts: { fired: 0, topRules: [] },
      updates: [],
      backups: [],
      silentHosts: [],
    });
    const { subject, text, html } = renderWeeklyReport(report, { dashboardUrl: null });
    expect(subject).toBe("Vigil weekly: Quiet — no uptime data, 0 incidents");
    for (const line of [
      "No checks.",
      "No incidents this week.",
      "No alerts fired this week.",
      "No host has security updates pending or needs a reboot.",
      "No backup failed or is overdue.",
      "Every host is reporting.",
    ]) {
      expect(text).toContain(`  ${line}\n`);
      expect(html).toContain(`>${line}</p>`);
    }
  });

  it("never rounds a week with downtime up to 100%", async () => {
    const db = await createTestDb();
    const clock = manualClock(T0 - DAY);
    const engine = createEngineState();
    const project = await createProject(db, { name: "Steady" });
    const check = await createTestCheck(db, clock, project.id, { name: "web", ...MONTHLY });
    const ping = pinger(db, clock, engine);
    await ping(check.id);
    clock.set(T0 + 3 * DAY);
    await ping(check.id, "fail");
    clock.advance(30_000);
    await ping(check.id);
    const report = await buildWeeklyReport(db, project.id, NOW);
    expect(report.checks[0]?.uptime).toBeGreaterThan(0.9999);
    expect(renderWeeklyReport(report, { dashboardUrl: null }).subject).toBe(
      "Vigil weekly: Steady — 99.99% uptime, 1 incident",
    );
  });
});
