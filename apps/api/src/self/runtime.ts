/**
 * What one process (Node) or one isolate (Workers) keeps between requests: the engine's caches, turn
 * queues and group committers, rate limit windows and self-metrics. Made once by the entry and passed in
 * `deps.runtime`, never held in module scope. On Workers each isolate has its own, so its counters cover
 * the requests that isolate served; what must be global (rate limit counts, the last tick, the outbox,
 * checks' states) is read from or handed to the database.
 */
import { createEngineState, type EngineState, type RateLimiter, type WorkSharing } from "@vigil/engine";
import { createRateLimiter } from "../limits.ts";
import { SelfMetrics } from "./metrics.ts";

/** The local probe as /readyz sees it (self-hosted only). */
export interface LocalProbeReport {
  running: boolean;
  /** batches waiting in its spool, and when the oldest was made (ms), null when none wait */
  spooled: number;
  oldestSpooledAt: number | null;
  /** its last complaint about delivery or the spool, as it logged it */
  lastError: { at: number; message: string } | null;
}

export interface Runtime {
  /** when this process or isolate started, ms */
  startedAt: number;
  /** caches, turns and committers of the engine's hot paths (see EngineState for their limits) */
  engine: EngineState;
  limiter: RateLimiter;
  metrics: SelfMetrics;
  /** when this process last sent the dead-man ping (VIGIL_HEARTBEAT_URL), ms */
  lastHeartbeatAt: number | null;
  /** set by the Node server once it has started the local probe */
  localProbe?: () => Promise<LocalProbeReport>;
}

/** `share`: "request" in a Worker isolate, where requests must not wait on each other (engine-state.ts). */
export function createRuntime(now: number, share: WorkSharing = "process"): Runtime {
  return {
    startedAt: now,
    engine: createEngineState({ share }),
    limiter: createRateLimiter(),
    metrics: new SelfMetrics(),
    lastHeartbeatAt: null,
  };
}
