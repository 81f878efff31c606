/**
 * Explicit bounds of one probe batch; the ingest endpoint enforces the same numbers. A module of its own,
 * free of zod, so the probe can import it and still bundle to one file with no dependencies.
 */
export const PROBE_BATCH_LIMITS = {
  /** samples (host-wide rows) per batch */
  samples: 1_000,
  /** filesystem + disk + interface rows per batch, each kind */
  deviceRows: 10_000,
  logs: 5_000,
  backups: 100,
  notes: 200,
  /** characters of one log message */
  logMessage: 16_384,
  /** extra fields on one log entry */
  logFields: 32,
  containers: 1_000,
  /** custom metric samples (scraped by the probe) per batch */
  customSamples: 20_000,
  /** repository checks and restore drills (`vigil-probe backup-check` / `backup-drill`) per batch, each */
  backupChecks: 20,
  backupDrills: 20,
  /** backed-up sources (host name + paths) one repository check reports */
  backupSources: 100,
  /** paths of one backed-up source */
  backupSourcePaths: 100,
  /** results of checks the probe ran as a location, per batch */
  checkResults: 1_000,
  /** checks the server hands one probe to run as a location */
  checkAssignments: 500,
  /** runbook commands handed to one probe at once, and their results per batch */
  commands: 50,
  /** bytes of one command's output a probe sends (the tail) */
  commandOutput: 65_536,
} as const;

/**
 * Bounds of custom metrics (scraped by the probe or pushed to `POST /api/v1/metrics`). Series caps are the
 * server's defaults; an operator can raise or lower them (VIGIL_CUSTOM_SERIES_PER_HOST / _PER_PROJECT).
 */
export const CUSTOM_METRIC_LIMITS = {
  /** characters of a metric name */
  name: 200,
  /** labels on one series */
  labels: 30,
  /** characters of a label name */
  labelName: 100,
  /** characters of a label value */
  labelValue: 1_024,
  /** bytes of one push body (after decompression) */
  pushBodyBytes: 1_048_576,
  /** samples in one push */
  pushSamples: 10_000,
  /** distinct custom series per host (scraped or pushed with a host) */
  seriesPerHost: 5_000,
  /** distinct custom series per project, hosts and project-wide pushes together */
  seriesPerProject: 50_000,
} as const;

/**
 * The range every timestamp the API or a probe batch accepts must fall in (ms since the epoch, UTC). Fixed
 * numbers, not relative to now, so a batch spooled during a long outage or a silence planned years ahead
 * stays valid, while nonsense (`9e15`, a clock reset to 1970) is refused at the edge with a 400 naming the
 * field instead of breaking date formatting in the scheduler later.
 */
export const TIME_BOUNDS = {
  /** 2000-01-01T00:00:00Z */
  minMs: 946_684_800_000,
  /** 2200-01-01T00:00:00Z */
  maxMs: 7_258_118_400_000,
} as const;
