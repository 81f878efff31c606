/**
 * Overview: every host as a card, then firing alerts and checks that are down. With no hosts yet, it
 * teaches the install line with a fresh enrollment token.
 */
import type { Alert, Check, Host, MetricsResponse } from "@vigil/contract";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { useQuery } from "../query.ts";
import { ago, Badge, CopyField, Empty, ErrorNote, pct } from "../ui.tsx";

/**
 * One collator for every comparison: `localeCompare` builds one per call, which made sorting 500 host
 * names take over 100 ms of the overview's first draw. Numeric, so web-2 comes before web-10.
 */
const byName = new Intl.Collator(undefined, { numeric: true }).compare;

/** Cards drawn with the first frame (more than a large screen holds), then per following frame. */
const FIRST_CARDS = 48;
const MORE_CARDS = 150;

export function Overview() {
  const { projectId, projectName } = useProject();
  const hosts = useQuery<{ hosts: Host[] }>(projectPath(projectId, "/hosts"));
  const alerts = useQuery<{ alerts: Alert[] }>(projectPath(projectId, "/alerts?state=firing"));
  const checks = useQuery<{ checks: Check[] }>(projectPath(projectId, "/checks"));
  const [tag, setTag] = useState("");
  const [sort, setSort] = useState<"name" | "cpu" | "disk">("name");

  const all = hosts.data?.hosts ?? [];
  const tags = useMemo(() => [...new Set(all.flatMap((h) => h.tags))].sort(), [hosts.data]);
  // The cards as elements, made again only when the hosts, the filter or the order change: when the
  // alerts or checks answer, the 500 cards of a large fleet are reused as they are, not compared again.
  const cards = useMemo(
    () =>
      all
        .filter((h) => !tag || h.tags.includes(tag))
        .sort((a, b) =>
          sort === "name"
            ? byName(a.name, b.name)
            : sort === "cpu"
              ? (b.latest.cpuBusyPct ?? -1) - (a.latest.cpuBusyPct ?? -1)
              : (b.latest.diskUsedPctMax ?? -1) - (a.latest.diskUsedPctMax ?? -1),
        )
        .map((h) => <HostCard key={h.id} host={h} href={`/p/${projectId}/hosts/${h.id}`} />),
    [hosts.data, tag, sort, projectId],
  );
  // A large fleet is drawn a screenful first, then the rest a chunk per frame: the person sees the top
  // of the overview at once instead of after every card of 500 is made and laid out.
  const [limit, setLimit] = useState(FIRST_CARDS);
  // The cards' links are plain anchors followed here, in the app: a router Link per card subscribes to
  // the location and was a fifth of the time to draw 500 cards.
  const [, navigate] = useLocation();
  const followLink = (e: MouseEvent) => {
    const a = (e.target as Element).closest("a");
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey)
      return;
    e.preventDefault();
    navigate(`~${a.getAttribute("href")}`);
  };
  useEffect(() => {
    if (limit >= cards.length) return;
    const frame = requestAnimationFrame(() => setLimit((n) => n + MORE_CARDS));
    return () => cancelAnimationFrame(frame);
  }, [limit, cards.length]);
  const firing = alerts.data?.alerts ?? [];
  const down = (checks.data?.checks ?? []).filter((c) => c.status === "down" || c.status === "late");

  return (
    <>
      <h1>{projectName}</h1>
      <ErrorNote error={hosts.error ?? alerts.error ?? checks.error} />
      <section aria-labelledby="problems">
        <h2 id="problems">Needs attention</h2>
        {alerts.data && checks.data && firing.length === 0 && down.length === 0 ? (
          <p class="muted">Nothing firing, no check down.</p>
        ) : (
          <ul class="problems">
            {firing.map((a) => (
              <li key={a.id}>
                <Badge tone="bad">firing</Badge> {a.name} on{" "}
                <Link href={`/hosts/${a.hostId}`}>{a.hostName}</Link> — {a.cause}{" "}
                <span class="muted">since {ago(a.firingSince)}</span>
              </li>
            ))}
            {down.map((c) => (
              <li key={c.id}>
                <Badge tone={c.status === "down" ? "bad" : "warn"}>{c.status}</Badge>{" "}
                <Link href={`/checks/${c.id}`}>{c.name}</Link>{" "}
                <span class="muted">last ping {ago(c.lastPingAt)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="hosts-heading">
        <div class="section-head">
          <h2 id="hosts-heading">Hosts {hosts.data && <span class="muted">({all.length})</span>}</h2>
          {all.length > 0 && (
            <div class="filters">
              <label>
                Tag{" "}
                <select value={tag} onChange={(e) => setTag((e.target as HTMLSelectElement).value)}>
                  <option value="">all</option>
                  {tags.map((t) => (
                    <option key={t}>{t}</option>
                  ))}
                </select>
              </label>
              <label>
                Sort{" "}
                <select
                  value={sort}
                  onChange={(e) => setSort((e.target as HTMLSelectElement).value as typeof sort)}
                >
                  <option value="name">name</option>
                  <option value="cpu">CPU</option>
                  <option value="disk">disk</option>
                </select>
              </label>
            </div>
          )}
        </div>
        {hosts.data && all.length === 0 ? (
          <InstallProbe />
        ) : (
          // biome-ignore lint/a11y/useKeyWithClickEvents: the clicks are the anchors' own; Enter on a focused anchor fires the same click
          <ul class="cards" onClick={followLink}>
            {limit >= cards.length ? cards : cards.slice(0, limit)}
          </ul>
        )}
      </section>
    </>
  );
}

function HostCard({ host, href }: { host: Host; href: string }) {
  const [ref, visible] = useVisible<HTMLLIElement>();
  const s = host.state;
  const restarting = (s?.containers ?? []).filter(
    (c) => c.state === "restarting" || (c.restartCount ?? 0) > 0,
  );
  const backup = host.lastBackup;
  const backupFailedLast = (backup.failureAt ?? 0) > (backup.successAt ?? 0);
  const mem = host.latest.memoryAvailablePct === undefined ? undefined : 100 - host.latest.memoryAvailablePct;
  return (
    <li class="card" ref={ref}>
      <div class="card-head">
        <a href={href} class="host-name">
          {host.name}
        </a>
        <Badge tone={host.online ? "ok" : "bad"}>{host.online ? "online" : "offline"}</Badge>
      </div>
      <dl class="figures">
        <div>
          <dt>CPU</dt>
          <dd>{pct(host.latest.cpuBusyPct)}</dd>
        </div>
        <div>
          <dt>Memory</dt>
          <dd>{pct(mem)}</dd>
        </div>
        <div>
          <dt>Disk</dt>
          <dd>{pct(host.latest.diskUsedPctMax)}</dd>
        </div>
        <div>
          <dt>Load</dt>
          <dd>{host.latest.load1?.toFixed(2) ?? "—"}</dd>
        </div>
      </dl>
      {visible && <LoadSparkline hostId={host.id} />}
      <ul class="facts">
        {s?.updates && (
          <li>
            {s.updates.pending} updates
            {s.updates.security > 0 && <Badge tone="warn">{s.updates.security} security</Badge>}
          </li>
        )}
        {s?.reboot?.required && (
          <li>
            <Badge tone="warn">reboot required</Badge>
          </li>
        )}
        {(s?.failedUnits?.length ?? 0) > 0 && (
          <li>
            <Badge tone="bad">{s?.failedUnits?.length} failed units</Badge>
          </li>
        )}
        {restarting.length > 0 && (
          <li>
            <Badge tone="warn">{restarting.length} containers restarting</Badge>
          </li>
        )}
        {backupFailedLast && (
          <li>
            <Badge tone="bad">last backup failed</Badge>
          </li>
        )}
        <li class="muted">
          backup {backup.successAt ? ago(backup.successAt) : "none"} · seen {ago(host.lastSeenAt)}
        </li>
      </ul>
    </li>
  );
}

/** The last hour of 1-minute load as a line; fetched only once the card scrolls into view. */
function LoadSparkline({ hostId }: { hostId: string }) {
  const { projectId } = useProject();
  // Rounded to the minute so every poll asks for the same path and the cache entry is reused.
  const to = Math.floor(Date.now() / 60_000) * 60_000;
  const metrics = useQuery<MetricsResponse>(
    projectPath(projectId, `/hosts/${hostId}/metrics?names=load.1&from=${to - 3_600_000}&step=60`),
    { pollMs: 30_000 },
  );
  const points = metrics.data?.series[0]?.points ?? [];
  if (points.length < 2) return <div class="spark" aria-hidden="true" />;
  const max = Math.max(...points.map((p) => p.avg), 0.01);
  const t0 = points[0]?.ts ?? 0;
  const span = (points[points.length - 1]?.ts ?? 1) - t0 || 1;
  const d = points.map(
    (p) => `${(((p.ts - t0) / span) * 100).toFixed(1)},${(30 - (p.avg / max) * 28).toFixed(1)}`,
  );
  return (
    <svg
      class="spark"
      viewBox="0 0 100 30"
      preserveAspectRatio="none"
      role="img"
      aria-label="Load, last hour"
    >
      <polyline
        points={d.join(" ")}
        fill="none"
        stroke="currentColor"
        stroke-width="1.5"
        vector-effect="non-scaling-stroke"
      />
    </svg>
  );
}

/**
 * One IntersectionObserver for every card rather than one each: with 500 hosts, creating and tearing
 * down 500 observers was a measurable share of the overview's first draw.
 */
const watched = new Map<Element, () => void>();
let sharedObserver: IntersectionObserver | undefined;

function watchVisible(el: Element, onVisible: () => void): () => void {
  sharedObserver ??= new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      watched.get(entry.target)?.();
      watched.delete(entry.target);
      sharedObserver?.unobserve(entry.target);
    }
  });
  watched.set(el, onVisible);
  sharedObserver.observe(el);
  return () => {
    watched.delete(el);
    sharedObserver?.unobserve(el);
  };
}

/** True once the element has scrolled into view (and stays true: a card's data is fetched once seen). */
function useVisible<T extends Element>() {
  const ref = useRef<T>(null);
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || visible) return;
    return watchVisible(el, () => setVisible(true));
  }, [visible]);
  return [ref, visible] as const;
}

/** The empty state: one command to run on a server, with a fresh enrollment token in it. */
function InstallProbe() {
  const { projectId, role } = useProject();
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const admin = can(role, "admin");
  useEffect(() => {
    if (!admin) return;
    // Reused for this tab's session while it has an hour left: revisiting the empty overview must not
    // leave a trail of fresh tokens in Settings. Session storage, so it does not outlive the tab.
    const key = `vigil.install-token.${projectId}`;
    const kept = JSON.parse(sessionStorage.getItem(key) ?? "null") as { token: string; until: number } | null;
    if (kept && kept.until - Date.now() > 3_600_000) {
      setToken(kept.token);
      return;
    }
    post<{ token: string }>(projectPath(projectId, "/enrollment-tokens"), {
      name: "dashboard install line",
      expiresInSec: 86_400,
    }).then((t) => {
      sessionStorage.setItem(key, JSON.stringify({ token: t.token, until: Date.now() + 86_400_000 }));
      setToken(t.token);
    }, setError);
  }, [projectId, admin]);
  return (
    <Empty title="No hosts yet">
      <p>Run this on your server (Debian or Ubuntu, as root). Its figures show up here within a minute.</p>
      {admin ? (
        token ? (
          <CopyField
            label="Install line"
            value={`curl -fsSL ${location.origin}/install.sh | sudo sh -s -- --token ${token}`}
          />
        ) : (
          <ErrorNote error={error} />
        )
      ) : (
        <p>Ask an owner or admin of this project for an enrollment token.</p>
      )}
      <p class="muted">The token works for 24 hours and can enroll several servers.</p>
    </Empty>
  );
}
