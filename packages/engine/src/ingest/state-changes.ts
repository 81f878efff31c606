/**
 * Derives change events by comparing a host's previous state snapshot with the new one. Only changes are
 * events; the first snapshot of a host sets the baseline and reports only what already needs attention.
 */
import type { Container, StateSnapshot } from "@vigil/contract";

export interface StateChange {
  kind: string;
  message: string;
  details: Record<string, unknown>;
}

function diffSets(before: readonly string[], after: readonly string[]) {
  const a = new Set(before);
  const b = new Set(after);
  return { added: [...b].filter((x) => !a.has(x)), removed: [...a].filter((x) => !b.has(x)) };
}

function sshChanges(prev: StateSnapshot, next: StateSnapshot): StateChange[] {
  if (!prev.sshKeys || !next.sshKeys) return [];
  const before = new Map(prev.sshKeys.map((u) => [u.user, u.fingerprints]));
  const after = new Map(next.sshKeys.map((u) => [u.user, u.fingerprints]));
  const out: StateChange[] = [];
  for (const user of new Set([...before.keys(), ...after.keys()])) {
    const { added, removed } = diffSets(before.get(user) ?? [], after.get(user) ?? []);
    if (added.length || removed.length) {
      out.push({
        kind: "ssh_keys.changed",
        message: `SSH keys changed for ${user}: ${added.length} added, ${removed.length} removed`,
        details: { user, added, removed },
      });
    }
  }
  return out;
}

function containerChanges(prev: StateSnapshot, next: StateSnapshot): StateChange[] {
  if (!prev.containers || !next.containers) return [];
  const before = new Map<string, Container>(prev.containers.map((c) => [c.name, c]));
  const out: StateChange[] = [];
  for (const c of next.containers) {
    const old = before.get(c.name);
    before.delete(c.name);
    const details = { container: c.name, image: c.image, state: c.state, labels: c.labels ?? {} };
    if (!old) {
      out.push({ kind: "container.created", message: `container ${c.name} appeared (${c.state})`, details });
      continue;
    }
    const restarts = (c.restartCount ?? 0) - (old.restartCount ?? 0);
    if (restarts > 0) {
      out.push({
        kind: "container.restarted",
        message: `container ${c.name} restarted${restarts > 1 ? ` ${restarts} times` : ""}`,
        details: { ...details, restarts, restartCount: c.restartCount },
      });
    }
    if (old.state !== c.state) {
      out.push({
        kind: "container.state",
        message: `container ${c.name} is ${c.state} (was ${old.state})`,
        details,
      });
    }
    if ((old.health ?? "none") !== (c.health ?? "none") && c.health === "unhealthy") {
      out.push({ kind: "container.unhealthy", message: `container ${c.name} is unhealthy`, details });
    }
    if (old.image !== c.image) {
      out.push({ kind: "container.image", message: `container ${c.name} now runs ${c.image}`, details });
    }
  }
  for (const gone of before.values()) {
    out.push({
      kind: "container.removed",
      message: `container ${gone.name} is gone`,
      details: { container: gone.name },
    });
  }
  return out;
}

export function stateChanges(prev: StateSnapshot | null, next: StateSnapshot): StateChange[] {
  const base: StateSnapshot = prev ?? { collectedAt: 0 };
  const out: StateChange[] = [];
  const wasRequired = base.reboot?.required ?? false;
  if (next.reboot && next.reboot.required !== wasRequired && (prev?.reboot || next.reboot.required)) {
    out.push(
      next.reboot.required
        ? {
            kind: "reboot.required",
            message: "reboot required",
            details: { packages: next.reboot.packages ?? [], since: next.reboot.since },
          }
        : { kind: "reboot.done", message: "reboot no longer required", details: {} },
    );
  }
  if (next.updates && next.updates.security > 0 !== (base.updates?.security ?? 0) > 0) {
    if (next.updates.security > 0) {
      out.push({
        kind: "updates.security",
        message: `${next.updates.security} security update${next.updates.security === 1 ? "" : "s"} pending`,
        details: { pending: next.updates.pending, security: next.updates.security },
      });
    } else if (prev?.updates) {
      out.push({ kind: "updates.applied", message: "no security updates pending", details: {} });
    }
  }
  if (next.failedUnits) {
    const { added, removed } = diffSets(base.failedUnits ?? [], next.failedUnits);
    for (const unit of added)
      out.push({ kind: "unit.failed", message: `unit ${unit} failed`, details: { unit } });
    if (prev?.failedUnits) {
      for (const unit of removed) {
        out.push({ kind: "unit.recovered", message: `unit ${unit} no longer failed`, details: { unit } });
      }
    }
  }
  if (prev) {
    out.push(...sshChanges(base, next), ...containerChanges(base, next));
  }
  return out;
}
