/**
 * The self-metrics page: this process's counters and histograms, then gauges read from the database when
 * scraped (the same in every process and isolate): readiness figures, and each check's status and uptime
 * and each pending or firing alert, labelled by project and id.
 */
import { type EngineState, selfGauges } from "@vigil/engine";
import type { AppDeps } from "../deps.ts";
import { Exposition } from "./metrics.ts";
import { readiness } from "./readiness.ts";

export async function renderSelfMetrics(deps: AppDeps): Promise<string> {
  const out = new Exposition();
  const { runtime, clock, db } = deps;
  runtime?.metrics.render(out);
  const ready = await readiness(deps);
  const now = clock.now();

  out.gauge("vigil_ready", "1 when /readyz answers 200", [
    { labels: {}, value: ready.status === "ready" ? 1 : 0 },
  ]);
  if (runtime) {
    out.gauge(
      "vigil_process_start_time_seconds",
      "When this process (or Worker isolate) started, Unix time",
      [{ labels: {}, value: runtime.startedAt / 1000 }],
    );
  }
  if (runtime) renderEngineState(out, runtime.engine);
  if (ready.db.latencyMs !== null) {
    out.gauge("vigil_db_latency_seconds", "Round trip of `select 1` at this scrape", [
      { labels: {}, value: ready.db.latencyMs / 1000 },
    ]);
  }
  if (ready.scheduler.lastTickAt !== null) {
    out.gauge(
      "vigil_scheduler_last_tick_timestamp_seconds",
      "When a scheduler last completed a tick, Unix time",
      [{ labels: {}, value: ready.scheduler.lastTickAt / 1000 }],
    );
  }
  if (ready.outbox) {
    const { flips, notices, deliveries, delayMs } = ready.outbox;
    out.gauge(
      "vigil_outbox_backlog",
      "Outbox rows waiting: unclaimed flips, queued notices, unsent deliveries",
      [
        { labels: { stage: "flips" }, value: flips },
        { labels: { stage: "notices" }, value: notices },
        { labels: { stage: "deliveries" }, value: deliveries },
      ],
    );
    out.gauge("vigil_outbox_oldest_due_age_seconds", "How long the oldest due outbox row has waited", [
      { labels: {}, value: delayMs / 1000 },
    ]);
  }
  if (ready.localProbe) {
    out.gauge("vigil_local_probe_spooled_batches", "Batches waiting in the local probe's spool", [
      { labels: {}, value: ready.localProbe.spooled },
    ]);
  }

  if (!ready.db.ok) return out.toString();
  const { checks, alerts } = await selfGauges(db, now);
  out.gauge(
    "vigil_check_status",
    "1 for each check, labelled with its current status (new, up, late, degraded, down, paused)",
    checks.map((c) => ({
      labels: { project_id: c.projectId, check_id: c.checkId, kind: c.kind, status: c.status },
      value: 1,
    })),
  );
  out.gauge(
    "vigil_check_uptime_ratio",
    "Share of the last 30 days each check was up or degraded, of the time it was up, degraded or down",
    checks.flatMap((c) =>
      c.uptime30d === null
        ? []
        : [{ labels: { project_id: c.projectId, check_id: c.checkId }, value: c.uptime30d }],
    ),
  );
  out.gauge(
    "vigil_alert_state",
    "1 for each alert that is pending or firing, labelled with its state",
    alerts.map((a) => ({
      labels: {
        project_id: a.projectId,
        rule_id: a.ruleId,
        alert_id: a.alertId,
        host_id: a.hostId,
        state: a.state,
      },
      value: 1,
    })),
  );
  return out.toString();
}

/** This process's (or isolate's) caches and group commits: how often they saved a read, how much they grouped. */
function renderEngineState(out: Exposition, engine: EngineState): void {
  const caches = Object.entries(engine.counts);
  out.family("vigil_cache_lookups_total", "counter", "Lookups in this process's caches, by cache and result");
  for (const [cache, { hits, misses }] of caches) {
    out.sample("vigil_cache_lookups_total", { cache, result: "hit" }, hits);
    out.sample("vigil_cache_lookups_total", { cache, result: "miss" }, misses);
  }
  const groups = [...engine.groups];
  if (groups.length === 0) return;
  out.family("vigil_group_commits_total", "counter", "Transactions written by group commit, by purpose");
  for (const [purpose, tally] of groups) out.sample("vigil_group_commits_total", { purpose }, tally.groups);
  out.family("vigil_group_commit_items_total", "counter", "Writes carried by those transactions, by purpose");
  for (const [purpose, tally] of groups)
    out.sample("vigil_group_commit_items_total", { purpose }, tally.items);
}
