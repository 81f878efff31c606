import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hostFactsSchema, hostSampleSchema } from "@vigil/contract";
import { describe, expect, it } from "vitest";
import {
  contextSwitchRate,
  cpuUsageBetween,
  parseLoadAvg,
  parseProcStat,
  readCpu,
} from "../src/collectors/cpu.ts";
import { diskRatesBetween, parseDiskstats, readDisks } from "../src/collectors/disks.ts";
import { parseMounts, readFilesystems, selectRealMounts } from "../src/collectors/filesystems.ts";
import { parseOsRelease, readHostFacts } from "../src/collectors/host-facts.ts";
import { parseMeminfo, readMemory } from "../src/collectors/memory.ts";
import { interfaceRatesBetween, parseNetDev, readNetwork } from "../src/collectors/network.ts";
import { readPressure } from "../src/collectors/pressure.ts";
import { countProcesses } from "../src/collectors/processes.ts";
import { readOpenFds, readUptimeSec } from "../src/collectors/uptime.ts";
import { counterDelta } from "../src/counters.ts";
import { NoteSink } from "../src/notes.ts";
import { defined, FIXTURES, fixtureCopy } from "./helpers.ts";

const DEBIAN = join(FIXTURES, "debian12");

describe("cpu, load and processes", () => {
  it("reads load, running processes and threads from a Debian 12 /proc", async () => {
    const notes = new NoteSink();
    const reading = await readCpu(DEBIAN, 1_000, notes);
    expect(reading.load).toEqual({ load1: 0.85, load5: 0.39, load15: 0.16 });
    expect(reading.procsRunning).toBe(2);
    expect(reading.threadsTotal).toBe(97);
    expect(reading.counters?.jiffies).toEqual([7436, 0, 2635, 45143, 295, 0, 73, 68]);
    expect(reading.counters?.contextSwitches).toBe(722211);
    expect(notes.notes).toEqual([]);
  });

  it("computes CPU percentages and context switches per second from two readings", () => {
    const before = parseProcStat("cpu  100 0 50 800 20 0 10 20 0 0\nctxt 1000\n", 0);
    const after = parseProcStat("cpu  160 0 80 1480 30 0 10 40 0 0\nctxt 4000\n", 10_000);
    // deltas: user 60, system 30, idle 680, iowait 10, steal 20 → total 800
    expect(cpuUsageBetween(defined(before.counters), defined(after.counters))).toEqual({
      userPct: 7.5,
      systemPct: 3.75,
      iowaitPct: 1.25,
      stealPct: 2.5,
      idlePct: 85,
    });
    expect(contextSwitchRate(defined(before.counters), defined(after.counters))).toBe(300);
  });

  it("ignores iowait stepping backwards instead of reporting a negative percentage", () => {
    const before = parseProcStat("cpu  100 0 50 800 90 0 0 0 0 0\n", 0);
    const after = parseProcStat("cpu  150 0 50 850 80 0 0 0 0 0\n", 1_000);
    const usage = cpuUsageBetween(defined(before.counters), defined(after.counters));
    expect(usage?.iowaitPct).toBe(0);
    expect(usage?.userPct).toBe(50);
  });

  it("counts processes as the numeric directories of /proc", async () => {
    expect(await countProcesses(DEBIAN, new NoteSink())).toBe(3);
  });

  it("parses the task counts of /proc/loadavg", () => {
    expect(parseLoadAvg("1.50 1.00 0.50 3/412 9999\n")).toEqual({
      load: { load1: 1.5, load5: 1, load15: 0.5 },
      threadsTotal: 412,
    });
  });
});

describe("pressure stall information", () => {
  it("reads the avg10 values of cpu, memory and io pressure", async () => {
    const root = await fixtureCopy("debian12");
    await writeFile(
      join(root, "proc/pressure/memory"),
      "some avg10=1.25 avg60=0 avg300=0 total=1\nfull avg10=0.50 avg60=0 avg300=0 total=1\n",
    );
    await writeFile(
      join(root, "proc/pressure/io"),
      "some avg10=7.00 avg60=0 avg300=0 total=1\nfull avg10=6.00 avg60=0 avg300=0 total=1\n",
    );
    const pressure = await readPressure(root, new NoteSink());
    expect(pressure).toMatchObject({ memorySomePct: 1.25, memoryFullPct: 0.5, ioSomePct: 7, ioFullPct: 6 });
    expect(pressure?.cpuSomePct).toBeGreaterThanOrEqual(0);
  });

  it("leaves pressure out with a note on a kernel without PSI", async () => {
    const root = await fixtureCopy("debian12");
    await rm(join(root, "proc/pressure"), { recursive: true });
    const notes = new NoteSink();
    expect(await readPressure(root, notes)).toBeUndefined();
    expect(notes.notes).toEqual([
      { collector: "pressure", message: expect.stringContaining("not available") },
    ]);
  });
});

describe("memory", () => {
  it("reads total, available, used, buffers and cache in bytes", async () => {
    const memory = await readMemory(DEBIAN, new NoteSink());
    expect(memory).toEqual({
      totalBytes: 24684096 * 1024,
      availableBytes: 24021424 * 1024,
      usedBytes: (24684096 - 24021424) * 1024,
      buffersBytes: 26484 * 1024,
      cachedBytes: (911076 + 89440) * 1024,
      swapTotalBytes: 0,
      swapUsedBytes: 0,
    });
  });

  it("reports swap in use from SwapTotal minus SwapFree", async () => {
    const meminfo = await readFile(join(DEBIAN, "proc/meminfo"), "utf8");
    const withSwap = meminfo
      .replace(/SwapTotal:\s+0 kB/, "SwapTotal:       2097148 kB")
      .replace(/SwapFree:\s+0 kB/, "SwapFree:        1048572 kB");
    expect(parseMeminfo(withSwap)).toMatchObject({
      swapTotalBytes: 2097148 * 1024,
      swapUsedBytes: 1048576 * 1024,
    });
  });

  it("estimates available memory on kernels older than 3.14 that lack MemAvailable", () => {
    const old = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n";
    expect(parseMeminfo(old)).toMatchObject({ availableBytes: 400 * 1024, usedBytes: 600 * 1024 });
  });

  it("leaves memory out with a note when /proc/meminfo is missing", async () => {
    const root = await fixtureCopy("debian12");
    await rm(join(root, "proc/meminfo"));
    const notes = new NoteSink();
    expect(await readMemory(root, notes)).toBeUndefined();
    expect(notes.notes[0]?.message).toMatch(/ENOENT/);
  });
});

describe("filesystems", () => {
  it("keeps real mounts and skips pseudo filesystems, tmpfs and bind repeats", () => {
    const mounts = parseMounts(
      [
        "proc /proc proc rw 0 0",
        "/dev/sda1 / ext4 rw 0 0",
        "/dev/sda1 /srv/bind ext4 rw 0 0",
        "tmpfs /run tmpfs rw 0 0",
        "/dev/sdb1 /mnt/my\\040data xfs rw 0 0",
        "overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0",
        "/dev/sdc1 /var/lib/docker/volumes ext4 rw 0 0",
      ].join("\n"),
    );
    expect(selectRealMounts(mounts).map((m) => m.mount)).toEqual(["/", "/mnt/my data"]);
  });

  it("reports size, used, available and inodes for each real mount as df does", async () => {
    const rows = await readFilesystems(DEBIAN, 5_000, new NoteSink());
    expect(rows).toHaveLength(1);
    const root = defined(rows[0]);
    expect(root).toMatchObject({ ts: 5_000, mount: "/", device: "/dev/vda", fstype: "ext4" });
    expect(root.sizeBytes).toBeGreaterThan(0);
    expect(root.usedBytes + root.availableBytes).toBeLessThanOrEqual(root.sizeBytes);
    expect(root.inodesUsed).toBeLessThanOrEqual(defined(root.inodesTotal));
  });

  it("notes a mount it cannot stat and still reports the others", async () => {
    const root = await fixtureCopy("debian12");
    await writeFile(join(root, "proc/mounts"), "/dev/vda / ext4 rw 0 0\n/dev/vdb /gone ext4 rw 0 0\n");
    const notes = new NoteSink();
    const rows = await readFilesystems(root, 0, notes);
    expect(rows.map((r) => r.mount)).toEqual(["/"]);
    expect(notes.notes[0]?.message).toMatch(/statfs \/gone: ENOENT/);
  });
});

describe("disk I/O", () => {
  it("skips loop, zram and partitions and keeps whole disks", async () => {
    const reading = await readDisks(DEBIAN, 0, new NoteSink());
    expect([...(reading?.devices.keys() ?? [])]).toEqual(["vda"]);
    expect(
      parseDiskstats(" 8 1 sda1 1 0 2 0 1 0 2 0 0 0 0\n 8 0 sda 1 0 2 0 1 0 2 0 0 0 0\n", 0).devices.has(
        "sda1",
      ),
    ).toBe(false);
  });

  it("computes bytes, operations per second and busy percent between two readings", () => {
    const before = parseDiskstats(" 254 0 vda 100 0 1000 0 50 0 4000 0 0 200 0\n", 0);
    const after = parseDiskstats(" 254 0 vda 300 0 3000 0 150 0 8000 0 0 700 0\n", 2_000);
    expect(diskRatesBetween(before, after)).toEqual([
      {
        ts: 2_000,
        device: "vda",
        readBytesPerSec: 1000 * 512,
        writeBytesPerSec: 2000 * 512,
        readOpsPerSec: 100,
        writeOpsPerSec: 50,
        busyPct: 25,
      },
    ]);
  });

  it("skips a device whose counters reset between readings", () => {
    const before = parseDiskstats(" 8 0 sdb 9000000000 0 9000000000 0 50 0 4000 0 0 200 0\n", 0);
    const after = parseDiskstats(" 8 0 sdb 10 0 20 0 5 0 40 0 0 2 0\n", 1_000);
    expect(diskRatesBetween(before, after)).toEqual([]);
  });
});

describe("network", () => {
  it("reads interfaces without lo and veth pairs", async () => {
    const reading = await readNetwork(DEBIAN, 0, new NoteSink());
    expect([...(reading?.interfaces.keys() ?? [])]).toEqual(["ifb0", "ifb1", "eth0"]);
    expect(reading?.interfaces.get("eth0")).toMatchObject({ rxBytes: 523063760, txBytes: 720411 });
    const veth = parseNetDev("veth12ab: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n", 0);
    expect(veth.interfaces.size).toBe(0);
  });

  it("computes rates across a 32-bit counter wrap", () => {
    const line = (rx: number, tx: number) =>
      `Inter-|\n face |\n  eth0: ${rx} 10 0 0 0 0 0 0 ${tx} 10 0 0 0 0 0 0\n`;
    const before = parseNetDev(line(2 ** 32 - 1000, 500), 0);
    const after = parseNetDev(line(9000, 1500), 1_000);
    expect(interfaceRatesBetween(before, after)).toEqual([
      expect.objectContaining({
        name: "eth0",
        rxBytesPerSec: 10_000,
        txBytesPerSec: 1_000,
        rxErrorsPerSec: 0,
      }),
    ]);
  });

  it("leaves out an interface whose 64-bit counters reset rather than inventing a huge rate", () => {
    const line = (rx: number) => `  eth0: ${rx} 10 0 0 0 0 0 0 100 10 0 0 0 0 0 0\n`;
    expect(interfaceRatesBetween(parseNetDev(line(2 ** 40), 0), parseNetDev(line(5), 1_000))).toEqual([]);
  });

  it("treats a backwards step as a wrap only when it is plausible", () => {
    expect(counterDelta(10, 25)).toBe(15);
    expect(counterDelta(2 ** 32 - 5, 5)).toBe(10);
    expect(counterDelta(1_000_000, 5)).toBeUndefined();
  });
});

describe("host facts, uptime and file descriptors", () => {
  it("reads machine id, boot id, kernel, OS release, CPUs and boot time", async () => {
    const facts = await readHostFacts(DEBIAN, new NoteSink(), false);
    expect(facts).toMatchObject({
      machineId: "0b5d1c4f2e8a4b7f9c3d6e1a2b4c8d90",
      os: { id: "debian", name: "Debian GNU/Linux 12 (bookworm)", version: "12" },
      cpuCount: 2,
      cpuModel: "Intel(R) Xeon(R) Processor",
      memoryTotalBytes: 24684096 * 1024,
      bootedAt: 1795799186000,
    });
    expect(facts.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(facts.kernel).toMatch(/^\d+\.\d+/);
    expect(hostFactsSchema.parse(facts)).toEqual(facts);
  });

  it("reads uptime and allocated file handles", async () => {
    const notes = new NoteSink();
    expect(await readUptimeSec(DEBIAN, notes)).toBe(280.68);
    expect(await readOpenFds(DEBIAN, notes)).toBe(397);
  });

  it("still names the host when machine id and os-release are missing", async () => {
    const root = await fixtureCopy("debian12");
    await rm(join(root, "etc"), { recursive: true });
    const notes = new NoteSink();
    const facts = await readHostFacts(root, notes, false);
    expect(facts.hostname).toBeTruthy();
    expect(facts.machineId).toBeUndefined();
    expect(notes.notes.map((n) => n.message)).toContain("no /etc/machine-id");
  });

  it("unquotes os-release values", () => {
    expect(parseOsRelease("ID=ubuntu\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nVERSION_ID='24.04'\n")).toEqual({
      ID: "ubuntu",
      PRETTY_NAME: "Ubuntu 24.04.1 LTS",
      VERSION_ID: "24.04",
    });
  });
});

describe("the live machine", () => {
  it("produces a sample that the contract accepts from this machine's /proc", async () => {
    const notes = new NoteSink();
    const memory = await readMemory("/", notes);
    const cpu = await readCpu("/", Date.now(), notes);
    expect(hostSampleSchema.safeParse({ ts: Date.now(), memory, ...cpu.load }).error).toBeUndefined();
  });
});
