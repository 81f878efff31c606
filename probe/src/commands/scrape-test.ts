import type { CustomSample } from "@vigil/contract";
import { scrapeTarget } from "../collectors/scrape.ts";
import { loadConfig } from "../config.ts";
import { NoteSink } from "../notes.ts";
import { loadScrapeTargets, shownUrl } from "../scrape-targets.ts";
import type { CommandContext } from "./context.ts";

/** Lines of each target's series shown; `--print` gives them all. */
const SHOWN_SERIES = 20;
/** `up`, `scrape_duration_seconds` and `scrape_samples_scraped`, appended to every scrape. */
const SYNTHETIC_SERIES = 3;

function quoted(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;
}

/** A sample as a line of the text format, so it reads like the page it came from. */
export function sampleLine(sample: CustomSample): string {
  const labels = Object.entries(sample.labels ?? {})
    .map(([name, value]) => `${name}=${quoted(value)}`)
    .join(",");
  return `${sample.name}{${labels}} ${sample.value} (${sample.kind ?? "untyped"})`;
}

/**
 * `scrape-test [--scrape NAME=URL …] [--print]`: scrapes once and shows what the daemon would send, so a
 * target can be checked before waiting for a chart. With --scrape flags only those targets, else every
 * configured one. Exits 1 when a target did not answer with a readable page.
 */
export async function scrapeTestCommand(ctx: CommandContext): Promise<number> {
  const { config } = await loadConfig(ctx.flags, ctx.env);
  const onlyFlags = ctx.flags.scrape !== undefined;
  const targets = onlyFlags
    ? loadScrapeTargets({}, ctx.flags, {})
    : loadScrapeTargets(config, ctx.flags, ctx.env);
  if (targets.length === 0) {
    ctx.err("no scrape targets: pass --scrape NAME=URL, set VIGIL_SCRAPE or add scrape to the config file\n");
    return 2;
  }
  const results = await Promise.all(
    targets.map(async (target) => {
      const notes = new NoteSink();
      return { target, notes, outcome: await scrapeTarget(target, ctx.clock(), notes) };
    }),
  );
  if (ctx.flags.print === true) {
    const customMetrics = results.flatMap((r) => r.outcome.samples);
    const notes = results.flatMap((r) => r.notes.notes);
    ctx.out(`${JSON.stringify({ customMetrics, notes }, null, ctx.flags.pretty === true ? 2 : undefined)}\n`);
  } else {
    for (const { target, notes, outcome } of results) {
      const series = outcome.samples.length - SYNTHETIC_SERIES;
      ctx.out(
        `${target.name} ${shownUrl(target.url)}: ${
          outcome.up
            ? `up, ${series} series to send (${outcome.scraped} samples on the page)`
            : "DOWN, nothing to send"
        } in ${outcome.durationSec.toFixed(3)} s\n`,
      );
      for (const sample of outcome.samples.slice(0, Math.min(SHOWN_SERIES, series)))
        ctx.out(`  ${sampleLine(sample)}\n`);
      if (series > SHOWN_SERIES)
        ctx.out(`  … and ${series - SHOWN_SERIES} more (--print shows all as JSON)\n`);
      for (const note of notes.notes)
        ctx.out(
          `  note: ${note.message}${note.dropped === undefined ? "" : ` (${note.dropped} left out)`}\n`,
        );
    }
  }
  return results.every((r) => r.outcome.up) ? 0 : 1;
}
