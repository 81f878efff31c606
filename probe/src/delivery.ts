import type { ProbeRemoteConfig } from "@vigil/contract";
import type { Clock, Sleep } from "./clock.ts";
import { describeError } from "./notes.ts";
import { splitBatch } from "./split-batch.ts";
import { decodeBatch, type Spool } from "./spool.ts";
import type { SendOutcome } from "./transport.ts";
import { validRemoteConfig } from "./transport.ts";

export type SendFunction = (gzippedBody: Buffer) => Promise<SendOutcome>;

export interface DeliveryOptions {
  spool: Spool;
  send: SendFunction;
  clock: Clock;
  sleep: Sleep;
  /** 0 ≤ random() < 1, for jitter; injected so tests are deterministic */
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onConfig?: (config: ProbeRemoteConfig) => void;
  log?: (message: string) => void;
}

/** waitMs 0: the spool is empty, or `more` batches wait and the caller may continue right away. */
export type DrainResult =
  | { sent: number; waitMs: 0; more?: boolean }
  | { sent: number; waitMs: number; reason: string };

/** A rejected token will not heal by retrying quickly; check again now and then in case it is fixed. */
const UNAUTHORIZED_WAIT_MS = 5 * 60_000;
const MAX_RETRY_AFTER_MS = 60 * 60_000;

/**
 * Sends the spool, oldest batch first, deleting each batch only after a 2xx.
 * 1. A 413 splits the batch in two in place (ids derived from the parent) and sends the halves next.
 * 2. A 4xx that retrying cannot fix drops the batch and leaves a note for the next batch.
 * 3. Network errors and 5xx stop the drain with an exponential, jittered delay; 429 waits as told.
 */
export class Delivery {
  private failures = 0;
  private readonly random: () => number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: DeliveryOptions) {
    this.random = options.random ?? Math.random;
    this.baseDelayMs = options.baseDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
  }

  /** Between half and all of base·2^(failures-1), capped: jitter keeps a fleet from retrying in step. */
  backoffMs(): number {
    const exponent = Math.min(Math.max(this.failures - 1, 0), 30);
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** exponent);
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** Sends up to `maxSends` requests, so a long backlog does not hold up the next collection. */
  async drain(maxSends = Number.POSITIVE_INFINITY): Promise<DrainResult> {
    const { spool, send, log } = this.options;
    let sent = 0;
    for (let attempts = 0; ; attempts++) {
      const [entry] = await spool.list();
      if (entry && attempts >= maxSends) return { sent, waitMs: 0, more: true };
      if (!entry) return { sent, waitMs: 0 };
      let body: Buffer;
      try {
        body = await spool.read(entry);
      } catch (error) {
        // Deleted by a concurrent sender after a 2xx: move on to the next one.
        if ((error as { code?: string }).code === "ENOENT") continue;
        throw error;
      }
      const outcome = await send(body);
      switch (outcome.kind) {
        case "accepted": {
          await spool.remove(entry);
          sent++;
          this.failures = 0;
          const config = validRemoteConfig(outcome.config);
          if (config) this.options.onConfig?.(config);
          break;
        }
        case "too-large": {
          const batch = await decodeBatch(body);
          const halves = splitBatch(batch);
          if (halves) {
            log?.(`batch ${entry.batchId} too large (${body.length} bytes gzip'd): splitting`);
            await spool.replace(entry, halves);
          } else {
            await this.giveUp(
              entry,
              `batch ${entry.batchId} (${body.length} bytes gzip'd) refused as too large and cannot be split`,
            );
          }
          break;
        }
        case "rejected":
          await this.giveUp(entry, `batch ${entry.batchId} rejected by the server: ${outcome.message}`);
          break;
        case "throttled": {
          this.failures++;
          const waitMs = Math.min(MAX_RETRY_AFTER_MS, outcome.retryAfterMs ?? this.backoffMs());
          return { sent, waitMs, reason: "throttled (429)" };
        }
        case "unauthorized":
          log?.(
            `the server refused the host token (${outcome.message}); re-enroll with \`vigil-probe enroll\``,
          );
          return { sent, waitMs: UNAUTHORIZED_WAIT_MS, reason: "unauthorized" };
        case "retry": {
          this.failures++;
          return { sent, waitMs: this.backoffMs(), reason: outcome.reason };
        }
      }
    }
  }

  private async giveUp(entry: { batchId: string }, message: string): Promise<void> {
    this.options.log?.(message);
    const [current] = (await this.options.spool.list()).filter((e) => e.batchId === entry.batchId);
    if (current) await this.options.spool.remove(current);
    await this.options.spool.addPendingNote({
      collector: "transport",
      message: message.slice(0, 1024),
      dropped: 1,
    });
  }

  /**
   * Drains until the spool is empty, sleeping between failed attempts. Resolves when `shouldStop` says so
   * or the spool is empty; the daemon calls it again after each new batch.
   */
  async drainUntilEmpty(shouldStop: () => boolean = () => false): Promise<number> {
    let total = 0;
    while (!shouldStop()) {
      let result: DrainResult;
      try {
        result = await this.drain();
      } catch (error) {
        this.failures++;
        result = { sent: 0, waitMs: this.backoffMs(), reason: describeError(error) };
      }
      total += result.sent;
      if (result.waitMs === 0) return total;
      if ("reason" in result)
        this.options.log?.(`delivery paused ${Math.round(result.waitMs / 1000)} s: ${result.reason}`);
      await this.options.sleep(result.waitMs);
    }
    return total;
  }
}
