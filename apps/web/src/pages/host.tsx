/** One host: charts over a chosen range with deploy markers, then its state panels and history. */
import type { Host, HostEvent, HostFilesystems, MetricsResponse } from "@vigil/contract";
import { useMemo, useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { api, can, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { TimeChart } from "../chart.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, Badge, bytes, ErrorNote, Field, pct, useAction, when } from "../ui.tsx";
import { HostBackups } from "./backup-assurance.tsx";
import { ApplicationMetrics } from "./custom-metrics.tsx";
import { logsAround } from "./logs.tsx";

const ranges = [
  ["1h", 3_600_000],
  ["6h", 6 * 3_600_000],
  ["24h", 86_400_000],
  ["7d", 7 * 86_400_000],
  ["30d", 30 * 86_400_000],
  ["90d", 90 * 86_400_000],
] as const;

const NAMES = [
  "cpu.idle_pct",
  "cpu.iowait_pct",
  "load.1",
  "load.5",
  "load.15",
  "mem.available_pct",
  "swap.used_bytes",
  "fs.used_pct",
  "disk.read_bytes_per_sec",
  "disk.write_bytes_per_sec",
  "net.rx_bytes_per_sec",
  "net.tx_bytes_per_sec",
  "psi.cpu_some_pct",
  "psi.memory_some_pct",
  "psi.io_some_pct",
];

type Series = MetricsResponse["series"][number];

const labelOf = (s: Series) => Object.values(s.labels).join(" ") || s.name;
const pick = (
  all: Series[],
  name: string,
  label?: (s: Series) => string,
): { label: string; points: Series["points"] }[] =>
  all.filter((s) => s.name === name).map((s) => ({ label: label ? label(s) : labelOf(s), points: s.points }));

export function HostPage() {
  const { hostId } = useParams<{ hostId: string }>();
  const { projectId, role } = useProject();
  const [range, setRange] = useState<number>(3_600_000);
  const host = useQuery<Host>(projectPath(projectId, `/hosts/${hostId}`));
  // The window's end moves in whole steps, so polls within a step reuse one cache entry.
  // About 360 points per chart; from 7 days on, whole hours, so the API reads hourly rollups rather than
  // aggregating a week of raw samples on every poll.
  const step =
    range >= 7 * 86_400_000
      ? Math.ceil(range / 1000 / 360 / 3600) * 3600
      : Math.max(10, Math.round(range / 1000 / 360));
  const to = Math.ceil(Date.now() / (step * 1000)) * step * 1000;
  const pollMs = range <= 86_400_000 ? 5000 : 60_000;
  const metrics = useQuery<MetricsResponse>(
    projectPath(
      projectId,
      `/hosts/${hostId}/metrics?names=${NAMES.join(",")}&from=${to - range}&to=${to}&step=${step}`,
    ),
    { pollMs },
  );
  const events = useQuery<{ events: HostEvent[] }>(projectPath(projectId, `/hosts/${hostId}/events`), {
    pollMs: 30_000,
  });

  const charts = useMemo(() => {
    const all = metrics.data?.series ?? [];
    const busy = pick(all, "cpu.idle_pct", () => "busy").map((s) => ({
      ...s,
      points: s.points.map((p) => ({ ts: p.ts, avg: 100 - p.avg })),
    }));
    const used = pick(all, "mem.available_pct", () => "used").map((s) => ({
      ...s,
      points: s.points.map((p) => ({ ts: p.ts, avg: 100 - p.avg })),
    }));
    return {
      cpu: [...busy, ...pick(all, "cpu.iowait_pct", () => "iowait")],
      load: [
        ...pick(all, "load.1", () => "1 min"),
        ...pick(all, "load.5", () => "5 min"),
        ...pick(all, "load.15", () => "15 min"),
      ],
      memory: used,
      swap: pick(all, "swap.used_bytes", () => "swap used"),
      disk: pick(all, "fs.used_pct"),
      io: [
        ...pick(all, "disk.read_bytes_per_sec", (s) => `${labelOf(s)} read`),
        ...pick(all, "disk.write_bytes_per_sec", (s) => `${labelOf(s)} write`),
      ],
      net: [
        ...pick(all, "net.rx_bytes_per_sec", (s) => `${labelOf(s)} in`),
        ...pick(all, "net.tx_bytes_per_sec", (s) => `${labelOf(s)} out`),
      ],
      psi: [
        ...pick(all, "psi.cpu_some_pct", () => "cpu"),
        ...pick(all, "psi.memory_some_pct", () => "memory"),
        ...pick(all, "psi.io_some_pct", () => "io"),
      ],
    };
  }, [metrics.data]);

  // Deploy markers only: the other events (state changes) are in the history below.
  const markers = useMemo(
    () => (metrics.data?.events ?? []).filter((e) => e.kind === "deploy"),
    [metrics.data],
  );
  const span: [number, number] = [to - range, to];
  const h = host.data;
  // A click on a deploy marker opens this host's log lines around it.
  const [, navigate] = useLocation();
  const openMarker = (e: HostEvent) => navigate(logsAround(e.at, hostId));
  const perSec = (v: number) => `${bytes(v)}/s`;
  return (
    <>
      <p>
        <Link href="/">← Overview</Link>
      </p>
      <div class="section-head">
        <h1>{h?.name ?? "Host"}</h1>
        {h && <Badge tone={h.online ? "ok" : "bad"}>{h.online ? "online" : "offline"}</Badge>}
      </div>
      <ErrorNote error={host.error ?? metrics.error} />
      {h && (
        <p class="muted">
          {[h.facts.os?.name, h.facts.kernel, h.facts.arch].filter(Boolean).join(" · ")} · seen{" "}
          {ago(h.lastSeenAt)}
          {h.tags.length > 0 && ` · tags: ${h.tags.join(", ")}`}
        </p>
      )}
      {h && <p class="muted">Runbook commands: {runbookCommandsOn(h.facts.runbooks)}</p>}
      <fieldset class="range">
        <legend class="visually-hidden">Time range</legend>
        {ranges.map(([label, ms]) => (
          <button
            key={label}
            type="button"
            class="small"
            aria-pressed={range === ms}
            onClick={() => setRange(ms)}
          >
            {label}
          </button>
        ))}
        {metrics.data && <span class="muted"> {metrics.data.resolution} data</span>}
      </fieldset>
      <div class="charts" aria-busy={metrics.loading}>
        <TimeChart
          window={span}
          title="CPU busy (%)"
          series={charts.cpu}
          events={markers}
          onMarker={openMarker}
          format={(v) => `${Math.round(v)}%`}
          max={100}
        />
        <TimeChart window={span} title="Load" series={charts.load} events={markers} onMarker={openMarker} />
        <TimeChart
          window={span}
          title="Memory used (%)"
          series={charts.memory}
          events={markers}
          onMarker={openMarker}
          format={(v) => `${Math.round(v)}%`}
          max={100}
        />
        <TimeChart
          window={span}
          title="Swap used"
          series={charts.swap}
          events={markers}
          onMarker={openMarker}
          format={bytes}
        />
        <TimeChart
          window={span}
          title="Filesystems used (%)"
          series={charts.disk}
          events={markers}
          onMarker={openMarker}
          format={(v) => `${Math.round(v)}%`}
          max={100}
        />
        <TimeChart
          window={span}
          title="Disk I/O"
          series={charts.io}
          events={markers}
          onMarker={openMarker}
          format={perSec}
        />
        <TimeChart
          window={span}
          title="Network"
          series={charts.net}
          events={markers}
          onMarker={openMarker}
          format={perSec}
        />
        <TimeChart
          window={span}
          title="Pressure (PSI some, %)"
          series={charts.psi}
          events={markers}
          onMarker={openMarker}
          format={(v) => `${v.toFixed(1)}%`}
        />
      </div>
      {h && (
        <ApplicationMetrics
          hostId={hostId}
          intervalSec={h.config.intervalSec}
          span={span}
          step={step}
          pollMs={pollMs}
          events={markers}
          onMarker={openMarker}
        />
      )}
      {markers.length > 0 && (
        <section aria-labelledby="markers">
          <h2 id="markers">Deploys in this range</h2>
          <ul>
            {markers.map((e) => (
              <li key={e.id}>
                {when(e.at)} — {e.message} · <Link href={logsAround(e.at, hostId)}>logs around it</Link>
              </li>
            ))}
          </ul>
        </section>
      )}
      <Filesystems hostId={hostId} />
      {h && <StatePanels host={h} />}
      <HostBackups hostId={hostId} />
      {h && can(role, "write") && <HostSettings host={h} />}
      <section aria-labelledby="history">
        <h2 id="history">History</h2>
        {(events.data?.events ?? []).length === 0 ? (
          <p class="muted">No changes recorded yet.</p>
        ) : (
          <ul class="history">
            {(events.data?.events ?? []).slice(0, 50).map((e) => (
              <li key={e.id}>
                <time dateTime={new Date(e.at).toISOString()}>{when(e.at)}</time>{" "}
                <Badge tone="muted">{e.kind}</Badge> {e.message} ·{" "}
                <Link href={logsAround(e.at, hostId)}>
                  logs<span class="visually-hidden"> around {when(e.at)}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

const PRIORITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/**
 * Name, tags, status-page visibility and this host's probe settings (interval, journal priority and units:
 * the probe picks them up from its next batch answer), and removing the host. Deleting needs admin.
 */
function HostSettings({ host }: { host: Host }) {
  const { projectId, role } = useProject();
  const [, navigate] = useLocation();
  const [saved, setSaved] = useState(false);
  const path = projectPath(projectId, `/hosts/${host.id}`);
  const save = useAction(async (form) => {
    setSaved(false);
    const list = (key: string) =>
      String(form.get(key) ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
    await api(path, {
      method: "PATCH",
      body: {
        name: String(form.get("name") ?? "").trim(),
        tags: list("tags"),
        public: form.get("public") === "on",
        config: {
          intervalSec: Number(form.get("intervalSec")),
          journal: { minPriority: Number(form.get("minPriority")), units: list("units") },
        },
      },
    });
    await invalidate(projectPath(projectId, "/hosts"));
    setSaved(true);
  });
  const remove = useAction(async () => {
    if (!confirm(`Remove ${host.name} and all its data? Its probe stops being accepted.`)) return;
    await api(path, { method: "DELETE" });
    await invalidate(projectPath(projectId, "/hosts"));
    navigate("/");
  });
  return (
    <section aria-labelledby="host-settings">
      <details>
        <summary>
          <h2 id="host-settings" class="inline">
            Host settings
          </h2>
        </summary>
        <form class="form-card" onSubmit={save.onSubmit}>
          <Field label="Name" name="name" value={host.name} required />
          <Field label="Tags" name="tags" value={host.tags.join(", ")} hint="comma-separated, e.g. web, eu" />
          <div class="field">
            <label>
              <input type="checkbox" name="public" defaultChecked={host.public} /> May appear on status pages
            </label>
          </div>
          <Field
            label="Collection interval (seconds)"
            name="intervalSec"
            type="number"
            value={String(host.config.intervalSec)}
            required
          />
          <div class="field">
            <label for="f-minPriority">Journal: keep entries at this priority or more severe</label>
            <select
              id="f-minPriority"
              name="minPriority"
              defaultValue={String(host.config.journal.minPriority)}
            >
              {PRIORITIES.map((p, i) => (
                <option key={p} value={String(i)}>
                  {i} {p}
                </option>
              ))}
            </select>
          </div>
          <Field
            label="Journal units"
            name="units"
            value={host.config.journal.units.join(", ")}
            hint="only these units, comma-separated; empty means all"
          />
          <ErrorNote error={save.error} />
          <button type="submit" disabled={save.busy}>
            Save host settings
          </button>
          {saved && <span role="status"> Saved; the probe applies it with its next batch.</span>}
        </form>
        {can(role, "admin") && (
          <form onSubmit={remove.onSubmit}>
            <ErrorNote error={remove.error} />
            <button type="submit" class="danger" disabled={remove.busy}>
              Remove host
            </button>
          </form>
        )}
      </details>
    </section>
  );
}

/** Each filesystem's size, use and free space, and when a filling one will be full at its trend. */
function Filesystems({ hostId }: { hostId: string }) {
  const { projectId } = useProject();
  const fs = useQuery<HostFilesystems>(projectPath(projectId, `/hosts/${hostId}/filesystems`), {
    pollMs: 60_000,
  });
  const list = fs.data?.filesystems ?? [];
  if (list.length === 0) return null;
  const within = fs.data?.withinHours ?? null;
  const fullIn = (f: HostFilesystems["filesystems"][number]) => {
    if (f.trend === "unknown") return <span class="muted">not enough data yet</span>;
    if (f.hoursUntilFull === null) return "not filling";
    const text =
      f.hoursUntilFull < 48
        ? `~${Math.round(f.hoursUntilFull)} h`
        : `~${Math.round(f.hoursUntilFull / 24)} days`;
    return within !== null && f.hoursUntilFull < within ? (
      <Badge tone="bad">full in {text}</Badge>
    ) : (
      `full in ${text}`
    );
  };
  return (
    <section aria-labelledby="filesystems">
      <h2 id="filesystems">Filesystems</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Mount</th>
              <th scope="col">Used</th>
              <th scope="col">Free</th>
              <th scope="col">Size</th>
              <th scope="col">Forecast ({fs.data?.lookbackHours} h trend)</th>
            </tr>
          </thead>
          <tbody>
            {list.map((f) => (
              <tr key={f.mount}>
                <td>
                  {f.mount} {f.device && <span class="muted">{f.device}</span>}
                </td>
                <td>{pct(f.usedPct ?? undefined)}</td>
                <td>{bytes(f.availableBytes ?? undefined)}</td>
                <td>{bytes(f.sizeBytes ?? undefined)}</td>
                <td>{fullIn(f)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function StatePanels({ host }: { host: Host }) {
  const s = host.state;
  if (!s) return <p class="muted">No state reported yet.</p>;
  return (
    <div class="panels">
      <section class="panel" aria-labelledby="p-updates">
        <h2 id="p-updates">OS updates</h2>
        {s.updates ? (
          <p>
            {s.updates.pending} pending, {s.updates.security} security ({s.updates.manager})
          </p>
        ) : (
          <p class="muted">Not reported.</p>
        )}
        <p>
          Reboot:{" "}
          {s.reboot?.required ? (
            <Badge tone="warn">required since {ago(s.reboot.since)}</Badge>
          ) : (
            "not required"
          )}
        </p>
        {s.lastUnattendedUpgradeAt && (
          <p class="muted">Last unattended upgrade {ago(s.lastUnattendedUpgradeAt)}</p>
        )}
      </section>
      <section class="panel" aria-labelledby="p-units">
        <h2 id="p-units">Failed units</h2>
        {(s.failedUnits ?? []).length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul>
            {s.failedUnits?.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        )}
      </section>
      <section class="panel wide" aria-labelledby="p-containers">
        <h2 id="p-containers">Containers</h2>
        {(s.containers ?? []).length === 0 ? (
          <p class="muted">None reported.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Image</th>
                  <th scope="col">State</th>
                  <th scope="col">Restarts</th>
                  <th scope="col">Service</th>
                </tr>
              </thead>
              <tbody>
                {s.containers?.map((c) => (
                  <tr key={c.id}>
                    <td>{c.name}</td>
                    <td>{c.image}</td>
                    <td>
                      {c.state}
                      {c.health && c.health !== "none" ? ` (${c.health})` : ""}
                    </td>
                    <td>{c.restartCount ?? 0}</td>
                    <td>{c.labels?.service ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="panel" aria-labelledby="p-ssh">
        <h2 id="p-ssh">SSH keys</h2>
        {(s.sshKeys ?? []).length === 0 ? (
          <p class="muted">Not reported.</p>
        ) : (
          <ul>
            {s.sshKeys?.map((k) => (
              <li key={k.user}>
                {k.user}: {k.fingerprints.length} keys
              </li>
            ))}
          </ul>
        )}
      </section>
      <p class="muted">
        State collected {ago(s.collectedAt)}. Latest CPU {pct(host.latest.cpuBusyPct)}.
      </p>
    </div>
  );
}

/** What this host's operator lets runbooks run there, as its probe announces it. */
function runbookCommandsOn(runbooks: { allow: string[]; asRoot?: boolean | undefined } | undefined): string {
  if (!runbooks) return "off (install.sh --enable-runbooks turns them on)";
  const which =
    runbooks.allow.length === 0 ? "any command" : `commands starting ${runbooks.allow.join(", ")}`;
  return runbooks.asRoot
    ? `on, ${which}, as root through the root runner`
    : `on, ${which}, as the probe's user (read-only system; --runbooks-as-root to upgrade packages)`;
}
