// Backup assurance (issue 18), the server's side: repository checks and restore drills arrive in probe
// batches, are kept as history with the newest copied onto the repository, and every backed-up source is
// graded against 3-2-1 (copies, media, off site, last good drill).
import {
  type BackupCheck,
  type BackupDrill,
  type ProbeBatchV1Input,
  probeBatchV1Schema,
} from "@vigil/contract";
import { backupChecks, backupDrills, backupRepositories, flips } from "@vigil/db";
import { createProject } from "@vigil/db/testing";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { describeFlip } from "../src/alerts/describe.ts";
import {
  authenticateHost,
  createEnrollmentToken,
  deleteHost,
  enrollHost,
  evaluateBatchRules,
  getBackupRepository,
  gradeBackupSources,
  inferBackupKind,
  ingestBatch,
  listBackupRepositories,
  updateBackupRepository,
} from "../src/index.ts";
import { DAY, HOUR, ruleFixture } from "./rules-fixture.ts";

const APP = { hostname: "web-1", paths: ["/srv/app", "/etc"] };

type CheckInput = Omit<BackupCheck, "sources"> & { sources?: BackupCheck["sources"] };

function check(at: number, fields: Partial<CheckInput> = {}): CheckInput {
  return {
    name: "nas",
    tool: "restic",
    status: "ok",
    startedAt: at - 60_000,
    endedAt: at,
    exitCode: 0,
    repository: { location: "/mnt/backup/restic", id: "aaaa1111" },
    sizeBytes: 5e9,
    snapshotCount: 30,
    newestSnapshotAt: at - 2 * HOUR,
    oldestSnapshotAt: at - 30 * DAY,
    retention: "--keep-daily 30",
    sources: [
      { ...APP, snapshots: 30, newestAt: at - 2 * HOUR, oldestAt: at - 30 * DAY, newestId: "1a2b3c4d" },
    ],
    ...fields,
  };
}

function drill(at: number, fields: Partial<BackupDrill> = {}): BackupDrill {
  return {
    name: "nas",
    tool: "restic",
    status: "ok",
    repository: { location: "/mnt/backup/restic", id: "aaaa1111" },
    startedAt: at - 30_000,
    endedAt: at,
    snapshotId: "1a2b3c4d",
    snapshotAt: at - 2 * HOUR,
    files: 20,
    bytes: 1_234_567,
    mismatched: 0,
    missing: 0,
    canary: true,
    ...fields,
  };
}

async function setup(only: string[] = []) {
  const f = await ruleFixture({ only });
  const send = (fields: Partial<ProbeBatchV1Input>) => f.send(fields);
  const repositories = () => listBackupRepositories(f.db, f.project.id);
  const grades = () => gradeBackupSources(f.db, f.clock, f.project.id);
  /** A second enrolled host (a backup server) sending its own batches. */
  async function secondHost(hostname: string) {
    const { token } = await createEnrollmentToken(f.db, f.clock, f.project.id, { name: "second" });
    const enrolled = await enrollHost(f.db, f.clock, {
      token,
      facts: { hostname, machineId: crypto.randomUUID() },
    });
    let n = 0;
    return async (fields: Partial<ProbeBatchV1Input>) => {
      const principal = await authenticateHost(f.db, enrolled.hostToken);
      if (!principal) throw new Error("host token not valid");
      const batch = probeBatchV1Schema.parse({
        v: 1,
        batchId: `other-${n++}-x`,
        sentAt: f.clock.now(),
        ...fields,
      });
      const result = await ingestBatch(f.db, f.clock, principal, batch, f.engine);
      await evaluateBatchRules(f.db, f.clock, f.engine, principal, { batch, ...result });
      return result;
    };
  }
  return { ...f, send, repositories, grades, secondHost };
}

describe("repository checks", () => {
  it("make the repository on first sight, with the check's figures, sources and an inferred kind and site", async () => {
    const f = await setup();
    await f.send({ backupChecks: [check(f.clock.now())] });
    const [repo] = await f.repositories();
    expect(repo).toMatchObject({
      hostId: f.hostId,
      hostName: "web-1",
      name: "nas",
      location: "/mnt/backup/restic",
      repoId: "aaaa1111",
      kind: "local",
      kindSource: "inferred",
      site: "onsite",
      siteSource: "inferred",
      kindConflict: null,
      retention: "--keep-daily 30",
      lastCheck: { at: f.clock.now(), status: "ok", output: null },
      lastOkCheckAt: f.clock.now(),
      sizeBytes: 5e9,
      snapshotCount: 30,
      lastDrill: null,
    });
    expect(repo?.sources).toEqual([expect.objectContaining({ hostname: "web-1", snapshots: 30 })]);
  });

  it("keep the figures of the last readable check when one cannot read the repository, and record why", async () => {
    const f = await setup();
    const first = f.clock.now();
    await f.send({ backupChecks: [check(first)] });
    f.clock.advance(7 * DAY);
    await f.send({
      backupChecks: [
        {
          name: "nas",
          tool: "restic",
          status: "error",
          startedAt: f.clock.now() - 1000,
          endedAt: f.clock.now(),
          exitCode: 1,
          output: "Fatal: wrong password or no key found",
          repository: { location: "/mnt/backup/restic" },
        },
      ],
    });
    const [repo] = await f.repositories();
    expect(repo?.lastCheck).toEqual({
      at: f.clock.now(),
      status: "error",
      output: "Fatal: wrong password or no key found",
    });
    expect(repo?.lastOkCheckAt).toBe(first);
    expect(repo?.repoId).toBe("aaaa1111");
    expect(repo?.snapshotCount).toBe(30);
    expect(repo?.sources).toHaveLength(1);
    const history = await getBackupRepository(f.db, f.project.id, repo?.id ?? 0);
    expect(history.checks.map((c) => c.status)).toEqual(["error", "ok"]);
  });

  it("add a late result to the history without letting it replace a newer one", async () => {
    const f = await setup();
    const now = f.clock.now();
    await f.send({ backupChecks: [check(now, { status: "damaged", output: "pack 1f2e… contains errors" })] });
    // A spooled check from a day earlier arrives after it.
    await f.send({ backupChecks: [check(now - DAY, { sizeBytes: 4e9 })] });
    const [repo] = await f.repositories();
    expect(repo?.lastCheck?.status).toBe("damaged");
    expect(repo?.sizeBytes).toBe(5e9);
    expect(repo?.lastOkCheckAt).toBe(now - DAY);
    const history = await getBackupRepository(f.db, f.project.id, repo?.id ?? 0);
    expect(history.checks.map((c) => [c.status, c.sizeBytes])).toEqual([
      ["damaged", 5e9],
      ["ok", 4e9],
    ]);
  });

  it("are stored once when a batch is sent twice", async () => {
    const f = await setup();
    const sendFromNas = await f.secondHost("nas-1");
    const fields = {
      batchId: "same-batch-1",
      backupChecks: [check(f.clock.now())],
      backupDrills: [drill(f.clock.now())],
    };
    await sendFromNas(fields);
    const again = await sendFromNas(fields);
    expect(again.duplicate).toBe(true);
    expect(await f.db.select().from(backupChecks)).toHaveLength(1);
    expect(await f.db.select().from(backupDrills)).toHaveLength(1);
  });
});

describe("restore drills", () => {
  it("record each drill and the newest good one, a failed drill not moving it", async () => {
    const f = await setup();
    const good = f.clock.now();
    await f.send({ backupChecks: [check(good)], backupDrills: [drill(good)] });
    f.clock.advance(7 * DAY);
    await f.send({
      backupDrills: [
        drill(f.clock.now(), { status: "mismatch", mismatched: 1, output: "srv/app/db.sqlite differs" }),
      ],
    });
    const [repo] = await f.repositories();
    expect(repo?.lastDrill).toEqual({
      at: f.clock.now(),
      status: "mismatch",
      output: "srv/app/db.sqlite differs",
      files: 20,
      bytes: 1_234_567,
    });
    expect(repo?.lastOkDrillAt).toBe(good);
    const history = await getBackupRepository(f.db, f.project.id, repo?.id ?? 0);
    expect(history.drills.map((d) => [d.status, d.canary])).toEqual([
      ["mismatch", true],
      ["ok", true],
    ]);
  });

  it("make the repository when a drill arrives before any check", async () => {
    const f = await setup();
    await f.send({ backupDrills: [drill(f.clock.now())] });
    const [repo] = await f.repositories();
    expect(repo).toMatchObject({
      name: "nas",
      location: "/mnt/backup/restic",
      lastCheck: null,
      lastOkDrillAt: f.clock.now(),
    });
  });
});

describe("3-2-1 grades", () => {
  it("count the live data, a local copy and an off-site copy in object storage, with the last good drill", async () => {
    const f = await setup();
    const now = f.clock.now();
    await f.send({
      backupChecks: [
        check(now),
        check(now, {
          name: "s3",
          repository: { location: "s3:s3.eu-central-1.example.com/acme-backup", id: "bbbb2222" },
        }),
      ],
      backupDrills: [drill(now)],
    });
    f.clock.advance(2 * DAY);
    const [grade] = await f.grades();
    expect(grade).toMatchObject({
      hostname: "web-1",
      hostId: f.hostId,
      paths: ["/etc", "/srv/app"],
      copies: 3,
      media: 2,
      offsite: 1,
      newestAt: now - 2 * HOUR,
      summary: "3 copies, 2 media, 1 off site, last drill restored 20 files identical 2 days ago",
    });
  });

  it("count a repository checked from two hosts once, and a damaged one not at all", async () => {
    const f = await setup();
    const now = f.clock.now();
    await f.send({ backupChecks: [check(now)] });
    // The backup server checks the same restic repository (same id) over sftp, and one it finds damaged.
    const sendFromNas = await f.secondHost("nas-1");
    await sendFromNas({
      backupChecks: [
        check(now, {
          name: "web-1 copy",
          repository: { location: "sftp:backup@nas-1:/restic", id: "aaaa1111" },
        }),
        check(now, {
          name: "cold",
          status: "damaged",
          output: "Fatal: repository contains errors",
          repository: { location: "/srv/cold", id: "cccc3333" },
        }),
      ],
    });
    const [grade] = await f.grades();
    expect(grade?.copies).toBe(2);
    expect(grade?.repositories.map((r) => [r.name, r.counts]).sort()).toEqual([
      ["cold", false],
      ["nas", true],
      ["web-1 copy", true],
    ]);
    expect(grade?.summary).toBe("2 copies, 1 medium, 0 off site, no restore drill yet");
  });

  it("follow what the operator sets over what the probe declared, and say when a declaration contradicts the location", async () => {
    const f = await setup();
    await f.send({
      backupChecks: [
        check(f.clock.now(), {
          repository: { location: "s3:minio.lan/backup", kind: "local", site: "onsite" },
        }),
      ],
    });
    const [declared] = await f.repositories();
    expect(declared).toMatchObject({ kind: "local", kindSource: "declared", site: "onsite" });
    expect(declared?.kindConflict).toBe(
      "declared as a local disk, but s3:minio.lan/backup looks like object storage",
    );
    expect((await f.grades())[0]?.offsite).toBe(0);
    const set = await updateBackupRepository(f.db, f.project.id, declared?.id ?? 0, {
      kind: "object",
      site: "offsite",
    });
    expect(set).toMatchObject({
      kind: "object",
      kindSource: "set",
      site: "offsite",
      siteSource: "set",
      kindConflict: null,
    });
    expect((await f.grades())[0]).toMatchObject({ copies: 2, media: 2, offsite: 1 });
    // Cleared, the probe's declaration applies again.
    const cleared = await updateBackupRepository(f.db, f.project.id, declared?.id ?? 0, {
      kind: null,
      site: null,
    });
    expect(cleared).toMatchObject({ kind: "local", kindSource: "declared" });
  });

  it("belong to no other project, and go with the host that reported them", async () => {
    const f = await setup();
    await f.send({ backupChecks: [check(f.clock.now())], backupDrills: [drill(f.clock.now())] });
    const other = await createProject(f.db);
    expect(await listBackupRepositories(f.db, other.id)).toEqual([]);
    expect(await gradeBackupSources(f.db, f.clock, other.id)).toEqual([]);
    const [repo] = await f.repositories();
    await expect(getBackupRepository(f.db, other.id, repo?.id ?? 0)).rejects.toThrow("not found");
    await deleteHost(f.db, f.project.id, f.hostId);
    expect(
      await f.db.select().from(backupRepositories).where(eq(backupRepositories.projectId, f.project.id)),
    ).toEqual([]);
    expect(await f.db.select().from(backupChecks)).toEqual([]);
    expect(await f.db.select().from(backupDrills)).toEqual([]);
  });
});

describe("inferBackupKind", () => {
  it("reads restic's location forms", () => {
    expect(inferBackupKind("/srv/restic")).toBe("local");
    expect(inferBackupKind("local:/srv/restic")).toBe("local");
    expect(inferBackupKind("sftp:user@host:/srv/restic")).toBe("host");
    expect(inferBackupKind("rest:https://backup.example.com/")).toBe("host");
    expect(inferBackupKind("b2:bucket:path")).toBe("object");
    expect(inferBackupKind("rclone:remote:path")).toBeNull();
  });
});

describe("backup assurance rules", () => {
  async function rulesSetup() {
    const f = await ruleFixture({ only: ["backup-check", "backup-drill", "backup-copies", "backup-shrink"] });
    return f;
  }

  it("fire on a damaged repository, quoting restic's output, and resolve when a check passes again", async () => {
    const f = await rulesSetup();
    const output =
      "using temporary cache\nload indexes\ncheck all packs\npack 6e1f2a: not referenced in any index\nFatal: repository contains errors";
    await f.send({ backupChecks: [check(f.clock.now(), { status: "damaged", exitCode: 1, output })] });
    expect(await f.stateOf("backup-check", "repository=nas")).toBe("firing");
    const [alert] = await f.alertsOf("backup-check");
    expect(alert?.observed).toBe("repository nas damaged: using temporary cache");
    const [flip] = await f.db
      .select()
      .from(flips)
      .where(eq(flips.subjectId, alert?.id ?? ""));
    const subject = flip ? await describeFlip(f.db, flip) : null;
    expect(subject?.logs?.title).toBe("the repository check's output (nas)");
    expect(subject?.logs?.lines.at(-1)?.message).toBe("Fatal: repository contains errors");

    f.clock.advance(HOUR);
    await f.send({ backupChecks: [check(f.clock.now())] });
    expect(await f.stateOf("backup-check", "repository=nas")).toBe("inactive");
  });

  it("fire when no check has run for 8 days, by time alone", async () => {
    const f = await rulesSetup();
    await f.send({ backupChecks: [check(f.clock.now())] });
    f.clock.advance(8 * DAY);
    await f.due();
    expect(await f.stateOf("backup-check", "repository=nas")).toBe("inactive");
    f.clock.advance(1000);
    await f.due();
    expect(await f.stateOf("backup-check", "repository=nas")).toBe("firing");
    expect((await f.alertsOf("backup-check"))[0]?.observed).toBe("repository nas last checked 8 d ago");
  });

  it("fire on a drill that restored different files, and when no good drill came for 35 days", async () => {
    const f = await rulesSetup();
    const start = f.clock.now();
    await f.send({ backupChecks: [check(start)], backupDrills: [drill(start)] });
    expect(await f.stateOf("backup-drill", "repository=nas")).toBe("inactive");
    f.clock.advance(DAY);
    await f.send({
      backupDrills: [
        drill(f.clock.now(), { status: "mismatch", mismatched: 2, output: "srv/app/uploads/a.png differs" }),
      ],
    });
    expect(await f.stateOf("backup-drill", "repository=nas")).toBe("firing");
    expect((await f.alertsOf("backup-drill"))[0]?.observed).toBe(
      "restore drill of nas restored files that differ: srv/app/uploads/a.png differs",
    );
    // The drill rule off for failures: the last good drill ages until it is overdue.
    await f.tune("backup-drill", { params: { failed: false } });
    f.clock.advance(HOUR);
    await f.send({ backupChecks: [check(f.clock.now())] });
    expect(await f.stateOf("backup-drill", "repository=nas")).toBe("inactive");
    f.clock.set(start + 35 * DAY + 1000);
    await f.due();
    expect(await f.stateOf("backup-drill", "repository=nas")).toBe("firing");
    expect((await f.alertsOf("backup-drill"))[0]?.observed).toBe("last good restore drill of nas 35 d ago");
  });

  it("fire while the host's data has one copy and none off site, and resolve once an off-site copy is checked", async () => {
    const f = await rulesSetup();
    await f.send({ backupChecks: [check(f.clock.now())] });
    const key = 'source=["/etc","/srv/app"]';
    expect(await f.stateOf("backup-copies", key)).toBe("firing");
    expect((await f.alertsOf("backup-copies"))[0]?.observed).toBe(
      "backup of /etc, /srv/app: 1 backup copy (want 2), no copy off site",
    );
    await f.send({
      backupChecks: [
        check(f.clock.now(), { name: "b2", repository: { location: "b2:acme-backup:web-1", id: "dddd" } }),
      ],
    });
    expect(await f.stateOf("backup-copies", key)).toBe("inactive");
  });

  it("fire on a host whose data another host's check finds, without a batch from the host itself", async () => {
    const f = await setup(["backup-copies"]);
    const sendFromNas = await f.secondHost("nas-1");
    await sendFromNas({
      backupChecks: [
        check(f.clock.now(), {
          name: "web-1 copy",
          repository: { location: "sftp:nas-1:/restic", id: "eeee" },
        }),
      ],
    });
    const key = 'source=["/etc","/srv/app"]';
    expect(await f.stateOf("backup-copies", key)).toBe("firing");
    expect((await f.alertsOf("backup-copies"))[0]?.observed).toBe(
      "backup of /etc, /srv/app: 1 backup copy (want 2), no copy off site",
    );
  });

  it("fire when a copy's newest snapshot grows older than allowed", async () => {
    const f = await rulesSetup();
    const now = f.clock.now();
    await f.send({
      backupChecks: [
        check(now),
        check(now, { name: "b2", repository: { location: "b2:acme-backup:web-1", id: "dddd" } }),
      ],
    });
    const key = 'source=["/etc","/srv/app"]';
    expect(await f.stateOf("backup-copies", key)).toBe("inactive");
    // Snapshots were 2 h old at the check; 192 h is the limit.
    f.clock.set(now + 190 * HOUR + 1000);
    await f.due();
    expect(await f.stateOf("backup-copies", key)).toBe("firing");
    expect((await f.alertsOf("backup-copies"))[0]?.observed).toBe(
      "backup of /etc, /srv/app: copy in b2 192 h old, copy in nas 192 h old",
    );
  });

  it("fire when a repository shrinks by more than a fifth between good checks", async () => {
    const f = await rulesSetup();
    await f.send({ backupChecks: [check(f.clock.now(), { sizeBytes: 5e9 })] });
    f.clock.advance(DAY);
    await f.send({ backupChecks: [check(f.clock.now(), { sizeBytes: 4.5e9 })] });
    expect(await f.stateOf("backup-shrink", "repository=nas")).toBe("none");
    f.clock.advance(DAY);
    await f.send({ backupChecks: [check(f.clock.now(), { sizeBytes: 1.5e9 })] });
    expect(await f.stateOf("backup-shrink", "repository=nas")).toBe("firing");
    expect((await f.alertsOf("backup-shrink"))[0]?.observed).toBe(
      "repository nas shrank by 66.7% to 1.5 GB since the check before",
    );
    const [repo] = await listBackupRepositories(f.db, f.project.id);
    expect(repo?.sizeChangeBytes).toBe(-3e9);
    expect((await getBackupRepository(f.db, f.project.id, repo?.id ?? 0)).repository.sizeChangeBytes).toBe(
      -3e9,
    );
  });
});
