/**
 * A small query cache: one entry per GET path, shared by every component that shows it, refetched while
 * on screen every `pollMs` (5 s by default, so nothing shown is more than 5 s behind) and when the tab
 * comes back into view. Writes call `invalidate` to refetch what they changed at once.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.ts";

interface Entry {
  data?: unknown;
  error?: Error;
  at: number;
  inflight?: Promise<void>;
  listeners: Set<() => void>;
}

const cache = new Map<string, Entry>();

function entryFor(path: string): Entry {
  let entry = cache.get(path);
  if (!entry) {
    entry = { at: 0, listeners: new Set() };
    cache.set(path, entry);
  }
  return entry;
}

function load(path: string): Promise<void> {
  const entry = entryFor(path);
  entry.inflight ??= api<unknown>(path)
    .then(
      (data) => {
        entry.data = data;
        entry.error = undefined;
      },
      (error: Error) => {
        entry.error = error;
      },
    )
    .finally(() => {
      entry.at = Date.now();
      entry.inflight = undefined;
      for (const notify of entry.listeners) notify();
    });
  return entry.inflight;
}

/** Refetch every cached path that starts with `prefix` (all when absent). */
export function invalidate(prefix = ""): Promise<void> {
  const paths = [...cache.keys()].filter((p) => p.startsWith(prefix));
  return Promise.all(paths.map((p) => (cache.get(p)?.listeners.size ? load(p) : cache.delete(p)))).then(
    () => undefined,
  );
}

/** Forget everything (sign-out: the next person sees nothing of the last one's data). */
export function clearCache(): void {
  cache.clear();
}

export interface QueryState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  refetch: () => Promise<void>;
}

export function useQuery<T>(path: string | null, options: { pollMs?: number } = {}): QueryState<T> {
  const pollMs = options.pollMs ?? 5000;
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    const entry = entryFor(path);
    const rerender = () => setTick((n) => n + 1);
    entry.listeners.add(rerender);
    if (!entry.inflight && Date.now() - entry.at > 1000) void load(path);
    const timer =
      pollMs > 0
        ? setInterval(() => {
            if (document.visibilityState === "visible") void load(path);
          }, pollMs)
        : undefined;
    const onVisible = () => {
      if (document.visibilityState === "visible") void load(path);
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      entry.listeners.delete(rerender);
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [path, pollMs]);
  const entry = path ? cache.get(path) : undefined;
  return {
    data: entry?.data as T | undefined,
    error: entry?.error,
    loading: !!path && entry?.data === undefined && entry?.error === undefined,
    refetch: () => (path ? load(path) : Promise.resolve()),
  };
}
