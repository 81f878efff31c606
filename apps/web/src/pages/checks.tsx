/**
 * Checks: the list with status and a 90-day bar, forms to create and edit heartbeats (period or cron, read
 * back in words with its next runs by the API) and HTTP, TCP and TLS checks, and one check's page with its
 * ping URL, a ready cron line, pause, resume, delete, and its pings or runs.
 */
import type {
  Check,
  CheckRun,
  HostEvent,
  Ping,
  ProjectUptime,
  SchedulePreview,
  UptimeDay,
} from "@vigil/contract";
import { useEffect, useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { api, can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { TimeChart } from "../chart.tsx";
import { Checkbox, ConfirmButton, Input, list, num, Select, TextArea, text, useForm } from "../form.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, Badge, CopyField, duration, Empty, ErrorNote, when } from "../ui.tsx";

type Kind = "heartbeat" | "http" | "tcp" | "tls";
const KINDS: [Kind, string][] = [
  ["heartbeat", "Heartbeat (cron job pings Vigil)"],
  ["http", "HTTP(S) endpoint"],
  ["tcp", "TCP port"],
  ["tls", "TLS certificate"],
];
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const tone = (status: Check["status"]) =>
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
            A heartbeat expects a ping from your cron job and tells you when one does not arrive; HTTP, TCP
            and TLS checks reach out to your endpoints every minute or so.
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
                    <span class="muted">{c.kind}</span> {target(c)}
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
        timeoutMs: num(f, "timeoutMs") ?? 10_000,
        degradedAfterMs: num(f, "degradedAfterMs"),
        followRedirects: f.get("followRedirects") === "on",
        period: num(f, "period") ?? 60,
        ...confirmation,
      };
    } else {
      settings = {
        host: text(f, "host"),
        port: num(f, "port"),
        timeoutMs: num(f, "timeoutMs") ?? 10_000,
        period: num(f, "period") ?? (kind === "tls" ? 3600 : 60),
        ...(kind === "tls" ? { warnDays: num(f, "warnDays") ?? 14 } : {}),
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
    "failuresToDown",
    "successesToUp",
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
      {kind !== "heartbeat" && (
        <>
          <Input
            form={id}
            label="Timeout (ms)"
            name="timeoutMs"
            type="number"
            min={100}
            value={(c?.timeoutMs as number | undefined) ?? 10_000}
            error={e("timeoutMs")}
          />
          <Input
            form={id}
            label="Run every (seconds)"
            name="period"
            type="number"
            min={20}
            value={(c?.period as number | undefined) ?? (kind === "tls" ? 3600 : 60)}
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

/** The schedule in words and its next runs, asked of the API as the operator types (it refuses bad ones). */
function CronReading({ schedule, tz }: { schedule: string; tz: string }) {
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
          {editing && c.kind !== "host" && c.kind !== "dns" && c.kind !== "icmp" && (
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
      {c?.kind === "heartbeat" && <RunDurations path={path} />}
      {c && (c.kind === "heartbeat" ? <Pings path={path} /> : <Runs path={path} />)}
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

function Runs({ path }: { path: string }) {
  const runs = useQuery<{ runs: CheckRun[] }>(`${path}/runs?limit=50`);
  return (
    <section aria-labelledby="runs">
      <h2 id="runs">Runs</h2>
      {(runs.data?.runs ?? []).length === 0 ? (
        <p class="muted">No runs yet; the first comes within a scheduler tick.</p>
      ) : (
        <div class="table-wrap">
          <table data-testid="runs">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Result</th>
                <th scope="col">Response</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {runs.data?.runs.map((r) => (
                <tr key={r.id}>
                  <td>{when(r.at)}</td>
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
