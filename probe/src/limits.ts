// The contract's zod-free limits module: bundled into the probe as plain numbers.
export { PROBE_BATCH_LIMITS } from "@vigil/contract/limits";
