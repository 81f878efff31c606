/**
 * What a process (Node) or an isolate (Workers) keeps between requests, in one object: caches that save
 * reads on the hot paths, the queues that make pings to one check take turns, and the group committers
 * that let concurrent writes share a transaction. Each entry creates one per database and passes it in
 * (`AppDeps.engine`); nothing of the kind lives in module scope.
 *
 * Nothing here is needed for correctness: every write it shortens is compare-and-set or idempotent, so a
 * cold state (a new isolate, a second process, a restart) is only slower, and another process's changes
 * are caught by compare-and-set or show within a cache's time to live.
 *
 * Limits, per state:
 * - ping checks: 10,000 heartbeat rows for 60 s (the oldest entry goes first);
 * - enabled rules: 10,000 projects for 10 s (wall time; cleared when full);
 * - series ids: 10,000 hosts (cleared when full; ids never change, so entries never go stale);
 * - projects given the built-in rules and hosts known to have a liveness check: 100,000 ids each (cleared
 *   when full: the next batch re-reads, which is cheap and idempotent);
 * - host tokens (queued ingest only, hosts.ts `authenticateHostCached`): 10,000 hosts for 60 s (the oldest
 *   entry goes first). This one is the exception to "only slower": a host deleted meanwhile gets batches
 *   accepted for up to 60 s, which the queue consumer then drops, and a token replaced by re-enrolling
 *   is accepted for up to 60 s more.
 * A state belongs to one database: two handles to the same database may share it (every request of a
 * Worker isolate makes its own handle), handles to two databases must not.
 *
 * Sharing work (`share`): in a Node process, concurrent requests take turns and share commits. In a
 * Worker isolate they must not: the runtime cancels a request that waits on a promise only another
 * request can settle ("the code had hung"), so there turns and committers are per request (per database
 * handle, which each request makes), and concurrent requests meet only in the database, through
 * compare-and-set and writes that cannot conflict (a plain ping). Caches are shared either way.
 */
import type { Db, RuleRow } from "@vigil/db";
import type { GroupCommit } from "./group-commit.ts";
import type { HostPrincipal } from "./hosts.ts";

/** Hits and misses of one cache since the state was made. */
export interface CacheCounts {
  hits: number;
  misses: number;
}

export type CacheName = "pingChecks" | "rules" | "series" | "builtinRules" | "hostChecks" | "hostTokens";

/** A map with an entry limit and a time to live; the oldest entry goes first when full. */
export class BoundedCache<V> {
  private entries = new Map<string, { value: V; at: number }>();
  constructor(
    private readonly counts: CacheCounts,
    readonly maxEntries: number,
    readonly ttlMs: number,
  ) {}

  /** the value if present and younger than the TTL at `now` (ms); counts a hit or a miss */
  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry && now - entry.at < this.ttlMs) {
      this.counts.hits++;
      return entry.value;
    }
    this.counts.misses++;
    return undefined;
  }

  /** the value as `get` finds it, without counting: for a look ahead that a counted `get` follows */
  peek(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    return entry && now - entry.at < this.ttlMs ? entry.value : undefined;
  }

  set(key: string, value: V, now: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, at: now });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Ids known to be done with (a project seeded, a host provisioned); cleared when full. */
export class KnownIds {
  private ids = new Set<string>();
  constructor(
    private readonly counts: CacheCounts,
    readonly maxEntries: number,
  ) {}

  /** true when `id` is known; counts a hit or a miss */
  has(id: string): boolean {
    const known = this.ids.has(id);
    if (known) this.counts.hits++;
    else this.counts.misses++;
    return known;
  }

  add(id: string): void {
    if (this.ids.size >= this.maxEntries) this.ids.clear();
    this.ids.add(id);
  }
}

/**
 * Series ids by host: a host's series rarely change, so most batches need no series read at all. Ids never
 * change once made, so an entry cannot go stale; a deleted host's entry is dropped with `forget`.
 */
export class SeriesCache {
  private hosts = new Map<string, Map<string, number>>();
  constructor(
    private readonly counts: CacheCounts = { hits: 0, misses: 0 },
    readonly maxHosts = 10_000,
  ) {}

  /** the host's known ids (an empty map to fill when none are known) */
  get(hostId: string): Map<string, number> {
    let ids = this.hosts.get(hostId);
    if (!ids) {
      if (this.hosts.size >= this.maxHosts) this.hosts.clear();
      ids = new Map();
      this.hosts.set(hostId, ids);
    }
    return ids;
  }

  /** counts whether a batch found every id it needed here */
  count(hit: boolean): void {
    if (hit) this.counts.hits++;
    else this.counts.misses++;
  }

  forget(hostId: string): void {
    this.hosts.delete(hostId);
  }
}

/**
 * Queues of work by key (a check's id): work with the same key runs one at a time, in arrival order.
 * Concurrent pings to one check would otherwise all read the same state and all but one lose the
 * compare-and-set, again and again (a burst of N pings costs N² attempts); taking turns costs one commit
 * each. Other processes and isolates are still kept honest by compare-and-set.
 */
export class Turns {
  private queues = new Map<string, Promise<unknown>>();

  /** `enabled` false: work runs at once (a Worker isolate, where requests must not wait on each other) */
  constructor(private readonly enabled = true) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    if (!this.enabled) return work();
    const previous = this.queues.get(key) ?? Promise.resolve();
    const mine = previous.then(work, work);
    const settled = mine.then(
      () => {},
      () => {},
    );
    this.queues.set(key, settled);
    try {
      return await mine;
    } finally {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    }
  }

  /** keys with work running or waiting */
  get size(): number {
    return this.queues.size;
  }
}

/** An item for a group committer, with the handle to write it through. */
export interface DbItem<I> {
  db: Db;
  item: I;
}

/** The handle a group is written through: its first item's, the request leading the group. */
export function leaderDb(group: readonly DbItem<unknown>[]): Db {
  const first = group[0];
  if (!first) throw new Error("an empty group has no leader");
  return first.db;
}

export interface EngineState {
  /** heartbeat rows this state wrote or read last, so a ping needs no read before its write (pings.ts) */
  readonly pingChecks: BoundedCache<unknown>;
  readonly pingTurns: Turns;
  /** enabled rules by project (rules/evaluate.ts) */
  readonly rules: BoundedCache<RuleRow[]>;
  readonly series: SeriesCache;
  /** projects known to have the built-in rules (rules/builtin.ts) */
  readonly builtinRules: KnownIds;
  /** hosts known to have a liveness check (rules/host-down.ts) */
  readonly hostChecks: KnownIds;
  /** hosts by token prefix, for accepting queued batches without a read (hosts.ts) */
  readonly hostTokens: BoundedCache<HostPrincipal>;
  /** how widely work is shared: by every request of the process, or only within one request */
  readonly share: WorkSharing;
  /**
   * The group committer for a purpose, made on first use (checks/ping-writer.ts, checks/state.ts, ingest):
   * one per process, or one per request's database handle when `share` is "request". Each item carries
   * the handle of the request that submitted it; a group is written with its leader's (group-commit.ts).
   */
  committer<I, R>(purpose: string, db: Db, make: () => GroupCommit<DbItem<I>, R>): GroupCommit<DbItem<I>, R>;
  /** hits and misses by cache, for /metrics and the benchmarks */
  readonly counts: Readonly<Record<CacheName, CacheCounts>>;
  /** groups written and items in them, by committer purpose (items / groups = the mean group) */
  readonly groups: ReadonlyMap<string, { groups: number; items: number }>;
  /** tallies a group written without a committer (a queue consumer's batch of messages) */
  countGroup(purpose: string, size: number): void;
}

export const PING_CACHE = { maxEntries: 10_000, ttlMs: 60_000 } as const;
export const RULE_CACHE = { maxEntries: 10_000, ttlMs: 10_000 } as const;
export const HOST_TOKEN_CACHE = { maxEntries: 10_000, ttlMs: 60_000 } as const;
const KNOWN_IDS = 100_000;

/** "process": Node, requests share turns and commits; "request": a Worker isolate, they must not. */
export type WorkSharing = "process" | "request";

export function createEngineState(options: { share?: WorkSharing } = {}): EngineState {
  const share = options.share ?? "process";
  const counts: Record<CacheName, CacheCounts> = {
    pingChecks: { hits: 0, misses: 0 },
    rules: { hits: 0, misses: 0 },
    series: { hits: 0, misses: 0 },
    builtinRules: { hits: 0, misses: 0 },
    hostChecks: { hits: 0, misses: 0 },
    hostTokens: { hits: 0, misses: 0 },
  };
  type Committers = Map<string, GroupCommit<DbItem<unknown>, unknown>>;
  const shared: Committers = new Map();
  // Per request: keyed weakly by the request's handle, so they go when the request's handle does.
  const perRequest = new WeakMap<Db, Committers>();
  const committersFor = (db: Db): Committers => {
    if (share === "process") return shared;
    let mine = perRequest.get(db);
    if (!mine) {
      mine = new Map();
      perRequest.set(db, mine);
    }
    return mine;
  };
  const groups = new Map<string, { groups: number; items: number }>();
  const tallyFor = (purpose: string) => {
    let tally = groups.get(purpose);
    if (!tally) {
      tally = { groups: 0, items: 0 };
      groups.set(purpose, tally);
    }
    return tally;
  };
  return {
    pingChecks: new BoundedCache(counts.pingChecks, PING_CACHE.maxEntries, PING_CACHE.ttlMs),
    pingTurns: new Turns(share === "process"),
    rules: new BoundedCache(counts.rules, RULE_CACHE.maxEntries, RULE_CACHE.ttlMs),
    series: new SeriesCache(counts.series),
    builtinRules: new KnownIds(counts.builtinRules, KNOWN_IDS),
    hostChecks: new KnownIds(counts.hostChecks, KNOWN_IDS),
    hostTokens: new BoundedCache(counts.hostTokens, HOST_TOKEN_CACHE.maxEntries, HOST_TOKEN_CACHE.ttlMs),
    share,
    committer<I, R>(purpose: string, db: Db, make: () => GroupCommit<DbItem<I>, R>) {
      const committers = committersFor(db);
      let committer = committers.get(purpose) as GroupCommit<DbItem<I>, R> | undefined;
      if (!committer) {
        committer = make();
        const counted = tallyFor(purpose);
        committer.onGroup = (size) => {
          counted.groups++;
          counted.items += size;
        };
        committers.set(purpose, committer as unknown as GroupCommit<DbItem<unknown>, unknown>);
      }
      return committer;
    },
    counts,
    groups,
    countGroup(purpose, size) {
      const tally = tallyFor(purpose);
      tally.groups++;
      tally.items += size;
    },
  };
}
