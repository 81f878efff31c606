/**
 * Settings: the project (rename, delete), invitations waiting for you, members with their roles, what the
 * probes collect and how long it is kept, enrollment tokens, API keys (the secret shown once), and the
 * organisation's audit log. Owners and admins change things; everyone else reads what they may.
 */
import type {
  ApiKey,
  ApiKeyScope,
  AuditEntryDto,
  AuditPageDto,
  CreatedApiKey,
  EnrollmentToken,
  MemberDto,
  PendingInvitationDto,
  Project,
  ProjectSettings,
} from "@vigil/contract";
import { useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api, can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { Checkbox, ConfirmButton, Input, list, num, Select, TextArea, text, useForm } from "../form.tsx";
import { clearCache, invalidate, useQuery } from "../query.ts";
import { ago, CopyField, ErrorNote, Field, useAction, when } from "../ui.tsx";

export function SettingsPage() {
  const { role } = useProject();
  const admin = can(role, "admin");
  return (
    <>
      <h1>Settings</h1>
      <ProjectSection />
      <MyInvitations />
      <Members />
      <ProbeSettings />
      <WeeklyReport />
      {admin && <EnrollmentTokens />}
      {admin && <ApiKeys />}
      {admin && (
        <section aria-labelledby="audit-link">
          <h2 id="audit-link">Audit log</h2>
          <p>
            Sign-ins, invitations, role changes and every change to the organisation's projects:{" "}
            <Link href="/settings/audit-log">open the audit log</Link>.
          </p>
        </section>
      )}
    </>
  );
}

function ProjectSection() {
  const { projectId, projectName, role } = useProject();
  const [, navigate] = useLocation();
  const [renamed, setRenamed] = useState(false);
  const rename = useForm(async (f) => {
    await api<Project>(projectPath(projectId, ""), { method: "PATCH", body: { name: text(f, "name") } });
    await invalidate("/api/v1/me");
    setRenamed(true);
  });
  return (
    <section aria-labelledby="project">
      <h2 id="project">Project</h2>
      {!can(role, "admin") ? (
        <p>
          {projectName} <span class="muted">· your role: {role}</span>
        </p>
      ) : (
        <div class="form-card stack">
          <form class="stack" onSubmit={rename.onSubmit}>
            <Input
              form="project"
              label="Project name"
              name="name"
              required
              value={projectName}
              error={rename.errorFor("name")}
            />
            <ErrorNote error={rename.formError(["name"])} />
            <button type="submit" disabled={rename.busy}>
              Rename project
            </button>
            {renamed && !rename.busy && <p role="status">Renamed.</p>}
          </form>
          <ConfirmButton
            label="Delete project"
            confirm={`Delete ${projectName} with all its hosts, checks and history, for everyone?`}
            onConfirm={async () => {
              await api(projectPath(projectId, ""), { method: "DELETE" });
              localStorage.removeItem("vigil.project");
              clearCache();
              navigate("~/");
            }}
          />
        </div>
      )}
    </section>
  );
}

/** Invitations to the signed-in person's own address, from any organisation (also shown with no project yet). */
export function MyInvitations() {
  const invitations = useQuery<{ invitations: PendingInvitationDto[] }>("/api/v1/me/invitations", {
    pollMs: 30_000,
  });
  const [error, setError] = useState<string | null>(null);
  const list = invitations.data?.invitations ?? [];
  if (list.length === 0) return null;
  const answer = async (verb: "accept" | "reject", id: string) => {
    setError(null);
    try {
      await post(`/api/auth/organization/${verb}-invitation`, { invitationId: id });
      await Promise.all([invalidate("/api/v1/me"), invitations.refetch()]);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section aria-labelledby="my-invitations">
      <h2 id="my-invitations">Your invitations</h2>
      <ul>
        {list.map((i) => (
          <li key={i.id}>
            Join <strong>{i.organizationName}</strong> as {i.role}
            {i.inviterEmail ? `, from ${i.inviterEmail}` : ""}{" "}
            <span class="muted">(expires {ago(i.expiresAt)})</span>{" "}
            <button type="button" class="small" onClick={() => answer("accept", i.id)}>
              Accept<span class="visually-hidden"> the invitation to {i.organizationName}</span>
            </button>{" "}
            <button type="button" class="small danger" onClick={() => answer("reject", i.id)}>
              Decline<span class="visually-hidden"> the invitation to {i.organizationName}</span>
            </button>
          </li>
        ))}
      </ul>
      <ErrorNote error={error} />
    </section>
  );
}

const ROLE_OPTIONS = ["admin", "member", "viewer"] as const;

function Members() {
  const { orgId, role, me } = useProject();
  const path = `/api/v1/orgs/${orgId}/members`;
  const members = useQuery<{ members: MemberDto[] }>(path);
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const admin = can(role, "admin");
  const invite = useAction(async (form) => {
    const res = await post<{ acceptUrl: string }>(`/api/v1/orgs/${orgId}/invitations`, {
      email: String(form.get("email")),
      role: String(form.get("role")),
    });
    setLink(res.acceptUrl);
    await invalidate(path);
  });
  const act = async (run: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await run();
      await invalidate(path);
      setStatus(done);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section aria-labelledby="members">
      <h2 id="members">Members</h2>
      <ErrorNote error={members.error ?? error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {members.data?.members.map((m) => {
              // Ownership moves by transfer, and nobody demotes themselves by accident here.
              const editable = admin && m.role !== "owner" && m.userId !== me.user.id;
              return (
                <tr key={m.id}>
                  <td>{m.name}</td>
                  <td class="wrap">{m.email}</td>
                  <td>
                    {editable ? (
                      <select
                        aria-label={`Role of ${m.email}`}
                        value={m.role}
                        onChange={(e) => {
                          const next = (e.target as HTMLSelectElement).value;
                          void act(
                            () =>
                              post("/api/auth/organization/update-member-role", {
                                memberId: m.id,
                                role: next,
                                organizationId: orgId,
                              }),
                            `${m.email} is now ${next}`,
                          );
                        }}
                      >
                        {ROLE_OPTIONS.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    ) : (
                      m.role
                    )}
                  </td>
                  {admin && (
                    <td>
                      {editable && (
                        <span class="actions">
                          <ConfirmButton
                            label="Remove"
                            confirm={`Remove ${m.email} from the organisation?`}
                            onConfirm={() =>
                              act(
                                () =>
                                  post("/api/auth/organization/remove-member", {
                                    memberIdOrEmail: m.id,
                                    organizationId: orgId,
                                  }),
                                `${m.email} removed`,
                              )
                            }
                          />
                          {role === "owner" && (
                            <ConfirmButton
                              label="Make owner"
                              confirm={`Hand ownership to ${m.email}? You become an admin.`}
                              onConfirm={async () => {
                                await post(`/api/v1/orgs/${orgId}/transfer-ownership`, { memberId: m.id });
                                await invalidate("/api/v1/me");
                                await invalidate(path);
                              }}
                            />
                          )}
                        </span>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p role="status" class="muted">
        {status ?? ""}
      </p>
      {admin && (
        <form class="stack form-card" onSubmit={invite.onSubmit}>
          <Field label="Invite by email" name="email" type="email" required />
          <div class="field">
            <label for="f-role">Role</label>
            <select id="f-role" name="role">
              <option value="member">member</option>
              <option value="viewer">viewer</option>
              <option value="admin">admin</option>
            </select>
          </div>
          <ErrorNote error={invite.error} />
          <button type="submit" disabled={invite.busy}>
            Invite
          </button>
          {link && <CopyField label="Invitation link" value={link} />}
        </form>
      )}
    </section>
  );
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** The optional weekly email: who gets it and when, and a send-now to see it. */
function WeeklyReport() {
  const { projectId, role } = useProject();
  const path = projectPath(projectId, "/settings");
  const settings = useQuery<ProjectSettings>(path);
  const [status, setStatus] = useState<string | null>(null);
  const admin = can(role, "admin");
  const save = useForm(async (f) => {
    await api<ProjectSettings>(path, {
      method: "PATCH",
      body: {
        reports: {
          weekly: f.get("weekly") === "on",
          to: list(text(f, "reportTo")),
          weekday: num(f, "weekday"),
          hour: num(f, "hour"),
          timezone: text(f, "reportTimezone") ?? "UTC",
        },
      },
    });
    await settings.refetch();
    setStatus("Saved.");
  });
  const sendNow = useAction(async () => {
    const sent = await post<{ to: string[] }>(projectPath(projectId, "/reports/weekly/send"), {});
    setStatus(`Sent to ${sent.to.join(", ")}.`);
  });
  const r = settings.data?.reports;
  if (!r) return null;
  return (
    <section aria-labelledby="weekly">
      <h2 id="weekly">Weekly report</h2>
      <p>
        One email a week: uptime per check, incidents, alerts fired, hosts with security updates pending or a
        reboot required, and backups that failed or stopped.
      </p>
      {!admin ? (
        <p>
          {r.weekly
            ? `Sent on ${WEEKDAYS[r.weekday]}s at ${r.hour}:00 (${r.timezone}) to ${r.to.join(", ")}.`
            : "Not sent."}
        </p>
      ) : (
        <form class="stack form-card" onSubmit={save.onSubmit} key={JSON.stringify(r)}>
          <Checkbox form="reports" label="Send the weekly report" name="weekly" checked={r.weekly} />
          <Input
            form="reports"
            label="Send it to"
            name="reportTo"
            value={r.to.join(", ")}
            hint="Email addresses, comma-separated."
            error={save.errorFor("reports")}
          />
          <Select
            form="reports"
            label="On"
            name="weekday"
            value={String(r.weekday)}
            options={WEEKDAYS.map((d, i) => [String(i), d] as [string, string])}
          />
          <Input
            form="reports"
            label="At (hour, 0–23)"
            name="hour"
            type="number"
            min={0}
            max={23}
            value={r.hour}
          />
          <Input form="reports" label="Time zone" name="reportTimezone" value={r.timezone} />
          <ErrorNote error={save.formError(["reports"])} />
          <button type="submit" disabled={save.busy}>
            Save weekly report
          </button>
        </form>
      )}
      {admin && r.to.length > 0 && (
        <form onSubmit={sendNow.onSubmit}>
          <button type="submit" class="small" disabled={sendNow.busy}>
            Send this week's report now
          </button>
        </form>
      )}
      <ErrorNote error={sendNow.error} />
      {status && !save.busy && !sendNow.busy && <p role="status">{status}</p>}
    </section>
  );
}

const PRIORITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/** What every probe of the project collects and how long Vigil keeps it (hosts may override the probe part). */
function ProbeSettings() {
  const { projectId, role } = useProject();
  const path = projectPath(projectId, "/settings");
  const settings = useQuery<ProjectSettings>(path);
  const [saved, setSaved] = useState(false);
  const admin = can(role, "admin");
  const save = useForm(async (f) => {
    await api<ProjectSettings>(path, {
      method: "PATCH",
      body: {
        probe: {
          intervalSec: num(f, "intervalSec"),
          journal: { minPriority: num(f, "minPriority"), units: list(text(f, "units")) },
        },
        retention: {
          rawDays: num(f, "rawDays"),
          hourlyDays: num(f, "hourlyDays"),
          dailyDays: num(f, "dailyDays"),
          logDays: num(f, "logDays"),
          logsPerHost: num(f, "logsPerHost"),
        },
        alerts: { logLines: num(f, "logLines"), redact: list(text(f, "redact")) },
      },
    });
    await settings.refetch();
    setSaved(true);
  });
  const s = settings.data;
  return (
    <section aria-labelledby="probe">
      <h2 id="probe">Probe configuration</h2>
      <p>
        Each probe collects CPU, load, memory and swap, filesystems, disk and network I/O, pressure (PSI),
        systemd units, OS updates and reboot state, containers, SSH keys and the journal, and reports every
        interval below. On a server its own settings (server, token, collectors to turn off, spool size) live
        in <code>/etc/vigil/probe.json</code> and its state in <code>/var/lib/vigil-probe</code>; what is set
        here reaches every probe with its next report.
      </p>
      <CopyField
        label="Install line"
        value={`curl -fsSL ${location.origin}/install.sh | sudo sh -s -- --token <enrollment token>`}
      />
      <ErrorNote error={settings.error} />
      {s && !admin && (
        <dl class="facts">
          <dt>Interval</dt>
          <dd>{s.probe.intervalSec} s</dd>
          <dt>Journal</dt>
          <dd>
            {PRIORITIES[s.probe.journal.minPriority]} and more severe, from{" "}
            {s.probe.journal.units.length ? s.probe.journal.units.join(", ") : "every unit"}
          </dd>
          <dt>Kept</dt>
          <dd>
            raw samples {s.retention.rawDays} d, hourly {s.retention.hourlyDays} d, daily{" "}
            {s.retention.dailyDays} d, logs {s.retention.logDays} d (at most {s.retention.logsPerHost} a host)
          </dd>
          <dt>Alerts quote</dt>
          <dd>
            {s.alerts.logLines ? `up to ${s.alerts.logLines} log lines` : "no log lines"}
            {s.alerts.redact.length ? `, redacting ${s.alerts.redact.join(", ")}` : ""}
          </dd>
        </dl>
      )}
      {s && admin && (
        <form class="stack form-card" onSubmit={save.onSubmit} key={JSON.stringify(s)}>
          <Input
            form="probe"
            label="Collect every (seconds)"
            name="intervalSec"
            type="number"
            min={5}
            max={3600}
            value={s.probe.intervalSec}
            error={save.errorFor("probe")}
          />
          <Select
            form="probe"
            label="Keep journal entries from priority"
            name="minPriority"
            value={String(s.probe.journal.minPriority)}
            options={PRIORITIES.map((p, i) => [String(i), `${i} ${p} and more severe`] as [string, string])}
          />
          <TextArea
            form="probe"
            label="Only these units"
            name="units"
            value={s.probe.journal.units.join("\n")}
            hint="One a line; empty reads every unit."
          />
          <fieldset class="stack">
            <legend>Keep (days)</legend>
            <Input
              form="probe"
              label="Raw samples"
              name="rawDays"
              type="number"
              value={s.retention.rawDays}
            />
            <Input
              form="probe"
              label="Hourly rollups"
              name="hourlyDays"
              type="number"
              value={s.retention.hourlyDays}
            />
            <Input
              form="probe"
              label="Daily rollups"
              name="dailyDays"
              type="number"
              value={s.retention.dailyDays}
            />
            <Input
              form="probe"
              label="Log entries"
              name="logDays"
              type="number"
              value={s.retention.logDays}
            />
            <Input
              form="probe"
              label="Log entries per host (newest kept)"
              name="logsPerHost"
              type="number"
              value={s.retention.logsPerHost}
            />
          </fieldset>
          <fieldset class="stack">
            <legend>Log lines in alerts</legend>
            <Input
              form="alerts"
              label="Lines an alert quotes at most"
              name="logLines"
              type="number"
              min={0}
              max={50}
              value={s.alerts.logLines}
              hint="0 quotes none."
            />
            <TextArea
              form="alerts"
              label="Also redact"
              name="redact"
              value={s.alerts.redact.join("\n")}
              hint="Regular expressions, one a line, case-insensitive; passwords, tokens and keys are always redacted."
              error={save.errorFor("alerts")}
            />
          </fieldset>
          <ErrorNote error={save.formError(["probe", "alerts"])} />
          <button type="submit" disabled={save.busy}>
            Save probe configuration
          </button>
          {saved && !save.busy && <p role="status">Saved.</p>}
        </form>
      )}
    </section>
  );
}

function EnrollmentTokens() {
  const { projectId } = useProject();
  const path = projectPath(projectId, "/enrollment-tokens");
  const tokens = useQuery<{ enrollmentTokens: EnrollmentToken[] }>(path, { pollMs: 30_000 });
  const [fresh, setFresh] = useState<string | null>(null);
  const create = useAction(async (form) => {
    const t = await post<{ token: string }>(path, { name: String(form.get("name")) });
    setFresh(t.token);
    await invalidate(path);
  });
  return (
    <section aria-labelledby="tokens">
      <h2 id="tokens">Enrollment tokens</h2>
      <ul>
        {tokens.data?.enrollmentTokens.map((t) => (
          <li key={t.id}>
            {t.name} <span class="muted">({t.prefix}…)</span> — created {ago(t.createdAt)}, used {t.useCount}×
            {t.revokedAt ? (
              <span class="muted"> · revoked</span>
            ) : (
              <>
                {" "}
                <ConfirmButton
                  label="Revoke"
                  confirm={`Revoke ${t.name}? Servers already enrolled keep working.`}
                  onConfirm={async () => {
                    await api(`${path}/${t.id}`, { method: "DELETE" });
                    await invalidate(path);
                  }}
                />
              </>
            )}
          </li>
        ))}
      </ul>
      <form class="stack form-card" onSubmit={create.onSubmit}>
        <Field label="Token name" name="name" required placeholder="web servers" />
        <ErrorNote error={create.error} />
        <button type="submit" disabled={create.busy}>
          Create token
        </button>
        {fresh && (
          <CopyField
            label="Install line"
            value={`curl -fsSL ${location.origin}/install.sh | sudo sh -s -- --token ${fresh}`}
          />
        )}
      </form>
    </section>
  );
}

const SCOPES: [ApiKeyScope, string][] = [
  ["read", "read: everything, no changes"],
  ["write", "write: checks, rules, channels, status pages, silences"],
  ["ingest", "ingest: events, deploy markers and silences from deploy scripts"],
  ["admin", "admin: everything, keys and settings included"],
];

function ApiKeys() {
  const { projectId } = useProject();
  const path = projectPath(projectId, "/api-keys");
  const keys = useQuery<{ apiKeys: ApiKey[] }>(path);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const create = useForm(async (f) => {
    const scopes = SCOPES.map(([s]) => s).filter((s) => f.get(`scope-${s}`) === "on");
    if (scopes.length === 0) throw new Error("tick at least one scope");
    setCreated(await post<CreatedApiKey>(path, { name: text(f, "name"), scopes }));
    (document.getElementById("new-key-form") as HTMLFormElement | null)?.reset();
    await invalidate(path);
  });
  return (
    <section aria-labelledby="keys">
      <h2 id="keys">API keys</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {keys.data?.apiKeys.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.scopes.join(", ")}</td>
                <td>{when(k.createdAt)}</td>
                <td>{ago(k.lastUsedAt)}</td>
                <td>
                  <ConfirmButton
                    label="Revoke"
                    confirm={`Revoke ${k.name}? Scripts using it stop working at once.`}
                    onConfirm={async () => {
                      await api(`${path}/${k.id}`, { method: "DELETE" });
                      await invalidate(path);
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {created && (
        <div class="secret" role="status">
          <p>
            <strong>Copy the key now:</strong> it is shown this once and Vigil keeps only its hash.
          </p>
          <CopyField label={`Key ${created.name}`} value={created.key} />
          <button type="button" class="small" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </div>
      )}
      <form id="new-key-form" class="stack form-card" onSubmit={create.onSubmit}>
        <Input
          form="key"
          label="Key name"
          name="name"
          required
          placeholder="grafana"
          error={create.errorFor("name")}
        />
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map(([s, label]) => (
            <Checkbox key={s} form="key" label={label} name={`scope-${s}`} checked={s === "read"} />
          ))}
        </fieldset>
        <ErrorNote error={create.formError(["name"])} />
        <button type="submit" disabled={create.busy}>
          Create API key
        </button>
      </form>
    </section>
  );
}

const AUDIT_PAGE = 25;

/**
 * The organisation's audit log, newest first: the first page follows live, older pages load on request.
 * A page of its own: it is long, and its names and addresses would repeat the members list's.
 */
export function AuditLogPage() {
  const { orgId } = useProject();
  const base = `/api/v1/orgs/${orgId}/audit-log?limit=${AUDIT_PAGE}`;
  const first = useQuery<AuditPageDto>(base);
  const [older, setOlder] = useState<AuditEntryDto[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const cursor = next === undefined ? first.data?.nextBefore : next;
  const loadOlder = async () => {
    if (!cursor) return;
    try {
      const page = await api<AuditPageDto>(`${base}&before=${cursor}`);
      setOlder([...older, ...page.entries]);
      setNext(page.nextBefore);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const seen = new Set<string>();
  const entries = [...(first.data?.entries ?? []), ...older].filter((e) => !seen.has(e.id) && seen.add(e.id));
  return (
    <>
      <p>
        <Link href="/settings">← Settings</Link>
      </p>
      <h1>Audit log</h1>
      <ErrorNote error={first.error ?? error} />
      <div class="table-wrap">
        <table data-testid="audit-log">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{when(e.at)}</td>
                <td class="wrap">{e.actor.label ?? e.actor.type}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td class="wrap">
                  {e.target ? `${e.target.type}` : ""}
                  {Object.keys(e.detail).length > 0 && (
                    <span class="muted">
                      {" "}
                      {Object.entries(e.detail)
                        .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
                        .join(", ")}
                    </span>
                  )}
                </td>
                <td class="wrap">{e.ip ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cursor ? (
        <button type="button" class="small" onClick={loadOlder}>
          Older entries
        </button>
      ) : (
        first.data && (
          <p class="muted">{entries.length === 0 ? "Nothing recorded yet." : "That is everything."}</p>
        )
      )}
    </>
  );
}
