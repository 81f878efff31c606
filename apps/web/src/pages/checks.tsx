/** Checks: the list with status, a heartbeat form (period or cron), and one check with its ping URL and pings. */
import type { Check, Ping } from "@vigil/contract";
import { useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, Badge, CopyField, duration, Empty, ErrorNote, Field, useAction, when } from "../ui.tsx";

const tone = (status: Check["status"]) =>
  status === "up"
    ? "ok"
    : status === "down"
      ? "bad"
      : status === "late" || status === "degraded"
        ? "warn"
        : "muted";

export function ChecksPage() {
  const { projectId, role } = useProject();
  const checks = useQuery<{ checks: Check[] }>(projectPath(projectId, "/checks"));
  const list = checks.data?.checks ?? [];
  return (
    <>
      <h1>Checks</h1>
      <ErrorNote error={checks.error} />
      {checks.data && list.length === 0 ? (
        <Empty title="No checks yet">
          <p>
            A heartbeat check expects a ping from your cron job; Vigil tells you when one does not arrive.
          </p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Last ping or run</th>
                <th scope="col">Next due</th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link href={`/checks/${c.id}`}>{c.name}</Link>
                  </td>
                  <td>{c.kind}</td>
                  <td>
                    <Badge tone={tone(c.status)}>{c.status}</Badge>
                  </td>
                  <td>{ago(c.lastPingAt ?? c.lastRunAt)}</td>
                  <td>{c.nextDueAt ? ago(c.nextDueAt) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {can(role, "write") && <NewHeartbeat />}
    </>
  );
}

function NewHeartbeat() {
  const { projectId } = useProject();
  const [, navigate] = useLocation();
  const [mode, setMode] = useState<"period" | "schedule">("period");
  const create = useAction(async (form) => {
    const grace = Number(form.get("grace")) * 60;
    const timing =
      mode === "period"
        ? { period: Number(form.get("period")) * 60 }
        : { schedule: String(form.get("schedule")), tz: String(form.get("tz") || "UTC") };
    const check = await post<Check>(projectPath(projectId, "/checks"), {
      kind: "heartbeat",
      name: String(form.get("name")),
      grace,
      ...timing,
    });
    await invalidate(projectPath(projectId, "/checks"));
    navigate(`/checks/${check.id}`);
  });
  return (
    <section aria-labelledby="new-check">
      <h2 id="new-check">New heartbeat</h2>
      <form class="stack form-card" onSubmit={create.onSubmit}>
        <Field label="Name" name="name" required placeholder="nightly db dump" />
        <fieldset>
          <legend>Expect a ping</legend>
          <label>
            <input type="radio" name="mode" checked={mode === "period"} onChange={() => setMode("period")} />{" "}
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
          <Field label="Period (minutes)" name="period" type="number" value="60" required />
        ) : (
          <>
            <Field
              label="Cron schedule"
              name="schedule"
              value="0 3 * * *"
              required
              hint="Five fields: minute hour day month weekday."
            />
            <Field
              label="Time zone"
              name="tz"
              value={Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"}
            />
          </>
        )}
        <Field
          label="Grace (minutes)"
          name="grace"
          type="number"
          value="60"
          required
          hint="How late a ping may be before the check is down."
        />
        <ErrorNote error={create.error} />
        <button type="submit" disabled={create.busy}>
          Create heartbeat
        </button>
      </form>
    </section>
  );
}

export function CheckPage() {
  const { checkId } = useParams<{ checkId: string }>();
  const { projectId } = useProject();
  const check = useQuery<Check>(projectPath(projectId, `/checks/${checkId}`));
  const pings = useQuery<{ pings: Ping[] }>(projectPath(projectId, `/checks/${checkId}/pings`));
  const c = check.data;
  const cronLine =
    c?.kind === "heartbeat" && c.pingUrl
      ? `${c.schedule ?? "0 * * * *"} /path/to/job.sh && curl -fsS -m 10 --retry 5 ${c.pingUrl}`
      : null;
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
          <p class="muted">
            {c.kind === "heartbeat"
              ? c.schedule
                ? `cron "${c.schedule}" (${c.tz}), grace ${duration(c.grace)}`
                : `every ${duration(c.period ?? 0)}, grace ${duration(c.grace)}`
              : c.kind}{" "}
            · last ping {ago(c.lastPingAt)} · next due {c.nextDueAt ? when(c.nextDueAt) : "—"}
          </p>
          {c.pingUrl && <CopyField label="Ping URL" value={c.pingUrl} />}
          {cronLine && <CopyField label="Cron line" value={cronLine} />}
        </>
      )}
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
    </>
  );
}
