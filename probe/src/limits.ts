import type { PROBE_BATCH_LIMITS as ContractLimits } from "@vigil/contract";

/**
 * The contract's batch limits, restated as a plain object because the bundle must not pull zod in at
 * runtime; the type annotation makes the compiler reject any drift from the contract's numbers.
 */
export const PROBE_BATCH_LIMITS: typeof ContractLimits = {
  samples: 1_000,
  deviceRows: 10_000,
  logs: 5_000,
  backups: 100,
  notes: 200,
  logMessage: 16_384,
  logFields: 32,
  containers: 1_000,
};
