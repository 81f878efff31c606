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
} as const;
