/**
 * One run of a runbook: who started it, when, on which hosts, and each step in order with its status. The
 * current manual step shows its instructions and what it shows of each host (updates, reboot, containers,
 * SSH keys with the changes since the last review, backups), takes a note and, for SSH keys, each key
 * confirmed, and is marked done or skipped; command steps show each host's status, exit code and output;
 * HTTP steps their status and answer. Polled every 2 s while the run is under way.
 */
import type { Runbook, RunbookRun, RunbookStep, RunStep } from "@vigil/contract";
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useParams } from "wouter-preact";
import { ApiError, can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { TextArea, text } from "../form.tsx";
import { Markdown } from "../markdown.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, Badge, ErrorNote, when } from "../ui.tsx";
import { active, runTone, stepTone } from "./runbook-common.tsx";

const KIND_LABEL: Record<RunStep["kind"], string> = {
  manual: "manual step",
  command: "command on each host",
  http: "HTTP request",
};

const COMMAND_LABEL: Record<RunStep["commands"][number]["status"], string> = {
  pending: "waiting for the host",
  running: "running on the host",
  done: "done",
  failed: "failed",
  refused: "refused",
  "timed-out": "timed out",
};

const commandTone = (status: RunStep["commands"][number]["status"]) =>
  status === "done" ? "ok" : status === "pending" || status === "running" ? "warn" : "bad";

export function RunPage() {
  const { runId } = useParams<{ runId: string }>();
  const { projectId, role } = useProject();
  const path = projectPath(projectId, `/runbook-runs/${runId}`);
  const [live, setLive] = useState(true);
  // Every 2 s while the run is under way (commands finish on their hosts meanwhile), not at all once ended.
  const run = useQuery<RunbookRun>(path, { pollMs: live ? 2000 : 0 });
  const r = run.data;
  const ended = r ? !active(r) : false;
  useEffect(() => setLive(!ended), [ended]);
  const book = useQuery<Runbook>(r ? projectPath(projectId, `/runbooks/${r.runbookId}`) : null, {
    pollMs: 60_000,
  });
  const [notice, setNotice] = useState<string | null>(null);
  const writer = can(role, "write");
  /** After an action: the run again (and the lists that show it); a refusal shown at the top. */
  const settle = async (error?: unknown) => {
    if (error)
      setNotice(
        error instanceof ApiError && error.status === 409
          ? `${error.message}. The run was reloaded: see where it is now.`
          : (error as Error).message,
      );
    else setNotice(null);
    await Promise.all([run.refetch(), invalidate(projectPath(projectId, "/runbook"))]);
  };
  /** The step as the runbook defines it (instructions, command, URL), when the runbook still has it. */
  const definition = (step: RunStep): RunbookStep | undefined => {
    const d = book.data?.steps[step.index];
    return d && d.kind === step.kind && d.title === step.title ? d : undefined;
  };
  return (
    <>
      <p>
        <Link href="/runbooks">← Runbooks</Link>
        {r && (
          <>
            {" · "}
            <Link href={`/runbooks/${r.runbookId}`}>{r.runbookName}</Link>
          </>
        )}
      </p>
      <ErrorNote error={run.error} />
      {r && (
        <>
          <div class="section-head">
            <h1>Run of {r.runbookName}</h1>
            <Badge tone={runTone(r.status)}>
              <span data-testid="run-status">{r.status}</span>
            </Badge>
          </div>
          <p class="wrap">
            Started by <strong>{r.startedBy}</strong> {when(r.startedAt)} ({ago(r.startedAt)})
            {r.endedAt && <>, ended {when(r.endedAt)}</>}
            {active(r) && (
              <>
                , at step {Math.min(r.currentStep + 1, r.steps.length)} of {r.steps.length}
              </>
            )}
            .
          </p>
          <p class="wrap">
            Hosts:{" "}
            {r.hosts.length === 0
              ? "none"
              : r.hosts.map((h, i) => (
                  <span key={h.id}>
                    {i > 0 && ", "}
                    <Link href={`/hosts/${h.id}`}>{h.name}</Link>
                  </span>
                ))}
          </p>
          {r.note && <p class="wrap">Note: {r.note}</p>}
          {notice && (
            <p class="error" role="alert">
              {notice}
            </p>
          )}
          {writer && active(r) && <CancelRun path={path} onDone={settle} />}
          <ol class="run-steps" aria-label="Steps">
            {r.steps.map((step) => (
              <RunStepView
                key={step.index}
                run={r}
                step={step}
                definition={definition(step)}
                path={path}
                writer={writer}
                onDone={settle}
              />
            ))}
          </ol>
        </>
      )}
    </>
  );
}

function CancelRun({ path, onDone }: { path: string; onDone: (error?: unknown) => Promise<void> }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  // The question replaces the button that had focus; the answer takes it so the keyboard stays here.
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <div class="actions">
        <button type="button" class="small danger" onClick={() => setAsking(true)}>
          Cancel run
        </button>
      </div>
    );
  return (
    <div class="actions">
      <span>Cancel this run? Commands not yet picked up are withdrawn.</span>
      <button
        type="button"
        class="small danger"
        disabled={busy}
        ref={yes}
        onClick={async () => {
          setBusy(true);
          let error: unknown;
          try {
            await post(`${path}/cancel`);
          } catch (err) {
            error = err;
          }
          setBusy(false);
          setAsking(false);
          await onDone(error);
        }}
      >
        Yes, cancel the run
      </button>
      <button type="button" class="small" onClick={() => setAsking(false)}>
        Keep it going
      </button>
    </div>
  );
}

function RunStepView(p: {
  run: RunbookRun;
  step: RunStep;
  definition: RunbookStep | undefined;
  path: string;
  writer: boolean;
  onDone: (error?: unknown) => Promise<void>;
}) {
  const { run, step, definition: d } = p;
  const current = active(run) && run.currentStep === step.index;
  const headingId = `step-${step.index}`;
  const finished = step.status === "done" || step.status === "skipped" || step.status === "failed";
  const endViews = Object.keys(step.viewsAtEnd).length > 0 ? step.viewsAtEnd : step.views;
  const confirming = current && p.writer && step.kind === "manual" && step.status === "waiting";
  const views = (confirm: boolean, views: RunStep["views"]) =>
    Object.keys(views).length > 0 ? <HostViews run={run} views={views} confirm={confirm} /> : null;
  return (
    <li class="run-step" aria-current={current ? "step" : undefined}>
      <section aria-labelledby={headingId}>
        <div class="section-head">
          <h2 id={headingId}>
            Step {step.index + 1}: {step.title}
          </h2>
          <Badge tone={stepTone(step.status)}>{step.status}</Badge>
        </div>
        <p class="muted">
          {KIND_LABEL[step.kind]}
          {step.startedAt && <> · started {when(step.startedAt)}</>}
          {step.endedAt && <> · ended {when(step.endedAt)}</>}
        </p>
        {current && d?.text && <Markdown text={d.text} />}
        {d?.kind === "command" && (
          <p class="wrap">
            Command: <code>{d.command}</code> <span class="muted">(timeout {d.timeoutSec} s)</span>
          </p>
        )}
        {d?.kind === "http" && (
          <p class="wrap">
            Request:{" "}
            <code>
              {d.method} {d.url}
            </code>
          </p>
        )}
        {step.doneBy && (
          <p class="wrap">
            {step.status === "skipped" ? "Skipped" : "Done"} by <strong>{step.doneBy}</strong>
            {step.endedAt && <>, {when(step.endedAt)}</>}
          </p>
        )}
        {step.note && <p class="wrap">Note: {step.note}</p>}
        {step.confirmed.length > 0 && (
          <>
            <p>Confirmed still needed:</p>
            <ul class="wrap">
              {step.confirmed.map((c) => (
                <li key={c}>
                  <code>{c}</code>
                </li>
              ))}
            </ul>
          </>
        )}
        {step.kind === "http" && step.httpStatus !== null && <p>HTTP status {step.httpStatus}</p>}
        {step.output && step.kind !== "command" && (
          <Output label={`Output of step ${step.index + 1}`}>{step.output}</Output>
        )}
        {step.output && step.kind === "command" && <p class="wrap">{step.output}</p>}
        {step.commands.length > 0 && <CommandResults step={step} />}
        {current && !confirming && views(false, step.views)}
        {finished && Object.keys(endViews).length > 0 && (
          <details class="more">
            <summary>What it showed of the hosts</summary>
            {views(false, endViews)}
          </details>
        )}
        {current && p.writer && (
          <StepActions path={p.path} step={step} markable={confirming} onDone={p.onDone}>
            {confirming && views(true, step.views)}
          </StepActions>
        )}
      </section>
    </li>
  );
}

/** A command's or request's output: its own scrolling box, reachable by keyboard. */
function Output({ label, children }: { label: string; children: string }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard to scroll
    <section class="output" tabIndex={0} aria-label={label}>
      <pre>{children}</pre>
    </section>
  );
}

function CommandResults({ step }: { step: RunStep }) {
  return (
    <ul class="host-results">
      {step.commands.map((c) => (
        <li key={c.hostId} class="host-view">
          <h3>{c.hostName}</h3>
          <p>
            <Badge tone={commandTone(c.status)}>{COMMAND_LABEL[c.status]}</Badge>
            {c.exitCode !== null && <> exit code {c.exitCode}</>}
            {c.endedAt && c.startedAt && (
              <span class="muted"> · took {Math.max(0, Math.round((c.endedAt - c.startedAt) / 1000))} s</span>
            )}
          </p>
          {c.output && <Output label={`Output on ${c.hostName}, step ${step.index + 1}`}>{c.output}</Output>}
        </li>
      ))}
    </ul>
  );
}

/** Note, then "Mark done" (a manual step waiting for someone) or "Skip" (any step under way). */
function StepActions(p: {
  path: string;
  step: RunStep;
  markable: boolean;
  onDone: (error?: unknown) => Promise<void>;
  children?: ComponentChildren;
}) {
  const form = useRef<HTMLFormElement>(null);
  const [busy, setBusy] = useState(false);
  const id = `step${p.step.index}`;
  const send = async (act: "complete" | "skip") => {
    if (!form.current) return;
    const f = new FormData(form.current);
    const note = text(f, "note");
    const confirmed = f.getAll("confirmed").map(String);
    setBusy(true);
    let error: unknown;
    try {
      await post(`${p.path}/steps/${p.step.index}/${act}`, {
        ...(note ? { note } : {}),
        ...(act === "complete" ? { confirmed } : {}),
      });
    } catch (err) {
      error = err;
    }
    setBusy(false);
    await p.onDone(error);
  };
  return (
    <form
      ref={form}
      class="stack step-actions"
      aria-label={`Finish step ${p.step.index + 1}`}
      onSubmit={(e) => {
        e.preventDefault();
        void send(p.markable ? "complete" : "skip");
      }}
    >
      {p.children}
      <TextArea
        form={id}
        label={p.markable ? "Note (optional)" : "Note for skipping (optional)"}
        name="note"
        rows={2}
      />
      <div class="actions">
        {p.markable && (
          <button type="submit" disabled={busy}>
            Mark done
          </button>
        )}
        <button
          type={p.markable ? "button" : "submit"}
          class={p.markable ? "ghost" : undefined}
          disabled={busy}
          onClick={p.markable ? () => void send("skip") : undefined}
        >
          Skip
        </button>
      </div>
    </form>
  );
}

interface Updates {
  manager: string;
  pending: number;
  security: number;
  packages?: string[];
}
interface Reboot {
  required: boolean;
  since?: number;
  packages?: string[];
}
interface Container {
  id: string;
  name: string;
  image: string;
  state: string;
  health?: string;
  restartCount?: number;
}
type SshKeys = { user: string; fingerprints: string[] }[];
interface KeyChanges {
  added: string[];
  removed: string[];
}
interface BackupView {
  name: string;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
}

/** What a step showed of each host, one card a host; `confirm` adds a checkbox per SSH key. */
function HostViews({ run, views, confirm }: { run: RunbookRun; views: RunStep["views"]; confirm: boolean }) {
  const name = (id: string) => run.hosts.find((h) => h.id === id)?.name ?? id;
  return (
    <ul class="host-views">
      {Object.entries(views).map(([hostId, v]) => (
        <li key={hostId} class="host-view">
          <h3>{name(hostId)}</h3>
          {"updates" in v && <UpdatesView value={v.updates as Updates | null} />}
          {"reboot" in v && <RebootView value={v.reboot as Reboot | null} />}
          {"containers" in v && <ContainersView value={v.containers as Container[] | null} />}
          {"sshKeys" in v && (
            <SshKeysView
              host={name(hostId)}
              value={v.sshKeys as SshKeys | null}
              changes={(v.sinceLastReview as KeyChanges | null | undefined) ?? null}
              confirm={confirm}
            />
          )}
          {"backups" in v && <BackupsView value={v.backups as BackupView[] | null} />}
        </li>
      ))}
    </ul>
  );
}

const notReported = (what: string) => (
  <p>
    {what}: <span class="muted">not reported</span>
  </p>
);

function UpdatesView({ value: u }: { value: Updates | null }) {
  if (!u) return notReported("Updates");
  return (
    <>
      <p>
        Updates:{" "}
        <strong>
          {u.pending} pending, {u.security} security
        </strong>{" "}
        <span class="muted">({u.manager})</span>
        {u.security > 0 && <Badge tone="warn">security</Badge>}
      </p>
      {u.packages && u.packages.length > 0 && (
        <details class="more">
          <summary>{u.packages.length} packages</summary>
          <p class="wrap">{u.packages.join(", ")}</p>
        </details>
      )}
    </>
  );
}

function RebootView({ value: r }: { value: Reboot | null }) {
  if (!r) return notReported("Reboot");
  if (!r.required)
    return (
      <p>
        Reboot: <Badge tone="ok">no reboot needed</Badge>
      </p>
    );
  return (
    <p class="wrap">
      Reboot: <Badge tone="warn">reboot required</Badge>
      {r.since && <> since {ago(r.since)}</>}
      {r.packages && r.packages.length > 0 && (
        <>
          {" "}
          by <code>{r.packages.join(", ")}</code>
        </>
      )}
    </p>
  );
}

function ContainersView({ value }: { value: Container[] | null }) {
  if (!value) return notReported("Containers");
  if (value.length === 0) return <p>Containers: none</p>;
  return (
    <>
      <p>Containers:</p>
      <ul class="wrap">
        {value.map((c) => (
          <li key={c.id}>
            <strong>{c.name}</strong> <span class="muted">{c.image}</span> {c.state}
            {c.health && c.health !== "none" ? ` (${c.health})` : ""}
            {c.restartCount ? `, ${c.restartCount} restarts` : ""}
          </li>
        ))}
      </ul>
    </>
  );
}

function SshKeysView(p: {
  host: string;
  value: SshKeys | null;
  changes: KeyChanges | null;
  confirm: boolean;
}) {
  if (!p.value) return notReported("SSH keys");
  const added = new Set(p.changes?.added ?? []);
  return (
    <>
      <p>
        SSH keys{" "}
        {p.changes ? (
          <span class="muted">
            ({p.changes.added.length} added, {p.changes.removed.length} removed since the last review)
          </span>
        ) : (
          <span class="muted">(first review: nothing to compare with)</span>
        )}
        {p.confirm && <span class="muted"> Tick each key still needed.</span>}
      </p>
      {p.value.map((u) => (
        <div key={u.user}>
          <p>
            <strong>{u.user}</strong>
          </p>
          <ul class="key-list">
            {u.fingerprints.map((f) => {
              const key = `${u.user} ${f}`;
              const mark = added.has(key) && <Badge tone="warn">added since last review</Badge>;
              return (
                <li key={f}>
                  {p.confirm ? (
                    <label>
                      <input type="checkbox" name="confirmed" value={key} /> <code>{f}</code>
                      <span class="visually-hidden">
                        {" "}
                        of {u.user} on {p.host}
                      </span>
                    </label>
                  ) : (
                    <code>{f}</code>
                  )}{" "}
                  {mark}
                </li>
              );
            })}
          </ul>
        </div>
      ))}
      {p.changes && p.changes.removed.length > 0 && (
        <>
          <p>Removed since the last review:</p>
          <ul class="key-list">
            {p.changes.removed.map((k) => (
              <li key={k}>
                <del>
                  <code>{k}</code>
                </del>{" "}
                <Badge tone="muted">removed</Badge>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

function BackupsView({ value }: { value: BackupView[] | null }) {
  if (!value) return notReported("Backups");
  if (value.length === 0) return <p>Backups: no runs reported</p>;
  return (
    <>
      <p>Backups:</p>
      <ul class="wrap">
        {value.map((b) => (
          <li key={b.name}>
            <strong>{b.name}</strong>: last success{" "}
            <span title={when(b.lastSuccessAt)}>{ago(b.lastSuccessAt)}</span>
            {b.lastFailureAt && (
              <>
                , last failure{" "}
                <Badge tone={!b.lastSuccessAt || b.lastFailureAt > b.lastSuccessAt ? "bad" : "muted"}>
                  {ago(b.lastFailureAt)}
                </Badge>
              </>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
