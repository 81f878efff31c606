import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { probeBatchV1Schema } from "@vigil/contract";
import { describe, expect, it } from "vitest";
import { Collector, type CollectSettings } from "../src/collect.ts";
import { fixtureCopy, temporaryDirectory } from "./helpers.ts";

async function settings(rootDir: string): Promise<CollectSettings> {
  return {
    rootDir,
    stateDir: await temporaryDirectory(),
    // Tools that would read this machine rather than the fixture tree are pointed at nothing.
    journal: { minPriority: 4, units: [], journalctl: "/nonexistent/journalctl" },
    updates: { aptGet: "/nonexistent/apt-get", dnf: "/nonexistent/dnf" },
  };
}

/** A time the contract accepts (from the year 2000 on); collection times below are offsets from it. */
const T0 = 1_795_000_000_000;

function asBatch(collection: object) {
  return probeBatchV1Schema.parse({
    v: 1,
    batchId: "0a0b0c0d-0000-4000-8000-000000000001",
    sentAt: T0,
    ...collection,
  });
}

describe("a collection cycle", () => {
  it("sends facts, gauges and notes first and rates from the second cycle on", async () => {
    const root = await fixtureCopy("debian12");
    const collector = new Collector(await settings(root));
    const first = (await collector.collect(T0 + 1_000)).collection;
    expect(first.facts?.machineId).toBe("0b5d1c4f2e8a4b7f9c3d6e1a2b4c8d90");
    expect(first.samples?.[0]).toMatchObject({ ts: T0 + 1_000, load1: 0.85, procsTotal: 3, openFds: 397 });
    expect(first.samples?.[0]?.cpu).toBeUndefined();
    expect(first.notes?.map((n) => n.collector)).toEqual(
      expect.arrayContaining(["journal", "updates", "systemd", "docker"]),
    );
    expect(asBatch(first).filesystems).toHaveLength(1);

    await writeFile(
      join(root, "proc/stat"),
      "cpu  7536 0 2735 45943 295 0 73 68 0 0\nctxt 732211\nbtime 1795799186\nprocs_running 1\n",
    );
    await writeFile(
      join(root, "proc/net/dev"),
      "Inter-|\n face |\n  eth0: 523163760   12712    0    0    0     0          0         0   730411    7154    0    0    0     0       0          0\n",
    );
    const second = (await collector.collect(T0 + 11_000)).collection;
    expect(second.samples?.[0]?.cpu).toEqual({
      userPct: 10,
      systemPct: 10,
      iowaitPct: 0,
      stealPct: 0,
      idlePct: 80,
    });
    expect(second.samples?.[0]?.contextSwitchesPerSec).toBe(1000);
    expect(second.interfaces).toEqual([
      expect.objectContaining({ name: "eth0", rxBytesPerSec: 10_000, txBytesPerSec: 1_000 }),
    ]);
    expect(second.disks).toEqual([expect.objectContaining({ device: "vda", readBytesPerSec: 0 })]);
    // Unchanged facts, state and standing notes are not repeated every interval.
    expect(second.facts).toBeUndefined();
    expect(second.state).toBeUndefined();
    expect(second.notes).toEqual([]);
    expect(asBatch(second).samples).toHaveLength(1);
  });

  it("re-reads state only every stateEveryMs and then reports a change with a complete snapshot", async () => {
    const root = await fixtureCopy("debian12");
    const collector = new Collector({ ...(await settings(root)), stateEveryMs: 60_000 });
    const first = (await collector.collect(1_000)).collection;
    expect(first.state).toMatchObject({ collectedAt: 1_000, reboot: { required: false } });

    await mkdir(join(root, "var/run"), { recursive: true });
    await writeFile(join(root, "var/run/reboot-required"), "*** System restart required ***\n");
    // Within the cadence the last snapshot stands, and its notes (no Docker, no systemd) do not flap.
    const between = (await collector.collect(31_000)).collection;
    expect(between.state).toBeUndefined();
    expect(between.notes).toEqual([]);

    const next = (await collector.collect(61_000)).collection;
    expect(next.state).toMatchObject({ collectedAt: 61_000, reboot: { required: true } });
    expect(Object.keys(next.state ?? {}).sort()).toEqual(Object.keys(first.state ?? {}).sort());
  });

  it("re-reads state at once when the clock steps back", async () => {
    const root = await fixtureCopy("debian12");
    const collector = new Collector({ ...(await settings(root)), stateEveryMs: 60_000 });
    await collector.collect(1_000_000);
    await mkdir(join(root, "var/run"), { recursive: true });
    await writeFile(join(root, "var/run/reboot-required"), "");
    const stepped = (await collector.collect(900_000)).collection;
    expect(stepped.state).toMatchObject({ collectedAt: 900_000, reboot: { required: true } });
  });

  it("reads host facts on start and again once factsRefreshMs has passed, not every cycle", async () => {
    const root = await fixtureCopy("debian12");
    const collector = new Collector({ ...(await settings(root)), factsRefreshMs: 3_600_000 });
    expect((await collector.collect(0)).collection.facts).toBeDefined();
    expect((await collector.collect(1_800_000)).collection.facts).toBeUndefined();
    expect((await collector.collect(3_600_000)).collection.facts?.machineId).toBe(
      "0b5d1c4f2e8a4b7f9c3d6e1a2b4c8d90",
    );
  });

  it("collects a contract-valid batch from this machine", async () => {
    const collector = new Collector({
      rootDir: "/",
      stateDir: await temporaryDirectory(),
      journal: { minPriority: 4, units: [] },
      disabled: ["updates"],
    });
    await collector.collect(Date.now() - 1_000);
    const { collection } = await collector.collect(Date.now(), { forceAll: true });
    const batch = asBatch(collection);
    expect(batch.facts?.cpuCount).toBeGreaterThan(0);
    expect(batch.samples[0]?.memory?.totalBytes).toBeGreaterThan(0);
    expect(batch.state?.collectedAt).toBeGreaterThan(0);
  });
});
