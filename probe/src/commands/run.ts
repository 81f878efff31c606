import type { ProbeRemoteConfig } from "@vigil/contract";
import { loadBackupChecks } from "../backup-checks.ts";
import { BackupScheduler, type BackupSchedulerOptions } from "../backup-scheduler.ts";
import { Collector } from "../collect.ts";
import { saveJournalCursor } from "../collectors/journal.ts";
import { loadConfig, loadRemoteConfig, saveRemoteConfig, spoolDir } from "../config.ts";
import { Delivery } from "../delivery.ts";
import { describeError } from "../notes.ts";
import { loadScrapeTargets } from "../scrape-targets.ts";
import { Spool } from "../spool.ts";
import { Stopper } from "../stopper.ts";
import { sendBatch } from "../transport.ts";
import type { CommandContext } from "./context.ts";
import { ensureEnrolled } from "./enroll.ts";
import { collectSettingsFrom } from "./settings.ts";

/** Sends per loop turn at most this many batches, so a backlog after an outage never delays collection. */
const MAX_SENDS_PER_TURN = 50;

export interface DaemonOptions {
  stopper?: Stopper;
  /** tests: the first-run delay and the check/drill runners of the backup scheduler */
  backups?: Pick<BackupSchedulerOptions, "firstDelayMs" | "runCheck" | "runDrill" | "random">;
}

/**
 * The daemon. One loop, no concurrency, so ordering is obvious:
 * 1. When a collection is due: collect, write the batch to the spool, then save the journal cursor. Scrape
 *    targets start when due (also between collections) and run in the background; a collection waits for
 *    the scrapes under way and takes their samples.
 * 2. When sending is due: send from the spool (oldest first) until empty, a failure, or the per-turn cap.
 *    A failure sets the next attempt time (backoff or Retry-After); new batches wait on the spool meanwhile.
 * 3. Repository checks and restore drills (probe.json `backupChecks`) start when due and run in the
 *    background, one at a time; their records are spooled on the next turn after they end.
 * 4. Sleep until whichever is due next. SIGTERM ends the sleep and the loop, and stops a running restic.
 */
export async function runDaemon(ctx: CommandContext, options: DaemonOptions = {}): Promise<number> {
  const { config } = await loadConfig(ctx.flags, ctx.env);
  // Checked before anything else, so a mistyped target stops the start with a message naming it.
  const scrapeTargets = loadScrapeTargets(config, ctx.flags, ctx.env);
  const backupChecks = loadBackupChecks(config, ctx.env);
  const stopper = options.stopper ?? new Stopper();
  const sleep = stopper.interruptible(ctx.sleep);
  const identity = await ensureEnrolled(config, ctx);
  let remote: ProbeRemoteConfig | undefined = await loadRemoteConfig(config.stateDir);
  let intervalMs = (remote?.intervalSec ?? config.intervalSec) * 1000;
  const settings = collectSettingsFrom(config, remote);
  settings.journal.follow = true;
  if (scrapeTargets.length > 0) settings.scrape = { targets: scrapeTargets, intervalMs };
  const collector = new Collector(settings);
  const spool = new Spool({
    dir: spoolDir(config.stateDir),
    clock: ctx.clock,
    ...(config.spoolMaxBytes ? { maxBytes: config.spoolMaxBytes } : {}),
  });
  const delivery = new Delivery({
    spool,
    clock: ctx.clock,
    sleep,
    send: (body) =>
      sendBatch({ server: identity.server, hostToken: identity.hostToken, clock: ctx.clock }, body),
    log: (message) => ctx.err(`${message}\n`),
    onConfig: (serverConfig) => {
      if (JSON.stringify(serverConfig) === JSON.stringify(remote)) return;
      remote = serverConfig;
      intervalMs = serverConfig.intervalSec * 1000;
      collector.updateJournalSettings(serverConfig.journal);
      collector.updateScrapeInterval(intervalMs);
      void saveRemoteConfig(config.stateDir, serverConfig).catch(() => undefined);
      ctx.err(
        `applied server config: interval ${serverConfig.intervalSec} s, journal priority ≤ ${serverConfig.journal.minPriority}\n`,
      );
    },
  });
  const backups =
    backupChecks.length > 0
      ? await BackupScheduler.create({
          entries: backupChecks,
          stateDir: config.stateDir,
          clock: ctx.clock,
          log: (message) => ctx.err(`${message}\n`),
          ...options.backups,
        })
      : undefined;
  ctx.err(
    `vigil-probe: host ${identity.hostId}, sending to ${identity.server} every ${intervalMs / 1000} s${
      scrapeTargets.length > 0 ? `, scraping ${scrapeTargets.map((t) => t.name).join(", ")}` : ""
    }${backupChecks.length > 0 ? `, checking backups of ${backupChecks.map((b) => b.target.name).join(", ")}` : ""}\n`,
  );
  /** Spools what the backup jobs finished; a failed write is logged and the loop goes on. */
  const spoolBackupRecords = async () => {
    const records = backups?.take();
    if (!records) return;
    try {
      await spool.add(records);
    } catch (error) {
      ctx.err(`could not spool backup check results: ${describeError(error)}\n`);
    }
  };

  let nextCollectAt = ctx.clock();
  let nextSendAt = ctx.clock();
  while (!stopper.stopped) {
    const now = ctx.clock();
    collector.startDueScrapes(now);
    backups?.startDue(now);
    await spoolBackupRecords();
    if (now >= nextCollectAt) {
      try {
        const { collection, journalCursor } = await collector.collect(now);
        await spool.add(collection);
        if (journalCursor) await saveJournalCursor(config.stateDir, journalCursor);
      } catch (error) {
        ctx.err(`collection failed: ${describeError(error)}\n`);
      }
      // Keep to the interval's grid; after a long stall (suspend, slow disk) skip missed slots.
      nextCollectAt += intervalMs;
      if (nextCollectAt <= ctx.clock()) nextCollectAt = ctx.clock() + intervalMs;
    }
    if (ctx.clock() >= nextSendAt) {
      try {
        const result = await delivery.drain(MAX_SENDS_PER_TURN);
        nextSendAt =
          result.waitMs > 0
            ? ctx.clock() + result.waitMs
            : "more" in result && result.more
              ? ctx.clock()
              : nextCollectAt;
        if ("reason" in result)
          ctx.err(`delivery paused ${Math.round(result.waitMs / 1000)} s: ${result.reason}\n`);
      } catch (error) {
        ctx.err(`delivery failed: ${describeError(error)}\n`);
        nextSendAt = ctx.clock() + 30_000;
      }
    }
    const wakeAt = Math.min(
      nextCollectAt,
      Math.max(nextSendAt, ctx.clock()),
      collector.nextScrapeAt(),
      backups?.nextDueAt() ?? Number.POSITIVE_INFINITY,
    );
    const waitMs = wakeAt - ctx.clock();
    if (waitMs > 0) await sleep(waitMs);
  }
  collector.close();
  // A check under way is stopped (restic gets SIGTERM) and reported by nobody: it runs again after a start.
  backups?.stop();
  await backups?.settled();
  await spoolBackupRecords();
  return 0;
}
