import type { Db } from "@vigil/db";
import type { Clock, ProbeRunner } from "@vigil/engine";

/** Everything the app needs from the outside world; each entry (Node, Worker, tests) builds its own. */
export interface AppDeps {
  db: Db;
  clock: Clock;
  config: AppConfig;
  /** how active checks reach their targets (Node: fetch, net, tls, dns; Workers: fetch, sockets) */
  probes?: ProbeRunner;
}

export interface AppConfig {
  /** reported by /healthz */
  version: string;
  /** largest JSON body the REST API reads, in bytes */
  maxJsonBodyBytes: number;
  /** base of ping URLs shown by the API, e.g. https://vigil.example.com; default: the URL the API was reached on */
  publicUrl?: string;
  /** let active checks reach private, loopback and link-local addresses (self-hosted only) */
  allowPrivateTargets: boolean;
  /**
   * Spread active check runs over this many ms of each tick. The Worker's cron fires once a minute, so it
   * spreads them over most of the minute; the Node timer ticks every few seconds and needs none.
   */
  checkSpreadMs?: number;
}

export const defaultConfig: AppConfig = {
  version: "0.1.0",
  maxJsonBodyBytes: 1024 * 1024,
  allowPrivateTargets: false,
};
