/** A project with one enrolled host whose probe batches go through ingest and rule evaluation, as on the server. */
import { type ProbeBatchV1Input, probeBatchV1Schema, type UpdateRuleRequest } from "@vigil/contract";
import { alerts, checks, flips, rules } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { and, asc, eq } from "drizzle-orm";
import {
  authenticateHost,
  createEngineState,
  createEnrollmentToken,
  enrollHost,
  ensureBuiltinRules,
  evaluateBatchRules,
  evaluateDueAlerts,
  evaluateForecasts,
  ingestBatch,
  updateRule,
} from "../src/index.ts";
import { manualClock } from "../src/testing.ts";

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const T0 = Date.UTC(2026, 0, 12, 12);

let counter = 0;

/** A healthy host's readings at `ts`; each part can be overridden. */
export function healthy(ts: number, fields: Partial<ProbeBatchV1Input> = {}): Partial<ProbeBatchV1Input> {
  return {
    samples: [
      {
        ts,
        cpu: { userPct: 10, systemPct: 5, iowaitPct: 1, idlePct: 84 },
        load1: 0.5,
        memory: { totalBytes: 4e9, availableBytes: 2e9 },
      },
    ],
    filesystems: [fs(ts, "/", 40)],
    ...fields,
  };
}

/** A filesystem row `pct` percent full (of 100 GB). */
export function fs(ts: number, mount: string, pct: number) {
  const size = 100e9;
  return {
    ts,
    mount,
    device: "/dev/vda1",
    fstype: "ext4",
    sizeBytes: size,
    usedBytes: (size * pct) / 100,
    availableBytes: (size * (100 - pct)) / 100,
  };
}

export async function ruleFixture(options: { only?: string[]; tags?: string[] } = {}) {
  const db = await createTestDb();
  const clock = manualClock(T0);
  const project = await createProject(db);
  await ensureBuiltinRules(db, project.id, clock.now());
  if (options.only) {
    const keep = new Set(options.only);
    for (const r of await db.select().from(rules).where(eq(rules.projectId, project.id))) {
      if (r.builtin && !keep.has(r.builtin))
        await db.update(rules).set({ enabled: false }).where(eq(rules.id, r.id));
    }
  }
  const { token } = await createEnrollmentToken(db, clock, project.id, { name: "test" });
  const enrolled = await enrollHost(db, clock, {
    token,
    facts: { hostname: "web-1", machineId: crypto.randomUUID(), cpuCount: 2 },
  });
  if (options.tags) {
    const { hosts } = await import("@vigil/db");
    await db.update(hosts).set({ tags: options.tags }).where(eq(hosts.id, enrolled.hostId));
  }
  const engine = createEngineState();

  /** Sends one batch at the clock's time (its readings stamped now unless given) and evaluates rules on it. */
  async function send(fields: Partial<ProbeBatchV1Input> = healthy(clock.now())) {
    const principal = await authenticateHost(db, enrolled.hostToken);
    if (!principal) throw new Error("host token not valid");
    const batch = probeBatchV1Schema.parse({
      v: 1,
      batchId: `batch-${counter++}-x`,
      sentAt: clock.now(),
      ...fields,
    });
    const result = await ingestBatch(db, clock, principal, batch, engine);
    return evaluateBatchRules(db, clock, engine, principal, { batch, ...result });
  }

  async function rule(key: string) {
    const row = await db.query.rules.findFirst({
      where: and(eq(rules.projectId, project.id), eq(rules.builtin, key)),
    });
    if (!row) throw new Error(`no built-in rule ${key}`);
    return row;
  }

  async function alertsOf(key?: string) {
    const ruleId = key ? (await rule(key)).id : undefined;
    const rows = await db.select().from(alerts).where(eq(alerts.hostId, enrolled.hostId));
    return rows.filter((a) => !ruleId || a.ruleId === ruleId);
  }

  /** The state of the one alert of a rule ("none" when it has no row). */
  async function stateOf(key: string, targetKey?: string) {
    const rows = (await alertsOf(key)).filter((a) => targetKey === undefined || a.targetKey === targetKey);
    if (rows.length > 1) throw new Error(`${rows.length} alerts for ${key}`);
    return rows[0]?.state ?? "none";
  }

  async function flipsOf(alertId?: string) {
    const rows = await db.select().from(flips).where(eq(flips.subjectType, "alert")).orderBy(asc(flips.id));
    return rows
      .filter((f) => !alertId || f.subjectId === alertId)
      .map((f) => `${f.fromStatus}→${f.toStatus}`);
  }

  /** Changes a built-in rule as the API does (`PATCH /rules/:id`). */
  async function tune(key: string, patch: UpdateRuleRequest) {
    return updateRule(db, clock, engine, project.id, (await rule(key)).id, patch);
  }

  /** A healthy batch at the clock's time, but with the root filesystem `pct` percent full. */
  const disk = (pct: number) => send(healthy(clock.now(), { filesystems: [fs(clock.now(), "/", pct)] }));

  const hostCheck = () =>
    db.query.checks.findFirst({ where: and(eq(checks.hostId, enrolled.hostId), eq(checks.kind, "host")) });

  return {
    db,
    clock,
    engine,
    project,
    hostId: enrolled.hostId,
    send,
    disk,
    rule,
    tune,
    alertsOf,
    stateOf,
    flipsOf,
    hostCheck,
    due: () => evaluateDueAlerts(db, clock.now()),
    forecasts: () => evaluateForecasts(db, clock.now()),
  };
}
