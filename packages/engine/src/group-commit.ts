/**
 * Group commit, the one mechanism behind every hot write path (pings, check state, probe batches).
 * Items submitted in the same turn of the event loop, or while a group is being written, are written
 * together by one `write` call — one transaction, one fsync, a few multi-row statements — instead of one
 * each. Every caller still learns its own result only after the commit that holds its item.
 * When a group fails and `replay` is on, its items are written one by one, so one bad item (a repeated
 * batch id, a constraint) never fails the others.
 */
import type { Db } from "@vigil/db";

export interface GroupCommitOptions {
  /** items per group at most; keeps statements under SQLite's bound-parameter limit */
  maxGroup: number;
  /** on a failed group, write each item alone so only the bad ones fail */
  replay: boolean;
}

const defer: (fn: () => void) => void =
  typeof setImmediate === "function" ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);

interface Pending<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<I, R> {
  private queue: Pending<I, R>[] = [];
  private scheduled = false;
  private flushing = false;

  /** `write` stores the items in one transaction and answers one result per item, in order. */
  constructor(
    private readonly write: (items: I[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled && !this.flushing) {
        this.scheduled = true;
        defer(() => {
          this.scheduled = false;
          void this.flush();
        });
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.options.maxGroup);
        try {
          const results = await this.write(group.map((p) => p.item));
          for (const [i, p] of group.entries()) p.resolve(results[i] as R);
        } catch (err) {
          if (!this.options.replay || group.length === 1) {
            for (const p of group) p.reject(err);
          } else {
            for (const p of group) {
              try {
                const [result] = await this.write([p.item]);
                p.resolve(result as R);
              } catch (single) {
                p.reject(single);
              }
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

/**
 * One committer per database handle and purpose, so every request on a server shares it while tests and
 * Worker invocations (each with their own handle) never share one. Keyed weakly: a closed handle's
 * committer goes with it.
 */
export function committerFor<I, R>(
  registry: WeakMap<Db["$client"], GroupCommit<I, R>>,
  db: Db,
  make: () => GroupCommit<I, R>,
): GroupCommit<I, R> {
  let committer = registry.get(db.$client);
  if (!committer) {
    committer = make();
    registry.set(db.$client, committer);
  }
  return committer;
}
