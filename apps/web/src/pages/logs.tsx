/**
 * Logs: every host's journal lines, filtered by host, unit, priority and text, newest first with paging
 * back. The filters and a moment live in the URL (`?host=…&unit=…&priority=…&q=…&at=<ms>`), so an alert or
 * a deploy marker links straight to the lines around it. A live tail follows new lines over the API's
 * server-sent events while it is switched on.
 */
import type { Host, LogEntryOut, LogsResponse } from "@vigil/contract";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Link, useLocation, useSearch } from "wouter-preact";
import { api, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { useQuery } from "../query.ts";
import { Badge, CopyField, Empty, ErrorNote, when } from "../ui.tsx";

export const PRIORITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;

/** Lines shown on each side of a moment, and per page otherwise. */
const AROUND = 50;
const PAGE = 100;
/** A tail left open for hours must not grow the page without bound. */
const TAIL_KEEP = 1000;

interface Filters {
  host: string;
  unit: string;
  priority: string;
  q: string;
  at: number | null;
}

function readFilters(search: string): Filters {
  const p = new URLSearchParams(search);
  const at = Number(p.get("at"));
  return {
    host: p.get("host") ?? "",
    unit: p.get("unit") ?? "",
    priority: p.get("priority") ?? "",
    q: p.get("q") ?? "",
    at: Number.isFinite(at) && at > 0 ? at : null,
  };
}

/** The dashboard path of the lines around `at` on a host: what alerts and deploy markers link to. */
export function logsAround(at: number, hostId?: string | null): string {
  const p = new URLSearchParams();
  if (hostId) p.set("host", hostId);
  p.set("at", String(Math.round(at)));
  return `/logs?${p}`;
}

function searchOf(f: Filters): string {
  const p = new URLSearchParams();
  if (f.host) p.set("host", f.host);
  if (f.unit) p.set("unit", f.unit);
  if (f.priority) p.set("priority", f.priority);
  if (f.q) p.set("q", f.q);
  if (f.at) p.set("at", String(f.at));
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** The API's query string for the filters (not the moment), plus `extra`. */
function apiQuery(f: Filters, extra: Record<string, string | number>): string {
  const p = new URLSearchParams();
  if (f.unit) p.set("unit", f.unit);
  if (f.priority) p.set("priority", f.priority);
  if (f.q) p.set("q", f.q);
  for (const [k, v] of Object.entries(extra)) p.set(k, String(v));
  return p.toString();
}

export function LogsPage() {
  const { projectId } = useProject();
  const search = useSearch();
  const [, navigate] = useLocation();
  const filters = useMemo(() => readFilters(search), [search]);
  const hosts = useQuery<{ hosts: Host[] }>(projectPath(projectId, "/hosts"), { pollMs: 30_000 });
  const hostNames = new Map((hosts.data?.hosts ?? []).map((h) => [h.id, h.name]));
  const base = projectPath(
    projectId,
    filters.host ? `/hosts/${encodeURIComponent(filters.host)}/logs` : "/logs",
  );
  const [live, setLive] = useState(false);

  // Around a moment: the lines up to it (newest first), then the ones that came after, oldest first.
  const upTo = useQuery<LogsResponse>(
    `${base}?${apiQuery(filters, filters.at ? { to: filters.at, limit: AROUND } : { limit: PAGE })}`,
  );
  const pivot = upTo.data?.entries[0]?.id ?? 0;
  const after = useQuery<LogsResponse>(
    filters.at && upTo.data ? `${base}?${apiQuery(filters, { after: pivot, limit: AROUND })}` : null,
  );

  // Older pages are fetched once each and kept until the filters change.
  const [older, setOlder] = useState<{ key: string; entries: LogEntryOut[]; next: number | null }>({
    key: "",
    entries: [],
    next: null,
  });
  const key = `${base}?${searchOf(filters)}`;
  const olderHere = older.key === key ? older : { key, entries: [], next: null };
  const nextBefore = olderHere.entries.length > 0 ? olderHere.next : (upTo.data?.nextBefore ?? null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<Error | null>(null);
  const loadOlder = async () => {
    if (nextBefore === null) return;
    setLoadingOlder(true);
    setOlderError(null);
    try {
      const extra: Record<string, number> = { before: nextBefore, limit: PAGE };
      if (filters.at) extra.to = filters.at;
      const page = await api<LogsResponse>(`${base}?${apiQuery(filters, extra)}`);
      setOlder({ key, entries: [...olderHere.entries, ...page.entries], next: page.nextBefore });
    } catch (error) {
      setOlderError(error as Error);
    } finally {
      setLoadingOlder(false);
    }
  };

  const tail = useTail(live && !filters.at ? `${base}/tail?${apiQuery(filters, {})}` : null, key);

  const newer = [...(after.data?.entries ?? [])].reverse();
  const upToMoment = [...(upTo.data?.entries ?? []), ...olderHere.entries];
  const lines = filters.at ? null : dedupeNewestFirst([...tail.entries, ...upToMoment]);

  const apply = (next: Partial<Filters>) => navigate(`/logs${searchOf({ ...filters, ...next })}`);
  const onSubmit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    apply({
      host: String(form.get("host") ?? ""),
      unit: String(form.get("unit") ?? "").trim(),
      priority: String(form.get("priority") ?? ""),
      q: String(form.get("q") ?? "").trim(),
    });
  };
  const toggleLive = () => {
    // A tail follows what arrives from now on, so it leaves the moment.
    if (!live && filters.at) apply({ at: null });
    setLive(!live);
  };
  const nothingYet = hosts.data && hosts.data.hosts.length === 0;

  return (
    <>
      <div class="section-head">
        <h1>Logs</h1>
        <button type="button" class="small" aria-pressed={live} onClick={toggleLive}>
          Live tail
        </button>
      </div>
      {/* Uncontrolled fields (a poll's re-render must not undo typing), remade when the URL changes. */}
      <form class="log-filters" onSubmit={onSubmit} key={key}>
        <div class="field">
          <label for="log-host">Host</label>
          <select id="log-host" name="host">
            <option value="">All hosts</option>
            {(hosts.data?.hosts ?? []).map((h) => (
              <option key={h.id} value={h.id} selected={h.id === filters.host}>
                {h.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="log-unit">Unit</label>
          <input id="log-unit" name="unit" defaultValue={filters.unit} placeholder="nginx.service" />
        </div>
        <div class="field">
          <label for="log-priority">Priority</label>
          <select id="log-priority" name="priority">
            <option value="">Any</option>
            {PRIORITIES.map((name, i) => (
              <option key={name} value={String(i)} selected={String(i) === filters.priority}>
                {name} or worse
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="log-q">Text</label>
          <input id="log-q" name="q" type="search" defaultValue={filters.q} placeholder="timeout" />
        </div>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={upTo.error ?? after.error ?? olderError} />
      {live && (
        <p class="muted" role="status">
          {tail.state === "open" ? "Live: new lines appear as they arrive." : "Live: connecting…"}
        </p>
      )}
      {filters.at && (
        <p>
          Lines around <strong>{when(filters.at)}</strong>.{" "}
          <Link href={`/logs${searchOf({ ...filters, at: null })}`}>Show the newest instead</Link>
        </p>
      )}
      {nothingYet ? (
        <Empty title="No logs yet">
          <p>
            The probe sends each host's journal (warnings and worse by default). Enroll a host from the
            overview, and its lines turn up here within one probe interval.
          </p>
        </Empty>
      ) : filters.at ? (
        <ol class="log-lines" aria-label="Log lines around the moment" aria-busy={upTo.loading}>
          {newer.map((e) => (
            <LogLine key={e.id} entry={e} host={hostNames.get(e.hostId)} />
          ))}
          <li class="log-moment">▲ after · {when(filters.at)} · before ▼</li>
          {upToMoment.map((e) => (
            <LogLine key={e.id} entry={e} host={hostNames.get(e.hostId)} />
          ))}
        </ol>
      ) : lines && lines.length === 0 && upTo.data ? (
        <Empty title="No lines match">
          <p>
            Nothing logged matches these filters. Widen them, or switch on the live tail to wait for new
            lines.
          </p>
          <CopyField label="Try it" value="logger -p user.warning 'hello from vigil'" />
        </Empty>
      ) : (
        <ol class="log-lines" aria-label="Log lines, newest first" aria-busy={upTo.loading}>
          {(lines ?? []).map((e) => (
            <LogLine key={e.id} entry={e} host={hostNames.get(e.hostId)} />
          ))}
        </ol>
      )}
      {nextBefore !== null && (
        <p>
          <button type="button" class="ghost" onClick={loadOlder} disabled={loadingOlder}>
            Older lines
          </button>
        </p>
      )}
    </>
  );
}

function dedupeNewestFirst(entries: LogEntryOut[]): LogEntryOut[] {
  const seen = new Map<number, LogEntryOut>();
  for (const e of entries) seen.set(e.id, e);
  return [...seen.values()].sort((a, b) => b.id - a.id);
}

const tone = (priority: number) => (priority <= 3 ? "bad" : priority === 4 ? "warn" : "muted");

function LogLine({ entry, host }: { entry: LogEntryOut; host: string | undefined }) {
  return (
    <li class="log-line">
      <span class="log-meta">
        <time dateTime={new Date(entry.ts).toISOString()}>{when(entry.ts)}</time>{" "}
        <Link href={`/hosts/${entry.hostId}`}>{host ?? "host"}</Link>{" "}
        <Badge tone={tone(entry.priority)}>{PRIORITIES[entry.priority] ?? entry.priority}</Badge>{" "}
        <span class="muted">{entry.unit ?? entry.identifier ?? ""}</span>
      </span>
      <code class="log-message">{entry.message}</code>
    </li>
  );
}

/**
 * An EventSource on the tail route while `url` is set: new lines, newest first. The browser sends the
 * session cookie (same origin) and reconnects by itself with `Last-Event-ID` when a stream ends.
 */
function useTail(url: string | null, resetKey: string) {
  const [entries, setEntries] = useState<LogEntryOut[]>([]);
  const [state, setState] = useState<"closed" | "connecting" | "open">("closed");
  const keyRef = useRef(resetKey);
  useEffect(() => {
    if (keyRef.current !== resetKey) {
      keyRef.current = resetKey;
      setEntries([]);
    }
    if (!url) {
      setState("closed");
      return;
    }
    setState("connecting");
    const source = new EventSource(url);
    source.addEventListener("ready", () => setState("open"));
    source.addEventListener("log", (event) => {
      const entry = JSON.parse((event as MessageEvent<string>).data) as LogEntryOut;
      setEntries((all) => [entry, ...all].slice(0, TAIL_KEEP));
    });
    source.onerror = () => setState("connecting");
    return () => source.close();
  }, [url, resetKey]);
  return { entries, state };
}
