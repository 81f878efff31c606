/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The status page as HTML: server-rendered, no script. Landmarks (header, main, footer), headings per
 * section, every bar labelled with its day, uptime and incidents, colours that meet WCAG AA in light and
 * dark schemes. The 90 bars of a component share its row and shrink to fit, so a phone never scrolls sideways.
 */
import type { PublicComponent, PublicIncident, PublicMaintenance, StatusPageData } from "@vigil/contract";
import { raw } from "hono/html";
import type { FC } from "hono/jsx";
import {
  bannerText,
  barLevel,
  dateTime,
  escapeXml,
  percent,
  progressText,
  stateColour,
  stateText,
  statusPath,
} from "./format.ts";

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#57606a;--card:#f6f8fa;--line:#d0d7de;
--ok:#1a7f37;--minor:#bf8700;--partial:#d4600b;--major:#cf222e;--none:#d0d7de;--maint:#0969da;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#161b22;--line:#30363d;
--ok:#3fb950;--minor:#d29922;--partial:#f0883e;--major:#f85149;--none:#30363d;--maint:#58a6ff;--link:#58a6ff}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--link)}.wrap{max-width:52rem;margin:0 auto;padding:0 1rem}
header{padding:1.5rem 0 .5rem}header .wrap{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header img{max-height:3rem;max-width:12rem}h1{font-size:1.6rem;margin:0}.desc{margin:.25rem 0 0;color:var(--muted)}
.banner{margin:1rem 0;padding:1rem 1.25rem;border-radius:.5rem;color:#fff;font-weight:600;font-size:1.15rem}
.banner p{margin:0}.banner .sub{font-weight:400;font-size:.875rem;opacity:.95}
.s-operational{background:#1a7f37}.s-degraded{background:#9a6700}.s-partial_outage{background:#bc4c00}
.s-major_outage{background:#cf222e}.s-maintenance{background:#0969da}
h2{font-size:1.2rem;margin:2rem 0 .75rem}h3{font-size:1rem;margin:1.25rem 0 .5rem;color:var(--muted)}
.notice{border:1px solid var(--line);border-left:.35rem solid var(--major);background:var(--card);border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0}
.notice.maint{border-left-color:var(--maint)}.notice.resolved{border-left-color:var(--muted)}.notice h3{margin:0;color:var(--fg)}.notice p{margin:.35rem 0}
.notice .when,.update .when{color:var(--muted);font-size:.875rem}
ul.components{list-style:none;margin:0;padding:0;border:1px solid var(--line);border-radius:.5rem}
li.component{padding:.9rem 1rem;border-top:1px solid var(--line)}li.component:first-child{border-top:0}
.row{display:flex;justify-content:space-between;gap:.5rem;align-items:baseline;flex-wrap:wrap}
.name{font-weight:600;overflow-wrap:anywhere}.state{font-size:.875rem;font-weight:600}
.st-operational{color:var(--ok)}.st-degraded{color:var(--minor)}.st-outage{color:var(--major)}.st-maintenance{color:var(--maint)}.st-unknown{color:var(--muted)}
ol.bars{display:flex;gap:2px;list-style:none;margin:.6rem 0 .3rem;padding:0;height:2rem}
ol.bars li{flex:1 1 0;min-width:0;border-radius:1px;background:var(--none)}
ol.bars li.b-ok{background:var(--ok)}ol.bars li.b-minor{background:var(--minor)}ol.bars li.b-partial{background:var(--partial)}ol.bars li.b-major{background:var(--major)}
.scale{display:flex;justify-content:space-between;gap:.5rem;color:var(--muted);font-size:.8rem}
.spark{display:block;width:100%;height:2rem;margin-top:.4rem;color:var(--link)}
.locations{margin-top:.4rem;font-size:.875rem;color:var(--muted)}.locations summary{cursor:pointer}.location{margin-top:.3rem}
.update{margin:.5rem 0}.update strong{margin-right:.35rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
footer{margin:3rem 0 2rem;color:var(--muted);font-size:.875rem}

.subscribe .row{display:flex;gap:.5rem;flex-wrap:wrap}.subscribe input[type=email]{flex:1 1 14rem;min-width:0;padding:.5rem;font:inherit;border:1px solid var(--line);border-radius:.375rem;background:var(--bg);color:var(--fg)}
button{padding:.5rem 1rem;font:inherit;border:0;border-radius:.375rem;background:var(--link);color:#fff;cursor:pointer}
@media (prefers-color-scheme:dark){button{background:#1f6feb}}
.subscribe fieldset{border:0;padding:0;margin:.5rem 0}.message{padding-top:2rem}.subscribe .choice{display:block;margin:.25rem 0}
`;

type Data = StatusPageData;

function barTitle(
  component: PublicComponent,
  dayIndex: number,
  incidents: Map<string, PublicIncident>,
): string {
  const day = component.days[dayIndex] as PublicComponent["days"][number];
  const names = day.incidents.map((id) => incidents.get(id)?.title).filter(Boolean);
  const uptime = day.uptime === null ? "no data" : `${percent(day.uptime)} uptime`;
  return names.length ? `${day.date}: ${uptime}; incidents: ${names.join("; ")}` : `${day.date}: ${uptime}`;
}

/** The hot loop (4,500 bars for 50 components) as plain strings rather than a JSX node per bar. */
function bars(component: PublicComponent, incidents: Map<string, PublicIncident>): string {
  let out = "";
  for (let i = 0; i < component.days.length; i++) {
    const day = component.days[i] as PublicComponent["days"][number];
    const text = escapeXml(barTitle(component, i, incidents));
    // `title` is both the tooltip and, lacking other text, the bar's accessible name.
    out += `<li class="b-${barLevel(day.uptime, day.degradedMs)}" title="${text}"></li>`;
  }
  return out;
}

/** Mean response time per day as an inline SVG polyline; gaps where a day had no runs. */
const Sparkline: FC<{ values: (number | null)[]; of?: string }> = ({ values, of }) => {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return null;
  const max = Math.max(...known, 1);
  const w = values.length - 1 || 1;
  const segments: string[] = [];
  let current: string[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (current.length) segments.push(current.join(" "));
      current = [];
      return;
    }
    current.push(`${i},${(30 - (v / max) * 28).toFixed(1)}`);
  });
  if (current.length) segments.push(current.join(" "));
  const last = known.at(-1);
  const label = `Mean response time per day${of ? ` from ${of}` : ""} over ${values.length} days: latest ${last} ms, lowest ${Math.min(...known)} ms, highest ${Math.max(...known)} ms`;
  return (
    <svg class="spark" viewBox={`0 0 ${w} 31`} preserveAspectRatio="none" role="img" aria-label={label}>
      <title>{label}</title>
      {segments.map((points) => (
        <polyline
          points={points}
          fill="none"
          stroke="currentColor"
          stroke-width="1.5"
          vector-effect="non-scaling-stroke"
        />
      ))}
    </svg>
  );
};

const Component: FC<{ c: PublicComponent; incidents: Map<string, PublicIncident> }> = ({ c, incidents }) => (
  <li class="component">
    <div class="row">
      <span class="name">{c.name}</span>
      <span class={`state st-${c.state}`}>{stateText[c.state]}</span>
    </div>
    <ol class="bars" aria-label={`${c.name}: uptime per day, last ${c.days.length} days`}>
      {raw(bars(c, incidents))}
    </ol>
    <div class="scale" aria-hidden="true">
      <span>{c.days.length} days ago</span>
      <span>{percent(c.uptime)} uptime</span>
      <span>Today</span>
    </div>
    <p class="sr">
      {percent(c.uptime)} uptime over the last {c.days.length} days.
    </p>
    {c.responseMs ? (
      <Sparkline values={c.responseMs} of={c.responseByLocation ? "all locations" : undefined} />
    ) : null}
    {c.responseByLocation ? (
      <details class="locations">
        <summary>Response time by location</summary>
        {c.responseByLocation.map((l) => (
          <div class="location">
            <span>{l.location}</span>
            <Sparkline values={l.responseMs} of={l.location} />
          </div>
        ))}
      </details>
    ) : null}
  </li>
);

const Incident: FC<{ i: PublicIncident; tz: string; names: Map<string, string> }> = ({ i, tz, names }) => (
  <article class={i.resolvedAt === null ? "notice" : "notice resolved"} id={`incident-${i.id}`}>
    <h3>{i.title}</h3>
    <p class="when">
      {progressText[i.status]} · started {dateTime(tz, i.startedAt)}
      {i.resolvedAt !== null ? ` · resolved ${dateTime(tz, i.resolvedAt)}` : ""}
      {i.components.length ? ` · ${i.components.map((id) => names.get(id)).join(", ")}` : ""}
    </p>
    {[...i.updates].reverse().map((u) => (
      <p class="update">
        <strong>{progressText[u.status]}</strong>
        {u.message} <span class="when">{dateTime(tz, u.at)}</span>
      </p>
    ))}
    {i.automatic && i.updates.length === 0 ? (
      <p class="update">
        {i.resolvedAt === null ? "Detected automatically." : "Detected and resolved automatically."}
      </p>
    ) : null}
  </article>
);

const Maintenance: FC<{ m: PublicMaintenance; tz: string; names: Map<string, string> }> = ({
  m,
  tz,
  names,
}) => (
  <article class="notice maint">
    <h3>{m.title}</h3>
    <p class="when">
      {dateTime(tz, m.startsAt)} – {dateTime(tz, m.endsAt)}
      {m.components.length ? ` · ${m.components.map((id) => names.get(id)).join(", ")}` : ""}
    </p>
    {m.description ? <p>{m.description}</p> : null}
  </article>
);

/**
 * A dot in the overall status's colour, inline: without an icon every visitor's browser asks for
 * /favicon.ico and logs a 404, and a data: URL needs no route on custom domains or the Worker.
 */
function faviconUrl(colour: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="${colour}"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** What the page offers beyond its data: mail subscriptions only where this server can send mail. */
export interface StatusPageOptions {
  canMail: boolean;
}

/** A form that subscribes an address, for everything or the components ticked. */
const SubscribeForm: FC<{ data: Data; base: string }> = ({ data, base }) => {
  const components = data.groups.flatMap((g) => g.components);
  return (
    <section aria-labelledby="subscribe-h">
      <h2 id="subscribe-h">Get notices</h2>
      <form class="subscribe" method="post" action={`${base}/subscribe`}>
        <p>Incidents and maintenance by email. We mail you a link to confirm first.</p>
        <label for="subscribe-email">Email address</label>
        <div class="row">
          <input id="subscribe-email" name="email" type="email" required autocomplete="email" />
          <button type="submit">Subscribe</button>
        </div>
        {components.length > 1 ? (
          <details>
            <summary>Only some components</summary>
            <fieldset>
              <legend>Tell me about (none ticked: everything)</legend>
              {components.map((c) => (
                <label class="choice">
                  <input type="checkbox" name="components" value={c.id} /> {c.name}
                </label>
              ))}
            </fieldset>
          </details>
        ) : null}
      </form>
    </section>
  );
};

export const StatusPageView: FC<{ data: Data; options: StatusPageOptions }> = ({ data, options }) => {
  const tz = data.page.timezone;
  const all = [...data.activeIncidents, ...data.pastIncidents];
  const incidents = new Map(all.map((i) => [i.id, i]));
  const names = new Map(data.groups.flatMap((g) => g.components.map((c) => [c.id, c.name] as const)));
  const base = statusPath(data.page.slug);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${data.page.title} status`}</title>
        {data.page.description ? <meta name="description" content={data.page.description} /> : null}
        <link rel="alternate" type="application/atom+xml" title="Incidents" href={`${base}/feed.atom`} />
        <link rel="alternate" type="application/rss+xml" title="Incidents (RSS)" href={`${base}/feed.rss`} />
        <link rel="icon" type="image/svg+xml" href={faviconUrl(stateColour[data.status])} />
        <style>{raw(CSS)}</style>
      </head>
      <body>
        <header>
          <div class="wrap">
            {data.page.logoUrl ? <img src={data.page.logoUrl} alt={`${data.page.title} logo`} /> : null}
            <div>
              <h1>{data.page.title}</h1>
              {data.page.description ? <p class="desc">{data.page.description}</p> : null}
            </div>
          </div>
        </header>
        <main class="wrap">
          <section class={`banner s-${data.status}`} aria-label="Overall status" data-status={data.status}>
            <p>{bannerText[data.status]}</p>
            <p class="sub">
              Updated {dateTime(tz, data.generatedAt)} ({tz})
            </p>
          </section>
          {data.activeMaintenance.length || data.activeIncidents.length ? (
            <section aria-labelledby="now-h">
              <h2 id="now-h">Happening now</h2>
              {data.activeMaintenance.map((m) => (
                <Maintenance m={m} tz={tz} names={names} />
              ))}
              {data.activeIncidents.map((i) => (
                <Incident i={i} tz={tz} names={names} />
              ))}
            </section>
          ) : null}
          {data.upcomingMaintenance.length ? (
            <section aria-labelledby="planned-h">
              <h2 id="planned-h">Scheduled maintenance</h2>
              {data.upcomingMaintenance.map((m) => (
                <Maintenance m={m} tz={tz} names={names} />
              ))}
            </section>
          ) : null}
          <section aria-labelledby="components-h">
            <h2 id="components-h">Components</h2>
            {data.groups.map((g) => (
              <>
                {g.heading ? <h3>{g.heading}</h3> : null}
                <ul class="components">
                  {g.components.map((c) => (
                    <Component c={c} incidents={incidents} />
                  ))}
                </ul>
              </>
            ))}
          </section>
          <section aria-labelledby="past-h">
            <h2 id="past-h">Past incidents</h2>
            {data.pastIncidents.length ? (
              data.pastIncidents.map((i) => <Incident i={i} tz={tz} names={names} />)
            ) : (
              <p>No incidents in the last {data.groups[0]?.components[0]?.days.length ?? 90} days.</p>
            )}
          </section>
        </main>
        {options.canMail ? (
          <div class="wrap">
            <SubscribeForm data={data} base={base} />
          </div>
        ) : null}
        <footer class="wrap">
          <a href={`${base}/feed.atom`}>Atom feed</a> · <a href={`${base}/feed.rss`}>RSS</a> ·{" "}
          <a href={`/api/v1${base}`}>JSON</a> · <a href={`${base}/badge.svg`}>Badge</a> · Times in {tz} ·
          Powered by Vigil
        </footer>
      </body>
    </html>
  );
};

export async function renderStatusPage(data: Data, options: StatusPageOptions): Promise<string> {
  return `<!doctype html>${await (<StatusPageView data={data} options={options} />).toString()}`;
}

/** A short page of the subscription flow: "check your inbox", "subscribed", "unsubscribe?". */
export interface StatusMessage {
  pageTitle: string;
  slug: string;
  heading: string;
  text: string;
  /** a button that POSTs to this path (the unsubscribe confirmation) */
  action?: { path: string; label: string };
}

const StatusMessageView: FC<{ m: StatusMessage }> = ({ m }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <meta name="robots" content="noindex" />
      <title>{`${m.heading} · ${m.pageTitle} status`}</title>
      <style>{raw(CSS)}</style>
    </head>
    <body>
      <main class="wrap message">
        <h1>{m.heading}</h1>
        <p>{m.text}</p>
        {m.action ? (
          <form method="post" action={m.action.path}>
            <button type="submit">{m.action.label}</button>
          </form>
        ) : null}
        <p>
          <a href={statusPath(m.slug)}>{`Back to ${m.pageTitle} status`}</a>
        </p>
      </main>
    </body>
  </html>
);

export async function renderStatusMessage(m: StatusMessage): Promise<string> {
  return `<!doctype html>${await (<StatusMessageView m={m} />).toString()}`;
}
