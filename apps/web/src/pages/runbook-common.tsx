/**
 * What the runbook screens share: status tones, hosts and schedules in words, a task's due time, the host
 * picker (tags and single hosts) and the schedule fields, and reading the API's refusals field by field.
 */
import type { Check, Host, Runbook, RunbookRun, RunStep, TaskSchedule } from "@vigil/contract";
import { useState } from "preact/hooks";
import { projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { Input } from "../form.tsx";
import { useQuery } from "../query.ts";
import { Badge } from "../ui.tsx";
import { CronReading } from "./checks.tsx";

export type Tone = "ok" | "warn" | "bad" | "muted";

export const runTone = (status: RunbookRun["status"]): Tone =>
  status === "succeeded" ? "ok" : status === "failed" ? "bad" : status === "cancelled" ? "muted" : "warn";

export const stepTone = (status: RunStep["status"]): Tone =>
  status === "done"
    ? "ok"
    : status === "failed"
      ? "bad"
      : status === "running" || status === "waiting"
        ? "warn"
        : "muted";

export const checkTone = (status: Check["status"]): Tone =>
  status === "up"
    ? "ok"
    : status === "down"
      ? "bad"
      : status === "late" || status === "degraded"
        ? "warn"
        : "muted";

export const active = (run: Pick<RunbookRun, "status">) =>
  run.status === "running" || run.status === "waiting";

/** The project's hosts, for pickers and names (they come and go rarely). */
export function useHosts() {
  const { projectId } = useProject();
  return useQuery<{ hosts: Host[] }>(projectPath(projectId, "/hosts"), { pollMs: 10_000 });
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** A stretch of time in words: "5 minutes", "3 hours", "5 days". */
export function span(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 60) return plural(minutes, "minute");
  const hours = Math.round(ms / 3_600_000);
  if (hours < 48) return plural(hours, "hour");
  return plural(Math.round(ms / 86_400_000), "day");
}

/** When a task is due, from its check: "due in 5 days", "overdue since 2 days". */
export function dueText(check: Check, now = Date.now()): string {
  if (check.status === "paused") return "paused";
  if (check.status === "down") return "missed: overdue past its grace";
  if (!check.nextDueAt) return "not due";
  if (check.status === "late" || check.nextDueAt <= now)
    return `overdue since ${span(now - check.nextDueAt)}`;
  return `due in ${span(check.nextDueAt - now)}`;
}

/** A schedule as text: "0 9 1 * *, Europe/Tallinn, 7 days' grace". */
export const scheduleText = (s: TaskSchedule) => `${s.cron}, ${s.tz}, ${span(s.graceSec * 1000)}' grace`;

/** Which hosts a runbook acts on, in a few words. */
export function selectorText(selector: Runbook["hosts"], hosts: Host[] | undefined): string {
  const parts: string[] = [];
  if (selector.tags.length > 0) parts.push(`tagged ${selector.tags.join(", ")}`);
  if (selector.hostIds.length > 0)
    parts.push(selector.hostIds.map((id) => hosts?.find((h) => h.id === id)?.name ?? id).join(", "));
  return parts.length > 0 ? parts.join(" · ") : "no hosts";
}

/** The hosts a selection matches now. */
export const matching = (selector: Runbook["hosts"], hosts: Host[]) =>
  hosts.filter((h) => selector.hostIds.includes(h.id) || h.tags.some((t) => selector.tags.includes(t)));

export function TaskBadge({ check }: { check: Check | undefined }) {
  if (!check) return null;
  return (
    <>
      <Badge tone={checkTone(check.status)}>{check.status}</Badge> <span>{dueText(check)}</span>
    </>
  );
}

/**
 * The API's refusal read field by field: its message is `body.steps.1.url: …; body.name: …`. `of(path)`
 * gives the messages for that field and those under it (unless `exact`); `rest` what no field shown took (the whole
 * message when it names no field, e.g. a 409).
 */
export function fieldErrors(error: string | null, shown: (path: string) => boolean) {
  const fields: { path: string; message: string }[] = [];
  if (error) {
    const hits = [...error.matchAll(/(?:^|; )((?:body|query|path)(?:\.[\w-]+)+): /g)];
    hits.forEach((m, i) => {
      const start = (m.index ?? 0) + m[0].length;
      fields.push({
        path: (m[1] ?? "").replace(/^(?:body|query|path)\./, ""),
        message: error.slice(start, hits[i + 1]?.index ?? error.length),
      });
    });
  }
  const of = (path: string, exact = false) => {
    const found = fields.filter((f) => f.path === path || (!exact && f.path.startsWith(`${path}.`)));
    return found.length > 0 ? found.map((f) => f.message).join("; ") : null;
  };
  const rest = !error
    ? null
    : fields.length === 0
      ? error
      : fields
          .filter((f) => !shown(f.path))
          .map((f) => `${f.path}: ${f.message}`)
          .join("; ") || null;
  return { of, rest };
}

export interface Selection {
  hostIds: string[];
  tags: string[];
}

/**
 * Hosts by tag and one by one, as checkboxes: a run acts on every host carrying a chosen tag and on each
 * host chosen by name. Tags no host carries yet can be added, for hosts still to come.
 */
export function HostsPicker(p: {
  form: string;
  value: Selection;
  onChange: (value: Selection) => void;
  error?: string | null;
}) {
  const hosts = useHosts();
  const list = hosts.data?.hosts ?? [];
  const [another, setAnother] = useState("");
  const tags = [...new Set([...list.flatMap((h) => h.tags), ...p.value.tags])].sort();
  const toggle = (key: "hostIds" | "tags", id: string, on: boolean) =>
    p.onChange({ ...p.value, [key]: on ? [...p.value[key], id] : p.value[key].filter((x) => x !== id) });
  const now = matching(p.value, list);
  const addTag = () => {
    const tag = another.trim();
    if (tag && !p.value.tags.includes(tag)) p.onChange({ ...p.value, tags: [...p.value.tags, tag] });
    setAnother("");
  };
  return (
    <fieldset class="choices" aria-describedby={`${p.form}-hosts-hint`}>
      <legend>Hosts</legend>
      <small id={`${p.form}-hosts-hint`} class="muted">
        A run acts on every host carrying a chosen tag and on each host chosen by name; whoever starts a run
        may choose others.
      </small>
      <fieldset>
        <legend>By tag</legend>
        {tags.length === 0 && <p class="muted">No host has a tag yet; add one below or on a host's page.</p>}
        <ul class="choice-list">
          {tags.map((t) => (
            <li key={t}>
              <label>
                <input
                  type="checkbox"
                  checked={p.value.tags.includes(t)}
                  onChange={(e) => toggle("tags", t, (e.target as HTMLInputElement).checked)}
                />{" "}
                {t}{" "}
                <span class="muted">({plural(list.filter((h) => h.tags.includes(t)).length, "host")})</span>
              </label>
            </li>
          ))}
        </ul>
        <div class="actions">
          <div class="field">
            <label for={`${p.form}-another-tag`}>Another tag</label>
            <input
              id={`${p.form}-another-tag`}
              value={another}
              onInput={(e) => setAnother((e.target as HTMLInputElement).value)}
              // Enter adds the tag, not the whole form.
              onKeyDown={(e) => {
                if (e.key !== "Enter") return;
                e.preventDefault();
                addTag();
              }}
            />
          </div>
          <button type="button" class="small" onClick={addTag} disabled={!another.trim()}>
            Add tag
          </button>
        </div>
      </fieldset>
      <fieldset>
        <legend>By host</legend>
        {hosts.data && list.length === 0 && <p class="muted">No hosts enrolled yet.</p>}
        <ul class="choice-list">
          {list.map((h) => (
            <li key={h.id}>
              <label>
                <input
                  type="checkbox"
                  checked={p.value.hostIds.includes(h.id)}
                  onChange={(e) => toggle("hostIds", h.id, (e.target as HTMLInputElement).checked)}
                />{" "}
                {h.name}
                {h.tags.length > 0 && <span class="muted"> ({h.tags.join(", ")})</span>}
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <p class="muted" aria-live="polite">
        {now.length === 0 ? "Matches no host now." : `Matches now: ${now.map((h) => h.name).join(", ")}.`}
      </p>
      {p.error && <small class="field-error">{p.error}</small>}
    </fieldset>
  );
}

export interface ScheduleDraft {
  cron: string;
  tz: string;
  /** grace in days, as typed */
  graceDays: string;
}

export const scheduleDraft = (s: TaskSchedule | null | undefined): ScheduleDraft => ({
  cron: s?.cron ?? "0 9 1 * *",
  tz: s?.tz ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"),
  graceDays: String(s ? Math.round((s.graceSec / 86_400) * 100) / 100 : 3),
});

export const scheduleBody = (d: ScheduleDraft): TaskSchedule => ({
  cron: d.cron.trim(),
  tz: d.tz.trim() || "UTC",
  graceSec: Math.round(Number(d.graceDays || "3") * 86_400),
});

/** A task's cron, zone and grace, with the cron read back in words by the API. */
export function ScheduleFields(p: {
  form: string;
  value: ScheduleDraft;
  onChange: (value: ScheduleDraft) => void;
  errorFor: (path: string) => string | null;
}) {
  const set = (patch: Partial<ScheduleDraft>) => p.onChange({ ...p.value, ...patch });
  return (
    <div class="stack">
      <Input
        form={p.form}
        label="Due on (cron)"
        name="cron"
        required
        value={p.value.cron}
        onInput={(cron) => set({ cron })}
        hint="Five fields: minute hour day-of-month month weekday; 0 9 1 * * is the first of each month at 09:00."
        error={p.errorFor("schedule.cron")}
      />
      <Input
        form={p.form}
        label="Time zone"
        name="tz"
        value={p.value.tz}
        onInput={(tz) => set({ tz })}
        error={p.errorFor("schedule.tz")}
      />
      <CronReading schedule={p.value.cron} tz={p.value.tz} />
      <Input
        form={p.form}
        label="Grace (days)"
        name="graceDays"
        type="number"
        min={0.05}
        max={90}
        required
        value={p.value.graceDays}
        onInput={(graceDays) => set({ graceDays })}
        hint="How long after the due time it may still be done before it counts as missed (and alerts)."
        error={p.errorFor("schedule.graceSec")}
      />
    </div>
  );
}
