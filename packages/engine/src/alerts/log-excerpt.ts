/**
 * The log lines an alert quotes, so its reader sees why without opening a terminal: a failed unit's last
 * lines, a restarting container's, the host's warnings and errors around the moment a host rule fired, the
 * last lines a host sent before it went silent, a failed job's output (the ping body). Bounded by the
 * project's `alerts.logLines` (20 by default, at most 50) and by MAX_EXCERPT_BYTES, each line by
 * MAX_LINE_CHARS; secrets are redacted first (built-in patterns plus the project's `alerts.redact`).
 * The lines are what the server holds: a probe collects priority warning and worse unless configured
 * otherwise (probe.journal.minPriority), so a unit's informational lines show only when collected.
 */
import type { NotificationLogLine, NotificationLogs } from "@vigil/contract";
import { type Db, projects } from "@vigil/db";
import { eq } from "drizzle-orm";
import { resolveSettings } from "../settings.ts";

export const MAX_EXCERPT_BYTES = 4096;
export const MAX_LINE_CHARS = 500;
/** how far around an alert's moment the host's warnings and errors are looked for */
export const HOST_WINDOW_MS = 10 * 60_000;
/** lines stamped a little after the moment still belong to it (the probe's clock, the batch's delay) */
const AFTER_MS = 60_000;

const REDACTED = "[redacted]";

/**
 * Secrets that show up in logs whatever the project: `password=…`, `token: …`, bearer and basic
 * credentials, a URL's user:password, Vigil's own keys and tokens, AWS access keys, private key blocks.
 * Where a pattern has groups, the first (the key, "password=") is kept and the second (the value) replaced.
 */
const BUILT_IN: RegExp[] = [
  /\b((?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|auth)\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi,
  /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /(\/\/[^/\s:@]+:)([^@\s/]+)@/g,
  /\bvgl_[a-z]{3}_[A-Za-z0-9]{20,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/g,
];

/** Replaces what the built-in patterns and `patterns` (case-insensitive) match with "[redacted]". */
export function redactor(patterns: readonly string[]): (text: string) => string {
  const configured = patterns.flatMap((source) => {
    try {
      return [new RegExp(source, "gi")];
    } catch {
      return []; // validated when saved; a pattern saved before validation existed is skipped
    }
  });
  return (text) => {
    let out = text;
    for (const re of BUILT_IN) {
      out = out.replace(re, (match: string, key?: unknown, value?: unknown) =>
        typeof key === "string" && typeof value === "string"
          ? match.replace(`${key}${value}`, `${key}${REDACTED}`)
          : REDACTED,
      );
    }
    for (const re of configured) out = out.replace(re, REDACTED);
    return out;
  };
}

/** What to quote: the settings' bound and redaction for a project (null: the project quotes nothing). */
export async function excerptPolicy(
  db: Db,
  projectId: string,
): Promise<{ maxLines: number; redact: (text: string) => string } | null> {
  const row = await db.query.projects.findFirst({
    where: eq(projects.id, projectId),
    columns: { settings: true },
  });
  const { alerts } = resolveSettings(row?.settings);
  if (alerts.logLines <= 0) return null;
  return { maxLines: alerts.logLines, redact: redactor(alerts.redact) };
}

type Policy = NonNullable<Awaited<ReturnType<typeof excerptPolicy>>>;

/**
 * Newest-first candidate lines → the excerpt: redacted, each line cut to MAX_LINE_CHARS, as many of the
 * newest as fit the line and byte bounds, oldest first. Null when there is nothing to show.
 */
export function boundExcerpt(
  newestFirst: NotificationLogLine[],
  policy: Policy,
  title: string,
  path: string | null,
): NotificationLogs | null {
  const lines: NotificationLogLine[] = [];
  let bytes = 0;
  for (const line of newestFirst) {
    if (lines.length >= policy.maxLines) break;
    let message = policy.redact(line.message);
    if (message.length > MAX_LINE_CHARS) message = `${message.slice(0, MAX_LINE_CHARS)}…`;
    const size = new TextEncoder().encode(message).length + (line.source?.length ?? 0);
    if (bytes + size > MAX_EXCERPT_BYTES && lines.length > 0) break;
    bytes += size;
    lines.push({ ...line, message });
  }
  if (lines.length === 0) return null;
  return { title, lines: lines.reverse(), truncated: lines.length < newestFirst.length, path };
}

/** Which of a host's lines explain an alert or a check. */
export type LogFocus =
  | { kind: "unit"; unit: string }
  | { kind: "container"; name: string }
  /** warnings and errors (priority ≤ 4) in the window around the moment */
  | { kind: "host" }
  /** the last warnings and errors the host sent before the moment (it went silent) */
  | { kind: "before" };

function logsPath(projectId: string, hostId: string, at: number, unit?: string): string {
  const p = new URLSearchParams({ host: hostId });
  if (unit) p.set("unit", unit);
  p.set("at", String(Math.round(at)));
  return `/p/${projectId}/logs?${p}`;
}

/** The journal lines of `hostId` that explain what happened at `at`, as `focus` chooses them. */
export async function hostLogExcerpt(
  db: Db,
  scope: { projectId: string; hostId: string; at: number },
  focus: LogFocus,
  title: string,
): Promise<NotificationLogs | null> {
  const policy = await excerptPolicy(db, scope.projectId);
  if (!policy) return null;
  const { projectId, hostId, at } = scope;
  // One more than shown, so `truncated` can tell whether lines were left out.
  const limit = policy.maxLines + 1;
  const where = ["project_id = ?", "host_id = ?"];
  const args: (string | number)[] = [projectId, hostId];
  if (focus.kind === "unit") {
    // its own lines, and systemd's about it (logged by PID 1 with the unit in the UNIT field)
    where.push("(unit = ? or identifier = ? or json_extract(fields, '$.UNIT') = ?)", "ts <= ?");
    args.push(focus.unit, focus.unit, focus.unit, at + AFTER_MS);
  } else if (focus.kind === "container") {
    where.push("(json_extract(fields, '$.CONTAINER_NAME') = ? or identifier = ?)", "ts <= ?");
    args.push(focus.name, focus.name, at + AFTER_MS);
  } else if (focus.kind === "host") {
    where.push("priority <= 4", "ts between ? and ?");
    args.push(at - HOST_WINDOW_MS, at + AFTER_MS);
  } else {
    where.push("priority <= 4", "ts <= ?");
    args.push(at);
  }
  const result = await db.$client.execute({
    sql: `select ts, priority, unit, identifier, message from log_entries where ${where.join(" and ")}
          order by ts desc, id desc limit ?`,
    args: [...args, limit],
  });
  const newestFirst = result.rows.map((r) => ({
    ts: Number(r.ts),
    priority: Number(r.priority),
    source: (r.identifier ?? r.unit ?? null) as string | null,
    message: String(r.message),
  }));
  const unit = focus.kind === "unit" ? focus.unit : undefined;
  return boundExcerpt(newestFirst, policy, title, logsPath(projectId, hostId, at, unit));
}

/** A failed job's output (the ping body the probe's `exec` or a script sent), its last lines. */
export async function outputExcerpt(
  db: Db,
  projectId: string,
  output: { at: number; body: string; failed: boolean },
  title = "the last run's output",
): Promise<NotificationLogs | null> {
  const policy = await excerptPolicy(db, projectId);
  if (!policy) return null;
  const lines = output.body.replace(/\s+$/, "").split(/\r?\n/);
  const newestFirst = lines.reverse().map((message) => ({
    ts: output.at,
    priority: output.failed ? 3 : 6,
    source: null,
    message,
  }));
  return boundExcerpt(newestFirst, policy, title, null);
}
