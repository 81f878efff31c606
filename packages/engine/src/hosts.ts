import type { Host, ProbeRemoteConfig, ProjectSettings, StateSnapshot, UpdateHost } from "@vigil/contract";
import {
  alerts,
  backupChecks,
  backupDrills,
  backupRepositories,
  backupRuns,
  type Db,
  flips,
  type HostRow,
  hostEvents,
  hostState,
  hosts,
  incidents,
  ingestedBatches,
  logEntries,
  projects,
  rollupDirty,
  rollupsDaily,
  rollupsHourly,
  samples,
  secretPrefix,
  series,
  verifySecret,
} from "@vigil/db";
import { and, eq, inArray } from "drizzle-orm";
import type { Clock } from "./clock.ts";
import type { EngineState } from "./engine-state.ts";
import { InvalidInputError, NotFoundError } from "./errors.ts";
import { backupRunFigures } from "./queries/backups.ts";
import { getProjectSettings, mergeProbeConfig, resolveSettings } from "./settings.ts";

/** A host as its probe's token identifies it, with its project's settings (read in the same query). */
export interface HostPrincipal {
  hostId: string;
  projectId: string;
  row: HostRow;
  settings: ProjectSettings;
}

/** Finds the host a probe token belongs to: indexed prefix lookup, then a constant-time hash compare. */
export async function authenticateHost(db: Db, token: string): Promise<HostPrincipal | null> {
  const prefix = secretPrefix(token, "hst");
  if (!prefix) return null;
  const [found] = await db
    .select({ row: hosts, settings: projects.settings })
    .from(hosts)
    .innerJoin(projects, eq(projects.id, hosts.projectId))
    .where(eq(hosts.tokenPrefix, prefix));
  if (!found || !(await verifySecret(token, found.row.tokenHash))) return null;
  return {
    hostId: found.row.id,
    projectId: found.row.projectId,
    row: found.row,
    settings: resolveSettings(found.settings),
  };
}

/**
 * `authenticateHost` through the engine state's cache (`hostTokens`: a host's row, token hash included,
 * for up to 60 s), so accepting a queued batch needs no database read. The token is still checked against
 * the hash on every request. Only for the queued batch endpoint, where the consumer reads the host again
 * (`hostPrincipals`): a batch of a host deleted meanwhile is accepted for up to the cache's lifetime and
 * then dropped. After a re-enrollment (a fresh token), the old token is still accepted there for up to
 * that long: whoever holds it could have re-enrolled as well, and the probe's batches still in flight with
 * it are not lost.
 */
export async function authenticateHostCached(
  db: Db,
  state: EngineState,
  token: string,
  now: number,
): Promise<HostPrincipal | null> {
  const prefix = secretPrefix(token, "hst");
  if (!prefix) return null;
  const cached = state.hostTokens.get(prefix, now);
  if (cached && (await verifySecret(token, cached.row.tokenHash))) return cached;
  const found = await authenticateHost(db, token);
  if (found) state.hostTokens.set(prefix, found, now);
  return found;
}

/**
 * Hosts by id, each as its probe's token identified it, for work that authenticated earlier (a queued
 * batch carries the host and project ids the route checked). A host that is gone, or that belongs to
 * another project than the one named, is left out.
 */
export async function hostPrincipals(
  db: Db,
  ids: readonly { hostId: string; projectId: string }[],
): Promise<Map<string, HostPrincipal>> {
  const out = new Map<string, HostPrincipal>();
  const wanted = new Map(ids.map((i) => [i.hostId, i.projectId]));
  if (wanted.size === 0) return out;
  const rows = await db
    .select({ row: hosts, settings: projects.settings })
    .from(hosts)
    .innerJoin(projects, eq(projects.id, hosts.projectId))
    .where(inArray(hosts.id, [...wanted.keys()]));
  for (const { row, settings } of rows) {
    if (wanted.get(row.id) !== row.projectId) continue;
    out.set(row.id, { hostId: row.id, projectId: row.projectId, row, settings: resolveSettings(settings) });
  }
  return out;
}

export function effectiveHostConfig(settings: ProjectSettings, hostConfig: unknown): ProbeRemoteConfig {
  return mergeProbeConfig(settings.probe, hostConfig as Parameters<typeof mergeProbeConfig>[1]);
}

/** Silent for more than three intervals (and at least two minutes) means offline, as for host checks. */
export function isOnline(lastSeenAt: number | null, intervalSec: number, now: number): boolean {
  if (lastSeenAt === null) return false;
  return now - lastSeenAt <= Math.max(3 * intervalSec * 1000, 120_000);
}

/** Series whose latest values make up a host's headline figures. */
const HEADLINE = [
  "cpu.idle_pct",
  "cpu.iowait_pct",
  "load.1",
  "mem.available_pct",
  "swap.used_bytes",
  "fs.used_pct",
];

async function latestFigures(db: Db, hostIds: string[]): Promise<Map<string, Host["latest"]>> {
  const out = new Map<string, Host["latest"]>();
  if (hostIds.length === 0) return out;
  const rows = await db
    .select({ hostId: series.hostId, name: series.name, ts: series.lastTs, value: series.lastValue })
    .from(series)
    .where(and(inArray(series.hostId, hostIds), inArray(series.name, HEADLINE)));
  for (const r of rows) {
    if (r.value === null || r.hostId === null) continue;
    const latest = out.get(r.hostId) ?? {};
    latest.at = Math.max(latest.at ?? 0, r.ts ?? 0);
    if (r.name === "cpu.idle_pct") latest.cpuBusyPct = round(100 - r.value);
    if (r.name === "cpu.iowait_pct") latest.iowaitPct = round(r.value);
    if (r.name === "load.1") latest.load1 = r.value;
    if (r.name === "mem.available_pct") latest.memoryAvailablePct = round(r.value);
    if (r.name === "swap.used_bytes") latest.swapUsedBytes = r.value;
    if (r.name === "fs.used_pct")
      latest.diskUsedPctMax = round(Math.max(latest.diskUsedPctMax ?? 0, r.value));
    out.set(r.hostId, latest);
  }
  return out;
}

/** Each host's newest successful and failed backup run: the overview's "last backup" without a call per card. */
async function lastBackups(db: Db, hostIds: string[]): Promise<Map<string, Host["lastBackup"]>> {
  if (hostIds.length === 0) return new Map();
  const rows = await db
    .select({
      hostId: backupRuns.hostId,
      successAt: backupRunFigures.lastSuccessAt,
      failureAt: backupRunFigures.lastFailureAt,
    })
    .from(backupRuns)
    .where(inArray(backupRuns.hostId, hostIds))
    .groupBy(backupRuns.hostId);
  return new Map(
    rows.map((r) => [
      r.hostId,
      {
        successAt: r.successAt === null ? null : Number(r.successAt),
        failureAt: r.failureAt === null ? null : Number(r.failureAt),
      },
    ]),
  );
}

const round = (n: number) => Math.round(n * 100) / 100;

async function toHosts(db: Db, clock: Clock, projectId: string, rows: HostRow[]): Promise<Host[]> {
  const settings = await getProjectSettings(db, projectId);
  const ids = rows.map((r) => r.id);
  const [latest, states, backups] = await Promise.all([
    latestFigures(db, ids),
    ids.length ? db.select().from(hostState).where(inArray(hostState.hostId, ids)) : Promise.resolve([]),
    lastBackups(db, ids),
  ]);
  const stateOf = new Map(states.map((s) => [s.hostId, s.snapshot as StateSnapshot]));
  const now = clock.now();
  return rows.map((row) => {
    const config = effectiveHostConfig(settings, row.config);
    return {
      id: row.id,
      name: row.name,
      machineId: row.machineId,
      tags: row.tags,
      public: row.public,
      facts: row.facts as Host["facts"],
      createdAt: row.createdAt,
      lastSeenAt: row.lastSeenAt,
      online: isOnline(row.lastSeenAt, config.intervalSec, now),
      config,
      latest: latest.get(row.id) ?? {},
      state: stateOf.get(row.id) ?? null,
      lastBackup: backups.get(row.id) ?? { successAt: null, failureAt: null },
    };
  });
}

export async function listHosts(db: Db, clock: Clock, projectId: string): Promise<Host[]> {
  const rows = await db.query.hosts.findMany({
    where: eq(hosts.projectId, projectId),
    orderBy: (h, { asc }) => [asc(h.name), asc(h.id)],
  });
  return toHosts(db, clock, projectId, rows);
}

/** A host of this project, or NotFound — also for another project's host id, so ids reveal nothing. */
/** Whether the project has this host (a saved probe identity may name one deleted since). */
export async function hostExists(db: Db, projectId: string, hostId: string): Promise<boolean> {
  const row = await db.query.hosts.findFirst({
    where: and(eq(hosts.projectId, projectId), eq(hosts.id, hostId)),
    columns: { id: true },
  });
  return row !== undefined;
}

export async function getHostRow(db: Db, projectId: string, hostId: string): Promise<HostRow> {
  const row = await db.query.hosts.findFirst({
    where: and(eq(hosts.projectId, projectId), eq(hosts.id, hostId)),
  });
  if (!row) throw new NotFoundError("host");
  return row;
}

export async function getHost(db: Db, clock: Clock, projectId: string, hostId: string): Promise<Host> {
  const [host] = await toHosts(db, clock, projectId, [await getHostRow(db, projectId, hostId)]);
  if (!host) throw new NotFoundError("host");
  return host;
}

export async function updateHost(
  db: Db,
  clock: Clock,
  projectId: string,
  hostId: string,
  patch: UpdateHost,
): Promise<Host> {
  const row = await getHostRow(db, projectId, hostId);
  const config =
    patch.config === null
      ? {}
      : patch.config
        ? {
            ...row.config,
            ...patch.config,
            journal: { ...(row.config.journal as object | undefined), ...patch.config.journal },
          }
        : row.config;
  await db
    .update(hosts)
    .set({
      ...(patch.name ? { name: patch.name } : {}),
      ...(patch.tags ? { tags: [...new Set(patch.tags)] } : {}),
      ...(patch.public !== undefined ? { public: patch.public } : {}),
      config,
    })
    .where(and(eq(hosts.projectId, projectId), eq(hosts.id, hostId)));
  return getHost(db, clock, projectId, hostId);
}

/**
 * Deletes a host and everything it reported, in one transaction. Deletes are explicit rather than left
 * to ON DELETE CASCADE, because SQLite enforces foreign keys only where the connection turned them on.
 */
export async function deleteHost(db: Db, projectId: string, hostId: string): Promise<void> {
  await getHostRow(db, projectId, hostId);
  const ids = db.select({ id: series.id }).from(series).where(eq(series.hostId, hostId));
  const alertIds = db.select({ id: alerts.id }).from(alerts).where(eq(alerts.hostId, hostId));
  const repositoryIds = db
    .select({ id: backupRepositories.id })
    .from(backupRepositories)
    .where(eq(backupRepositories.hostId, hostId));
  await db.batch([
    db.delete(samples).where(inArray(samples.seriesId, ids)),
    db.delete(rollupsHourly).where(inArray(rollupsHourly.seriesId, ids)),
    db.delete(rollupsDaily).where(inArray(rollupsDaily.seriesId, ids)),
    db.delete(rollupDirty).where(eq(rollupDirty.hostId, hostId)),
    db.delete(series).where(eq(series.hostId, hostId)),
    db.delete(logEntries).where(eq(logEntries.hostId, hostId)),
    db.delete(backupRuns).where(eq(backupRuns.hostId, hostId)),
    db.delete(backupChecks).where(inArray(backupChecks.repositoryId, repositoryIds)),
    db.delete(backupDrills).where(inArray(backupDrills.repositoryId, repositoryIds)),
    db.delete(backupRepositories).where(eq(backupRepositories.hostId, hostId)),
    db.delete(hostState).where(eq(hostState.hostId, hostId)),
    db.delete(hostEvents).where(eq(hostEvents.hostId, hostId)),
    db.delete(ingestedBatches).where(eq(ingestedBatches.hostId, hostId)),
    // Its alerts go with it (cascade); their incidents and flips are rows of their own and would dangle.
    db
      .delete(incidents)
      .where(and(eq(incidents.subjectType, "alert"), inArray(incidents.subjectId, alertIds))),
    db.delete(flips).where(and(eq(flips.subjectType, "alert"), inArray(flips.subjectId, alertIds))),
    db.delete(hosts).where(and(eq(hosts.projectId, projectId), eq(hosts.id, hostId))),
  ]);
}

/** A rule, silence or window naming a host must name one of its own project's: 400 otherwise. */
export async function assertScopeHost(db: Db, projectId: string, hostId: string | null | undefined) {
  if (!hostId) return;
  const host = await db.query.hosts.findFirst({
    where: and(eq(hosts.projectId, projectId), eq(hosts.id, hostId)),
    columns: { id: true },
  });
  if (!host) throw new InvalidInputError("body.hostId", "no such host in this project");
}
