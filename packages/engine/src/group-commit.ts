/**
 * Group commit, the one mechanism behind every hot write path (pings, check state, probe batches).
 * Items submitted in the same turn of the event loop, or while a group is being written, are written
 * together by one `write` call — one transaction, one fsync, a few multi-row statements — instead of one
 * each. Every caller still learns its own result only after the commit that holds its item.
 * When a group fails and `replay` is on, its items are written one by one, so one bad item (a repeated
 * batch id, a constraint) never fails the others.
 *
 * Each group is written by one of its own submitters (the first in it), which then hands the lead to the
 * first waiting item's submitter, so every write is done by a caller that waits for it. On Workers a
 * committer serves one request only (EngineState `share: "request"`): the runtime cancels a request that
 * waits on another request's promise, so there groups form from the concurrent writes of one request
 * (a tick's many checks), not across requests.
 */

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
  /** makes this item's submitter write the next group */
  lead: () => void;
}

export class GroupCommit<I, R> {
  private queue: Pending<I, R>[] = [];
  /** a group is being written, or its writer has been chosen */
  private busy = false;
  /** told the size of every group written (the engine state tallies them) */
  onGroup?: (size: number) => void;

  /** `write` stores the items in one transaction and answers one result per item, in order. */
  constructor(
    private readonly write: (items: I[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(item: I): Promise<R> {
    let lead!: () => void;
    // Resolved only if this submitter is handed the lead; its continuation runs in the submitter's context.
    void new Promise<void>((become) => {
      lead = become;
    }).then(() => this.writeGroup());
    const result = new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject, lead });
    });
    if (!this.busy) {
      this.busy = true;
      // Wait out this turn of the event loop, so what arrives with this item joins its group.
      defer(() => this.queue[0]?.lead());
    }
    return result;
  }

  private async writeGroup(): Promise<void> {
    const group = this.queue.splice(0, this.options.maxGroup);
    this.onGroup?.(group.length);
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
    } finally {
      const next = this.queue[0];
      if (next) next.lead();
      else this.busy = false;
    }
  }
}
