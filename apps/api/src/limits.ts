/**
 * Rate limits and per-project caps: the settings, their defaults and environment variables (one table, which
 * the README mirrors), and the helpers routes call. Defaults are generous: they stop floods and runaway
 * loops, not ordinary use, and no test or benchmark comes near them unless it sets them low itself.
 */
import {
  assertBelowCap,
  type CappedResource,
  DEFAULT_SERIES_CAPS,
  RateLimitedError,
  RateLimiter,
  type RateRule,
  type SeriesCaps,
} from "@vigil/engine";
import type { Context } from "hono";
import type { AppEnv } from "./env.ts";
import { clientAddress } from "./middleware/client.ts";

export type RateLimitName =
  | "pingsPerCheck"
  | "pingsPerAddress"
  | "pingCreatesPerKey"
  | "enrollPerToken"
  | "enrollPerAddress"
  | "statusPerAddress"
  | "subscribePerAddress"
  | "subscribePerPage"
  | "apiPerKey";

export type CapName =
  | "maxChecks"
  | "maxHosts"
  | "maxChannels"
  | "maxRules"
  | "maxSubscribers"
  | "maxCustomSeriesPerHost"
  | "maxCustomSeriesPerProject";
/** Caps counted when something is created through a route; the series caps are counted by ingest itself. */
type RouteCapName = Exclude<CapName, "maxCustomSeriesPerHost" | "maxCustomSeriesPerProject">;

export type Limits = Record<RateLimitName, RateRule> & Record<CapName, number>;

interface RateSetting {
  env: string;
  max: number;
  window: number;
  /** "pings to one check" — finishes "too many …" in a refusal */
  what: string;
}

/** Every rate limit: the variable that sets its `max` (0 turns it off), its default, its fixed window. */
export const RATE_SETTINGS: Record<RateLimitName, RateSetting> = {
  pingsPerCheck: { env: "VIGIL_LIMIT_PINGS_PER_CHECK", max: 2_000, window: 60, what: "pings to this check" },
  pingsPerAddress: {
    env: "VIGIL_LIMIT_PINGS_PER_ADDRESS",
    max: 6_000,
    window: 60,
    what: "pings from this address",
  },
  pingCreatesPerKey: {
    env: "VIGIL_LIMIT_PING_CREATES",
    max: 100,
    window: 3600,
    what: "checks created by ?create=1 pings with this ping key",
  },
  enrollPerToken: {
    env: "VIGIL_LIMIT_ENROLL_PER_TOKEN",
    max: 1_000,
    window: 3600,
    what: "enrollments with this token",
  },
  enrollPerAddress: {
    env: "VIGIL_LIMIT_ENROLL_PER_ADDRESS",
    max: 300,
    window: 3600,
    what: "enrollments from this address",
  },
  statusPerAddress: {
    env: "VIGIL_LIMIT_STATUS_PER_ADDRESS",
    max: 600,
    window: 60,
    what: "status page requests from this address",
  },
  subscribePerAddress: {
    env: "VIGIL_LIMIT_SUBSCRIBE_PER_ADDRESS",
    max: 20,
    window: 3600,
    what: "status page subscriptions from this address",
  },
  subscribePerPage: {
    env: "VIGIL_LIMIT_SUBSCRIBE_PER_PAGE",
    max: 300,
    window: 3600,
    what: "subscriptions to this status page",
  },
  apiPerKey: { env: "VIGIL_LIMIT_API_PER_KEY", max: 3_000, window: 60, what: "requests with this API key" },
};

/** Every per-project cap: the variable (0 turns it off) and its default. */
export const CAP_SETTINGS: Record<CapName, { env: string; max: number; resource?: CappedResource }> = {
  maxChecks: { env: "VIGIL_MAX_CHECKS", max: 10_000, resource: "checks" },
  maxHosts: { env: "VIGIL_MAX_HOSTS", max: 1_000, resource: "hosts" },
  maxChannels: { env: "VIGIL_MAX_CHANNELS", max: 100, resource: "channels" },
  maxRules: { env: "VIGIL_MAX_RULES", max: 1_000, resource: "rules" },
  maxSubscribers: { env: "VIGIL_MAX_SUBSCRIBERS", max: 10_000, resource: "subscribers" },
  maxCustomSeriesPerHost: {
    env: DEFAULT_SERIES_CAPS.perHost.setting,
    max: DEFAULT_SERIES_CAPS.perHost.max,
  },
  maxCustomSeriesPerProject: {
    env: DEFAULT_SERIES_CAPS.perProject.setting,
    max: DEFAULT_SERIES_CAPS.perProject.max,
  },
};

/** The custom-series caps as ingest takes them. */
export function seriesCaps(limits: Limits): SeriesCaps {
  return {
    perHost: { max: limits.maxCustomSeriesPerHost, setting: CAP_SETTINGS.maxCustomSeriesPerHost.env },
    perProject: {
      max: limits.maxCustomSeriesPerProject,
      setting: CAP_SETTINGS.maxCustomSeriesPerProject.env,
    },
  };
}

const rateNames = Object.keys(RATE_SETTINGS) as RateLimitName[];
const capNames = Object.keys(CAP_SETTINGS) as CapName[];

export const defaultLimits: Limits = {
  ...(Object.fromEntries(
    rateNames.map((n) => [n, { max: RATE_SETTINGS[n].max, window: RATE_SETTINGS[n].window }]),
  ) as Record<RateLimitName, RateRule>),
  ...(Object.fromEntries(capNames.map((n) => [n, CAP_SETTINGS[n].max])) as Record<CapName, number>),
};

/**
 * Limits from environment variables; `problems` names each variable that is not a whole number ≥ 0 (its
 * default is kept). The Node server refuses to start on a problem; the Worker logs it.
 */
export function limitsFromEnv(env: Record<string, string | undefined>): {
  limits: Limits;
  problems: string[];
} {
  const limits: Limits = structuredClone(defaultLimits);
  const problems: string[] = [];
  const read = (name: string): number | null => {
    const raw = env[name]?.trim();
    if (!raw) return null;
    if (!/^\d+$/.test(raw)) {
      problems.push(`${name} must be a whole number ≥ 0 (0 turns it off), got "${raw}"`);
      return null;
    }
    return Number(raw);
  };
  for (const n of rateNames) {
    const max = read(RATE_SETTINGS[n].env);
    if (max !== null) limits[n] = { ...limits[n], max };
  }
  for (const n of capNames) {
    const max = read(CAP_SETTINGS[n].env);
    if (max !== null) limits[n] = max;
  }
  return { limits, problems };
}

/** The limiter a process keeps; a failed hand-over to the database is logged and the request allowed. */
export function createRateLimiter(): RateLimiter {
  return new RateLimiter({ share: 0.1 });
}

/**
 * Counts a request against `name` for `key` and throws `RateLimitedError` (429 with Retry-After) once it
 * is over. `exact` hands every request to the shared count: for rare, low limits.
 */
export async function enforceRate(
  c: Context<AppEnv>,
  name: RateLimitName,
  key: string,
  options: { exact?: boolean } = {},
): Promise<void> {
  const { db, clock, config, runtime } = c.var.deps;
  const rule = config.limits[name];
  if (!runtime || rule.max <= 0) return;
  const verdict = await runtime.limiter.consume(db, clock.now(), `${name}:${key}`, rule, options);
  if (verdict.allowed) return;
  runtime.metrics.count("vigil_rate_limited_total", { limit: name });
  const setting = RATE_SETTINGS[name];
  throw new RateLimitedError(
    `too many ${setting.what}: at most ${rule.max} per ${windowText(rule.window)} (${setting.env}); retry in ${verdict.retryAfter} s`,
    verdict.retryAfter ?? 1,
  );
}

const windowText = (sec: number) => (sec === 3600 ? "hour" : sec === 60 ? "minute" : `${sec} s`);

/** Refuses with `CapReachedError` (403) when the project already holds its cap of `name`. */
export function enforceCap(c: Context<AppEnv>, name: RouteCapName, projectId: string): Promise<void> {
  const setting = CAP_SETTINGS[name];
  return assertBelowCap(c.var.deps.db, projectId, setting.resource as CappedResource, {
    max: c.var.deps.config.limits[name],
    setting: setting.env,
  });
}

/**
 * The caller's address for per-address limits, or null when they do not apply: unknown (in-process
 * requests) or loopback. Loopback is this machine (the local probe, local cron jobs) or a reverse proxy
 * that was not declared with VIGIL_TRUST_PROXY; counting it would put every client in one bucket.
 */
export function limitedAddress(c: Context<AppEnv>): string | null {
  const address = clientAddress(c);
  if (!address) return null;
  const plain = address.toLowerCase().replace(/^::ffff:/, "");
  if (plain === "::1" || /^127\./.test(plain)) return null;
  return address;
}
