import { readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { ProbeBatchV1 } from "@vigil/contract";
import { afterEach, describe, expect, it } from "vitest";
import type { BackupCheckTarget, BackupRunContext, ScheduledBackupCheck } from "../src/backup-checks.ts";
import { BackupScheduler, SCHEDULE_FILE } from "../src/backup-scheduler.ts";
import { type CheckOutcome, runBackupCheck } from "../src/commands/backup-check.ts";
import { type DrillOutcome, runBackupDrill } from "../src/commands/backup-drill.ts";
import type { CommandContext } from "../src/commands/context.ts";
import { runDaemon } from "../src/commands/run.ts";
import { Stopper } from "../src/stopper.ts";
import { defined, FIXTURES, probeConfig, readBatch, temporaryDirectory } from "./helpers.ts";
import { HOUR, makeRepository, NOW, PASSWORD, seeded } from "./restic-fixtures.ts";

describe("the backup scheduler", () => {
  /** A runner whose runs end when the test says so, recording what ran when. */
  function controlledRunner() {
    const runs: { name: string; kind: string; at: number; finish: () => void; signal?: AbortSignal }[] = [];
    const make =
      (kind: "check" | "drill") =>
      (target: BackupCheckTarget, context: BackupRunContext): Promise<CheckOutcome & DrillOutcome> =>
        new Promise((resolve) => {
          const at = context.clock();
          const run = {
            name: target.name,
            kind,
            at,
            finish: () =>
              resolve({
                stopped: false,
                remarks: [],
                record: {
                  name: target.name,
                  tool: "restic",
                  status: "ok",
                  startedAt: at,
                  endedAt: at,
                  repository: { location: "/r" },
                  sources: [],
                  files: 0,
                  bytes: 0,
                } as never,
              }),
          };
          if (context.signal) Object.assign(run, { signal: context.signal });
          runs.push(run);
        });
    return { runs, runCheck: make("check"), runDrill: make("drill") };
  }

  function entry(name: string, checkHours: number, drillHours: number): ScheduledBackupCheck {
    return {
      target: { name, command: ["restic"], env: {}, timeoutMs: 60_000, drillFiles: 1 },
      drillTimeoutMs: 60_000,
      checkEveryMs: checkHours * HOUR,
      drillEveryMs: drillHours * HOUR,
    };
  }

  /** Finishes runs as they start (the next starts as the previous ends) until the scheduler is idle. */
  async function settle(scheduler: BackupScheduler, runs: { finish: () => void }[], from: number) {
    for (let i = from; i < runs.length; i++) {
      defined(runs[i]).finish();
      // Not a timed wait: yields until the scheduler has started the next run or has none left.
      while (runs.length <= i + 1 && scheduler.busy) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it("waits the first delay, then runs one job at a time, most overdue first, and remembers across a restart", async () => {
    const stateDir = await temporaryDirectory();
    let now = NOW;
    const clock = () => now;
    const runner = controlledRunner();
    const entries = [entry("nas", 24, 168), entry("b2", 24, 0)];
    const delays = [10, 20, 30];
    const scheduler = await BackupScheduler.create({
      entries,
      stateDir,
      clock,
      firstDelayMs: () => (delays.shift() ?? 0) * 60_000,
      runCheck: runner.runCheck,
      runDrill: runner.runDrill,
    });
    expect(scheduler.nextDueAt()).toBe(NOW + 10 * 60_000);
    scheduler.startDue(NOW + 9 * 60_000);
    expect(runner.runs).toHaveLength(0);

    now = NOW + 40 * 60_000;
    scheduler.startDue(now);
    scheduler.startDue(now);
    // Three jobs are due; one runs, the others wait for it.
    expect(runner.runs.map((r) => `${r.name}/${r.kind}`)).toEqual(["nas/check"]);
    expect(scheduler.busy).toBe(true);
    expect(scheduler.nextDueAt()).toBe(Number.POSITIVE_INFINITY);
    await settle(scheduler, runner.runs, 0);
    expect(runner.runs.map((r) => `${r.name}/${r.kind}`)).toEqual(["nas/check", "nas/drill", "b2/check"]);
    expect(scheduler.take()?.backupChecks?.map((c) => c.name)).toEqual(["nas", "b2"]);
    expect(scheduler.take()).toBeUndefined();
    expect(scheduler.nextDueAt()).toBe(now + 24 * HOUR);
    const saved = JSON.parse(await readFile(join(stateDir, SCHEDULE_FILE), "utf8"));
    expect(saved.jobs["nas/drill"]).toEqual({ lastAt: now });

    // A restart an hour later runs nothing: the last runs are remembered.
    now += HOUR;
    const restarted = await BackupScheduler.create({
      entries,
      stateDir,
      clock,
      firstDelayMs: () => 0,
      runCheck: runner.runCheck,
      runDrill: runner.runDrill,
    });
    restarted.startDue(now);
    expect(runner.runs).toHaveLength(3);
    expect(restarted.nextDueAt()).toBe(NOW + 40 * 60_000 + 24 * HOUR);
    // A day later both checks are due again, the weekly drill is not.
    now = NOW + 40 * 60_000 + 24 * HOUR;
    restarted.startDue(now);
    await settle(restarted, runner.runs, 3);
    expect(runner.runs.slice(3).map((r) => `${r.name}/${r.kind}`)).toEqual(["nas/check", "b2/check"]);
  });

  it("keeps a first run's delay across restarts, so restarting never postpones it", async () => {
    const stateDir = await temporaryDirectory();
    const runner = controlledRunner();
    const options = {
      entries: [entry("nas", 24, 0)],
      stateDir,
      clock: () => NOW,
      runCheck: runner.runCheck,
      runDrill: runner.runDrill,
    };
    const first = await BackupScheduler.create({ ...options, firstDelayMs: () => 45 * 60_000 });
    expect(first.nextDueAt()).toBe(NOW + 45 * 60_000);
    const second = await BackupScheduler.create({
      ...options,
      clock: () => NOW + 30 * 60_000,
      firstDelayMs: () => 59 * 60_000,
    });
    expect(second.nextDueAt()).toBe(NOW + 45 * 60_000);
  });

  it("stops a running restic on stop(), reports nothing and runs it again an hour after a restart", async () => {
    const stateDir = await temporaryDirectory();
    const marker = join(stateDir, "finished");
    const sleeper: ScheduledBackupCheck = {
      ...entry("nas", 24, 0),
      target: {
        name: "nas",
        command: ["sh", "-c", `sleep 30; touch ${marker}`],
        env: { PATH: process.env.PATH },
        timeoutMs: 60_000,
        drillFiles: 1,
      },
    };
    const scheduler = await BackupScheduler.create({
      entries: [sleeper],
      stateDir,
      clock: () => NOW,
      firstDelayMs: () => 0,
    });
    scheduler.startDue(NOW);
    expect(scheduler.busy).toBe(true);
    scheduler.stop();
    await scheduler.settled();
    expect(scheduler.take()).toBeUndefined();
    await expect(stat(marker)).rejects.toThrow(/ENOENT/);
    const saved = JSON.parse(await readFile(join(stateDir, SCHEDULE_FILE), "utf8"));
    expect(saved.jobs["nas/check"]).toEqual({ firstAt: NOW, attemptAt: NOW });
    // Not at once: a probe killed with restic (out of memory) must not restart into the same check in a loop.
    const restarted = await BackupScheduler.create({
      entries: [sleeper],
      stateDir,
      clock: () => NOW + 60_000,
    });
    expect(restarted.nextDueAt()).toBe(NOW + HOUR);
  }, 30_000);
});

describe("the daemon with backupChecks in probe.json", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("checks and drills a real repository in the background and delivers contract-valid records, once", async () => {
    const repository = await makeRepository(await temporaryDirectory("vigil-backup-daemon-"));
    const received: ProbeBatchV1[] = [];
    const api = createServer(async (req, res) => {
      const batch = await readBatch(req);
      received.push(batch);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ batchId: batch.batchId, accepted: true, duplicate: false }));
    });
    servers.push(api);
    await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
    const { stateDir, configPath } = await probeConfig({
      rootDir: join(FIXTURES, "debian12"),
      disabledCollectors: ["journal", "updates", "docker", "systemd", "ssh"],
      backupChecks: [
        {
          name: "local",
          command: ["restic", "-r", repository.repo],
          env: { RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: join(repository.dir, "cache") },
          kind: "local",
          site: "onsite",
          checkEveryHours: 24,
          drillEveryHours: 168,
          drillFiles: 2,
        },
      ],
    });
    await writeFile(
      join(stateDir, "identity.json"),
      JSON.stringify({
        server: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        hostId: "h1",
        hostToken: "t",
      }),
    );

    /** Runs the daemon from `start` for `hours` of its clock; time stands still while a job runs. */
    async function daemon(start: number, hours: number) {
      let now = start;
      let running: Promise<unknown> = Promise.resolve();
      const ran: string[] = [];
      const stopper = new Stopper();
      const ctx: CommandContext = {
        flags: { config: configPath },
        rest: [],
        env: { PATH: process.env.PATH },
        clock: () => now,
        sleep: async (ms) => {
          await running;
          now += ms;
          if (now - start >= hours * HOUR) stopper.stop();
        },
        out: () => undefined,
        err: () => undefined,
        fetch,
      };
      await runDaemon(ctx, {
        stopper,
        backups: {
          firstDelayMs: () => 5 * 60_000,
          random: seeded(),
          runCheck: (target, context) => {
            ran.push(`check@${context.clock() - start}`);
            running = runBackupCheck(target, context);
            return running as Promise<CheckOutcome>;
          },
          runDrill: (target, context) => {
            ran.push("drill");
            running = runBackupDrill(target, context);
            return running as Promise<DrillOutcome>;
          },
        },
      });
      return ran;
    }

    expect(await daemon(NOW, 1)).toEqual([`check@${5 * 60_000}`, "drill"]);
    const checks = received.flatMap((batch) => batch.backupChecks);
    const drills = received.flatMap((batch) => batch.backupDrills);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({
      name: "local",
      status: "ok",
      startedAt: NOW + 5 * 60_000,
      repository: { location: repository.repo, kind: "local", site: "onsite" },
      snapshotCount: 3,
    });
    expect(drills).toHaveLength(1);
    expect(drills[0]).toMatchObject({
      name: "local",
      status: "ok",
      files: 2,
      repository: { location: repository.repo },
    });
    // Collection went on meanwhile: host samples arrived as usual.
    expect(received.flatMap((batch) => batch.samples).length).toBeGreaterThan(60);

    // Restarted an hour later, it runs nothing: the runs are remembered in the state dir.
    expect(await daemon(NOW + 2 * HOUR, 1)).toEqual([]);
    expect(received.flatMap((batch) => batch.backupChecks)).toHaveLength(1);
  }, 120_000);
});
