import type { ProbeCommandResult, ProbeRemoteConfig } from "@vigil/contract";
import { PROBE_BATCH_LIMITS } from "../limits.ts";

/** A runbook command the server hands this host in a batch answer. */
export type HandedCommand = NonNullable<ProbeRemoteConfig["commands"]>[number];
export type { ProbeCommandResult };

type Loose = Record<string, unknown>;

/** One command as the contract describes it, or undefined. */
function validCommand(value: unknown): HandedCommand | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { id, command, timeoutSec } = value as Loose;
  if (typeof id !== "string" || id.length < 1 || id.length > 64) return undefined;
  if (typeof command !== "string" || command.length > 4096) return undefined;
  if (typeof timeoutSec !== "number" || !Number.isInteger(timeoutSec) || timeoutSec < 1 || timeoutSec > 3600)
    return undefined;
  return { id, command, timeoutSec };
}

/**
 * The commands in a batch answer's (or the saved) config, in the server's order: malformed entries and
 * repeated ids are left out one by one, so one bad entry from a newer server does not stop the others.
 */
export function validCommands(value: unknown): HandedCommand[] {
  if (!Array.isArray(value)) return [];
  const byId = new Map<string, HandedCommand>();
  for (const raw of value.slice(0, PROBE_BATCH_LIMITS.commands)) {
    const command = validCommand(raw);
    if (command && !byId.has(command.id)) byId.set(command.id, command);
  }
  return [...byId.values()];
}
