import type { StateSnapshot } from "@vigil/contract";
import type { NoteSink } from "../notes.ts";
import { runCommand } from "../platform/commands.ts";

type Updates = NonNullable<StateSnapshot["updates"]>;

const MAX_PACKAGES = 2_000;

/**
 * Pending upgrades from `apt-get -s dist-upgrade`: each "Inst name [old] (new origin [arch])" line is one
 * package; it is a security update when its origin is a -security suite (Debian "Debian-Security:12/…",
 * Ubuntu "jammy-security"), the same test unattended-upgrades applies.
 */
export function parseAptSimulation(text: string): Updates {
  const packages: string[] = [];
  let security = 0;
  for (const line of text.split("\n")) {
    const match = /^Inst (\S+)(?: \[[^\]]*\])? \((.*)\)/.exec(line);
    if (!match?.[1]) continue;
    packages.push(match[1]);
    if (/security/i.test(match[2] ?? "")) security++;
  }
  return { manager: "apt", pending: packages.length, security, packages: packages.slice(0, MAX_PACKAGES) };
}

/** `dnf check-update` lists "name.arch  version  repo" lines after a blank line; exit 100 means updates exist. */
export function parseDnfCheckUpdate(text: string): string[] {
  const packages: string[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 3 || !fields[0]?.includes(".")) continue;
    if (/^(Obsoleting|Last)$/.test(fields[0])) continue;
    packages.push(fields[0].replace(/\.[^.]+$/, ""));
  }
  return packages;
}

/** `dnf updateinfo list --security`: "ADVISORY  Severity/Sec.  package-version.arch" per line. */
export function parseDnfSecurityList(text: string): number {
  const packages = new Set<string>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 3 && /Sec\./.test(fields[1] ?? "")) packages.add(fields[2] ?? "");
  }
  return packages.size;
}

export interface OsUpdatesOptions {
  aptGet?: string;
  dnf?: string;
}

/** apt first (Debian/Ubuntu), then dnf; neither present is a note, not an error. */
export async function collectOsUpdates(
  options: OsUpdatesOptions,
  notes: NoteSink,
): Promise<Updates | undefined> {
  const apt = await runCommand(
    options.aptGet ?? "apt-get",
    [
      "-s",
      "-q",
      "-o",
      "Debug::NoLocking=1",
      // No cache files: under the unit's ProtectSystem=strict /var/cache/apt is read-only to us.
      "-o",
      "Dir::Cache::pkgcache=",
      "-o",
      "Dir::Cache::srcpkgcache=",
      "dist-upgrade",
    ],
    { timeoutMs: 120_000, env: { ...process.env, LC_ALL: "C" } },
  );
  if (!apt.error && apt.exitCode === 0) return parseAptSimulation(apt.stdout);
  if (!apt.error) {
    notes.add(
      "updates",
      `apt-get -s dist-upgrade exited ${apt.exitCode}: ${apt.stderr.trim().slice(0, 300)}`,
    );
    return undefined;
  }
  const dnf = options.dnf ?? "dnf";
  const check = await runCommand(dnf, ["-q", "--cacheonly", "check-update"], { timeoutMs: 120_000 });
  if (check.error) {
    notes.add("updates", "neither apt-get nor dnf found");
    return undefined;
  }
  if (check.exitCode !== 0 && check.exitCode !== 100) {
    notes.add("updates", `dnf check-update exited ${check.exitCode}: ${check.stderr.trim().slice(0, 300)}`);
    return undefined;
  }
  const packages = parseDnfCheckUpdate(check.stdout);
  const advisories = await runCommand(dnf, ["-q", "--cacheonly", "updateinfo", "list", "--security"], {
    timeoutMs: 120_000,
  });
  const security = advisories.exitCode === 0 ? parseDnfSecurityList(advisories.stdout) : 0;
  if (advisories.exitCode !== 0) notes.add("updates", "dnf updateinfo failed; security count unknown");
  return { manager: "dnf", pending: packages.length, security, packages: packages.slice(0, MAX_PACKAGES) };
}
