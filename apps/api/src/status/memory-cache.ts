import type { Clock } from "@vigil/engine";
import type { CachedRender, StatusCache } from "../deps.ts";

/**
 * The self-hosted server's status cache: a Map in insertion order, so the oldest entry goes first when it
 * is full. Versioned keys mean stale entries are never read, only aged out.
 */
export function memoryStatusCache(clock: Clock, ttlMs: number, maxEntries = 1000): StatusCache {
  const entries = new Map<string, { render: CachedRender; expiresAt: number }>();
  return {
    async get(key) {
      const entry = entries.get(key);
      if (!entry) return null;
      if (entry.expiresAt <= clock.now()) {
        entries.delete(key);
        return null;
      }
      return entry.render;
    },
    async put(key, render) {
      entries.delete(key);
      entries.set(key, { render, expiresAt: clock.now() + ttlMs });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}
