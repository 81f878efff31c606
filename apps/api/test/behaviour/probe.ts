/** Probe batches as the probe sends them (packages/contract's wire format), built for a moment. */
import { START } from "./target.ts";

let counter = 0;

/** A batch with a fresh id, sent at the cases' start unless `sentAt` says otherwise; fields override. */
export function batch(fields: Record<string, unknown> = {}) {
  return { v: 1, batchId: `batch-${crypto.randomUUID()}-${counter++}`, sentAt: START, ...fields };
}

export function cpuSample(ts: number, busyPct = 5.5, load1 = 0.2) {
  const user = busyPct * 0.6;
  return {
    ts,
    cpu: { userPct: user, systemPct: busyPct - user - 0.5, iowaitPct: 0.5, idlePct: 100 - busyPct },
    load1,
  };
}

export function filesystem(ts: number, pct: number, mount = "/") {
  return {
    ts,
    mount,
    device: "/dev/vda1",
    fstype: "ext4",
    sizeBytes: 100e9,
    usedBytes: pct * 1e9,
    availableBytes: (100 - pct) * 1e9,
  };
}

export function backupRun(ts: number, status: "success" | "failure", name = "db") {
  return { name, tool: "restic", status, startedAt: ts - 60_000, endedAt: ts };
}

/** A host at `ts`: one CPU sample, the root filesystem `pct` full, and optionally a backup that just ended. */
export function hostBatch(ts: number, pct: number, backup?: "success" | "failure") {
  return batch({
    sentAt: ts,
    facts: { hostname: "web-1", cpuCount: 2 },
    samples: [cpuSample(ts)],
    filesystems: [filesystem(ts, pct)],
    ...(backup ? { backups: [backupRun(ts, backup)] } : {}),
  });
}

export function logLine(ts: number, message: string, fields: Record<string, unknown> = {}) {
  return { ts, unit: "nginx.service", priority: 6, message, ...fields };
}
