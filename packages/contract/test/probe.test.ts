import { describe, expect, it } from "vitest";
import {
  PROBE_BATCH_LIMITS,
  probeBatchQueuedResponseSchema,
  probeBatchV1Schema,
  queuedProbeBatchSchema,
  TIME_BOUNDS,
} from "../src/index.ts";

const T = 1_795_000_000_000;
const minimal = { v: 1, batchId: "b_0123456789", sentAt: 1_795_000_000_000 };

describe("probe batch v1", () => {
  it("accepts a minimal batch and fills every list with an empty one", () => {
    const batch = probeBatchV1Schema.parse(minimal);
    expect(batch.samples).toEqual([]);
    expect(batch.logs).toEqual([]);
    expect(batch.notes).toEqual([]);
    expect(batch.state).toBeUndefined();
  });

  it("accepts a full batch from a probe", () => {
    const batch = probeBatchV1Schema.parse({
      ...minimal,
      facts: { hostname: "web-1", machineId: "abc", cpuCount: 2, os: { id: "debian", version: "12" } },
      samples: [
        {
          ts: 1_795_000_000_000,
          cpu: { userPct: 12.5, systemPct: 3, iowaitPct: 0.5, idlePct: 84 },
          load1: 0.4,
          memory: { totalBytes: 2e9, availableBytes: 1e9 },
          pressure: { ioSomePct: 1.2 },
        },
      ],
      filesystems: [{ ts: T, mount: "/", sizeBytes: 100, usedBytes: 93, availableBytes: 7 }],
      disks: [
        {
          ts: T,
          device: "vda",
          readBytesPerSec: 1,
          writeBytesPerSec: 2,
          readOpsPerSec: 0,
          writeOpsPerSec: 0,
        },
      ],
      interfaces: [{ ts: T, name: "eth0", rxBytesPerSec: 10, txBytesPerSec: 20 }],
      logs: [{ ts: T, priority: 3, message: "disk almost full", unit: "app.service" }],
      backups: [
        {
          name: "home",
          tool: "restic",
          status: "success",
          startedAt: T,
          endedAt: T + 1,
          snapshotId: "cbe48975",
        },
      ],
      state: { collectedAt: T, reboot: { required: true, packages: ["linux-image-amd64"] }, failedUnits: [] },
      notes: [{ collector: "docker", message: "/var/run/docker.sock not found" }],
    });
    expect(batch.samples[0]?.cpu?.userPct).toBe(12.5);
    expect(batch.backups[0]?.snapshotId).toBe("cbe48975");
  });

  it("strips fields it does not know, so newer probes still reach older servers", () => {
    const batch = probeBatchV1Schema.parse({
      ...minimal,
      gpu: [{ util: 3 }],
      samples: [{ ts: T, temperatureC: 40 }],
    });
    expect(batch).not.toHaveProperty("gpu");
    expect(batch.samples[0]).toEqual({ ts: T });
  });

  it("rejects another version and names the field", () => {
    const result = probeBatchV1Schema.safeParse({ ...minimal, v: 2 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["v"]);
  });

  it("rejects a percentage over 100 and a negative byte count with their paths", () => {
    const result = probeBatchV1Schema.safeParse({
      ...minimal,
      samples: [{ ts: T, cpu: { userPct: 140 } }],
      filesystems: [{ ts: T, mount: "/", sizeBytes: -1, usedBytes: 0, availableBytes: 0 }],
    });
    const paths = result.error?.issues.map((i) => i.path.join("."));
    expect(paths).toContain("samples.0.cpu.userPct");
    expect(paths).toContain("filesystems.0.sizeBytes");
  });

  it("rejects a batch with more log entries than the documented limit", () => {
    const logs = Array.from({ length: PROBE_BATCH_LIMITS.logs + 1 }, () => ({
      ts: T,
      priority: 4,
      message: "x",
    }));
    expect(probeBatchV1Schema.safeParse({ ...minimal, logs }).success).toBe(false);
  });

  it("rejects times before 2000 and after 2200 by path, and takes the bounds themselves", () => {
    const result = probeBatchV1Schema.safeParse({
      ...minimal,
      samples: [
        { ts: TIME_BOUNDS.minMs - 1 },
        { ts: 9e15 },
        { ts: TIME_BOUNDS.minMs },
        { ts: TIME_BOUNDS.maxMs },
      ],
    });
    expect(result.error?.issues.map((i) => i.path.join("."))).toEqual(["samples.0.ts", "samples.1.ts"]);
  });

  it("rejects a batch id that could not be a key", () => {
    expect(probeBatchV1Schema.safeParse({ ...minimal, batchId: "../../etc" }).success).toBe(false);
  });
});

describe("a queued probe batch", () => {
  const message = { v: 1, hostId: "h-1", projectId: "p-1", receivedAt: T, batch: minimal };

  it("carries the batch with the host and project the route authenticated", () => {
    const parsed = queuedProbeBatchSchema.parse(message);
    expect(parsed).toMatchObject({ hostId: "h-1", projectId: "p-1", batch: { batchId: minimal.batchId } });
    expect(parsed.batch.logs).toEqual([]);
  });

  it("refuses a message without its host, or with a batch that is not valid", () => {
    expect(queuedProbeBatchSchema.safeParse({ ...message, hostId: undefined }).success).toBe(false);
    expect(queuedProbeBatchSchema.safeParse({ ...message, batch: { ...minimal, v: 2 } }).success).toBe(false);
  });

  it("is answered 202 with queued true and no duplicate verdict yet", () => {
    const config = { intervalSec: 60, journal: { minPriority: 4, units: [] } };
    const answer = { batchId: minimal.batchId, accepted: true, queued: true, duplicate: false, config };
    expect(probeBatchQueuedResponseSchema.parse(answer)).toEqual(answer);
    expect(probeBatchQueuedResponseSchema.safeParse({ ...answer, queued: false }).success).toBe(false);
  });
});
