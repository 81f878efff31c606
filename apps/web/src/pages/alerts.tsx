/**
 * Alerts, in four tabs (each its own URL): what is firing or pending now with the history of changes;
 * the rules (built-in pack and custom) with their thresholds; silences; maintenance windows. People who
 * may write create, change and end things here; viewers read.
 */
import type {
  Alert,
  aggregations,
  Flip,
  Host,
  MaintenanceWindow,
  Rule,
  RuleKindName,
  Silence,
} from "@vigil/contract";
import { useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { api, can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, Badge, duration, Empty, ErrorNote, Field, useAction, when } from "../ui.tsx";
import { logsAround } from "./logs.tsx";

const TABS = [
  ["", "Firing and history"],
  ["/rules", "Rules"],
  ["/silences", "Silences"],
  ["/maintenance", "Maintenance"],
] as const;

export function AlertsPage() {
  const { tab } = useParams<{ tab?: string }>();
  const current = tab ? `/${tab}` : "";
  return (
    <>
      <h1>Alerts</h1>
      <nav aria-label="Alerts" class="tabs">
        {TABS.map(([path, label]) => (
          <Link
            key={path}
            class="tab"
            href={`/alerts${path}`}
            aria-current={current === path ? "page" : undefined}
          >
            {label}
          </Link>
        ))}
      </nav>
      {current === "/rules" ? (
        <RulesTab />
      ) : current === "/silences" ? (
        <SilencesTab />
      ) : current === "/maintenance" ? (
        <MaintenanceTab />
      ) : (
        <FiringTab />
      )}
    </>
  );
}

const stateTone = (s: Alert["state"]) => (s === "firing" ? "bad" : s === "pending" ? "warn" : "ok");
const stateLabel = (s: Alert["state"]) => (s === "inactive" ? "resolved" : s);

function useHosts() {
  const { projectId } = useProject();
  return useQuery<{ hosts: Host[] }>(projectPath(projectId, "/hosts"), { pollMs: 30_000 }).data?.hosts ?? [];
}

function FiringTab() {
  const { projectId } = useProject();
  const live = useQuery<{ alerts: Alert[] }>(projectPath(projectId, "/alerts"));
  const all = useQuery<{ alerts: Alert[] }>(projectPath(projectId, "/alerts?state=all&limit=100"));
  const now = live.data?.alerts ?? [];
  return (
    <>
      <ErrorNote error={live.error ?? all.error} />
      <section aria-labelledby="alerts-now">
        <h2 id="alerts-now">Firing and pending</h2>
        {live.data && now.length === 0 ? (
          <Empty title="Nothing is firing">
            <p>
              Rules watch every host: disk, memory, load, backups, updates, failed units and more (see Rules).
              When one holds for its "for" time, its alert fires and your channels hear about it.
            </p>
          </Empty>
        ) : (
          <AlertTable alerts={now} label="Alerts firing or pending" />
        )}
      </section>
      <section aria-labelledby="alerts-history">
        <h2 id="alerts-history">History</h2>
        {(all.data?.alerts ?? []).length === 0 ? (
          <p class="muted">No alert has changed state yet.</p>
        ) : (
          <AlertTable alerts={all.data?.alerts ?? []} label="Alert history, latest change first" />
        )}
      </section>
    </>
  );
}

function AlertTable({ alerts, label }: { alerts: Alert[]; label: string }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">{label}</caption>
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Alert</th>
            <th scope="col">Host</th>
            <th scope="col">Since</th>
            <th scope="col">Cause</th>
            <th scope="col">Logs</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => {
            const moment = a.firingSince ?? a.pendingSince ?? a.stateChangedAt;
            return (
              <tr key={a.id}>
                <td>
                  <Badge tone={stateTone(a.state)}>{stateLabel(a.state)}</Badge>
                </td>
                <td>
                  {a.name}
                  <div class="muted">{a.ruleName}</div>
                  <AlertChanges alert={a} />
                </td>
                <td>
                  <Link href={`/hosts/${a.hostId}`}>{a.hostName}</Link>
                </td>
                <td title={when(a.stateChangedAt)}>{ago(a.stateChangedAt)}</td>
                <td>{a.cause}</td>
                <td>
                  <Link href={logsAround(moment, a.hostId)}>
                    Lines around {when(moment)}
                    <span class="visually-hidden"> on {a.hostName}</span>
                  </Link>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** An alert's own history (its flips), fetched only while someone has it open. */
function AlertChanges({ alert }: { alert: Alert }) {
  const { projectId } = useProject();
  const [open, setOpen] = useState(false);
  const detail = useQuery<Alert & { flips: Flip[] }>(
    open ? projectPath(projectId, `/alerts/${alert.id}?limit=20`) : null,
  );
  return (
    <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>
        Changes<span class="visually-hidden"> of {alert.name}</span>
      </summary>
      <ErrorNote error={detail.error} />
      <ul class="history">
        {(detail.data?.flips ?? []).map((f) => (
          <li key={f.id}>
            {when(f.at)}: {f.from} → {f.to} <span class="muted">{f.cause}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}

/* ------------------------------------------------------------------ rules */

type ParamField =
  | { key: string; label: string; type: "number"; step?: string; hint?: string }
  | { key: string; label: string; type: "text"; hint?: string }
  | { key: string; label: string; type: "select"; options: readonly string[]; hint?: string }
  | { key: string; label: string; type: "bool" };

/** The contract's list, written out: the contract's values would bring zod into the page's bundle. */
const AGGREGATIONS: readonly (typeof aggregations)[number][] = ["last", "avg", "max", "min", "rate", "delta"];

/** The parameters a person sets per kind; the rest keep their defaults (README: alert rules). */
const PARAMS: Record<RuleKindName, ParamField[]> = {
  metric: [
    {
      key: "metric",
      label: "Metric",
      type: "text",
      hint: "e.g. fs.used_pct, mem.available_pct, load.1, or an application's own: queue_depth",
    },
    { key: "op", label: "Comparison", type: "select", options: [">", ">=", "<", "<="] },
    { key: "value", label: "Threshold", type: "number", step: "any" },
    {
      key: "aggregation",
      label: "Aggregation",
      type: "select",
      options: AGGREGATIONS,
      hint: "over the window; rate: a counter's increase per second, delta: a gauge's change",
    },
    { key: "windowSec", label: "Window (seconds)", type: "number" },
  ],
  reboot_required: [{ key: "days", label: "Days a reboot may wait", type: "number", step: "any" }],
  security_updates: [{ key: "days", label: "Days updates may wait", type: "number", step: "any" }],
  failed_units: [],
  container: [
    { key: "restarts", label: "Restarts more than", type: "number" },
    { key: "windowMinutes", label: "Within (minutes)", type: "number" },
    { key: "notRunning", label: "Alert when not running", type: "bool" },
    { key: "unhealthy", label: "Alert when unhealthy", type: "bool" },
  ],
  ssh_keys: [],
  backup: [
    { key: "name", label: "Backup name (empty: each name)", type: "text" },
    { key: "maxAgeHours", label: "Max age of the last success (hours)", type: "number", step: "any" },
    { key: "failed", label: "Alert when the last run failed", type: "bool" },
  ],
  log: [
    { key: "unit", label: "Unit (empty: any)", type: "text" },
    { key: "text", label: "Message contains", type: "text" },
    { key: "maxPriority", label: "Priority this or worse (0–7)", type: "number" },
    { key: "windowSec", label: "Window (seconds)", type: "number" },
    { key: "above", label: "Fires above this many lines", type: "number" },
  ],
  forecast: [
    { key: "mount", label: "Mount point (empty: every filesystem)", type: "text" },
    { key: "withinHours", label: "Full within (hours)", type: "number", step: "any" },
  ],
  metric_absent: [
    {
      key: "metric",
      label: "Metric",
      type: "text",
      hint: "a series that reported before, e.g. up or queue_depth",
    },
    { key: "minutes", label: "Silent for more than (minutes)", type: "number" },
  ],
  host_down: [{ key: "periodSec", label: "Probe interval (seconds)", type: "number" }],
  backup_check: [
    { key: "name", label: "Repository name (empty: each repository)", type: "text" },
    { key: "maxAgeDays", label: "A check at least every (days)", type: "number", step: "any" },
    { key: "failed", label: "Alert when the last check found damage or could not run", type: "bool" },
  ],
  backup_drill: [
    { key: "name", label: "Repository name (empty: each repository)", type: "text" },
    { key: "maxAgeDays", label: "A good restore drill at least every (days)", type: "number", step: "any" },
    { key: "failed", label: "Alert when the last drill failed", type: "bool" },
  ],
  backup_copies: [
    { key: "minCopies", label: "Backup copies at least", type: "number" },
    { key: "offsite", label: "Alert without a copy off site", type: "bool" },
    {
      key: "maxAgeHours",
      label: "Newest snapshot of each copy within (hours)",
      type: "number",
      step: "any",
      hint: "as the copy's last check saw it",
    },
  ],
  backup_size: [
    { key: "name", label: "Repository name (empty: each repository)", type: "text" },
    { key: "shrinkPct", label: "Alert when it shrinks by more than (%)", type: "number", step: "any" },
    { key: "maxBytes", label: "Alert above (bytes)", type: "number", step: "any" },
  ],
};

const KINDS = Object.keys(PARAMS) as RuleKindName[];

/** The threshold in words, from the rule's parameters. */
function threshold(r: Rule): string {
  const p = r.params as Record<string, unknown>;
  switch (r.kind) {
    case "metric":
      return `${p.metric} ${p.op} ${p.value}${p.perCore ? " per core" : ""}${p.aggregation && p.aggregation !== "last" ? ` (${p.aggregation} over ${p.windowSec} s)` : ""}`;
    case "reboot_required":
    case "security_updates":
      return `waiting more than ${p.days} d`;
    case "container":
      return `more than ${p.restarts} restarts in ${p.windowMinutes} min`;
    case "backup":
      return `${p.name ? `${p.name}: ` : ""}older than ${p.maxAgeHours} h${p.failed ? " or failed" : ""}`;
    case "log":
      return `more than ${p.above} lines in ${p.windowSec} s${p.text ? ` containing "${p.text}"` : ""}`;
    case "forecast":
      return `full within ${p.withinHours} h`;
    case "metric_absent":
      return `${p.metric} silent over ${p.minutes} min`;
    case "host_down":
      return `silent for 3 × ${p.periodSec} s`;
    case "backup_check":
      return `${p.name ? `${p.name}: ` : ""}checked within ${p.maxAgeDays} d${p.failed ? ", and sound" : ""}`;
    case "backup_drill":
      return `${p.name ? `${p.name}: ` : ""}a good drill within ${p.maxAgeDays} d`;
    case "backup_copies":
      return `${p.minCopies} copies${p.offsite ? ", one off site" : ""}${p.maxAgeHours ? `, none older than ${p.maxAgeHours} h` : ""}`;
    case "backup_size":
      return `${p.name ? `${p.name}: ` : ""}${p.shrinkPct ? `shrinks at most ${p.shrinkPct}%` : ""}${p.maxBytes ? ` at most ${p.maxBytes} bytes` : ""}`;
    default:
      return r.kind.replace("_", " ");
  }
}

function scopeText(r: Rule, hosts: Host[]): string {
  if (r.scope === "tag") return `tag ${r.tag}`;
  if (r.scope === "host") return hosts.find((h) => h.id === r.hostId)?.name ?? "one host";
  return "all hosts";
}

function RulesTab() {
  const { projectId, role } = useProject();
  const rules = useQuery<{ rules: Rule[] }>(projectPath(projectId, "/rules"));
  const hosts = useHosts();
  const [editing, setEditing] = useState<Rule | null>(null);
  const writer = can(role, "write");
  const list = rules.data?.rules ?? [];
  const builtin = list.filter((r) => r.builtin);
  const custom = list.filter((r) => !r.builtin);
  return (
    <>
      <ErrorNote error={rules.error} />
      <section aria-labelledby="rules-builtin">
        <h2 id="rules-builtin">Built-in pack</h2>
        <RuleTable rules={builtin} hosts={hosts} writer={writer} onEdit={setEditing} label="Built-in rules" />
      </section>
      <section aria-labelledby="rules-custom">
        <h2 id="rules-custom">Custom rules</h2>
        {rules.data && custom.length === 0 ? (
          <Empty title="No custom rules yet">
            <p>
              Add a rule for what matters on your servers: a metric threshold (say{" "}
              <code>fs.used_pct &gt; 80</code> on <code>/srv</code>), log lines matching a text, a backup that
              must run hourly, an application's metric gone silent. Scope it to every host, a tag or one host.
            </p>
          </Empty>
        ) : (
          <RuleTable rules={custom} hosts={hosts} writer={writer} onEdit={setEditing} label="Custom rules" />
        )}
      </section>
      {writer && (
        <RuleForm key={editing?.id ?? "new"} rule={editing} hosts={hosts} onDone={() => setEditing(null)} />
      )}
    </>
  );
}

function RuleTable(props: {
  rules: Rule[];
  hosts: Host[];
  writer: boolean;
  onEdit: (r: Rule) => void;
  label: string;
}) {
  const { projectId } = useProject();
  const [error, setError] = useState<string | null>(null);
  const act = async (run: () => Promise<unknown>) => {
    setError(null);
    try {
      await run();
      await invalidate(projectPath(projectId, "/rules"));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <ErrorNote error={error} />
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">{props.label}</caption>
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Threshold</th>
              <th scope="col">For</th>
              <th scope="col">Scope</th>
              <th scope="col">State</th>
              {props.writer && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {props.rules.map((r) => (
              <tr key={r.id}>
                <th scope="row">
                  {r.name}
                  <div class="muted">{r.kind.replace("_", " ")}</div>
                </th>
                <td>{threshold(r)}</td>
                <td>{r.forSec ? duration(r.forSec) : "at once"}</td>
                <td>{scopeText(r, props.hosts)}</td>
                <td>
                  <Badge tone={r.enabled ? "ok" : "muted"}>{r.enabled ? "on" : "off"}</Badge>
                </td>
                {props.writer && (
                  <td class="actions">
                    <button
                      type="button"
                      class="small"
                      onClick={() =>
                        act(() =>
                          api(projectPath(projectId, `/rules/${r.id}`), {
                            method: "PATCH",
                            body: { enabled: !r.enabled },
                          }),
                        )
                      }
                    >
                      {r.enabled ? "Switch off" : "Switch on"}
                      <span class="visually-hidden"> {r.name}</span>
                    </button>
                    <button type="button" class="small" onClick={() => props.onEdit(r)}>
                      Edit<span class="visually-hidden"> {r.name}</span>
                    </button>
                    {!r.builtin && (
                      <button
                        type="button"
                        class="small"
                        onClick={() => {
                          if (confirm(`Delete the rule "${r.name}" and its alerts?`))
                            void act(() =>
                              api(projectPath(projectId, `/rules/${r.id}`), { method: "DELETE" }),
                            );
                        }}
                      >
                        Delete<span class="visually-hidden"> {r.name}</span>
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function paramsFrom(form: FormData, kind: RuleKindName): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const f of PARAMS[kind]) {
    const raw = form.get(`p-${f.key}`);
    if (f.type === "bool") params[f.key] = raw === "on";
    else if (f.type === "number") {
      if (raw !== null && String(raw) !== "") params[f.key] = Number(raw);
    } else {
      const text = String(raw ?? "").trim();
      // Optional names and texts: empty means "any", which the API spells null.
      params[f.key] = text === "" ? null : text;
    }
  }
  return params;
}

function RuleForm({ rule, hosts, onDone }: { rule: Rule | null; hosts: Host[]; onDone: () => void }) {
  const { projectId } = useProject();
  const [kind, setKind] = useState<RuleKindName>(rule?.kind ?? "metric");
  const [scope, setScope] = useState<Rule["scope"]>(rule?.scope ?? "all");
  const save = useAction(async (form) => {
    const body = {
      name: String(form.get("name")),
      params: paramsFrom(form, kind),
      scope,
      tag: scope === "tag" ? String(form.get("tag")) : null,
      hostId: scope === "host" ? String(form.get("hostId")) : null,
      forSec: Math.round(Number(form.get("forMinutes") || 0) * 60),
      description: String(form.get("description") ?? ""),
    };
    if (rule) {
      await api(projectPath(projectId, `/rules/${rule.id}`), { method: "PATCH", body });
    } else {
      await post(projectPath(projectId, "/rules"), { ...body, kind });
      (document.getElementById("rule-form") as HTMLFormElement | null)?.reset();
    }
    await invalidate(projectPath(projectId, "/rules"));
    onDone();
  });
  const p = (rule?.params ?? {}) as Record<string, unknown>;
  return (
    <section aria-labelledby="rule-form-title">
      <h2 id="rule-form-title">{rule ? `Edit rule: ${rule.name}` : "New rule"}</h2>
      <form id="rule-form" class="stack form-card" onSubmit={save.onSubmit}>
        <Field label="Rule name" name="name" required value={rule?.name} placeholder="/srv above 80%" />
        <div class="field">
          <label for="f-rule-kind">Kind</label>
          <select
            id="f-rule-kind"
            disabled={!!rule}
            onChange={(e) => setKind((e.target as HTMLSelectElement).value as RuleKindName)}
          >
            {KINDS.map((k) => (
              <option key={k} value={k} selected={k === kind}>
                {k.replace("_", " ")}
              </option>
            ))}
          </select>
        </div>
        {PARAMS[kind].map((f) =>
          f.type === "bool" ? (
            <label key={`${kind}-${f.key}`}>
              <input type="checkbox" name={`p-${f.key}`} defaultChecked={p[f.key] !== false} /> {f.label}
            </label>
          ) : f.type === "select" ? (
            <div class="field" key={`${kind}-${f.key}`}>
              <label for={`f-p-${f.key}`}>{f.label}</label>
              <select
                id={`f-p-${f.key}`}
                name={`p-${f.key}`}
                aria-describedby={f.hint ? `f-p-${f.key}-hint` : undefined}
              >
                {f.options.map((o) => (
                  <option key={o} value={o} selected={p[f.key] === o}>
                    {o}
                  </option>
                ))}
              </select>
              {f.hint && (
                <small id={`f-p-${f.key}-hint`} class="muted">
                  {f.hint}
                </small>
              )}
            </div>
          ) : (
            <div class="field" key={`${kind}-${f.key}`}>
              <label for={`f-p-${f.key}`}>{f.label}</label>
              <input
                id={`f-p-${f.key}`}
                name={`p-${f.key}`}
                type={f.type}
                step={f.type === "number" ? (f.step ?? "1") : undefined}
                defaultValue={p[f.key] === null || p[f.key] === undefined ? "" : String(p[f.key])}
                required={
                  (kind === "metric" && f.key === "value") ||
                  ((kind === "metric" || kind === "metric_absent") && f.key === "metric")
                }
                aria-describedby={"hint" in f && f.hint ? `f-p-${f.key}-hint` : undefined}
              />
              {"hint" in f && f.hint && (
                <small id={`f-p-${f.key}-hint`} class="muted">
                  {f.hint}
                </small>
              )}
            </div>
          ),
        )}
        <div class="field">
          <label for="f-rule-scope">Applies to</label>
          <select
            id="f-rule-scope"
            onChange={(e) => setScope((e.target as HTMLSelectElement).value as Rule["scope"])}
          >
            <option value="all" selected={scope === "all"}>
              All hosts
            </option>
            <option value="tag" selected={scope === "tag"}>
              Hosts with a tag
            </option>
            <option value="host" selected={scope === "host"}>
              One host
            </option>
          </select>
        </div>
        {scope === "tag" && <Field label="Tag" name="tag" required value={rule?.tag ?? ""} />}
        {scope === "host" && <HostSelect hosts={hosts} name="hostId" value={rule?.hostId ?? ""} required />}
        <Field
          label="For (minutes)"
          name="forMinutes"
          type="number"
          value={String((rule?.forSec ?? 0) / 60)}
          hint="How long the condition must hold before the alert fires; 0 fires at once."
        />
        <Field label="Description" name="description" value={rule?.description ?? ""} />
        <ErrorNote error={save.error} />
        <div class="row">
          <button type="submit" disabled={save.busy}>
            {rule ? "Save rule" : "Create rule"}
          </button>
          {rule && (
            <button type="button" class="ghost" onClick={onDone}>
              Cancel
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

function HostSelect(props: {
  hosts: Host[];
  name: string;
  value?: string;
  required?: boolean;
  label?: string;
}) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label ?? "Host"}</label>
      <select id={id} name={props.name} required={props.required}>
        {!props.required && <option value="">Any host</option>}
        {props.hosts.map((h) => (
          <option key={h.id} value={h.id} selected={h.id === props.value}>
            {h.name}
          </option>
        ))}
      </select>
    </div>
  );
}

/* ------------------------------------------------------- silences and windows */

type Matchers = Silence["matchers"];

function matchersFrom(form: FormData): Matchers {
  const m: Matchers = {};
  const hostId = String(form.get("m-host") ?? "");
  const tag = String(form.get("m-tag") ?? "").trim();
  const ruleId = String(form.get("m-rule") ?? "");
  if (hostId) m.hostId = hostId;
  if (tag) m.tag = tag;
  if (ruleId) m.ruleId = ruleId;
  return m;
}

function matcherText(m: Matchers, hosts: Host[], rules: Rule[]): string {
  const parts: string[] = [];
  if (m.hostId) parts.push(`host ${hosts.find((h) => h.id === m.hostId)?.name ?? m.hostId}`);
  if (m.tag) parts.push(`tag ${m.tag}`);
  if (m.ruleId) parts.push(`rule ${rules.find((r) => r.id === m.ruleId)?.name ?? m.ruleId}`);
  if (m.checkId) parts.push("one check");
  return parts.join(" and ");
}

function MatcherFields({ hosts, rules }: { hosts: Host[]; rules: Rule[] }) {
  return (
    <fieldset class="stack">
      <legend>Matches (at least one; all given must match)</legend>
      <HostSelect hosts={hosts} name="m-host" />
      <Field label="Tag" name="m-tag" placeholder="production" />
      <div class="field">
        <label for="f-m-rule">Rule</label>
        <select id="f-m-rule" name="m-rule">
          <option value="">Any rule</option>
          {rules.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </div>
    </fieldset>
  );
}

function SilencesTab() {
  const { projectId, role, me } = useProject();
  const silences = useQuery<{ silences: Silence[] }>(projectPath(projectId, "/silences?all=1"));
  const rules =
    useQuery<{ rules: Rule[] }>(projectPath(projectId, "/rules"), { pollMs: 30_000 }).data?.rules ?? [];
  const hosts = useHosts();
  const writer = can(role, "write");
  const list = silences.data?.silences ?? [];
  const [error, setError] = useState<string | null>(null);
  const create = useAction(async (form) => {
    await post(projectPath(projectId, "/silences"), {
      ...matchersFrom(form),
      durationMinutes: Math.round(Number(form.get("duration")) * 60),
      comment: String(form.get("comment") ?? ""),
      author: me.user.email,
    });
    (document.getElementById("silence-form") as HTMLFormElement | null)?.reset();
    await invalidate(projectPath(projectId, "/silences"));
  });
  const expire = async (s: Silence) => {
    setError(null);
    try {
      await post(projectPath(projectId, `/silences/${s.id}/expire`));
      await invalidate(projectPath(projectId, "/silences"));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <ErrorNote error={silences.error ?? error} />
      {silences.data && list.length === 0 ? (
        <Empty title="No silences">
          <p>
            A silence mutes notifications for what it matches (a host, a tag, a rule) for a while, e.g. during
            a migration. Alerts still show here. A deploy hook can open one in the same request as its marker:{" "}
            <code>POST /api/v1/silences {`{"hostId": …, "durationMinutes": 10}`}</code> with an ingest key.
          </p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Silences</caption>
            <thead>
              <tr>
                <th scope="col">Matches</th>
                <th scope="col">State</th>
                <th scope="col">From</th>
                <th scope="col">Until</th>
                <th scope="col">Comment</th>
                {writer && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id}>
                  <td>{matcherText(s.matchers, hosts, rules)}</td>
                  <td>
                    <Badge tone={s.active ? "warn" : "muted"}>
                      {s.active ? "active" : s.endsAt <= Date.now() ? "expired" : "scheduled"}
                    </Badge>
                  </td>
                  <td>{when(s.startsAt)}</td>
                  <td>{when(s.endsAt)}</td>
                  <td>
                    {s.comment}
                    {s.author && <div class="muted">{s.author}</div>}
                  </td>
                  {writer && (
                    <td>
                      {s.endsAt > Date.now() && (
                        <button type="button" class="small" onClick={() => expire(s)}>
                          Expire
                          <span class="visually-hidden">
                            {" "}
                            silence of {matcherText(s.matchers, hosts, rules)}
                          </span>
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {writer && (
        <section aria-labelledby="new-silence">
          <h2 id="new-silence">New silence</h2>
          <form id="silence-form" class="stack form-card" onSubmit={create.onSubmit}>
            <MatcherFields hosts={hosts} rules={rules} />
            <Field label="Duration (hours)" name="duration" type="number" value="2" required />
            <Field label="Comment" name="comment" placeholder="moving the database" />
            <ErrorNote error={create.error} />
            <button type="submit" disabled={create.busy}>
              Create silence
            </button>
          </form>
        </section>
      )}
    </>
  );
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function MaintenanceTab() {
  const { projectId, role } = useProject();
  const windows = useQuery<{ maintenanceWindows: MaintenanceWindow[] }>(
    projectPath(projectId, "/maintenance-windows"),
  );
  const rules =
    useQuery<{ rules: Rule[] }>(projectPath(projectId, "/rules"), { pollMs: 30_000 }).data?.rules ?? [];
  const hosts = useHosts();
  const writer = can(role, "write");
  const list = windows.data?.maintenanceWindows ?? [];
  const [error, setError] = useState<string | null>(null);
  const [, navigate] = useLocation();
  const create = useAction(async (form) => {
    const days = DAYS.map((_, i) => i).filter((i) => form.get(`day-${i}`) === "on");
    await post(projectPath(projectId, "/maintenance-windows"), {
      name: String(form.get("name")),
      ...matchersFrom(form),
      days,
      start: String(form.get("start")),
      tz: String(form.get("tz") || "UTC"),
      durationMinutes: Math.round(Number(form.get("duration"))),
      comment: String(form.get("comment") ?? ""),
    });
    (document.getElementById("window-form") as HTMLFormElement | null)?.reset();
    await invalidate(projectPath(projectId, "/maintenance-windows"));
    navigate("/alerts/maintenance");
  });
  const end = async (w: MaintenanceWindow) => {
    if (!confirm(`End and delete the maintenance window "${w.name}"?`)) return;
    setError(null);
    try {
      await api(projectPath(projectId, `/maintenance-windows/${w.id}`), { method: "DELETE" });
      await invalidate(projectPath(projectId, "/maintenance-windows"));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <ErrorNote error={windows.error ?? error} />
      {windows.data && list.length === 0 ? (
        <Empty title="No maintenance windows">
          <p>
            A maintenance window silences what it matches on a schedule, e.g. every Sunday at 03:00 for an
            hour while unattended upgrades reboot the servers. Alerts raised inside it notify nobody.
          </p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Maintenance windows</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Matches</th>
                <th scope="col">When</th>
                <th scope="col">State</th>
                {writer && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.map((w) => (
                <tr key={w.id}>
                  <th scope="row">
                    {w.name}
                    {w.comment && <div class="muted">{w.comment}</div>}
                  </th>
                  <td>{matcherText(w.matchers, hosts, rules)}</td>
                  <td>
                    <code>{w.schedule}</code> ({w.tz}) for {duration(w.durationMinutes * 60)}
                  </td>
                  <td>
                    <Badge tone={w.active ? "warn" : w.enabled ? "ok" : "muted"}>
                      {w.active ? "open now" : w.enabled ? "scheduled" : "off"}
                    </Badge>
                  </td>
                  {writer && (
                    <td>
                      <button type="button" class="small" onClick={() => end(w)}>
                        End<span class="visually-hidden"> {w.name}</span>
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {writer && (
        <section aria-labelledby="new-window">
          <h2 id="new-window">New maintenance window</h2>
          <form id="window-form" class="stack form-card" onSubmit={create.onSubmit}>
            <Field label="Window name" name="name" required placeholder="Sunday upgrades" />
            <MatcherFields hosts={hosts} rules={rules} />
            <fieldset>
              <legend>Days</legend>
              <div class="row">
                {DAYS.map((d, i) => (
                  <label key={d}>
                    <input type="checkbox" name={`day-${i}`} defaultChecked={i === 0} /> {d}
                  </label>
                ))}
              </div>
            </fieldset>
            <Field label="Starts at (HH:MM)" name="start" type="time" value="03:00" required />
            <Field
              label="Time zone"
              name="tz"
              value={Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"}
            />
            <Field label="Duration (minutes)" name="duration" type="number" value="60" required />
            <Field label="Comment" name="comment" />
            <ErrorNote error={create.error} />
            <button type="submit" disabled={create.busy}>
              Create window
            </button>
          </form>
        </section>
      )}
    </>
  );
}
