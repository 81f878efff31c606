import type { ProbeRemoteConfig } from "@vigil/contract";
import { loadBackupChecks } from "../backup-checks.ts";
import { BackupScheduler, type BackupSchedulerOptions } from "../backup-scheduler.ts";
import { type Collection, Collector } from "../collect.ts";
import { saveJournalCursor } from "../collectors/journal.ts";
import { loadConfig, loadRemoteConfig, saveRemoteConfig, spoolDir } from "../config.ts";
import { Delivery } from "../delivery.ts";
import { PROBE_BATCH_LIMITS } from "../limits.ts";
import { validAssignments } from "../location-checks/assignments.ts";
import { prepareLocation } from "../location-checks/location.ts";
import { runAssignment } from "../location-checks/run-assignment.ts";
import { type AssignmentRunner, LocationCheckScheduler } from "../location-checks/scheduler.ts";
import { describeError } from "../notes.ts";
import { validCommands } from "../runbook-commands/commands.ts";
import { describeRunbooks, loadRunbookSettings } from "../runbook-commands/config.ts";
import { type CommandExecutor, RunbookCommands } from "../runbook-commands/runner.ts";
import { loadScrapeTargets } from "../scrape-targets.ts";
import { Spool } from "../spool.ts";
import { Stopper } from "../stopper.ts";
import { sendBatch } from "../transport.ts";
import type { CommandContext } from "./context.ts";
import { ensureEnrolled } from "./enroll.ts";
import { collectSettingsFrom } from "./settings.ts";

/** Sends per loop turn at most this many batches, so a backlog after an outage never delays collection. */
const MAX_SENDS_PER_TURN = 50;
/**
 * Check and command results wait this long after the first of them lands, so runs that end together travel
 * in one small batch; then they are sent at once rather than with the next collection.
 */
const PROMPT_RESULTS_GATHER_MS = 1_000;

export interface DaemonOptions {
  stopper?: Stopper;
  /** tests: the first-run delay and the check/drill runners of the backup scheduler */
  backups?: Pick<BackupSchedulerOptions, "firstDelayMs" | "runCheck" | "runDrill" | "random">;
  /** tests: the runner of assigned checks, and whether `ping` counts as usable (instead of trying it) */
  checks?: { run?: AssignmentRunner; ping?: { usable: boolean; detail: string } };
  /** tests: the runner of runbook commands */
  commands?: { run?: CommandExecutor };
  /** tests: the jitter of delivery's backoff (0 ≤ random() < 1), so retry times are known */
  deliveryRandom?: () => number;
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
 * 4. Checks the server assigns (this probe as a location) start when due, at most 8 at once, in the
 *    background. A finished run wakes the loop; a second later its results (and any that ended meanwhile)
 *    are spooled as a batch of their own and sending is made due at once, unless delivery is backing off.
 * 5. Runbook commands the server hands out (config.commands) run one at a time in the background, each id
 *    at most once (runbook-commands/runner.ts); their results travel promptly like check results. With
 *    runbooks off (the default) nothing runs and each command is answered `refused`.
 * 6. Sleep until whichever is due next. SIGTERM ends the sleep and the loop, stops a running restic and
 *    ends a running command (reported as stopped).
 */
export async function runDaemon(ctx: CommandContext, options: DaemonOptions = {}): Promise<number> {
  const { config } = await loadConfig(ctx.flags, ctx.env);
  // Checked before anything else, so a mistyped target stops the start with a message naming it.
  const scrapeTargets = loadScrapeTargets(config, ctx.flags, ctx.env);
  const backupChecks = loadBackupChecks(config, ctx.env);
  const location = await prepareLocation(config, ctx.flags, ctx.env, options.checks?.ping);
  const runbooks = loadRunbookSettings(config, ctx.flags, ctx.env);
  const stopper = options.stopper ?? new Stopper();
  const sleep = stopper.interruptible(ctx.sleep);
  const identity = await ensureEnrolled(config, ctx);
  let remote: ProbeRemoteConfig | undefined = await loadRemoteConfig(config.stateDir);
  let intervalMs = (remote?.intervalSec ?? config.intervalSec) * 1000;
  const settings = collectSettingsFrom(config, remote);
  settings.journal.follow = true;
  if (scrapeTargets.length > 0) settings.scrape = { targets: scrapeTargets, intervalMs };
  if (location.enabled) settings.location = location.facts;
  if (runbooks.enabled) settings.runbooks = runbooks.facts;
  const collector = new Collector(settings);
  // Assignments saved with the server's last config run at once, even while the server is unreachable.
  const checks = location.enabled
    ? new LocationCheckScheduler(
        {
          clock: ctx.clock,
          run:
            options.checks?.run ??
            ((assignment, signal) => runAssignment(assignment, { ...location.context, signal })),
          onResult: () => stopper.wake(),
        },
        validAssignments(remote?.checks),
      )
    : undefined;
  // Commands saved with the server's last config are taken up at once too; the ledger keeps them to one run.
  const commands = new RunbookCommands({
    settings: runbooks,
    stateDir: config.stateDir,
    clock: ctx.clock,
    env: ctx.env,
    onResult: () => stopper.wake(),
    log: (message) => ctx.err(`${message}\n`),
    ...(options.commands?.run ? { run: options.commands.run } : {}),
  });
  const spool = new Spool({
    dir: spoolDir(config.stateDir),
    clock: ctx.clock,
    ...(config.spoolMaxBytes ? { maxBytes: config.spoolMaxBytes } : {}),
  });
  const delivery = new Delivery({
    spool,
    clock: ctx.clock,
    ...(options.deliveryRandom ? { random: options.deliveryRandom } : {}),
    sleep,
    send: (body) =>
      sendBatch({ server: identity.server, hostToken: identity.hostToken, clock: ctx.clock }, body),
    log: (message) => ctx.err(`${message}\n`),
    onConfig: (serverConfig) => {
      commands.update(serverConfig.commands ?? []);
      if (JSON.stringify(serverConfig) === JSON.stringify(remote)) return;
      const previous = remote;
      remote = serverConfig;
      intervalMs = serverConfig.intervalSec * 1000;
      collector.updateJournalSettings(serverConfig.journal);
      collector.updateScrapeInterval(intervalMs);
      const assigned = serverConfig.checks ?? [];
      if (
        checks &&
        location.enabled &&
        JSON.stringify(assigned) !== JSON.stringify(validAssignments(previous?.checks))
      ) {
        checks.update(assigned);
        ctx.err(`location ${location.name}: running ${describeCount(assigned.length)}\n`);
      }
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
    }${backupChecks.length > 0 ? `, checking backups of ${backupChecks.map((b) => b.target.name).join(", ")}` : ""}${
      location.enabled
        ? `, location ${location.name} (${location.facts.kinds.join(", ")}; ${location.rules.describe()}) running ${describeCount(checks?.size ?? 0)}`
        : `, location checks off (${location.why})`
    }, ${describeRunbooks(runbooks)}\n`,
  );
  commands.update(validCommands(remote?.commands));
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

  /** Results that travel promptly, each kind in small batches of its own. */
  const prompt: PromptResults[] = [
    ...(checks
      ? [promptResults("check results", "checkResults", PROBE_BATCH_LIMITS.checkResults, checks)]
      : []),
    promptResults("command results", "commandResults", PROBE_BATCH_LIMITS.commands, {
      pendingSince: () => commands.pendingSince(),
      take: () => commands.take(),
      spooled: (results) => commands.reported(results.map((result) => result.id)),
    }),
  ];
  /** Spools one kind's waiting results; true when something was spooled. */
  const spoolPrompt = async (results: PromptResults): Promise<boolean> => {
    try {
      return await results.spool(spool);
    } catch (error) {
      ctx.err(`could not spool ${results.what}: ${describeError(error)}\n`);
      return false;
    }
  };

  let nextCollectAt = ctx.clock();
  let nextSendAt = ctx.clock();
  /** false while delivery waits out a failure: new results must not cut the backoff short */
  let deliveryHealthy = true;
  while (!stopper.stopped) {
    const now = ctx.clock();
    collector.startDueScrapes(now);
    backups?.startDue(now);
    checks?.startDue(now);
    await spoolBackupRecords();
    for (const results of prompt) {
      if (now < results.pendingSince() + PROMPT_RESULTS_GATHER_MS) continue;
      if ((await spoolPrompt(results)) && deliveryHealthy) nextSendAt = Math.min(nextSendAt, ctx.clock());
    }
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
        deliveryHealthy = result.waitMs === 0;
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
        deliveryHealthy = false;
        nextSendAt = ctx.clock() + 30_000;
      }
    }
    const wakeAt = Math.min(
      nextCollectAt,
      Math.max(nextSendAt, ctx.clock()),
      collector.nextScrapeAt(),
      backups?.nextDueAt() ?? Number.POSITIVE_INFINITY,
      checks?.nextDueAt() ?? Number.POSITIVE_INFINITY,
      ...prompt.map((results) => results.pendingSince() + PROMPT_RESULTS_GATHER_MS),
    );
    const waitMs = wakeAt - ctx.clock();
    if (waitMs > 0) await sleep(waitMs);
  }
  collector.close();
  // A check under way is stopped (restic gets SIGTERM) and reported by nobody: it runs again after a start.
  backups?.stop();
  // Runs under way are dropped (they would only say "stopped"); finished ones still go to the spool.
  checks?.stop();
  // A command under way is ended and reported as stopped: it is not run again after a start.
  commands.stop();
  await Promise.all([backups?.settled(), checks?.settled(), commands.settled()]);
  await spoolBackupRecords();
  for (const results of prompt) await spoolPrompt(results);
  return 0;
}

type PromptKey = "checkResults" | "commandResults";

/** One kind of results that travel promptly: what a loop turn needs of it. */
interface PromptResults {
  what: string;
  /** when the oldest waiting result landed (+Infinity when none waits) */
  pendingSince(): number;
  /** spools what waits, at most `limit` to a batch; true when something was spooled */
  spool(spool: Spool): Promise<boolean>;
}

/**
 * Results of background runs (assigned checks, runbook commands) as batches of their own. `spooled` hears of
 * each batch once it is on disk (the command ledger then marks the ids reported).
 */
function promptResults<K extends PromptKey>(
  what: string,
  key: K,
  limit: number,
  source: {
    pendingSince(): number;
    take(): NonNullable<Collection[K]>;
    spooled?: (results: NonNullable<Collection[K]>) => void;
  },
): PromptResults {
  return {
    what,
    pendingSince: () => source.pendingSince(),
    spool: async (spool) => {
      const results = source.take();
      if (results.length === 0) return false;
      for (let start = 0; start < results.length; start += limit) {
        const part = results.slice(start, start + limit) as NonNullable<Collection[K]>;
        await spool.add({ [key]: part } as Collection);
        source.spooled?.(part);
      }
      return true;
    },
  };
}

function describeCount(checks: number): string {
  return `${checks} check${checks === 1 ? "" : "s"}`;
}
