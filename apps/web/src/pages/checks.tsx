/**
 * Checks: the list with status and a 90-day bar, forms to create and edit heartbeats (period or cron, read
 * back in words with its next runs by the API) and HTTP, TCP, TLS, DNS and ICMP checks with the locations
 * they run from (`edge` and the project's probe locations, with a quorum), and one check's page with its
 * ping URL, a ready cron line, pause, resume, delete, each location's view, response times per location,
 * and its pings or runs.
 */
import {
  type Check,
  type CheckLocation,
  type CheckLocationSource,
  type CheckRun,
  DNS_RECORD_TYPES,
  EDGE,
  type HostEvent,
  type Ping,
  type ProjectUptime,
  type SchedulePreview,
  type UptimeDay,
} from "@vigil/contract";
import { useEffect, useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { api, can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { TimeChart } from "../chart.tsx";
import { Checkbox, ConfirmButton, Input, list, num, Select, TextArea, text, useForm } from "../form.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, Badge, CopyField, duration, Empty, ErrorNote, when } from "../ui.tsx";

type Kind = "heartbeat" | "http" | "tcp" | "tls" | "dns" | "icmp";
const KINDS: [Kind, string][] = [
  ["heartbeat", "Heartbeat (cron job pings Vigil)"],
  ["http", "HTTP(S) endpoint"],
  ["tcp", "TCP port"],
  ["tls", "TLS certificate"],
  ["dns", "DNS record"],
  ["icmp", "Ping (ICMP, from probes)"],
];
/** Seconds between runs when the form is new, per kind (the API's defaults). */
const DEFAULT_PERIOD: Record<Exclude<Kind, "heartbeat">, number> = {
  http: 60,
  tcp: 60,
  tls: 3600,
  dns: 300,
  icmp: 60,
};
/** Timeout when the form is new, per kind (the API's defaults). */
const DEFAULT_TIMEOUT_MS: Record<Exclude<Kind, "heartbeat">, number> = {
  http: 10_000,
  tcp: 10_000,
  tls: 10_000,
  dns: 5_000,
  icmp: 5_000,
};
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const tone = (status: Check["status"] | CheckLocation["status"]) =>
  status === "up"
    ? "ok"
    : status === "down"
      ? "bad"
      : status === "late" || status === "degraded"
        ? "warn"
        : "muted";

/** What a check watches, in a few words. */
function target(c: Check): string {
  switch (c.kind) {
    case "heartbeat":
      return c.schedule ? `cron ${c.schedule}` : `every ${duration(c.period ?? 86_400)}`;
    case "http":
      return `${c.method} ${c.url}`;
    case "tcp":
    case "tls":
      return `${c.host}:${c.port}`;
    case "dns":
      return `${c.recordType} ${c.host}${c.expected ? ` = ${c.expected}` : ""}`;
    case "icmp":
      return c.host;
    default:
      return c.kind;
  }
}

export function ChecksPage() {
  const { projectId, role } = useProject();
  const checks = useQuery<{ checks: Check[] }>(projectPath(projectId, "/checks"));
  // The bars change at most a few times a day; a minute behind is plenty.
  const uptime = useQuery<ProjectUptime>(projectPath(projectId, "/checks/uptime?days=90"), {
    pollMs: 60_000,
  });
  const days = new Map(uptime.data?.checks.map((c) => [c.checkId, c.days]));
  const rows = checks.data?.checks ?? [];
  return (
    <>
      <h1>Checks</h1>
      <ErrorNote error={checks.error} />
      {checks.data && rows.length === 0 ? (
        <Empty title="No checks yet">
          <p>
            A heartbeat expects a ping from your cron job and tells you when one does not arrive; HTTP, TCP,
            TLS, DNS and ping checks reach out to your endpoints every minute or so, from Vigil itself or from
            probes on your servers.
          </p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Last 90 days</th>
                <th scope="col">Watches</th>
                <th scope="col">Last ping or run</th>
                <th scope="col">Next due</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link href={`/checks/${c.id}`}>{c.name}</Link>
                  </td>
                  <td>
                    <Badge tone={tone(c.status)}>{c.status}</Badge>
                  </td>
                  <td>
                    <UptimeBar days={days.get(c.id)} />
                  </td>
                  <td class="wrap">
                    <span class="muted">
                      {c.kind}
                      {"locations" in c && c.locations.length > 1 ? ` · ${c.locations.length} locations` : ""}
                    </span>{" "}
                    {target(c)}
                  </td>
                  <td>{ago(c.lastPingAt ?? c.lastRunAt)}</td>
                  <td>{c.nextDueAt ? ago(c.nextDueAt) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {can(role, "write") && <NewCheck />}
    </>
  );
}

/** One cell per UTC day, oldest first; its colour by the worst that happened that day. */
export function UptimeBar({ days }: { days: UptimeDay[] | undefined }) {
  if (!days) return <span class="muted">…</span>;
  const measured = days.filter((d) => d.uptime !== null);
  const up = measured.reduce((s, d) => s + d.upMs + d.degradedMs, 0);
  const total = measured.reduce((s, d) => s + d.upMs + d.degradedMs + d.downMs, 0);
  const bad = days.filter((d) => d.downMs > 0).length;
  const label =
    total === 0
      ? `no data in the last ${days.length} days`
      : `${((up / total) * 100).toFixed(2)}% up over ${days.length} days; ${bad} ${bad === 1 ? "day" : "days"} with downtime`;
  return (
    <span class="uptime" role="img" aria-label={label} title={label}>
      {days.map((d) => (
        <span
          key={d.day}
          class={d.uptime === null ? "none" : d.downMs > 0 ? "down" : d.degradedMs > 0 ? "degraded" : "up"}
        />
      ))}
    </span>
  );
}

function NewCheck() {
  const { projectId } = useProject();
  const [, navigate] = useLocation();
  const [kind, setKind] = useState<Kind>("heartbeat");
  return (
    <section aria-labelledby="new-check">
      <h2 id="new-check">{kind === "heartbeat" ? "New heartbeat" : `New ${kind.toUpperCase()} check`}</h2>
      <div class="form-card stack">
        <Select
          label="Kind"
          name="kind"
          form="new-kind"
          value={kind}
          options={KINDS}
          onChange={(v) => setKind(v as Kind)}
        />
        <CheckForm
          key={kind}
          kind={kind}
          onSaved={async (check) => {
            await invalidate(projectPath(projectId, "/checks"));
            navigate(`/checks/${check.id}`);
          }}
        />
      </div>
    </section>
  );
}

/** Header lines as an operator writes them, "Name: value" one a line; masked values come back as sent. */
const headersText = (headers: Record<string, string>) =>
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");

function parseHeaders(value: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (value ?? "").split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at < 1) throw new Error(`header line "${line.trim()}" needs the form Name: value`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

const minutes = (sec: number | null | undefined, fallback: number) => String(sec ? sec / 60 : fallback);

/** A heartbeat's keywords and run conditions from the form; empty fields turn each one off. */
function runConditions(f: FormData) {
  const keywords = {
    success: list(text(f, "successKeywords")),
    failure: list(text(f, "failureKeywords")),
    start: list(text(f, "startKeywords")),
  };
  const anyKeyword = keywords.success.length + keywords.failure.length + keywords.start.length > 0;
  const conditions = RUN_CONDITIONS.map((r) => {
    const typed = num(f, r.name);
    if (typed === null) return [r.name, null] as const;
    return [r.name, "factor" in r ? typed : Math.round(typed * r.unit)] as const;
  });
  return { bodyKeywords: anyKeyword ? keywords : null, ...Object.fromEntries(conditions) };
}

/** A heartbeat's run conditions: each a number of `unit` seconds, empty for off. */
const RUN_CONDITIONS = [
  {
    name: "minRun",
    label: "Shortest run (seconds)",
    unit: 1,
    hint: "A run (start → success) shorter than this is a failure. Empty: no minimum.",
  },
  {
    name: "maxRun",
    label: "Longest run (seconds)",
    unit: 1,
    hint: "A run that succeeds after longer than this is a failure. Empty: no maximum.",
  },
  {
    name: "startGrace",
    label: "Start grace (minutes)",
    unit: 60,
    hint: "How long a started run may take before the check is down. Empty: the grace above.",
  },
  {
    name: "minInterval",
    label: "At most one success every (minutes)",
    unit: 60,
    hint: "A success sooner than this after the last one means the job runs too often.",
  },
  {
    name: "slowerThanUsual",
    label: "Slower than usual (times the median run)",
    unit: 1,
    factor: true,
    hint: "A run this many times longer than the median of the last 20 runs shows the check as degraded.",
  },
] as const;

const keywordsOf = (c: Record<string, unknown> | undefined, key: "success" | "failure" | "start") =>
  ((c?.bodyKeywords as Record<string, string[]> | null | undefined)?.[key] ?? []).join(", ");
const optionalNumber = (v: unknown, scale = 1) => (typeof v === "number" ? String(v / scale) : undefined);

/**
 * Creates a check of `kind`, or edits `initial` (PATCH with every field of its kind, so what the form
 * shows is what is saved). Durations people type are minutes or seconds as labelled; the API takes seconds.
 */
function CheckForm({
  kind,
  initial,
  onSaved,
}: {
  kind: Kind;
  initial?: Check;
  onSaved: (check: Check) => Promise<void> | void;
}) {
  const { projectId } = useProject();
  const id = initial ? "edit" : "new";
  const c = initial as (Check & Record<string, unknown>) | undefined;
  const [mode, setMode] = useState<"period" | "schedule">(c?.schedule ? "schedule" : "period");
  const [schedule, setSchedule] = useState<string>((c?.schedule as string | undefined) ?? "0 3 * * *");
  const [tz, setTz] = useState<string>(
    (c?.tz as string | undefined) ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"),
  );
  const [method, setMethod] = useState<string>((c?.method as string | undefined) ?? "GET");
  const active = kind !== "heartbeat";
  const sources = useQuery<{ locations: CheckLocationSource[] }>(
    active ? projectPath(projectId, "/locations") : null,
    { pollMs: 30_000 },
  );
  // null until someone ticks a box: the check's own locations, else a default that fits the kind.
  const [picked, setPicked] = useState<string[] | null>((c?.locations as string[] | undefined) ?? null);
  const [quorum, setQuorum] = useState<string>(String((c?.quorum as number | undefined) ?? 1));
  const chosen = picked ?? defaultLocations(kind, sources.data?.locations);
  const form = useForm(async (f) => {
    const common = {
      name: text(f, "name") ?? "",
      ...(text(f, "slug") ? { slug: text(f, "slug") } : {}),
      tags: list(text(f, "tags")),
      description: text(f, "description") ?? "",
      runbookUrl: text(f, "runbookUrl"),
      public: f.get("public") === "on",
    };
    const confirmation = {
      failuresToDown: num(f, "failuresToDown") ?? 2,
      successesToUp: num(f, "successesToUp") ?? 1,
      locations: chosen,
      quorum: num(f, "quorum") ?? 1,
    };
    const runTiming = {
      timeoutMs: num(f, "timeoutMs") ?? (active ? DEFAULT_TIMEOUT_MS[kind] : 10_000),
      period: num(f, "period") ?? (active ? DEFAULT_PERIOD[kind] : 60),
    };
    let settings: Record<string, unknown>;
    if (kind === "heartbeat") {
      const timing =
        mode === "period"
          ? { period: (num(f, "period") ?? 60) * 60, ...(initial ? { schedule: null } : {}) }
          : {
              schedule: text(f, "schedule"),
              tz: text(f, "tz") ?? "UTC",
              ...(initial ? { period: null } : {}),
            };
      settings = {
        ...timing,
        grace: (num(f, "grace") ?? 60) * 60,
        postOnly: f.get("postOnly") === "on",
        keepPaused: f.get("keepPaused") === "on",
        ...runConditions(f),
      };
    } else if (kind === "http") {
      settings = {
        url: text(f, "url"),
        method: text(f, "method") ?? "GET",
        headers: parseHeaders(text(f, "headers")),
        body: method === "GET" || method === "HEAD" ? null : text(f, "body"),
        expectedStatus: list(text(f, "expectedStatus")),
        keyword: text(f, "keyword"),
        keywordMode: text(f, "keywordMode") ?? "present",
        degradedAfterMs: num(f, "degradedAfterMs"),
        followRedirects: f.get("followRedirects") === "on",
        ...runTiming,
        ...confirmation,
      };
    } else if (kind === "dns") {
      settings = {
        host: text(f, "host"),
        recordType: text(f, "recordType") ?? "A",
        expected: text(f, "expected"),
        server: text(f, "server"),
        degradedAfterMs: num(f, "degradedAfterMs"),
        ...runTiming,
        ...confirmation,
      };
    } else if (kind === "icmp") {
      settings = {
        host: text(f, "host"),
        degradedAfterMs: num(f, "degradedAfterMs"),
        ...runTiming,
        ...confirmation,
      };
    } else {
      settings = {
        host: text(f, "host"),
        port: num(f, "port"),
        ...(kind === "tls" ? { warnDays: num(f, "warnDays") ?? 14 } : {}),
        ...runTiming,
        ...confirmation,
      };
    }
    const saved = initial
      ? await api<Check>(projectPath(projectId, `/checks/${initial.id}`), {
          method: "PATCH",
          body: { ...common, ...settings },
        })
      : await post<Check>(projectPath(projectId, "/checks"), { kind, ...common, ...settings });
    await onSaved(saved);
  });
  const e = form.errorFor;
  const shown = [
    "name",
    "slug",
    "tags",
    "description",
    "runbookUrl",
    "period",
    "schedule",
    "tz",
    "grace",
    "url",
    "method",
    "headers",
    "body",
    "expectedStatus",
    "keyword",
    "timeoutMs",
    "degradedAfterMs",
    "host",
    "port",
    "warnDays",
    "recordType",
    "expected",
    "server",
    "failuresToDown",
    "successesToUp",
    "locations",
    "quorum",
  ];
  return (
    <form class="stack" onSubmit={form.onSubmit} aria-label={initial ? "Edit check" : `New ${kind} check`}>
      <Input form={id} label="Name" name="name" required value={c?.name} error={e("name")} />
      {kind === "heartbeat" && (
        <>
          <fieldset>
            <legend>Expect a ping</legend>
            <label>
              <input
                type="radio"
                name="mode"
                checked={mode === "period"}
                onChange={() => setMode("period")}
              />{" "}
              every period
            </label>{" "}
            <label>
              <input
                type="radio"
                name="mode"
                checked={mode === "schedule"}
                onChange={() => setMode("schedule")}
              />{" "}
              on a cron schedule
            </label>
          </fieldset>
          {mode === "period" ? (
            <Input
              form={id}
              label="Period (minutes)"
              name="period"
              type="number"
              min={1}
              required
              value={minutes(c?.period as number | undefined, 60)}
              error={e("period")}
            />
          ) : (
            <>
              <Input
                form={id}
                label="Cron schedule"
                name="schedule"
                required
                value={schedule}
                onInput={setSchedule}
                hint="Five fields: minute hour day-of-month month weekday."
                error={e("schedule")}
              />
              <Input form={id} label="Time zone" name="tz" value={tz} onInput={setTz} error={e("tz")} />
              <CronReading schedule={schedule} tz={tz} />
            </>
          )}
          <Input
            form={id}
            label="Grace (minutes)"
            name="grace"
            type="number"
            min={1}
            required
            value={minutes(c?.grace as number | undefined, 60)}
            hint="How late a ping may be before the check is down."
            error={e("grace")}
          />
          <Checkbox
            form={id}
            label="Only POST pings count"
            name="postOnly"
            checked={(c?.postOnly as boolean | undefined) ?? false}
          />
          <Checkbox
            form={id}
            label="Pings do not resume a paused check"
            name="keepPaused"
            checked={(c?.keepPaused as boolean | undefined) ?? false}
          />
          <details
            class="more"
            open={Boolean(
              c?.bodyKeywords ||
                c?.minRun ||
                c?.maxRun ||
                c?.startGrace ||
                c?.minInterval ||
                c?.slowerThanUsual,
            )}
          >
            <summary>Keywords and run conditions</summary>
            <div class="stack">
              <p class="hint">
                A ping to the plain URL with a body is judged by its words: a failure keyword makes it a
                failure, else a success keyword a success, else a start keyword a start; a body with none is
                ignored. Comma-separated, case-insensitive; leave all three empty to turn this off.
              </p>
              <Input
                form={id}
                label="Failure keywords"
                name="failureKeywords"
                value={keywordsOf(c, "failure")}
                error={e("bodyKeywords")}
              />
              <Input
                form={id}
                label="Success keywords"
                name="successKeywords"
                value={keywordsOf(c, "success")}
              />
              <Input form={id} label="Start keywords" name="startKeywords" value={keywordsOf(c, "start")} />
              {RUN_CONDITIONS.map((r) => (
                <Input
                  key={r.name}
                  form={id}
                  label={r.label}
                  name={r.name}
                  type="number"
                  min={"factor" in r ? 1.1 : 1}
                  value={optionalNumber(c?.[r.name], r.unit)}
                  hint={r.hint}
                  error={e(r.name)}
                />
              ))}
            </div>
          </details>
        </>
      )}
      {kind === "http" && (
        <>
          <Input
            form={id}
            label="URL"
            name="url"
            type="url"
            required
            value={c?.url as string | undefined}
            placeholder="https://example.com/health"
            hint="Private, loopback and link-local addresses are refused unless the server allows them."
            error={e("url")}
          />
          <Select
            form={id}
            label="Method"
            name="method"
            value={method}
            options={METHODS}
            onChange={setMethod}
            error={e("method")}
          />
          <TextArea
            form={id}
            label="Request headers"
            name="headers"
            value={headersText((c?.headers as Record<string, string> | undefined) ?? {})}
            placeholder="Authorization: Bearer …"
            hint="One a line, Name: value. Saved values show as ******** and are kept when sent back."
            error={e("headers")}
          />
          {method !== "GET" && method !== "HEAD" && (
            <TextArea
              form={id}
              label="Request body"
              name="body"
              value={c?.body as string | null | undefined}
              error={e("body")}
            />
          )}
          <Input
            form={id}
            label="Expected status"
            name="expectedStatus"
            value={((c?.expectedStatus as string[] | undefined) ?? ["200-299"]).join(", ")}
            hint='Statuses or ranges, comma-separated: "200-299, 301".'
            error={e("expectedStatus")}
          />
          <Input
            form={id}
            label="Keyword"
            name="keyword"
            value={c?.keyword as string | null | undefined}
            hint="Optional: text the response body must (or must not) contain."
            error={e("keyword")}
          />
          <Select
            form={id}
            label="Keyword must be"
            name="keywordMode"
            value={(c?.keywordMode as string | undefined) ?? "present"}
            options={[
              ["present", "present"],
              ["absent", "absent"],
            ]}
          />
          <Input
            form={id}
            label="Degraded when slower than (ms)"
            name="degradedAfterMs"
            type="number"
            min={1}
            value={c?.degradedAfterMs as number | null | undefined}
            error={e("degradedAfterMs")}
          />
          <Checkbox
            form={id}
            label="Follow redirects"
            name="followRedirects"
            checked={(c?.followRedirects as boolean | undefined) ?? true}
          />
        </>
      )}
      {(kind === "tcp" || kind === "tls") && (
        <>
          <Input
            form={id}
            label="Host"
            name="host"
            required
            value={c?.host as string | undefined}
            placeholder="db.example.com"
            hint="Private, loopback and link-local addresses are refused unless the server allows them."
            error={e("host")}
          />
          <Input
            form={id}
            label="Port"
            name="port"
            type="number"
            min={1}
            max={65535}
            required
            value={(c?.port as number | undefined) ?? (kind === "tls" ? 443 : undefined)}
            error={e("port")}
          />
          {kind === "tls" && (
            <Input
              form={id}
              label="Warn days before expiry"
              name="warnDays"
              type="number"
              min={1}
              value={(c?.warnDays as number | undefined) ?? 14}
              error={e("warnDays")}
            />
          )}
        </>
      )}
      {kind === "dns" && (
        <>
          <Input
            form={id}
            label="Name to look up"
            name="host"
            required
            value={c?.host as string | undefined}
            placeholder="example.com"
            error={e("host")}
          />
          <Select
            form={id}
            label="Record type"
            name="recordType"
            value={(c?.recordType as string | undefined) ?? "A"}
            options={DNS_RECORD_TYPES}
            error={e("recordType")}
          />
          <Input
            form={id}
            label="Expected value"
            name="expected"
            value={c?.expected as string | null | undefined}
            placeholder="203.0.113.7"
            hint="Optional: an answer must include this address or name (case and a trailing dot are ignored)."
            error={e("expected")}
          />
          <Input
            form={id}
            label="Resolver"
            name="server"
            value={c?.server as string | null | undefined}
            placeholder="1.1.1.1:53"
            hint="Optional: ask this DNS server (ip or ip:port) instead of the location's own resolver."
            error={e("server")}
          />
        </>
      )}
      {kind === "icmp" && (
        <Input
          form={id}
          label="Host"
          name="host"
          required
          value={c?.host as string | undefined}
          placeholder="router.lan or 192.0.2.1"
          hint="Three echo requests a run, sent by the probes of the locations below."
          error={e("host")}
        />
      )}
      {(kind === "dns" || kind === "icmp") && (
        <Input
          form={id}
          label="Degraded when slower than (ms)"
          name="degradedAfterMs"
          type="number"
          min={1}
          value={c?.degradedAfterMs as number | null | undefined}
          hint={kind === "icmp" ? "Compared with the mean round trip." : "Compared with the lookup time."}
          error={e("degradedAfterMs")}
        />
      )}
      {active && (
        <>
          <Input
            form={id}
            label="Timeout (ms)"
            name="timeoutMs"
            type="number"
            min={kind === "icmp" ? 1000 : 100}
            value={(c?.timeoutMs as number | undefined) ?? DEFAULT_TIMEOUT_MS[kind]}
            error={e("timeoutMs")}
          />
          <Input
            form={id}
            label="Run every (seconds)"
            name="period"
            type="number"
            min={20}
            value={(c?.period as number | undefined) ?? DEFAULT_PERIOD[kind]}
            error={e("period")}
          />
          <Input
            form={id}
            label="Failed runs before down"
            name="failuresToDown"
            type="number"
            min={1}
            max={20}
            value={(c?.failuresToDown as number | undefined) ?? 2}
            hint="Consecutive failures that confirm an outage."
            error={e("failuresToDown")}
          />
          <Input
            form={id}
            label="Good runs before up"
            name="successesToUp"
            type="number"
            min={1}
            max={20}
            value={(c?.successesToUp as number | undefined) ?? 1}
            error={e("successesToUp")}
          />
          <LocationsFieldset
            form={id}
            kind={kind}
            sources={sources.data?.locations}
            sourcesError={sources.error}
            chosen={chosen}
            onChoose={(next) => {
              setPicked(next);
              // The quorum follows the locations down: it cannot ask for more than are chosen.
              if (Number(quorum) > next.length) setQuorum(String(Math.max(1, next.length)));
            }}
            quorum={quorum}
            onQuorum={setQuorum}
            errorFor={e}
          />
        </>
      )}
      <details class="more">
        <summary>More: slug, tags, description, runbook, status page</summary>
        <div class="stack">
          <Input form={id} label="Slug" name="slug" value={c?.slug} error={e("slug")} />
          <Input
            form={id}
            label="Tags"
            name="tags"
            value={c?.tags.join(", ")}
            hint="Comma-separated."
            error={e("tags")}
          />
          <TextArea
            form={id}
            label="Description"
            name="description"
            value={c?.description}
            error={e("description")}
          />
          <Input
            form={id}
            label="Runbook URL"
            name="runbookUrl"
            type="url"
            value={c?.runbookUrl}
            error={e("runbookUrl")}
          />
          <Checkbox
            form={id}
            label="Public: may be shown on status pages"
            name="public"
            checked={c?.public ?? false}
          />
        </div>
      </details>
      <ErrorNote error={form.formError(shown)} />
      <button type="submit" disabled={form.busy}>
        {initial
          ? "Save changes"
          : `Create ${kind === "heartbeat" ? "heartbeat" : `${kind.toUpperCase()} check`}`}
      </button>
    </form>
  );
}

const KIND_LABEL: Record<string, string> = { http: "HTTP", tcp: "TCP", tls: "TLS", dns: "DNS", icmp: "ICMP" };
const kindList = (kinds: string[]) =>
  kinds.length ? kinds.map((k) => KIND_LABEL[k] ?? k).join(", ") : "none";

/** Why `source` cannot run checks of `kind`, or null when it can. */
function cannotRun(source: CheckLocationSource, kind: string): string | null {
  if (source.kinds.includes(kind)) return null;
  const name = KIND_LABEL[kind] ?? kind;
  if (source.type === "edge")
    return kind === "icmp"
      ? "ICMP runs from probe locations only"
      : `this server cannot run ${name} checks itself`;
  return `its probe does not run ${name} checks`;
}

/** Where a new check runs unless someone chooses: `edge` when it can run the kind, else the first probe that can. */
function defaultLocations(kind: Kind, sources: CheckLocationSource[] | undefined): string[] {
  if (kind === "heartbeat") return [];
  if (!sources) return kind === "icmp" ? [] : [EDGE];
  const able = sources.filter((s) => cannotRun(s, kind) === null);
  const edge = able.find((s) => s.type === "edge");
  if (edge) return [edge.name];
  const online = able.find((s) => s.hosts.some((h) => h.online)) ?? able[0];
  return online ? [online.name] : [];
}

/** A probe location's hosts in a few words: "web-1", "web-1, nas (offline, last seen 2 h ago)". */
function hostsText(source: CheckLocationSource): string {
  return source.hosts
    .map((h) => (h.online ? h.name : `${h.name} (offline, last seen ${ago(h.lastSeenAt)})`))
    .join(", ");
}

/**
 * The places an active check runs from, one checkbox each (a place that cannot run the kind is disabled and
 * says why), and the quorum: how many of the chosen places must see a failure before the check is down.
 */
function LocationsFieldset(p: {
  form: string;
  kind: Kind;
  sources: CheckLocationSource[] | undefined;
  sourcesError: Error | undefined;
  chosen: string[];
  onChoose: (locations: string[]) => void;
  quorum: string;
  onQuorum: (value: string) => void;
  errorFor: (name: string) => string | null;
}) {
  const { form, kind, chosen } = p;
  const listed = p.sources ?? [];
  // A location the check names that no probe reports any more still shows, so saving does not drop it unseen.
  const missing = chosen.filter((name) => !listed.some((s) => s.name === name));
  const probes = listed.filter((s) => s.type === "probe");
  const toggle = (name: string, on: boolean) => {
    const order = [...listed.map((s) => s.name), ...missing];
    const next = on ? [...chosen, name] : chosen.filter((n) => n !== name);
    p.onChoose(order.filter((n) => next.includes(n)));
  };
  const locationsError = p.errorFor("locations");
  const q = Number(p.quorum) || 1;
  const m = chosen.length;
  const descId = (name: string) => `${form}-loc-${name}-note`;
  return (
    <fieldset
      class="locations"
      aria-describedby={locationsError ? `${form}-locations-error` : `${form}-locations-hint`}
    >
      <legend>Locations</legend>
      <small id={`${form}-locations-hint`} class="muted">
        Where the check runs from: <strong>edge</strong> is this Vigil server; a probe location is a probe on
        one of your servers that runs checks, useful for targets only your network reaches.
      </small>
      <ErrorNote error={p.sourcesError} />
      {p.sources && probes.length === 0 && (
        <p class="muted">
          No probe locations yet. A probe becomes one when its probe.json turns on <code>checks</code>; it
          then shows here with the kinds it can run.
        </p>
      )}
      <ul class="location-choices">
        {listed.map((s) => {
          const reason = cannotRun(s, kind);
          const on = chosen.includes(s.name);
          const online = s.type === "edge" || s.hosts.some((h) => h.online);
          return (
            <li key={s.name}>
              <label class="choice">
                <input
                  type="checkbox"
                  name="locations"
                  value={s.name}
                  checked={on}
                  // A place already chosen stays untickable even when it cannot run the kind any more.
                  disabled={reason !== null && !on}
                  aria-describedby={descId(s.name)}
                  onChange={(ev) => toggle(s.name, (ev.target as HTMLInputElement).checked)}
                />{" "}
                <strong>{s.name}</strong>
              </label>
              <small id={descId(s.name)} class="wrap">
                <Badge tone={online ? "ok" : "muted"}>{online ? "online" : "offline"}</Badge>{" "}
                <span class="muted">
                  {s.type === "edge" ? "this Vigil server" : `probe on ${hostsText(s)}`}; runs{" "}
                  {kindList(s.kinds)}
                </span>
                {reason && <span class="field-error"> · cannot run this check: {reason}</span>}
              </small>
            </li>
          );
        })}
        {missing.map((name) => (
          <li key={name}>
            <label class="choice">
              <input
                type="checkbox"
                name="locations"
                value={name}
                checked
                aria-describedby={descId(name)}
                onChange={(ev) => toggle(name, (ev.target as HTMLInputElement).checked)}
              />{" "}
              <strong>{name}</strong>
            </label>
            <small id={descId(name)} class="muted wrap">
              {p.sources ? "no probe reports this location now" : "…"}
            </small>
          </li>
        ))}
      </ul>
      {locationsError && (
        <small id={`${form}-locations-error`} class="field-error">
          {locationsError}
        </small>
      )}
      <Input
        form={form}
        label="Alert when this many locations fail (quorum)"
        name="quorum"
        type="number"
        min={1}
        max={Math.max(1, m)}
        required
        value={p.quorum}
        onInput={p.onQuorum}
        hint={
          m === 0
            ? "Choose at least one location."
            : `Alert when ${q} of ${m} ${m === 1 ? "location fails" : "locations fail"}; fewer failing show on the check's page only.`
        }
        error={p.errorFor("quorum")}
      />
    </fieldset>
  );
}

/** The schedule in words and its next runs, asked of the API as the operator types (it refuses bad ones). */
export function CronReading({ schedule, tz }: { schedule: string; tz: string }) {
  const { projectId } = useProject();
  // Ask once typing pauses, not at every key.
  const [settled, setSettled] = useState({ schedule, tz });
  useEffect(() => {
    const timer = setTimeout(() => setSettled({ schedule, tz }), 400);
    return () => clearTimeout(timer);
  }, [schedule, tz]);
  const ok = settled.schedule.trim().length >= 9;
  const preview = useQuery<SchedulePreview>(
    ok
      ? projectPath(
          projectId,
          `/checks/schedule-preview?schedule=${encodeURIComponent(settled.schedule)}&tz=${encodeURIComponent(settled.tz || "UTC")}`,
        )
      : null,
    { pollMs: 0 },
  );
  return (
    <div class="cron-reading" aria-live="polite">
      {!ok ? (
        <p class="muted">Type five fields, e.g. 0 3 * * *.</p>
      ) : preview.error ? (
        <p class="field-error">{preview.error.message.replace(/^query\./, "")}</p>
      ) : preview.data ? (
        <>
          <p>
            <strong>Runs {preview.data.description}</strong> ({preview.data.tz})
          </p>
          <p class="muted">Next: {preview.data.nextRuns.map((t) => when(t)).join(" · ")}</p>
        </>
      ) : null}
    </div>
  );
}

/** A crontab line that runs a job and reports its exit status (`/ping/<id>/<status>`, Healthchecks style). */
function cronLine(c: Check): string | null {
  if (c.kind !== "heartbeat" || !c.pingUrl) return null;
  const when = c.schedule ?? periodAsCron(c.period ?? 86_400);
  return `${when} /path/to/job.sh; curl -fsS -m 10 --retry 5 -o /dev/null ${c.pingUrl}/$?`;
}

/** The nearest plain cron expression for a period: every n minutes, every n hours, or daily. */
function periodAsCron(sec: number): string {
  const min = Math.max(1, Math.round(sec / 60));
  if (min < 60 && 60 % min === 0) return min === 1 ? "* * * * *" : `*/${min} * * * *`;
  const hours = Math.round(min / 60);
  if (hours < 24 && 24 % hours === 0) return hours === 1 ? "0 * * * *" : `0 */${hours} * * *`;
  return "0 3 * * *";
}

export function CheckPage() {
  const { checkId } = useParams<{ checkId: string }>();
  const { projectId, role } = useProject();
  const [, navigate] = useLocation();
  const [editing, setEditing] = useState(false);
  const path = projectPath(projectId, `/checks/${checkId}`);
  const check = useQuery<Check>(path);
  const uptime = useQuery<{ days: UptimeDay[] }>(`${path}/uptime?days=90`, { pollMs: 60_000 });
  const c = check.data;
  const writer = can(role, "write");
  const act = async (verb: "pause" | "resume") => {
    await post(`${path}/${verb}`);
    await Promise.all([check.refetch(), invalidate(projectPath(projectId, "/checks"))]);
  };
  const line = c ? cronLine(c) : null;
  return (
    <>
      <p>
        <Link href="/checks">← Checks</Link>
      </p>
      <ErrorNote error={check.error} />
      {c && (
        <>
          <div class="section-head">
            <h1>{c.name}</h1>
            <Badge tone={tone(c.status)}>
              <span data-testid="check-status">{c.status}</span>
            </Badge>
          </div>
          <p class="muted wrap">
            {c.kind === "heartbeat"
              ? `${target(c)}${c.schedule ? ` (${c.tz})` : ""}, grace ${duration(c.grace)} · last ping ${ago(c.lastPingAt)}`
              : `${c.kind} ${target(c)} · last run ${ago(c.lastRunAt)}`}{" "}
            · next due {c.nextDueAt ? when(c.nextDueAt) : "—"}
          </p>
          {c.lastError && <p class="error">{c.lastError}</p>}
          <p>
            <UptimeBar days={uptime.data?.days} />
          </p>
          {writer && (
            <div class="actions">
              <button
                type="button"
                class="small"
                aria-expanded={editing}
                onClick={() => setEditing(!editing)}
              >
                {editing ? "Close editor" : "Edit"}
              </button>
              {c.paused ? (
                <button type="button" class="small" onClick={() => act("resume")}>
                  Resume
                </button>
              ) : (
                <button type="button" class="small" onClick={() => act("pause")}>
                  Pause
                </button>
              )}
              <ConfirmButton
                label="Delete"
                confirm={`Delete ${c.name} and its history?`}
                onConfirm={async () => {
                  await api(path, { method: "DELETE" });
                  await invalidate(projectPath(projectId, "/checks"));
                  navigate("/checks");
                }}
              />
            </div>
          )}
          {editing && c.kind !== "host" && (
            <section aria-labelledby="edit-check" class="form-card">
              <h2 id="edit-check">Edit {c.name}</h2>
              <CheckForm
                kind={c.kind}
                initial={c}
                onSaved={async () => {
                  await Promise.all([check.refetch(), invalidate(projectPath(projectId, "/checks"))]);
                  setEditing(false);
                }}
              />
            </section>
          )}
          {c.kind === "heartbeat" && c.schedule && <CronReading schedule={c.schedule} tz={c.tz} />}
          {c.pingUrl && <CopyField label="Ping URL" value={c.pingUrl} />}
          {line && <CopyField label="Cron line" value={line} />}
        </>
      )}
      {c && "quorum" in c && <Locations check={c} path={path} />}
      {c?.kind === "heartbeat" && <RunDurations path={path} />}
      {c &&
        (c.kind === "heartbeat" ? (
          <Pings path={path} />
        ) : (
          <Runs path={path} locations={"locations" in c ? c.locations : null} />
        ))}
    </>
  );
}

const NO_EVENTS: HostEvent[] = [];

/**
 * A heartbeat's run durations (start → success) over the last 7 days, per half hour: raw samples, so the
 * runs of the current hour show at once (hourly rollups are made once an hour is over).
 */
function RunDurations({ path }: { path: string }) {
  const to = Math.ceil(Date.now() / 1_800_000) * 1_800_000;
  const from = to - 7 * 86_400_000;
  const durations = useQuery<{ points: { ts: number; avg: number }[] }>(
    `${path}/durations?from=${from}&to=${to}&step=1800`,
    { pollMs: 60_000 },
  );
  const points = durations.data?.points ?? [];
  if (points.length === 0) return null;
  return (
    <section aria-labelledby="run-durations">
      <h2 id="run-durations">Run durations</h2>
      <TimeChart
        window={[from, to]}
        title="Run duration (start to success)"
        series={[{ label: "duration", points }]}
        events={NO_EVENTS}
        format={(v) => duration(Math.round(v))}
      />
    </section>
  );
}

function Pings({ path }: { path: string }) {
  const pings = useQuery<{ pings: Ping[] }>(`${path}/pings`);
  return (
    <section aria-labelledby="pings">
      <h2 id="pings">Pings</h2>
      {(pings.data?.pings ?? []).length === 0 ? (
        <p class="muted">No pings yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">From</th>
                <th scope="col">Body</th>
              </tr>
            </thead>
            <tbody>
              {pings.data?.pings.map((p) => (
                <tr key={p.id}>
                  <td>{when(p.at)}</td>
                  <td>
                    {p.kind}
                    {p.exitStatus !== null ? ` (exit ${p.exitStatus})` : ""}
                  </td>
                  <td>{p.remoteAddr ?? ""}</td>
                  <td>
                    <code class="body">{p.body?.slice(0, 200) ?? ""}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** "edge, fra-1 and home-lab" */
const names = (list: string[]) =>
  list.length <= 1 ? list.join("") : `${list.slice(0, -1).join(", ")} and ${list.at(-1)}`;

/** What the quorum means for this check, in a sentence. */
function quorumText(locations: string[], quorum: number): string {
  const n = locations.length;
  if (n === 1) return `Runs from ${locations[0]}; down when it fails.`;
  const q = Math.min(quorum, n);
  return `Runs from ${names(locations)}; down when ${q} of ${n} ${q === 1 ? "location fails" : "locations fail"}.`;
}

/** An active check's locations: each one's own status, and their response times side by side. */
function Locations({ check, path }: { check: Extract<Check, { quorum: number }>; path: string }) {
  const results = check.locationResults;
  return (
    <section aria-labelledby="locations">
      <h2 id="locations">Locations</h2>
      <p data-testid="quorum">{quorumText(check.locations, check.quorum)}</p>
      <div class="table-wrap">
        <table data-testid="locations">
          <caption class="visually-hidden">What each location last saw</caption>
          <thead>
            <tr>
              <th scope="col">Location</th>
              <th scope="col">Status</th>
              <th scope="col">Response</th>
              <th scope="col">Last run</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {results.map((l) => (
              <tr key={l.name}>
                <th scope="row">{l.name}</th>
                <td>
                  <Badge tone={tone(l.status)}>{l.status}</Badge>
                </td>
                <td>{l.responseMs !== null ? `${l.responseMs} ms` : "—"}</td>
                <td>{ago(l.lastRunAt)}</td>
                <td class="wrap">{l.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ResponseTimes
        path={path}
        locations={check.locations}
        runKey={results.map((l) => l.lastRunAt ?? 0).join(",")}
      />
    </section>
  );
}

/** How many recent runs the response-time chart draws. */
const CHART_RUNS = 200;

/**
 * The newest runs' response times, one line per location (runs from a location since dropped included).
 * Fetched again when any location (the check is polled every 5 s) has run since, else once a minute: a
 * probe's late-arriving runs may be older than edge's newest, so the check's own last run would not move.
 */
function ResponseTimes({
  path,
  locations,
  runKey,
}: {
  path: string;
  locations: string[];
  /** each location's last run, joined: changes whenever one of them reports */
  runKey: string;
}) {
  const runs = useQuery<{ runs: CheckRun[] }>(`${path}/runs?limit=${CHART_RUNS}`, { pollMs: 60_000 });
  const { refetch } = runs;
  // A new run is the reason to fetch again (refetch is a fresh function each render, and needs no watching).
  useEffect(() => {
    void refetch();
  }, [runKey]);
  const timed = (runs.data?.runs ?? []).filter((r) => r.responseMs !== null);
  if (timed.length === 0) return null;
  const order = [...new Set([...locations, ...timed.map((r) => r.location)])];
  const series = order
    .map((name) => ({
      label: name,
      points: timed
        .filter((r) => r.location === name)
        .map((r) => ({ ts: r.at, avg: r.responseMs }))
        .sort((a, b) => a.ts - b.ts),
    }))
    .filter((s) => s.points.length > 0);
  // Whole minutes around the runs shown, so the chart is rebuilt when runs arrive, not at every render.
  const first = Math.min(...timed.map((r) => r.at));
  const last = Math.max(...timed.map((r) => r.at));
  const from = Math.floor(first / 60_000) * 60_000 - 60_000;
  const to = Math.ceil(last / 60_000) * 60_000 + 60_000;
  return (
    <div class="location-chart">
      <TimeChart
        window={[from, to]}
        title={`Response time${series.length > 1 ? " by location" : ""} (newest ${CHART_RUNS} runs)`}
        series={series}
        events={NO_EVENTS}
        format={(v) => `${Math.round(v)} ms`}
        ownTimes
      />
    </div>
  );
}

/** The check's runs, newest first; a check with several locations can show one location's only. */
function Runs({ path, locations }: { path: string; locations: string[] | null }) {
  const [from, setFrom] = useState("");
  const runs = useQuery<{ runs: CheckRun[] }>(
    `${path}/runs?limit=50${from ? `&location=${encodeURIComponent(from)}` : ""}`,
  );
  return (
    <section aria-labelledby="runs">
      <h2 id="runs">Runs</h2>
      {locations && locations.length > 1 && (
        <div class="log-filters">
          <Select
            form="runs"
            label="Show runs from"
            name="location"
            value={from}
            options={[["", "all locations"], ...locations]}
            onChange={setFrom}
          />
        </div>
      )}
      {(runs.data?.runs ?? []).length === 0 ? (
        <p class="muted">
          {from ? `No runs from ${from} yet.` : "No runs yet; the first comes within a scheduler tick."}
        </p>
      ) : (
        <div class="table-wrap">
          <table data-testid="runs">
            <caption class="visually-hidden">
              {from ? `Newest runs from ${from}` : "Newest runs from every location"}
            </caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                {locations && <th scope="col">Location</th>}
                <th scope="col">Result</th>
                <th scope="col">Response</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {runs.data?.runs.map((r) => (
                <tr key={r.id}>
                  <td>{when(r.at)}</td>
                  {locations && <td>{r.location}</td>}
                  <td>
                    <Badge tone={r.result === "up" ? "ok" : r.result === "down" ? "bad" : "warn"}>
                      {r.result}
                    </Badge>
                  </td>
                  <td>
                    {r.httpStatus ?? ""} {r.responseMs !== null ? `${r.responseMs} ms` : ""}
                  </td>
                  <td class="wrap">
                    {r.tlsDaysLeft !== null ? `certificate: ${r.tlsDaysLeft} days left ` : ""}
                    {r.error ?? ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
