import { stat } from "node:fs/promises";
import type { StateSnapshot } from "@vigil/contract";
import type { NoteSink } from "../notes.ts";
import { isMissing, readTextIfPresent, underRoot } from "../platform/files.ts";

type Reboot = NonNullable<StateSnapshot["reboot"]>;

/** Debian/Ubuntu's update-notifier flag: the file exists while a reboot is pending, .pkgs says why. */
export async function readRebootRequired(rootDir: string, notes: NoteSink): Promise<Reboot | undefined> {
  try {
    const flag = await stat(underRoot(rootDir, "/var/run/reboot-required"));
    const reboot: Reboot = { required: true, since: Math.floor(flag.mtimeMs) };
    const packages = await readTextIfPresent(rootDir, "/var/run/reboot-required.pkgs");
    if (packages !== undefined) {
      reboot.packages = [...new Set(packages.split("\n").map((line) => line.trim()))]
        .filter(Boolean)
        .slice(0, 2_000);
    }
    return reboot;
  } catch (error) {
    if (isMissing(error)) return { required: false };
    notes.failed("reboot", "/var/run/reboot-required", error);
    return undefined;
  }
}

/** apt's periodic stamp, or the log's mtime: either tells when unattended-upgrades last ran. */
export async function readLastUnattendedUpgrade(rootDir: string): Promise<number | undefined> {
  const candidates = [
    "/var/lib/apt/periodic/unattended-upgrades-stamp",
    "/var/log/unattended-upgrades/unattended-upgrades.log",
  ];
  for (const path of candidates) {
    try {
      return Math.floor((await stat(underRoot(rootDir, path))).mtimeMs);
    } catch {
      // try the next source: a host without unattended-upgrades has neither
    }
  }
  return undefined;
}
