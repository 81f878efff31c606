/**
 * A page's incidents as feeds: Atom (RFC 4287) and RSS 2.0, for readers that take only one of them. One
 * entry (item) per incident, its updates as the text; both carry the same words.
 */
import type { PublicIncident, StatusPageData } from "@vigil/contract";
import { escapeXml, progressText, statusPath } from "./format.ts";

const iso = (t: number) => new Date(t).toISOString();

function lastChange(i: PublicIncident): number {
  return Math.max(i.startedAt, i.resolvedAt ?? 0, ...i.updates.map((u) => u.at));
}

function entryText(i: PublicIncident): string {
  const lines = i.updates.map((u) => `${iso(u.at)} ${progressText[u.status]}: ${u.message}`);
  if (i.automatic) lines.unshift(`${iso(i.startedAt)} Detected automatically.`);
  if (i.automatic && i.resolvedAt !== null) lines.push(`${iso(i.resolvedAt)} Recovered.`);
  return lines.join("\n");
}

/** What both feeds are made of: the page's address, its incidents newest first, and the last change. */
function feedSource(data: StatusPageData, origin: string) {
  const incidents = [...data.activeIncidents, ...data.pastIncidents];
  return {
    page: `${origin}${statusPath(data.page.slug)}`,
    incidents,
    updated: Math.max(0, ...incidents.map(lastChange)),
  };
}

export function atomFeed(data: StatusPageData, origin: string): string {
  const { page, incidents, updated } = feedSource(data, origin);
  const entries = incidents.map(
    (i) =>
      `<entry><id>urn:uuid:${escapeXml(i.id)}</id><title>${escapeXml(
        `${i.title} (${progressText[i.status]})`,
      )}</title><published>${iso(i.startedAt)}</published><updated>${iso(lastChange(i))}</updated><link rel="alternate" type="text/html" href="${escapeXml(`${page}#incident-${i.id}`)}"/><content type="text">${escapeXml(entryText(i))}</content></entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>${escapeXml(`${data.page.title}: incidents`)}</title><id>${escapeXml(page)}</id><updated>${iso(updated || data.generatedAt)}</updated><author><name>${escapeXml(data.page.title)}</name></author><link rel="self" type="application/atom+xml" href="${escapeXml(`${page}/feed.atom`)}"/><link rel="alternate" type="text/html" href="${escapeXml(page)}"/>${entries.join("")}</feed>
`;
}

/** RFC 822 dates, as RSS 2.0 wants them. */
const rfc822 = (t: number) => new Date(t).toUTCString();

export function rssFeed(data: StatusPageData, origin: string): string {
  const { page, incidents, updated } = feedSource(data, origin);
  const items = incidents.map(
    (i) =>
      `<item><title>${escapeXml(`${i.title} (${progressText[i.status]})`)}</title><link>${escapeXml(
        `${page}#incident-${i.id}`,
      )}</link><guid isPermaLink="false">urn:uuid:${escapeXml(i.id)}</guid><pubDate>${rfc822(
        lastChange(i),
      )}</pubDate><description>${escapeXml(entryText(i))}</description></item>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>${escapeXml(`${data.page.title}: incidents`)}</title><link>${escapeXml(page)}</link><description>${escapeXml(`Incidents and their updates on ${data.page.title}`)}</description><lastBuildDate>${rfc822(updated || data.generatedAt)}</lastBuildDate><atom:link rel="self" type="application/rss+xml" href="${escapeXml(`${page}/feed.rss`)}"/>${items.join("")}</channel></rss>
`;
}
