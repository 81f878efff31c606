/**
 * Runbooks, in three tabs: the runbooks (steps, hosts, a task's schedule with its check's status and due
 * time, the last run) with "New runbook" and "From a template"; the project's recent runs; and the sealed
 * secrets HTTP steps name as {{secret.NAME}} (names and where used only; values go in, never out). One
 * runbook's page shows its steps, starts a run (its hosts or others, with a note), edits or deletes it,
 * and lists its runs.
 */
import type { Check, Runbook, RunbookRun, RunbookTemplate, Secret } from "@vigil/contract";
import { useRef, useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { api, can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { ConfirmButton, Input, Select, TextArea, text, useForm } from "../form.tsx";
import { Markdown } from "../markdown.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, Badge, Empty, ErrorNote, when } from "../ui.tsx";
import "../runbooks.css";
import { CronReading } from "./checks.tsx";
import {
  fieldErrors,
  HostsPicker,
  matching,
  runTone,
  ScheduleFields,
  type Selection,
  scheduleBody,
  scheduleDraft,
  scheduleText,
  selectorText,
  TaskBadge,
  useHosts,
} from "./runbook-common.tsx";
import { RunbookForm, VIEW_LABELS } from "./runbook-editor.tsx";

type Tab = "" | "runs" | "secrets";
const TABS: [Tab, string][] = [
  ["", "Runbooks"],
  ["runs", "Runs"],
  ["secrets", "Secrets"],
];

const STEP_KIND: Record<Runbook["steps"][number]["kind"], string> = {
  manual: "manual",
  command: "command",
  http: "HTTP",
};

export function RunbooksPage({ tab = "" }: { tab?: Tab }) {
  return (
    <>
      <h1>Runbooks</h1>
      <nav aria-label="Runbooks" class="tabs">
        {TABS.map(([path, label]) => (
          <Link
            key={path}
            class="tab"
            href={path ? `/runbooks/${path}` : "/runbooks"}
            aria-current={tab === path ? "page" : undefined}
          >
            {label}
          </Link>
        ))}
      </nav>
      {tab === "runs" ? <RecentRuns /> : tab === "secrets" ? <Secrets /> : <RunbookList />}
    </>
  );
}

/** The task checks of the project, by id (one request for the whole list). */
function useTaskChecks(wanted: boolean) {
  const { projectId } = useProject();
  const checks = useQuery<{ checks: Check[] }>(wanted ? projectPath(projectId, "/checks") : null);
  return new Map(checks.data?.checks.map((c) => [c.id, c]));
}

function RunbookList() {
  const { projectId, role } = useProject();
  const runbooks = useQuery<{ runbooks: Runbook[] }>(projectPath(projectId, "/runbooks"));
  const hosts = useHosts();
  const list = runbooks.data?.runbooks ?? [];
  const checks = useTaskChecks(list.some((b) => b.taskCheckId));
  const [fromTemplate, setFromTemplate] = useState(false);
  const writer = can(role, "write");
  return (
    <>
      <p class="muted">
        A runbook is the maintenance a server needs, step by step: checklists, commands the probes run, HTTP
        calls. Give it a schedule and it becomes a lifecycle task that alerts when it is not done in time.
      </p>
      {writer && (
        <div class="actions">
          <Link href="/runbooks/new" class="button">
            New runbook
          </Link>
          <button
            type="button"
            class="small"
            aria-expanded={fromTemplate}
            onClick={() => setFromTemplate(!fromTemplate)}
          >
            From a template
          </button>
        </div>
      )}
      {fromTemplate && <FromTemplate />}
      <ErrorNote error={runbooks.error} />
      {runbooks.data && list.length === 0 ? (
        <Empty title="No runbooks yet">
          <p>
            Start from a template (OS upgrade, Docker cleanup, SSH key review, backup preparation) or write
            your own.
          </p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table aria-busy={runbooks.loading}>
            <caption class="visually-hidden">Runbooks</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Steps</th>
                <th scope="col">Hosts</th>
                <th scope="col">Task</th>
                <th scope="col">Last run</th>
              </tr>
            </thead>
            <tbody>
              {list.map((b) => (
                <tr key={b.id}>
                  <th scope="row">
                    <Link href={`/runbooks/${b.id}`}>{b.name}</Link>
                  </th>
                  <td>{b.steps.length}</td>
                  <td class="wrap">{selectorText(b.hosts, hosts.data?.hosts)}</td>
                  <td class="wrap">
                    {b.schedule ? (
                      <>
                        <span>
                          {b.schedule.cron}, {b.schedule.tz}
                        </span>
                        <br />
                        <TaskBadge check={b.taskCheckId ? checks.get(b.taskCheckId) : undefined} />
                      </>
                    ) : (
                      <span class="muted">not a task</span>
                    )}
                  </td>
                  <td>
                    <LastRun runbookId={b.id} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function LastRun({ runbookId }: { runbookId: string }) {
  const { projectId } = useProject();
  const runs = useQuery<{ runs: RunbookRun[] }>(
    projectPath(projectId, `/runbooks/${runbookId}/runs?limit=1`),
    {
      pollMs: 15_000,
    },
  );
  const last = runs.data?.runs[0];
  if (!runs.data) return <span class="muted">…</span>;
  if (!last) return <span class="muted">never run</span>;
  return (
    <span class="wrap">
      <Link href={`/runbook-runs/${last.id}`}>
        <Badge tone={runTone(last.status)}>{last.status}</Badge>
      </Link>{" "}
      by {last.startedBy}, <span title={when(last.startedAt)}>{ago(last.startedAt)}</span>
    </span>
  );
}

function FromTemplate() {
  const { projectId } = useProject();
  const templates = useQuery<{ templates: RunbookTemplate[] }>(projectPath(projectId, "/runbook-templates"), {
    pollMs: 0,
  });
  const list = templates.data?.templates ?? [];
  const [chosen, setChosen] = useState("");
  const template = list.find((t) => t.id === chosen) ?? list[0];
  return (
    <section aria-labelledby="from-template" class="form-card stack card-tight">
      <h2 id="from-template">From a template</h2>
      <ErrorNote error={templates.error} />
      {template && (
        <>
          <Select
            form="tpl"
            label="Template"
            name="template"
            value={template.id}
            options={list.map((t) => [t.id, t.name])}
            onChange={setChosen}
          />
          <TemplateForm key={template.id} template={template} />
        </>
      )}
    </section>
  );
}

const TEMPLATE_FIELDS = (path: string) =>
  /^(name|hosts)(\.|$)/.test(path) || /^schedule\.(cron|tz|graceSec)$/.test(path);

function TemplateForm({ template }: { template: RunbookTemplate }) {
  const { projectId } = useProject();
  const [, navigate] = useLocation();
  const [name, setName] = useState(template.name);
  const [hosts, setHosts] = useState<Selection>({ hostIds: [], tags: [] });
  const [mode, setMode] = useState<"usual" | "custom" | "none">("usual");
  const [schedule, setSchedule] = useState(scheduleDraft(template.schedule));
  const form = useForm(async () => {
    const created = await post<Runbook>(projectPath(projectId, "/runbooks/from-template"), {
      template: template.id,
      name: name.trim(),
      hosts,
      ...(mode === "none"
        ? { schedule: null }
        : mode === "custom"
          ? { schedule: scheduleBody(schedule) }
          : {}),
    });
    await invalidate(projectPath(projectId, "/runbooks"));
    await invalidate(projectPath(projectId, "/checks"));
    navigate(`/runbooks/${created.id}`);
  });
  const errors = fieldErrors(form.error, TEMPLATE_FIELDS);
  const radio = (value: typeof mode, label: string) => (
    <label>
      <input type="radio" name="tpl-schedule" checked={mode === value} onChange={() => setMode(value)} />{" "}
      {label}
    </label>
  );
  return (
    <form class="stack" onSubmit={form.onSubmit} aria-label={`New runbook from ${template.name}`}>
      <p>{template.description}</p>
      <ol class="wrap">
        {template.steps.map((s) => (
          <li key={s.title}>
            {s.title} <span class="muted">({STEP_KIND[s.kind]})</span>
          </li>
        ))}
      </ol>
      <Input
        form="tpl"
        label="Name"
        name="name"
        required
        value={name}
        onInput={setName}
        error={errors.of("name")}
      />
      <HostsPicker form="tpl" value={hosts} onChange={setHosts} error={errors.of("hosts")} />
      <fieldset class="choices">
        <legend>Schedule</legend>
        {radio("usual", `Keep its usual schedule: ${scheduleText(template.schedule)}`)}
        {radio("custom", "Change the schedule")}
        {radio("none", "No schedule: not a task, run it when needed")}
        {mode === "usual" && <CronReading schedule={template.schedule.cron} tz={template.schedule.tz} />}
        {mode === "custom" && (
          <ScheduleFields form="tpl" value={schedule} onChange={setSchedule} errorFor={errors.of} />
        )}
      </fieldset>
      <ErrorNote error={errors.rest} />
      <button type="submit" disabled={form.busy}>
        Create runbook
      </button>
    </form>
  );
}

export function NewRunbookPage() {
  const { projectId } = useProject();
  const [, navigate] = useLocation();
  return (
    <>
      <p>
        <Link href="/runbooks">← Runbooks</Link>
      </p>
      <h1>New runbook</h1>
      <div class="form-card">
        <RunbookForm
          onSaved={async (saved) => {
            await Promise.all([
              invalidate(projectPath(projectId, "/runbooks")),
              invalidate(projectPath(projectId, "/checks")),
            ]);
            navigate(`/runbooks/${saved.id}`);
          }}
        />
      </div>
    </>
  );
}

export function RunbookPage() {
  const { runbookId } = useParams<{ runbookId: string }>();
  const { projectId, role } = useProject();
  const [, navigate] = useLocation();
  const [editing, setEditing] = useState(false);
  const path = projectPath(projectId, `/runbooks/${runbookId}`);
  const book = useQuery<Runbook>(path);
  const b = book.data;
  const check = useQuery<Check>(b?.taskCheckId ? projectPath(projectId, `/checks/${b.taskCheckId}`) : null);
  const hosts = useHosts();
  const writer = can(role, "write");
  const matched = b ? matching(b.hosts, hosts.data?.hosts ?? []) : [];
  return (
    <>
      <p>
        <Link href="/runbooks">← Runbooks</Link>
      </p>
      <ErrorNote error={book.error} />
      {b && (
        <>
          <div class="section-head">
            <h1>{b.name}</h1>
            {check.data && (
              <span data-testid="task-status">
                <TaskBadge check={check.data} />
              </span>
            )}
          </div>
          {b.description && <p class="wrap">{b.description}</p>}
          <dl class="meta">
            <dt>Hosts</dt>
            <dd>
              {selectorText(b.hosts, hosts.data?.hosts)}
              {hosts.data && (
                <span class="muted">
                  {" "}
                  (
                  {matched.length === 0
                    ? "matches no host now"
                    : `now ${matched.map((h) => h.name).join(", ")}`}
                  )
                </span>
              )}
            </dd>
            <dt>Schedule</dt>
            <dd>
              {b.schedule ? (
                <>
                  {scheduleText(b.schedule)}
                  {b.taskCheckId && (
                    <>
                      {" · "}
                      <Link href={`/checks/${b.taskCheckId}`}>its task check</Link>
                    </>
                  )}
                </>
              ) : (
                <span class="muted">none: run it when needed</span>
              )}
            </dd>
            {b.template && (
              <>
                <dt>Template</dt>
                <dd>{b.template}</dd>
              </>
            )}
          </dl>
          {b.schedule && <CronReading schedule={b.schedule.cron} tz={b.schedule.tz} />}
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
              <ConfirmButton
                label="Delete"
                confirm={`Delete ${b.name}? Its runs are kept.`}
                onConfirm={async () => {
                  await api(path, { method: "DELETE" });
                  await Promise.all([
                    invalidate(projectPath(projectId, "/runbooks")),
                    invalidate(projectPath(projectId, "/checks")),
                  ]);
                  navigate("/runbooks");
                }}
              />
            </div>
          )}
          {editing && (
            <section aria-labelledby="edit-runbook" class="form-card card-tight">
              <h2 id="edit-runbook">Edit {b.name}</h2>
              <RunbookForm
                key={b.updatedAt}
                initial={b}
                onSaved={async () => {
                  await Promise.all([
                    book.refetch(),
                    check.refetch(),
                    invalidate(projectPath(projectId, "/runbooks")),
                    invalidate(projectPath(projectId, "/checks")),
                  ]);
                  setEditing(false);
                }}
              />
            </section>
          )}
          {writer && !editing && <StartRun book={b} />}
          <section aria-labelledby="steps">
            <h2 id="steps">Steps</h2>
            <ol class="step-summary">
              {b.steps.map((s, i) => (
                <li key={`${i}-${s.title}`}>
                  <strong>{s.title}</strong> <span class="muted">({STEP_KIND[s.kind]})</span>
                  {s.kind === "command" && (
                    <p class="wrap">
                      <code>{s.command}</code>
                    </p>
                  )}
                  {s.kind === "http" && (
                    <p class="wrap">
                      <code>
                        {s.method} {s.url}
                      </code>
                    </p>
                  )}
                  {s.text && <Markdown text={s.text} />}
                  {s.shows.length > 0 && (
                    <p class="muted">Shows for each host: {s.shows.map((v) => VIEW_LABELS[v]).join("; ")}</p>
                  )}
                </li>
              ))}
            </ol>
          </section>
          <RunsOf runbookId={b.id} />
        </>
      )}
    </>
  );
}

/** Start a run on the runbook's hosts or hosts chosen now, with an optional note; then its page. */
function StartRun({ book }: { book: Runbook }) {
  const { projectId } = useProject();
  const [, navigate] = useLocation();
  const hosts = useHosts();
  const list = hosts.data?.hosts ?? [];
  const matched = matching(book.hosts, list);
  const [mode, setMode] = useState<"runbook" | "choose">("runbook");
  const [picked, setPicked] = useState<string[] | null>(null);
  const chosen = picked ?? matched.map((h) => h.id);
  const form = useForm(async (f) => {
    const note = text(f, "note");
    const run = await post<RunbookRun>(projectPath(projectId, `/runbooks/${book.id}/runs`), {
      ...(mode === "choose" ? { hostIds: chosen } : {}),
      ...(note ? { note } : {}),
    });
    await invalidate(projectPath(projectId, "/runbook"));
    navigate(`/runbook-runs/${run.id}`);
  });
  return (
    <section aria-labelledby="start-run" class="form-card card-tight">
      <h2 id="start-run">Start a run</h2>
      <form class="stack" onSubmit={form.onSubmit} aria-label="Start a run">
        <fieldset class="choices">
          <legend>Hosts for this run</legend>
          <label>
            <input
              type="radio"
              name="run-hosts"
              checked={mode === "runbook"}
              onChange={() => setMode("runbook")}
            />{" "}
            The runbook's hosts{" "}
            <span class="muted">
              ({matched.length === 0 ? "none match now" : matched.map((h) => h.name).join(", ")})
            </span>
          </label>
          <label>
            <input
              type="radio"
              name="run-hosts"
              checked={mode === "choose"}
              onChange={() => setMode("choose")}
            />{" "}
            Choose hosts
          </label>
          {mode === "choose" && (
            <ul class="choice-list">
              {list.map((h) => (
                <li key={h.id}>
                  <label>
                    <input
                      type="checkbox"
                      checked={chosen.includes(h.id)}
                      onChange={(e) => {
                        const on = (e.target as HTMLInputElement).checked;
                        setPicked(on ? [...chosen, h.id] : chosen.filter((id) => id !== h.id));
                      }}
                    />{" "}
                    {h.name}
                  </label>
                </li>
              ))}
            </ul>
          )}
        </fieldset>
        <TextArea form="start" label="Note (optional)" name="note" rows={2} />
        <ErrorNote error={form.error} />
        <button type="submit" disabled={form.busy}>
          Start run
        </button>
      </form>
    </section>
  );
}

function RunsTable({
  runs,
  caption,
  showRunbook,
}: {
  runs: RunbookRun[];
  caption: string;
  showRunbook: boolean;
}) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            {showRunbook && <th scope="col">Runbook</th>}
            <th scope="col">Status</th>
            <th scope="col">By</th>
            <th scope="col">Hosts</th>
            <th scope="col">Where</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => {
            const at = r.steps[r.currentStep];
            return (
              <tr key={r.id}>
                <td>
                  <Link href={`/runbook-runs/${r.id}`}>{when(r.startedAt)}</Link>
                </td>
                {showRunbook && <td class="wrap">{r.runbookName}</td>}
                <td>
                  <Badge tone={runTone(r.status)}>{r.status}</Badge>
                </td>
                <td class="wrap">{r.startedBy}</td>
                <td class="wrap">{r.hosts.map((h) => h.name).join(", ") || "—"}</td>
                <td class="wrap">
                  {r.endedAt
                    ? `ended ${ago(r.endedAt)}${r.status === "failed" && at ? ` at step ${r.currentStep + 1}` : ""}`
                    : at
                      ? `step ${r.currentStep + 1} of ${r.steps.length}: ${at.title}`
                      : "—"}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function RunsOf({ runbookId }: { runbookId: string }) {
  const { projectId } = useProject();
  const runs = useQuery<{ runs: RunbookRun[] }>(
    projectPath(projectId, `/runbooks/${runbookId}/runs?limit=50`),
  );
  const list = runs.data?.runs ?? [];
  return (
    <section aria-labelledby="runs">
      <h2 id="runs">Runs</h2>
      <ErrorNote error={runs.error} />
      {runs.data && list.length === 0 ? (
        <p class="muted">Not run yet.</p>
      ) : (
        <RunsTable runs={list} caption="Runs of this runbook, newest first" showRunbook={false} />
      )}
    </section>
  );
}

function RecentRuns() {
  const { projectId } = useProject();
  const runs = useQuery<{ runs: RunbookRun[] }>(projectPath(projectId, "/runbook-runs?limit=50"));
  const list = runs.data?.runs ?? [];
  return (
    <section aria-labelledby="recent-runs">
      <h2 id="recent-runs">Recent runs</h2>
      <ErrorNote error={runs.error} />
      {runs.data && list.length === 0 ? (
        <p class="muted">No runs yet: start one from a runbook's page.</p>
      ) : (
        <RunsTable runs={list} caption="Recent runs of every runbook, newest first" showRunbook />
      )}
    </section>
  );
}

const SECRET_FIELDS = (path: string) => path === "name" || path === "value";

/** The project's sealed secrets: names and the runbooks using them; a value goes in and never comes out. */
function Secrets() {
  const { projectId, role } = useProject();
  const path = projectPath(projectId, "/secrets");
  const secrets = useQuery<{ secrets: Secret[] }>(path);
  const admin = can(role, "admin");
  const list = secrets.data?.secrets ?? [];
  const [name, setName] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const form = useForm(async (f) => {
    const value = String(f.get("value") ?? "");
    const key = name.trim();
    setSaved(null);
    await api(`${path}/${encodeURIComponent(key)}`, { method: "PUT", body: { value } });
    formRef.current?.reset();
    setName("");
    setSaved(`Saved ${key}.`);
    await invalidate(path);
  });
  const errors = fieldErrors(form.error, SECRET_FIELDS);
  return (
    <section aria-labelledby="secrets">
      <h2 id="secrets">Secrets</h2>
      <p class="muted">
        Values an HTTP step needs but nobody should read back, such as a deploy hook's token: write{" "}
        <code>{"{{secret.NAME}}"}</code> in its URL, a header value or its body. They are sealed with the
        server's key, only ever shown by name, and masked in the step's recorded answer.
      </p>
      <ErrorNote error={secrets.error} />
      {secrets.data && list.length === 0 ? (
        <p class="muted">No secrets yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Secrets by name, with the runbooks that use them</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Used by</th>
                <th scope="col">Changed</th>
                {admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.name}>
                  <th scope="row">
                    <code>{s.name}</code>
                  </th>
                  <td>
                    {s.usedBy.length === 0 ? (
                      <span class="muted">no runbook</span>
                    ) : (
                      s.usedBy.map((b, i) => (
                        <span key={b.id}>
                          {i > 0 && ", "}
                          <Link href={`/runbooks/${b.id}`}>{b.name}</Link>
                        </span>
                      ))
                    )}
                  </td>
                  <td title={when(s.updatedAt)}>{ago(s.updatedAt)}</td>
                  {admin && (
                    <td>
                      <button
                        type="button"
                        class="small"
                        onClick={() => {
                          setName(s.name);
                          document.getElementById("secret-value")?.focus();
                        }}
                      >
                        Replace<span class="visually-hidden"> {s.name}</span>
                      </button>{" "}
                      <ConfirmButton
                        label="Delete"
                        confirm={`Delete ${s.name}? Steps naming it will fail.`}
                        onConfirm={async () => {
                          await api(`${path}/${encodeURIComponent(s.name)}`, { method: "DELETE" });
                          await invalidate(path);
                        }}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin ? (
        <section aria-labelledby="put-secret" class="form-card card-tight put-secret">
          <h3 id="put-secret">Add or replace a secret</h3>
          <form class="stack" ref={formRef} onSubmit={form.onSubmit} aria-label="Add or replace a secret">
            <Input
              form="secret"
              label="Name"
              name="name"
              required
              value={name}
              onInput={(v) => setName(v.toUpperCase())}
              placeholder="DEPLOY_HOOK_TOKEN"
              hint="Upper-case letters, digits and _, starting with a letter. Saving under a name in use replaces its value."
              error={errors.of("name")}
            />
            <Input
              form="secret"
              label="Value"
              name="value"
              type="password"
              autocomplete="new-password"
              required
              hint="Never shown again, not even to admins."
              error={errors.of("value")}
            />
            <ErrorNote error={errors.rest} />
            <button type="submit" disabled={form.busy}>
              Save secret
            </button>
            <p role="status" class="muted">
              {saved ?? ""}
            </p>
          </form>
        </section>
      ) : (
        <p class="muted">Only owners and admins add, replace or delete secrets.</p>
      )}
    </section>
  );
}
