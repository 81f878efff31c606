import { newBatchId } from "../batch-id.ts";
import { Collector } from "../collect.ts";
import { saveJournalCursor } from "../collectors/journal.ts";
import { loadConfig, loadIdentity, loadRemoteConfig, spoolDir } from "../config.ts";
import { Delivery } from "../delivery.ts";
import { prepareLocation } from "../location-checks/location.ts";
import { loadRunbookSettings } from "../runbook-commands/config.ts";
import { loadScrapeTargets } from "../scrape-targets.ts";
import { Spool } from "../spool.ts";
import { sendBatch } from "../transport.ts";
import type { CommandContext } from "./context.ts";
import { collectSettingsFrom } from "./settings.ts";

/** Rates need two readings; one second apart is enough for a human checking the figures. */
const RATE_WINDOW_MS = 1_000;

/**
 * `once --print`: one full batch as JSON on stdout, touching no network and no state (the journal cursor is
 * read but not moved). `once` without --print spools that batch and tries one delivery.
 */
export async function onceCommand(ctx: CommandContext): Promise<number> {
  const { config } = await loadConfig(ctx.flags, ctx.env);
  const remote = await loadRemoteConfig(config.stateDir);
  const settings = collectSettingsFrom(config, remote);
  const targets = loadScrapeTargets(config, ctx.flags, ctx.env);
  if (targets.length > 0)
    settings.scrape = { targets, intervalMs: (remote?.intervalSec ?? config.intervalSec) * 1000 };
  // The same facts as the daemon's: a batch without the location would make the server withdraw its checks.
  const location = await prepareLocation(config, ctx.flags, ctx.env);
  if (location.enabled) settings.location = location.facts;
  // Likewise runbooks: without them the server would take runbooks as turned off and refuse their commands.
  const runbooks = loadRunbookSettings(config, ctx.flags, ctx.env);
  if (runbooks.enabled) settings.runbooks = runbooks.facts;
  const collector = new Collector(settings);
  // The first reading is only a baseline for rates: the targets are scraped once, with the second.
  await collector.collect(ctx.clock(), { scrape: false });
  await ctx.sleep(RATE_WINDOW_MS);
  const { collection, journalCursor } = await collector.collect(ctx.clock(), { forceAll: true });
  if (ctx.flags.print === true) {
    const batch = { v: 1, batchId: newBatchId(), sentAt: ctx.clock(), ...collection };
    ctx.out(`${JSON.stringify(batch, null, ctx.flags.pretty === true ? 2 : undefined)}\n`);
    return 0;
  }
  const identity = await loadIdentity(config.stateDir);
  if (!identity) {
    ctx.err("not enrolled: run `vigil-probe enroll --server URL --token T` first (or use --print)\n");
    return 1;
  }
  const spool = new Spool({ dir: spoolDir(config.stateDir), clock: ctx.clock });
  await spool.add(collection);
  if (journalCursor) {
    await saveJournalCursor(config.stateDir, journalCursor);
  }
  const delivery = new Delivery({
    spool,
    clock: ctx.clock,
    sleep: ctx.sleep,
    send: (body) =>
      sendBatch({ server: identity.server, hostToken: identity.hostToken, clock: ctx.clock }, body),
  });
  const result = await delivery.drain();
  const left = (await spool.list()).length;
  ctx.out(`sent ${result.sent} batches; ${left} waiting in the spool\n`);
  return result.waitMs > 0 ? 1 : 0;
}
