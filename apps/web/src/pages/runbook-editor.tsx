/**
 * The runbook editor, for a new runbook and an existing one: name, description, hosts (tags and single
 * hosts), an optional task schedule, and the ordered steps (add, remove, move up and down), each with its
 * kind's fields and what it shows of each host. The API's refusals land under the fields they name
 * (`body.steps.1.url: …` under step 2's URL).
 */
import { type Runbook, type RunbookStep, type RunbookStepInput, stepViews } from "@vigil/contract";
import { useEffect, useState } from "preact/hooks";
import { api, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { Input, list, Select, TextArea, useForm } from "../form.tsx";
import { ErrorNote } from "../ui.tsx";
import {
  fieldErrors,
  HostsPicker,
  ScheduleFields,
  type Selection,
  scheduleBody,
  scheduleDraft,
} from "./runbook-common.tsx";

type Kind = RunbookStep["kind"];
type View = (typeof stepViews)[number];

const KINDS: [Kind, string][] = [
  ["manual", "Manual (someone does it and marks it done)"],
  ["command", "Command (run by the probe on each host)"],
  ["http", "HTTP request (sent by Vigil)"],
];

export const VIEW_LABELS: Record<View, string> = {
  updates: "Pending and security updates",
  reboot: "Reboot required",
  containers: "Containers",
  "ssh-keys": "SSH keys, with changes since the last review",
  backups: "Backups: last success and failure",
};

const METHODS = ["POST", "GET", "HEAD", "PUT", "PATCH", "DELETE"] as const;

/** A step as the form holds it: every kind's fields as typed, so switching kinds loses nothing. */
interface StepDraft {
  key: number;
  kind: Kind;
  title: string;
  text: string;
  shows: View[];
  command: string;
  timeoutSec: string;
  method: string;
  url: string;
  headers: string;
  body: string;
  expectedStatus: string;
  timeoutMs: string;
}

let nextKey = 1;

function blank(kind: Kind): StepDraft {
  return {
    key: nextKey++,
    kind,
    title: "",
    text: "",
    shows: [],
    command: "",
    timeoutSec: "300",
    method: "POST",
    url: "",
    headers: "",
    body: "",
    expectedStatus: "200-299",
    timeoutMs: "10000",
  };
}

function toDraft(step: RunbookStep): StepDraft {
  const d: StepDraft = { ...blank(step.kind), title: step.title, text: step.text, shows: [...step.shows] };
  if (step.kind === "command") return { ...d, command: step.command, timeoutSec: String(step.timeoutSec) };
  if (step.kind === "http")
    return {
      ...d,
      method: step.method,
      url: step.url,
      headers: Object.entries(step.headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n"),
      body: step.body ?? "",
      expectedStatus: step.expectedStatus.join(", "),
      timeoutMs: String(step.timeoutMs),
    };
  return d;
}

function parseHeaders(value: string, index: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of value.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at < 1)
      throw new Error(`body.steps.${index}.headers: header line "${line.trim()}" needs the form Name: value`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** A number as typed, or the text itself so the API names the field it refuses. */
const numberOf = (v: string) => (v.trim() === "" || Number.isNaN(Number(v)) ? v : Number(v));

function toBody(d: StepDraft, index: number): RunbookStepInput {
  const common = { title: d.title.trim(), text: d.text, shows: d.shows };
  if (d.kind === "manual") return { kind: "manual", ...common };
  if (d.kind === "command")
    return {
      kind: "command",
      ...common,
      command: d.command,
      timeoutSec: numberOf(d.timeoutSec) as number,
    };
  const sendsBody = d.method !== "GET" && d.method !== "HEAD";
  return {
    kind: "http",
    ...common,
    method: d.method as "POST",
    url: d.url.trim(),
    headers: parseHeaders(d.headers, index),
    body: sendsBody && d.body !== "" ? d.body : null,
    expectedStatus: list(d.expectedStatus),
    timeoutMs: numberOf(d.timeoutMs) as number,
  };
}

const STEP_FIELD =
  /^steps\.\d+\.(title|text|shows|command|timeoutSec|method|url|headers|body|expectedStatus|timeoutMs)(\.|$)/;
const shownPath = (path: string) =>
  /^(name|description|hosts)(\.|$)/.test(path) ||
  /^schedule\.(cron|tz|graceSec)$/.test(path) ||
  path === "steps" ||
  STEP_FIELD.test(path);

/** Creates a runbook, or edits `initial` (PATCH with every field, so what the form shows is what is saved). */
export function RunbookForm({
  initial,
  onSaved,
}: {
  initial?: Runbook;
  onSaved: (runbook: Runbook) => Promise<void> | void;
}) {
  const { projectId } = useProject();
  const id = initial ? "edit" : "new";
  const [name, setName] = useState(initial?.name ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [hosts, setHosts] = useState<Selection>(initial?.hosts ?? { hostIds: [], tags: [] });
  const [scheduled, setScheduled] = useState(Boolean(initial?.schedule));
  const [schedule, setSchedule] = useState(scheduleDraft(initial?.schedule));
  const [steps, setSteps] = useState<StepDraft[]>(() =>
    initial ? initial.steps.map(toDraft) : [blank("manual")],
  );
  const [status, setStatus] = useState("");
  const [focusKey, setFocusKey] = useState<number | null>(null);
  // A step just added takes the focus at its title, where typing starts.
  useEffect(() => {
    if (focusKey !== null) document.getElementById(`${id}-s${focusKey}-title`)?.focus();
  }, [focusKey]);

  const form = useForm(async () => {
    const body = {
      name: name.trim(),
      description,
      hosts,
      schedule: scheduled ? scheduleBody(schedule) : null,
      steps: steps.map(toBody),
    };
    const saved = initial
      ? await api<Runbook>(projectPath(projectId, `/runbooks/${initial.id}`), { method: "PATCH", body })
      : await post<Runbook>(projectPath(projectId, "/runbooks"), body);
    await onSaved(saved);
  });
  const errors = fieldErrors(form.error, shownPath);
  const change = (key: number, patch: Partial<StepDraft>) =>
    setSteps(steps.map((s) => (s.key === key ? { ...s, ...patch } : s)));
  const move = (i: number, by: number) => {
    const next = [...steps];
    const [item] = next.splice(i, 1);
    if (!item) return;
    next.splice(i + by, 0, item);
    setSteps(next);
    setStatus(`Step "${item.title || "untitled"}" moved to position ${i + by + 1} of ${next.length}`);
  };
  const add = (kind: Kind) => {
    const step = blank(kind);
    setSteps([...steps, step]);
    setFocusKey(step.key);
    setStatus(`Step ${steps.length + 1} added`);
  };
  const stepsError = steps.length === 0 ? null : errors.of("steps", true);
  return (
    <form class="stack" onSubmit={form.onSubmit} aria-label={initial ? "Edit runbook" : "New runbook"}>
      <Input
        form={id}
        label="Name"
        name="name"
        required
        value={name}
        onInput={setName}
        error={errors.of("name")}
      />
      <TextArea
        form={id}
        label="Description"
        name="description"
        value={description}
        onInput={setDescription}
        error={errors.of("description")}
      />
      <HostsPicker form={id} value={hosts} onChange={setHosts} error={errors.of("hosts")} />
      <fieldset class="choices">
        <legend>Schedule</legend>
        <label>
          <input
            type="radio"
            name={`${id}-scheduled`}
            checked={!scheduled}
            onChange={() => setScheduled(false)}
          />{" "}
          No schedule: run it when needed
        </label>
        <label>
          <input
            type="radio"
            name={`${id}-scheduled`}
            checked={scheduled}
            onChange={() => setScheduled(true)}
          />{" "}
          A lifecycle task, due on a schedule
        </label>
        {scheduled && (
          <>
            <small class="muted">
              Vigil keeps a heartbeat check "Task: {name || "…"}" for it: late at the due time, down (and
              alerting) when the grace is over, reset by every run that succeeds.
            </small>
            <ScheduleFields form={id} value={schedule} onChange={setSchedule} errorFor={errors.of} />
          </>
        )}
      </fieldset>
      <fieldset class="choices">
        <legend>Steps</legend>
        {steps.length === 0 && <p class="muted">No steps yet: a runbook needs at least one.</p>}
        <ol class="step-edit-list">
          {steps.map((s, i) => (
            <StepEditor
              key={s.key}
              form={`${id}-s${s.key}`}
              step={s}
              index={i}
              count={steps.length}
              errorFor={(field) => errors.of(`steps.${i}.${field}`)}
              onChange={(patch) => change(s.key, patch)}
              onMove={(by) => move(i, by)}
              onRemove={() => {
                setSteps(steps.filter((x) => x.key !== s.key));
                setStatus(`Step ${i + 1} "${s.title || "untitled"}" removed`);
              }}
            />
          ))}
        </ol>
        <div class="actions">
          <button type="button" class="small" onClick={() => add("manual")}>
            Add a manual step
          </button>
          <button type="button" class="small" onClick={() => add("command")}>
            Add a command step
          </button>
          <button type="button" class="small" onClick={() => add("http")}>
            Add an HTTP step
          </button>
        </div>
        {(stepsError || steps.length === 0) && (
          <small class="field-error">{stepsError ?? "Add at least one step."}</small>
        )}
      </fieldset>
      <p role="status" class="muted">
        {status}
      </p>
      <ErrorNote error={errors.rest} />
      <button type="submit" disabled={form.busy || steps.length === 0}>
        {initial ? "Save changes" : "Create runbook"}
      </button>
    </form>
  );
}

function StepEditor(p: {
  form: string;
  step: StepDraft;
  index: number;
  count: number;
  errorFor: (field: string) => string | null;
  onChange: (patch: Partial<StepDraft>) => void;
  onMove: (by: number) => void;
  onRemove: () => void;
}) {
  const { form, step: s, errorFor: e } = p;
  const n = p.index + 1;
  const sendsBody = s.method !== "GET" && s.method !== "HEAD";
  return (
    <li class="step-edit">
      <fieldset class="stack">
        <legend>Step {n}</legend>
        <Select
          form={form}
          label="Kind"
          name="kind"
          value={s.kind}
          options={KINDS}
          onChange={(v) => p.onChange({ kind: v as Kind })}
        />
        <Input
          form={form}
          label="Title"
          name="title"
          required
          value={s.title}
          onInput={(title) => p.onChange({ title })}
          error={e("title")}
        />
        <TextArea
          form={form}
          label="Instructions (Markdown)"
          name="text"
          rows={4}
          value={s.text}
          onInput={(text) => p.onChange({ text })}
          hint="Shown with the step: paragraphs, **bold**, `code`, lists."
          error={e("text")}
        />
        {s.kind === "command" && (
          <>
            <TextArea
              form={form}
              label="Command"
              name="command"
              rows={2}
              required
              value={s.command}
              onInput={(command) => p.onChange({ command })}
              hint="Run by /bin/sh -c on each host's probe, only where its operator enabled runbooks (and its allow-list lets the command through)."
              error={e("command")}
            />
            <Input
              form={form}
              label="Timeout (seconds)"
              name="timeoutSec"
              type="number"
              min={1}
              max={3600}
              value={s.timeoutSec}
              onInput={(timeoutSec) => p.onChange({ timeoutSec })}
              error={e("timeoutSec")}
            />
          </>
        )}
        {s.kind === "http" && (
          <>
            <Select
              form={form}
              label="Method"
              name="method"
              value={s.method}
              options={METHODS}
              onChange={(method) => p.onChange({ method })}
              error={e("method")}
            />
            <Input
              form={form}
              label="URL"
              name="url"
              required
              value={s.url}
              onInput={(url) => p.onChange({ url })}
              placeholder="https://deploy.example.com/hooks/{{secret.DEPLOY_TOKEN}}"
              hint="{{secret.NAME}} here, in header values or the body is filled from the project's secrets. Private addresses are refused unless the server allows them."
              error={e("url")}
            />
            <TextArea
              form={form}
              label="Request headers"
              name="headers"
              value={s.headers}
              onInput={(headers) => p.onChange({ headers })}
              placeholder="Authorization: Bearer {{secret.API_TOKEN}}"
              hint="One a line, Name: value."
              error={e("headers")}
            />
            {sendsBody && (
              <TextArea
                form={form}
                label="Request body"
                name="body"
                value={s.body}
                onInput={(body) => p.onChange({ body })}
                error={e("body")}
              />
            )}
            <Input
              form={form}
              label="Expected status"
              name="expectedStatus"
              value={s.expectedStatus}
              onInput={(expectedStatus) => p.onChange({ expectedStatus })}
              hint='Statuses or ranges, comma-separated: "200-299, 301".'
              error={e("expectedStatus")}
            />
            <Input
              form={form}
              label="Timeout (ms)"
              name="timeoutMs"
              type="number"
              min={100}
              max={60000}
              value={s.timeoutMs}
              onInput={(timeoutMs) => p.onChange({ timeoutMs })}
              error={e("timeoutMs")}
            />
          </>
        )}
        <fieldset class="choices">
          <legend>Show for each host</legend>
          <ul class="choice-list">
            {stepViews.map((v) => (
              <li key={v}>
                <label>
                  <input
                    type="checkbox"
                    checked={s.shows.includes(v)}
                    onChange={(ev) => {
                      const on = (ev.target as HTMLInputElement).checked;
                      const next = on ? [...s.shows, v] : s.shows.filter((x) => x !== v);
                      p.onChange({ shows: stepViews.filter((x) => next.includes(x)) });
                    }}
                  />{" "}
                  {VIEW_LABELS[v]}
                </label>
              </li>
            ))}
          </ul>
          {e("shows") && <small class="field-error">{e("shows")}</small>}
        </fieldset>
        <div class="actions">
          <button type="button" class="small" disabled={p.index === 0} onClick={() => p.onMove(-1)}>
            Move up<span class="visually-hidden"> step {n}</span>
          </button>
          <button type="button" class="small" disabled={p.index === p.count - 1} onClick={() => p.onMove(1)}>
            Move down<span class="visually-hidden"> step {n}</span>
          </button>
          <button type="button" class="small danger" onClick={p.onRemove}>
            Remove<span class="visually-hidden"> step {n}</span>
          </button>
        </div>
      </fieldset>
    </li>
  );
}
