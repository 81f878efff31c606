import { arch, hostname } from "node:os";
import type { HostFacts } from "@vigil/contract";
import type { NoteSink } from "../notes.ts";
import { parseKeyValueNumbers, readTextIfPresent } from "../platform/files.ts";
import { PROBE_VERSION, runtimeDescription } from "../version.ts";

/** Node's names for architectures differ from uname's; the server shows uname's. */
const UNAME_ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64", arm: "armv7l", ia32: "i686" };

/** KEY=value or KEY="value" lines of os-release(5). */
export function parseOsRelease(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) continue;
    values[match[1]] = match[2].replace(/^(["'])(.*)\1$/, "$2").replace(/\\(["$`\\])/g, "$1");
  }
  return values;
}

export function parseCpuinfo(text: string): { cpuCount?: number; cpuModel?: string } {
  let cpuCount = 0;
  let cpuModel: string | undefined;
  for (const line of text.split("\n")) {
    const [key, ...rest] = line.split(":");
    const name = key?.trim();
    if (name === "processor") cpuCount++;
    // x86 says "model name"; arm64 has no model name but "CPU part"/"Hardware" on some boards.
    else if (!cpuModel && (name === "model name" || name === "Hardware" || name === "cpu model")) {
      cpuModel = rest.join(":").trim() || undefined;
    }
  }
  const result: { cpuCount?: number; cpuModel?: string } = {};
  if (cpuCount > 0) result.cpuCount = cpuCount;
  if (cpuModel) result.cpuModel = cpuModel;
  return result;
}

async function firstLine(rootDir: string, path: string): Promise<string | undefined> {
  const text = await readTextIfPresent(rootDir, path);
  const line = text?.split("\n")[0]?.trim();
  return line || undefined;
}

/** Changes on every boot: cheap to read each cycle to notice a reboot. */
export async function readBootId(rootDir: string): Promise<string | undefined> {
  try {
    return await firstLine(rootDir, "/proc/sys/kernel/random/boot_id");
  } catch {
    return undefined;
  }
}

/** Facts that change rarely; each one is optional and a missing file is only a note. */
export async function readHostFacts(
  rootDir: string,
  notes: NoteSink,
  isRealRoot: boolean,
): Promise<HostFacts> {
  const facts: HostFacts = {
    hostname:
      (await safe(notes, "hostname", () => firstLine(rootDir, "/proc/sys/kernel/hostname"))) ?? hostname(),
    probeVersion: PROBE_VERSION,
    runtime: runtimeDescription(),
  };
  if (isRealRoot) facts.arch = UNAME_ARCH[arch()] ?? arch();

  const machineId = await safe(notes, "machine id", async () => {
    return (
      (await firstLine(rootDir, "/etc/machine-id")) ?? (await firstLine(rootDir, "/var/lib/dbus/machine-id"))
    );
  });
  if (machineId) facts.machineId = machineId;
  else notes.add("facts", "no /etc/machine-id");

  const bootId = await safe(notes, "boot id", () => firstLine(rootDir, "/proc/sys/kernel/random/boot_id"));
  if (bootId) facts.bootId = bootId;
  const kernel = await safe(notes, "kernel", () => firstLine(rootDir, "/proc/sys/kernel/osrelease"));
  if (kernel) facts.kernel = kernel;

  const osRelease = await safe(notes, "os-release", async () => {
    return (
      (await readTextIfPresent(rootDir, "/etc/os-release")) ??
      (await readTextIfPresent(rootDir, "/usr/lib/os-release"))
    );
  });
  if (osRelease) {
    const values = parseOsRelease(osRelease);
    const os: NonNullable<HostFacts["os"]> = {};
    if (values.ID) os.id = values.ID;
    if (values.PRETTY_NAME ?? values.NAME) os.name = values.PRETTY_NAME ?? values.NAME;
    if (values.VERSION_ID) os.version = values.VERSION_ID;
    facts.os = os;
  }

  const cpuinfo = await safe(notes, "cpuinfo", () => readTextIfPresent(rootDir, "/proc/cpuinfo"));
  if (cpuinfo) Object.assign(facts, parseCpuinfo(cpuinfo));

  const meminfo = await safe(notes, "meminfo", () => readTextIfPresent(rootDir, "/proc/meminfo"));
  const memTotalKb = meminfo ? parseKeyValueNumbers(meminfo).get("MemTotal") : undefined;
  if (memTotalKb !== undefined) facts.memoryTotalBytes = memTotalKb * 1024;

  const stat = await safe(notes, "stat", () => readTextIfPresent(rootDir, "/proc/stat"));
  const btime = stat ? Number(/^btime\s+(\d+)/m.exec(stat)?.[1]) : Number.NaN;
  if (Number.isFinite(btime)) facts.bootedAt = btime * 1000;
  return facts;
}

async function safe<T>(notes: NoteSink, what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    notes.failed("facts", what, error);
    return undefined;
  }
}
