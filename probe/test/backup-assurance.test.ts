import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackupCheck } from "@vigil/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBackupEntry, loadBackupChecks } from "../src/backup-checks.ts";
import { runBackupCheck } from "../src/commands/backup-check.ts";
import { canaryContent, runBackupDrill } from "../src/commands/backup-drill.ts";
import {
  describeBaseCommand,
  findJson,
  isSnapshotList,
  scrubCredentials,
  summarizeSnapshots,
} from "../src/restic-repository.ts";
import { splitBatch } from "../src/split-batch.ts";
import { defined, probeConfig, temporaryDirectory } from "./helpers.ts";
import {
  cli,
  damageLargestPack,
  execFileAsync,
  fakeAutorestic,
  HOUR,
  makeRepository,
  NOW,
  PASSWORD,
  type Repository,
  restic,
  seeded,
  spooled,
  target,
} from "./restic-fixtures.ts";

// One real repository for the whole file (restic spends most of a second on its key derivation per
// command); tests that change a repository work on a copy of it.
let sound: Repository;
let shared: string;
beforeAll(async () => {
  shared = await mkdtemp(join(tmpdir(), "vigil-backup-sound-"));
  sound = await makeRepository(shared);
}, 60_000);
afterAll(async () => {
  await rm(shared, { recursive: true, force: true });
});

/** A copy of the sound repository in a directory of its own; its snapshots still name the original data. */
async function copyOfSound(): Promise<Repository> {
  const dir = await temporaryDirectory("vigil-backup-copy-");
  await cp(sound.repo, join(dir, "repo"), { recursive: true });
  return {
    ...sound,
    dir,
    repo: join(dir, "repo"),
    env: { ...sound.env, RESTIC_CACHE_DIR: join(dir, "cache") },
  };
}

describe("backup-check and backup-drill against a sound repository", () => {
  it("checks the repository and queues an ok record with its id, size, snapshots and sources", async () => {
    const stateDir = await temporaryDirectory();
    const result = await cli(
      [
        "backup-check",
        "--name",
        "local",
        "--kind",
        "local",
        "--site",
        "onsite",
        "--retention=--keep-daily 7 --keep-weekly 4",
        "--",
        "restic",
        "-r",
        sound.repo,
      ],
      { ...sound.env, VIGIL_STATE_DIR: stateDir },
    );
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^backup-check local: ok, .*\/repo, 3 snapshots, newest 20\d\d-.*, \d+\.\d KiB\n$/,
    );

    const [batch] = await spooled(stateDir);
    const check = defined(batch?.backupChecks[0], "a check record");
    const config = JSON.parse(await restic(sound, ["cat", "config"])) as { id: string };
    const snapshots = JSON.parse(await restic(sound, ["snapshots", "--json"])) as {
      time: string;
      short_id: string;
      hostname: string;
    }[];
    const newest = defined(snapshots.at(-1));
    expect(check).toMatchObject({
      name: "local",
      tool: "restic",
      status: "ok",
      exitCode: 0,
      startedAt: NOW,
      endedAt: NOW,
      repository: { location: sound.repo, id: config.id, kind: "local", site: "onsite" },
      snapshotCount: 3,
      newestSnapshotAt: Math.floor(Date.parse(newest.time)),
      oldestSnapshotAt: Math.floor(Date.parse(defined(snapshots[0]).time)),
      retention: "--keep-daily 7 --keep-weekly 4",
    });
    expect(check.output).toBeUndefined();
    expect(check.sizeBytes).toBeGreaterThan(300_000);
    // Grouped by host and paths, the most recently backed-up source first.
    expect(check.sources).toEqual([
      {
        hostname: newest.hostname,
        paths: [sound.data],
        snapshots: 2,
        newestAt: Math.floor(Date.parse(newest.time)),
        oldestAt: Math.floor(Date.parse(defined(snapshots[1]).time)),
        newestId: newest.short_id,
      },
      expect.objectContaining({ hostname: "elsewhere", paths: [join(sound.dir, "other")], snapshots: 1 }),
    ]);
  }, 60_000);

  it("restores a random sample of the newest snapshot into a temporary directory it removes, all identical", async () => {
    const stateDir = await temporaryDirectory();
    const tmp = await temporaryDirectory();
    const result = await cli(
      ["backup-drill", "--name", "local", "--files", "3", "--tmp-dir", tmp, "--", "restic", "-r", sound.repo],
      { ...sound.env, VIGIL_STATE_DIR: stateDir },
      { random: seeded() },
    );
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^backup-drill local: ok, .*, snapshot [0-9a-f]{8}, 3 files \(\d+ bytes\) restored\n$/,
    );
    const [batch] = await spooled(stateDir);
    const drill = defined(batch?.backupDrills[0], "a drill record");
    const snapshots = JSON.parse(await restic(sound, ["snapshots", "--json"])) as {
      short_id: string;
      time: string;
    }[];
    expect(drill).toMatchObject({
      name: "local",
      tool: "restic",
      status: "ok",
      repository: { location: sound.repo },
      snapshotId: defined(snapshots.at(-1)).short_id,
      snapshotAt: Math.floor(Date.parse(defined(snapshots.at(-1)).time)),
      files: 3,
      mismatched: 0,
      missing: 0,
    });
    expect(drill.canary).toBeUndefined();
    // Nothing is left behind in the temporary directory.
    expect(await readdir(tmp)).toEqual([]);
  }, 60_000);

  it("restores every file, pattern characters in a name included, when asked for more files than there are", async () => {
    const outcome = await runBackupDrill(
      { ...target(sound), drillFiles: 100 },
      { clock: () => NOW, random: seeded() },
    );
    expect(outcome.record).toMatchObject({ status: "ok", files: 5, mismatched: 0, missing: 0 });
    expect(outcome.record.bytes).toBe(1_200 + 300_000 + 5 + 4 + 0);
  }, 60_000);

  it("reports a live file with the snapshot's size and time but other content as a mismatch", async () => {
    const notes = join(sound.data, "notes.txt");
    // touch -r copies times to the nanosecond, which restic recorded and the drill compares.
    const times = join(sound.dir, "notes-times");
    await execFileAsync("touch", ["-r", notes, times]);
    await writeFile(notes, "HELLO\n".repeat(200));
    await execFileAsync("touch", ["-r", times, notes]);
    try {
      const outcome = await runBackupDrill(
        { ...target(sound), drillFiles: 100 },
        { clock: () => NOW, random: seeded() },
      );
      expect(outcome.record).toMatchObject({ status: "mismatch", files: 5, mismatched: 1, missing: 0 });
      expect(outcome.record.output).toMatch(
        /^mismatch .*notes\.txt: restored sha256 [0-9a-f]{16}… but the unchanged live file has/,
      );
    } finally {
      await writeFile(notes, "hello\n".repeat(200));
      await execFileAsync("touch", ["-r", times, notes]);
    }
  }, 60_000);

  it("reports a wrong password as an error, with restic's words and nothing it could not read", async () => {
    const stateDir = await temporaryDirectory();
    const result = await cli(["backup-check", "--name", "local", "--", "restic", "-r", sound.repo], {
      ...sound.env,
      RESTIC_PASSWORD: "wrong",
      VIGIL_STATE_DIR: stateDir,
    });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^backup-check local: error, .*Fatal: wrong password or no key found\n$/);
    const [batch] = await spooled(stateDir);
    const check = defined(batch?.backupChecks[0]);
    expect(check).toMatchObject({ status: "error", exitCode: 1, sources: [] });
    expect(check.output).toMatch(/wrong password or no key found/);
    expect(check.snapshotCount).toBeUndefined();
    expect(check.repository.id).toBeUndefined();
  }, 60_000);

  it("reports a repository locked by a running backup as an error, and still reads its snapshots", async () => {
    const repository = await copyOfSound();
    const backup = spawn("restic", ["-r", repository.repo, "backup", "--stdin", "-v"], {
      env: repository.env,
    });
    // restic holds its lock from "lock repository" on; "start backup on" comes after it.
    await new Promise<void>((resolve, reject) => {
      let seen = "";
      const watch = (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes("start backup on")) resolve();
      };
      backup.stdout.on("data", watch);
      backup.stderr.on("data", watch);
      backup.on("exit", (code) => reject(new Error(`restic backup exited with ${code}: ${seen}`)));
    });
    try {
      const outcome = await runBackupCheck(target(repository), { clock: () => NOW });
      expect(outcome.record).toMatchObject({ status: "error", exitCode: 1, snapshotCount: 3 });
      expect(outcome.record.output).toMatch(/repository is already locked by PID \d+/);
    } finally {
      const closed = new Promise((resolve) => backup.on("close", resolve));
      backup.stdin.end("data\n");
      await closed;
    }
  }, 60_000);

  it("reports a repository that is not there as an error, for a check and for a drill", async () => {
    const missing = join(sound.dir, "no-such-repo");
    const check = await runBackupCheck(
      { ...target(sound), command: ["restic", "-r", missing] },
      { clock: () => NOW },
    );
    expect(check.record).toMatchObject({ status: "error", repository: { location: missing } });
    expect(check.record.output).toMatch(/Is there a repository at the following location\?/);
    const drill = await runBackupDrill(
      { ...target(sound), command: ["restic", "-r", missing] },
      { clock: () => NOW },
    );
    expect(drill.record).toMatchObject({ status: "error", files: 0 });
    expect(drill.record.output).toMatch(/unable to open config file/);
  }, 60_000);

  it("checks and drills through autorestic's exec, finding restic's JSON among autorestic's own lines", async () => {
    const autorestic = await fakeAutorestic(sound);
    const base = ["autorestic", "-c", autorestic.config, "exec", "-b", "nas", "--"];
    const stateDir = await temporaryDirectory();
    const result = await cli(["backup-check", "--name", "nas", "--", ...base], {
      ...autorestic.env,
      VIGIL_STATE_DIR: stateDir,
    });
    expect(result.code).toBe(0);
    const [batch] = await spooled(stateDir);
    expect(batch?.backupChecks[0]).toMatchObject({
      name: "nas",
      tool: "autorestic",
      status: "ok",
      repository: { location: "autorestic:nas", id: expect.stringMatching(/^[0-9a-f]{64}$/) },
      snapshotCount: 3,
    });
    expect(batch?.backupChecks[0]?.sources).toHaveLength(2);

    const drill = await runBackupDrill(
      { ...target(sound), name: "nas", command: base, env: autorestic.env, drillFiles: 2 },
      { clock: () => NOW, random: seeded() },
    );
    expect(drill.record).toMatchObject({
      tool: "autorestic",
      status: "ok",
      files: 2,
      mismatched: 0,
      missing: 0,
    });

    const failing = await runBackupCheck(
      {
        ...target(sound),
        name: "other",
        command: ["autorestic", "-c", autorestic.config, "exec", "-b", "other"],
        env: autorestic.env,
      },
      { clock: () => NOW },
    );
    expect(failing.record).toMatchObject({ status: "error", repository: { location: "autorestic:other" } });
    expect(failing.record.output).toMatch(/unable to open config file/);
  }, 60_000);

  it("stops a check at its timeout, with everything the command started, and says so", async () => {
    const marker = join(await temporaryDirectory(), "finished");
    const outcome = await runBackupCheck(
      { ...target(sound), command: ["sh", "-c", `sleep 30; touch ${marker}`], timeoutMs: 300 },
      { clock: () => NOW },
    );
    expect(outcome.record).toMatchObject({ status: "error", repository: { location: "unknown" } });
    expect(outcome.record.exitCode).toBeUndefined();
    expect(outcome.record.output).toMatch(
      /restic check timed out after 0\.3 s: stopped it and everything it started/,
    );
    expect(outcome.stopped).toBe(false);
    await expect(stat(marker)).rejects.toThrow(/ENOENT/);
  }, 30_000);

  it("answers in doctor for a reachable repository, and warns for one that is not", async () => {
    const { configPath } = await probeConfig({
      backupChecks: [
        { name: "local", command: ["restic", "-r", sound.repo], env: { RESTIC_PASSWORD: PASSWORD } },
        {
          name: "gone",
          command: ["restic", "-r", join(sound.dir, "gone")],
          env: { RESTIC_PASSWORD: PASSWORD },
        },
      ],
    });
    const result = await cli(["doctor"], {
      PATH: process.env.PATH,
      RESTIC_CACHE_DIR: sound.env.RESTIC_CACHE_DIR,
      VIGIL_CONFIG: configPath,
    });
    expect(result.out).toMatch(/\[ok {2}\] backup local: .*\/repo answers \(repository [0-9a-f]{10}\)/);
    expect(result.out).toMatch(
      /\[warn\] backup gone: .*\/gone: restic cat config did not answer: Fatal: unable to open config file/,
    );
  }, 60_000);
});

describe("a damaged repository", () => {
  it("is reported damaged by a check that reads its data, and a drill from it names the file it lost", async () => {
    const repository = await copyOfSound();
    await damageLargestPack(repository.repo);

    const stateDir = await temporaryDirectory();
    const result = await cli(
      [
        "backup-check",
        "--name",
        "local",
        "--read-data-subset",
        "100%",
        "--",
        "restic",
        "-r",
        repository.repo,
      ],
      { ...repository.env, VIGIL_STATE_DIR: stateDir },
    );
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^backup-check local: damaged, .*Fatal: repository contains errors\n$/);
    const [batch] = await spooled(stateDir);
    const check = defined(batch?.backupChecks[0]);
    expect(check).toMatchObject({ status: "damaged", exitCode: 1, readDataSubset: "100%", snapshotCount: 3 });
    expect(check.output).toMatch(/Pack ID does not match[\s\S]*Fatal: repository contains errors/);

    const drill = await runBackupDrill(
      { ...target(repository), drillFiles: 100 },
      { clock: () => NOW, random: seeded() },
    );
    expect(drill.record.status).toBe("mismatch");
    expect(drill.record.missing).toBeGreaterThanOrEqual(1);
    expect(drill.record.output).toMatch(
      /^missing .*random\.bin: not restored \(ciphertext verification failed\)/m,
    );
  }, 60_000);
});

describe("the canary", () => {
  it("is created when absent, not yet in a snapshot, then comes back intact from the next one", async () => {
    const repository = await copyOfSound();
    const data = join(repository.dir, "app");
    await mkdir(data);
    await writeFile(join(data, "one.txt"), "one\n");
    await writeFile(join(data, "two.txt"), "two\n");
    const canary = join(data, ".vigil-canary");
    const base = [
      "--name",
      "local",
      "--canary",
      canary,
      "--files",
      "2",
      "--",
      "restic",
      "-r",
      repository.repo,
    ];
    const stateDir = await temporaryDirectory();

    const first = await cli(["backup-drill", ...base], { ...repository.env, VIGIL_STATE_DIR: stateDir });
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/created the canary .*\.vigil-canary/);
    expect(first.err).toMatch(/canary .*\.vigil-canary is not yet in a snapshot/);
    const content = await readFile(canary, "utf8");
    expect(content).toMatch(/^vigil canary [0-9a-f]{32}\n[0-9a-f]{64}\n$/);

    await restic(repository, ["backup", data]);
    const second = await cli(["backup-drill", ...base], { ...repository.env, VIGIL_STATE_DIR: stateDir });
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/canary intact/);
    const drills = (await spooled(stateDir)).flatMap((batch) => batch.backupDrills);
    expect(drills.map((d) => [d.status, d.canary, d.files])).toEqual([
      ["ok", undefined, 2],
      ["ok", true, 2],
    ]);
    // The probe never rewrites a canary that exists.
    expect(await readFile(canary, "utf8")).toBe(content);
  }, 60_000);

  it("fails the drill when the restored canary does not verify, even though restic restored it faithfully", async () => {
    const repository = await copyOfSound();
    const data = join(repository.dir, "app");
    await mkdir(data);
    const canary = join(data, ".vigil-canary");
    await writeFile(canary, canaryContent().replace(/\n[0-9a-f]{64}/, `\n${"0".repeat(64)}`));
    await restic(repository, ["backup", data]);
    const outcome = await runBackupDrill(
      { ...target(repository), canary },
      { clock: () => NOW, random: seeded() },
    );
    expect(outcome.record).toMatchObject({ status: "mismatch", canary: false, mismatched: 0, missing: 0 });
    expect(outcome.record.output).toMatch(/canary .*: restored, but its content does not verify/);
  }, 60_000);

  it("fails the drill when a canary older than the snapshot is not in it (outside the backed-up paths)", async () => {
    const canary = join(await temporaryDirectory(), "outside-canary");
    await writeFile(canary, canaryContent());
    const old = new Date(Date.now() - 86_400_000);
    await utimes(canary, old, old);
    const outcome = await runBackupDrill(
      { ...target(sound), canary },
      { clock: () => NOW, random: seeded() },
    );
    expect(outcome.record).toMatchObject({ status: "mismatch", canary: false });
    expect(outcome.record.output).toMatch(/older than the newest snapshot but not in it/);
  }, 60_000);
});

describe("the command lines and the config entries", () => {
  it("refuses a command line without a name, a command, or with a wrong setting, naming the flag", async () => {
    expect((await cli(["backup-check", "--", "restic"], {})).err).toMatch(/^--name is required\nusage:/);
    expect((await cli(["backup-check", "--name", "x"], {})).err).toMatch(/goes after --/);
    const kind = await cli(["backup-check", "--name", "x", "--kind", "nas", "--", "restic"], {});
    expect(kind.code).toBe(2);
    expect(kind.err).toMatch(/^--kind must be one of local, host, object, other/);
    const subset = await cli(
      ["backup-check", "--name", "x", "--read-data-subset", "5 percent", "--", "restic"],
      {},
    );
    expect(subset.err).toMatch(/^--read-data-subset "5 percent" must be n\/t/);
    const files = await cli(["backup-drill", "--name", "x", "--files", "0", "--", "restic"], {});
    expect(files.err).toMatch(/^--files must be a whole number from 1 to 1000/);
    const canary = await cli(["backup-drill", "--name", "x", "--canary", "relative", "--", "restic"], {});
    expect(canary.err).toMatch(/^--canary must be an absolute path/);
  });

  it("checks probe.json entries, naming the entry and the setting, and fills in the defaults", () => {
    const entry = checkBackupEntry(
      { name: "nas", command: ["restic", "-r", "/srv/restic"], env: { A: "1" } },
      { PATH: "/bin" },
    );
    expect(entry).toEqual({
      target: {
        name: "nas",
        command: ["restic", "-r", "/srv/restic"],
        env: { PATH: "/bin", A: "1" },
        timeoutMs: 120 * 60_000,
        drillFiles: 20,
      },
      drillTimeoutMs: 60 * 60_000,
      checkEveryMs: 168 * HOUR,
      drillEveryMs: 168 * HOUR,
    });
    const refused = (raw: unknown) => () => loadBackupChecks({ backupChecks: [raw] as never }, {});
    expect(refused({ name: "nas", command: ["restic"], timeout: 5 })).toThrow(
      /^backup check "nas": unknown setting "timeout" \(known: name, command, env/,
    );
    expect(refused({ name: "nas", command: "restic -r /srv" })).toThrow(
      /^backup check "nas": command must be a list of strings/,
    );
    expect(refused({ name: "nas", command: ["restic"], env: { "A-B": "1" } })).toThrow(
      /env "A-B" must be a variable name/,
    );
    expect(refused({ name: "nas", command: ["restic"], checkEveryHours: 0.5 })).toThrow(
      /checkEveryHours must be 0 \(never\) or/,
    );
    expect(refused({ name: "nas", command: ["restic"], site: "cloud" })).toThrow(
      /site must be one of onsite, offsite/,
    );
    expect(refused({ name: "nas", command: ["restic"], readDataSubset: "3/2" })).toThrow(
      /must not exceed the number of parts/,
    );
    expect(refused({ name: "", command: ["restic"] })).toThrow(/^backup check "": name must be/);
    expect(() =>
      loadBackupChecks(
        {
          backupChecks: [
            { name: "a", command: ["restic"] },
            { name: "a", command: ["restic"] },
          ],
        },
        {},
      ),
    ).toThrow(/^backup check "a": named twice/);
  });

  it("keeps the daemon from starting with a wrong entry, exit 1 and the message", async () => {
    const { configPath } = await probeConfig({
      backupChecks: [{ name: "nas", command: ["restic"], everyHours: 24 }],
    });
    const result = await cli(["run", "--config", configPath], {});
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^vigil-probe run: backup check "nas": unknown setting "everyHours"/);
  });

  it("reads the repository from the command or restic's variables, without credentials", () => {
    expect(describeBaseCommand(["restic", "-r", "/srv/restic"], {}).location).toBe("/srv/restic");
    expect(describeBaseCommand(["restic", "--repo=sftp:backup@nas:/restic"], {}).location).toBe(
      "sftp:backup@nas:/restic",
    );
    expect(describeBaseCommand(["restic", "-rrest:https://u:secret@h:8000/x"], {}).location).toBe(
      "rest:https://h:8000/x",
    );
    expect(
      describeBaseCommand(["/usr/bin/restic"], {
        RESTIC_REPOSITORY: "s3:https://KEY:SECRET@s3.example.com/bucket",
      }).location,
    ).toBe("s3:https://s3.example.com/bucket");
    expect(describeBaseCommand(["restic"], {}).location).toBe("unknown");
    expect(
      scrubCredentials("Is there a repository at the following location?\nrest:https://u:s3cr3t@h:8000/x"),
    ).toBe("Is there a repository at the following location?\nrest:https://u:***@h:8000/x");
    const autorestic = describeBaseCommand(["autorestic", "-c", "/etc/a.yml", "exec", "-b", "nas"], {});
    expect(autorestic).toEqual({
      tool: "autorestic",
      location: "autorestic:nas",
      command: ["autorestic", "--ci", "--verbose", "-c", "/etc/a.yml", "exec", "-b", "nas", "--"],
    });
    expect(describeBaseCommand(["autorestic", "--ci", "exec", "-vb", "nas", "--"], {}).command).toEqual([
      "autorestic",
      "--ci",
      "exec",
      "-vb",
      "nas",
      "--",
    ]);
  });

  it("finds JSON among coloured decoration lines and groups snapshots, keeping the newest sources", () => {
    const esc = String.fromCharCode(27);
    const text = `Using config: \t /etc/a.yml\n[0:00] 100.00%\n${esc}[2m[{"time":"2026-01-02T03:04:05.123456789+01:00","paths":["/b","/a"],"hostname":"h","short_id":"abcd1234"}]\n${esc}[0m`;
    const list = defined(findJson(text, isSnapshotList));
    expect(summarizeSnapshots(list).sources).toEqual([
      {
        hostname: "h",
        paths: ["/a", "/b"],
        snapshots: 1,
        newestAt: Date.parse("2026-01-02T02:04:05.123Z"),
        oldestAt: Date.parse("2026-01-02T02:04:05.123Z"),
        newestId: "abcd1234",
      },
    ]);
    const many = Array.from({ length: 150 }, (_, i) => ({
      time: new Date(NOW + i * 1000).toISOString(),
      paths: [`/p${i}`],
      hostname: "h",
    }));
    const summary = summarizeSnapshots(many);
    expect(summary).toMatchObject({ count: 150, newestAt: NOW + 149_000, oldestAt: NOW });
    expect(summary.sources).toHaveLength(100);
    expect(summary.sources[0]?.paths).toEqual(["/p149"]);
    expect(summary.sources.at(-1)?.paths).toEqual(["/p50"]);
  });

  it("halves backup checks and drills like every other row when the server refuses a batch as too large", () => {
    const check: BackupCheck = {
      name: "a",
      tool: "restic",
      status: "ok",
      startedAt: NOW,
      endedAt: NOW,
      repository: { location: "/r" },
      sources: [],
    };
    const halves = defined(
      splitBatch({
        v: 1,
        batchId: "batch-0001",
        sentAt: NOW,
        backupChecks: [check, { ...check, name: "b" }],
      }),
    );
    expect(halves.map((half) => half.backupChecks?.map((c) => c.name))).toEqual([["a"], ["b"]]);
  });
});
