import { stat } from "node:fs/promises";
import type { NoteSink } from "../notes.ts";
import { runCommand } from "../platform/commands.ts";
import { underRoot } from "../platform/files.ts";

/** `systemctl list-units --failed --plain --no-legend`: "name.service loaded failed failed Description". */
export function parseFailedUnits(text: string): string[] {
  const units: string[] = [];
  for (const line of text.split("\n")) {
    // Older systemd prefixes failed units with a "●" marker even with --plain.
    const name = line.replace(/^[\s●*]+/, "").split(/\s+/)[0];
    if (name) units.push(name);
  }
  return units;
}

/** sd_booted(3): systemd is PID 1 exactly when /run/systemd/system exists. */
export async function systemdIsRunning(rootDir: string): Promise<boolean> {
  try {
    return (await stat(underRoot(rootDir, "/run/systemd/system"))).isDirectory();
  } catch {
    return false;
  }
}

export async function collectFailedUnits(
  rootDir: string,
  notes: NoteSink,
  systemctl = "systemctl",
): Promise<string[] | undefined> {
  if (!(await systemdIsRunning(rootDir))) {
    notes.add("systemd", "systemd is not running on this host");
    return undefined;
  }
  const result = await runCommand(
    systemctl,
    ["list-units", "--failed", "--all", "--plain", "--no-legend", "--no-pager"],
    { timeoutMs: 30_000 },
  );
  if (result.error || result.exitCode !== 0) {
    notes.add(
      "systemd",
      `systemctl list-units failed: ${(result.error?.message ?? result.stderr).slice(0, 300)}`,
    );
    return undefined;
  }
  return parseFailedUnits(result.stdout).slice(0, 1_000);
}
