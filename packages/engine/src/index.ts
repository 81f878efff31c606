export * from "./accounts/index.ts";
export * from "./alerts/index.ts";
export * from "./api-keys.ts";
export * from "./checks/index.ts";
export * from "./clock.ts";
export {
  type CacheCounts,
  type CacheName,
  createEngineState,
  type EngineState,
  HOST_TOKEN_CACHE,
  PING_CACHE,
  RULE_CACHE,
  SeriesCache,
  type WorkSharing,
} from "./engine-state.ts";
export * from "./enrollment.ts";
export * from "./errors.ts";
export * from "./health.ts";
export * from "./hosts.ts";
export * from "./ingest/ingest-batch.ts";
export {
  type AcceptedBatch,
  type GroupOutcome,
  QUEUED_GROUP_PURPOSE,
  storeBatchGroup,
} from "./ingest/ingest-group.ts";
export {
  canonicalLabels,
  flattenMetrics,
  METRICS,
  type MetricDef,
  type MetricPoint,
} from "./ingest/metrics.ts";
export { pushCustomMetrics } from "./ingest/push.ts";
export * from "./ingest/retention.ts";
export * from "./ingest/rollups.ts";
export {
  DEFAULT_SERIES_CAPS,
  type SeriesCap,
  SeriesCapError,
  type SeriesCaps,
  type SeriesRefusal,
} from "./ingest/series.ts";
export * from "./ingest/state-changes.ts";
export type { WritePlan } from "./ingest/write-plan.ts";
export * from "./leases.ts";
export { assertBelowCap, type Cap, type CappedResource } from "./limits/caps.ts";
export { RateLimiter, type RateLimiterOptions } from "./limits/rate-limiter.ts";
export * from "./projects.ts";
export * from "./queries/backup-assurance.ts";
export * from "./queries/backups.ts";
export { listCustomSeries, MAX_QUERY_SERIES, queryCustomMetric } from "./queries/custom.ts";
export * from "./queries/events.ts";
export * from "./queries/filesystems.ts";
export * from "./queries/logs.ts";
export * from "./queries/metrics.ts";
export * from "./queries/prometheus.ts";
export {
  lastWeeklyMoment,
  REPORT_LATE_LIMIT_MS,
  sendDueWeeklyReports,
  sendWeeklyReport,
} from "./reports/schedule.ts";
export {
  buildWeeklyReport,
  type RenderedWeeklyReport,
  renderWeeklyReport,
  type WeeklyReport,
} from "./reports/weekly.ts";
export * from "./rules/index.ts";
export * from "./runbooks/index.ts";
export * from "./self-watch.ts";
export * from "./settings.ts";
export * from "./status/index.ts";
