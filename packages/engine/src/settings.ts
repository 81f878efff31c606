import type { ProbeRemoteConfig, ProjectSettings, UpdateProjectSettings } from "@vigil/contract";
import { type Db, projects } from "@vigil/db";
import { eq } from "drizzle-orm";
import { InvalidInputError, NotFoundError } from "./errors.ts";

/** What a project gets until an operator says otherwise. */
export const DEFAULT_SETTINGS: ProjectSettings = {
  retention: { rawDays: 7, hourlyDays: 90, dailyDays: 730, logDays: 14, logsPerHost: 100_000 },
  probe: { intervalSec: 30, journal: { minPriority: 4, units: [] } },
  alerts: { logLines: 20, redact: [] },
  reports: { weekly: false, to: [], weekday: 1, hour: 8, timezone: "UTC" },
};

/** Settings as stored: every key optional. */
interface Stored {
  retention?: Partial<ProjectSettings["retention"]>;
  probe?: { intervalSec?: number; journal?: Partial<ProbeRemoteConfig["journal"]> };
  alerts?: Partial<ProjectSettings["alerts"]>;
  reports?: Partial<ProjectSettings["reports"]>;
}

/** Stored settings are sparse: each absent key takes its default, so new settings need no migration. */
export function resolveSettings(stored: unknown): ProjectSettings {
  const s = (stored ?? {}) as Stored;
  return {
    retention: { ...DEFAULT_SETTINGS.retention, ...s.retention },
    probe: mergeProbeConfig(DEFAULT_SETTINGS.probe, s.probe),
    alerts: { ...DEFAULT_SETTINGS.alerts, ...s.alerts },
    reports: { ...DEFAULT_SETTINGS.reports, ...s.reports },
  };
}

export function mergeProbeConfig(
  base: ProbeRemoteConfig,
  override: Stored["probe"] | undefined,
): ProbeRemoteConfig {
  return {
    intervalSec: override?.intervalSec ?? base.intervalSec,
    journal: { ...base.journal, ...override?.journal },
  };
}

export async function getProjectSettings(db: Db, projectId: string): Promise<ProjectSettings> {
  const row = await db.query.projects.findFirst({
    where: eq(projects.id, projectId),
    columns: { settings: true },
  });
  if (!row) throw new NotFoundError("project");
  return resolveSettings(row.settings);
}

export async function updateProjectSettings(
  db: Db,
  projectId: string,
  patch: UpdateProjectSettings,
): Promise<ProjectSettings> {
  const row = await db.query.projects.findFirst({
    where: eq(projects.id, projectId),
    columns: { settings: true },
  });
  if (!row) throw new NotFoundError("project");
  const stored = row.settings as Stored;
  const next: Stored = {
    retention: { ...stored.retention, ...patch.retention },
    probe: {
      ...stored.probe,
      ...patch.probe,
      journal: { ...stored.probe?.journal, ...patch.probe?.journal },
    },
    alerts: { ...stored.alerts, ...patch.alerts },
    reports: { ...stored.reports, ...patch.reports },
  };
  const resolved = resolveSettings(next);
  if (resolved.reports.weekly && resolved.reports.to.length === 0) {
    throw new InvalidInputError("body.reports.to", "give at least one address to send the weekly report to");
  }
  await db
    .update(projects)
    .set({ settings: next as Record<string, unknown> })
    .where(eq(projects.id, projectId));
  return resolveSettings(next);
}
