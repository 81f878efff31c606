// The contract's zod-free limits module: bundled into the probe as plain numbers.
export { CUSTOM_METRIC_LIMITS, PROBE_BATCH_LIMITS, TIME_BOUNDS } from "@vigil/contract/limits";
