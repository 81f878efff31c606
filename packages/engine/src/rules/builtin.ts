/**
 * The built-in rule pack every project gets: sensible alerts for its hosts without configuring anything.
 * Each rule is an ordinary row (tunable over the API) marked with its `builtin` key; built-ins are switched
 * off rather than deleted, so adding the pack again is always a no-op for what is there.
 *
 * New projects get the pack when they are made (`bootstrapProject`); projects that existed before rules did
 * get it on first use (their first evaluated batch or their first rules listing), through `ensureBuiltinRules`.
 */
import { type CreateRuleRequest, ruleParamsSchemas } from "@vigil/contract";
import { type Db, rules } from "@vigil/db";
import type { KnownIds } from "../engine-state.ts";

type BuiltinRule = Pick<CreateRuleRequest, "name" | "kind" | "params" | "forSec" | "description"> & {
  key: string;
};

export const BUILTIN_RULES: readonly BuiltinRule[] = [
  {
    key: "fs-full",
    name: "Filesystem above 90%",
    kind: "metric",
    params: { metric: "fs.used_pct", op: ">", value: 90 },
    forSec: 300,
    description: "A filesystem has been more than 90% full for 5 minutes.",
  },
  {
    key: "memory-low",
    name: "Memory available under 5%",
    kind: "metric",
    params: { metric: "mem.available_pct", op: "<", value: 5 },
    forSec: 300,
    description: "Less than 5% of memory has been available for 5 minutes.",
  },
  {
    key: "load-high",
    name: "Load per core above 2",
    kind: "metric",
    params: { metric: "load.1", op: ">", value: 2, perCore: true },
    forSec: 900,
    description: "The 1-minute load average per CPU core has been above 2 for 15 minutes.",
  },
  {
    key: "iowait-high",
    name: "I/O wait above 30%",
    kind: "metric",
    params: { metric: "cpu.iowait_pct", op: ">", value: 30 },
    forSec: 600,
    description: "CPUs have spent more than 30% of their time waiting for I/O for 10 minutes.",
  },
  {
    key: "host-down",
    name: "Host down",
    kind: "host_down",
    params: { periodSec: 30 },
    forSec: 0,
    description: "The probe has been silent for three intervals (at least 2 minutes).",
  },
  {
    key: "backup-stale",
    name: "Backup older than 26 hours or failed",
    kind: "backup",
    params: { maxAgeHours: 26, failed: true },
    forSec: 0,
    description: "The last successful backup of a name is more than 26 hours old, or its last run failed.",
  },
  {
    key: "backup-check",
    name: "Backup repository damaged, unreadable or unchecked for 8 days",
    kind: "backup_check",
    params: { maxAgeDays: 8, failed: true },
    forSec: 0,
    description:
      "A repository's newest check (vigil-probe backup-check) found damage or could not run, or no check ran for 8 days.",
  },
  {
    key: "backup-drill",
    name: "Restore drill failed or none good for 35 days",
    kind: "backup_drill",
    params: { maxAgeDays: 35, failed: true },
    forSec: 0,
    description:
      "A repository's newest restore drill (vigil-probe backup-drill) failed, or none came back identical for 35 days.",
  },
  {
    key: "backup-copies",
    name: "Backed-up data short of 3-2-1",
    kind: "backup_copies",
    params: { minCopies: 2, offsite: true, maxAgeHours: 192 },
    forSec: 0,
    description:
      "A host's backed-up data has fewer than 2 backup copies, none off site, or a copy whose newest snapshot is over 8 days old.",
  },
  {
    key: "backup-shrink",
    name: "Backup repository shrank by more than 20%",
    kind: "backup_size",
    params: { shrinkPct: 20 },
    forSec: 0,
    description: "A repository holds over 20% less than at its previous good check: data pruned or lost.",
  },
  {
    key: "security-updates",
    name: "Security updates pending more than 7 days",
    kind: "security_updates",
    params: { days: 7 },
    forSec: 0,
    description: "Security updates have been waiting for more than 7 days.",
  },
  {
    key: "reboot-required",
    name: "Reboot required more than 7 days",
    kind: "reboot_required",
    params: { days: 7 },
    forSec: 0,
    description: "The host has needed a reboot (e.g. for a new kernel) for more than 7 days.",
  },
  {
    key: "failed-units",
    name: "Failed systemd units",
    kind: "failed_units",
    params: {},
    forSec: 0,
    description: "A systemd unit is in the failed state.",
  },
  {
    key: "container-restart-loop",
    name: "Container restart loop",
    kind: "container",
    params: { notRunning: false, unhealthy: false, restarts: 3, windowMinutes: 15 },
    forSec: 0,
    description: "A container restarted more than 3 times within 15 minutes.",
  },
  {
    key: "oom-kill",
    name: "OOM kill",
    kind: "log",
    params: { identifier: "kernel", text: "out of memory", windowSec: 600, above: 0 },
    forSec: 0,
    description: "The kernel's OOM killer killed a process in the last 10 minutes.",
  },
  {
    key: "disk-forecast",
    name: "Disk full within 24 hours",
    kind: "forecast",
    params: { withinHours: 24, lookbackHours: 6 },
    forSec: 0,
    description: "The trend of the last 6 hours fills a filesystem within 24 hours.",
  },
];

/**
 * Adds the built-in rules a project lacks; idempotent. The hot path (every batch) passes the projects this
 * process or isolate already gave the pack (EngineState.builtinRules), so it costs no write after the first.
 */
export async function ensureBuiltinRules(
  db: Db,
  projectId: string,
  now: number,
  done?: KnownIds,
): Promise<void> {
  if (done?.has(projectId)) return;
  await db
    .insert(rules)
    .values(
      BUILTIN_RULES.map((r) => ({
        id: crypto.randomUUID(),
        projectId,
        name: r.name,
        kind: r.kind,
        builtin: r.key,
        params: ruleParamsSchemas[r.kind].parse(r.params),
        forSec: r.forSec,
        description: r.description,
        createdAt: now,
        updatedAt: now,
      })),
    )
    .onConflictDoNothing();
  done?.add(projectId);
}
