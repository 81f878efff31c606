/**
 * Notices to a status page's subscribers: the confirmation mail of a double opt-in, and incident and
 * maintenance announcements, by email (with one-click unsubscribe, RFC 8058) or as a JSON webhook.
 * What they say is decided when the announcement is made (the engine stores it); the links, which carry
 * fresh tokens, are added here when each one is sent.
 */
import type { StatusNoticePayloadV1 } from "@vigil/contract";
import { TransportError } from "./errors.ts";
import { type MailMessage, postJson, type SendResult, type TransportDeps } from "./transports.ts";

/** What an announcement says, as stored with each notice. */
export interface StatusNoticeContent {
  type: "confirm" | "incident" | "maintenance";
  page: { slug: string; title: string; timezone: string };
  incident: StatusNoticePayloadV1["incident"];
  maintenance: StatusNoticePayloadV1["maintenance"];
  /** the page's components it concerns, by name; empty: the whole page */
  components: string[];
}

export interface StatusNoticeLinks {
  pageUrl: string;
  /** POST (one click) or open to stop notices */
  unsubscribeUrl: string;
  /** confirmation notices only */
  confirmUrl?: string;
}

const PROGRESS: Record<string, string> = {
  investigating: "Investigating",
  identified: "Identified",
  monitoring: "Monitoring",
  resolved: "Resolved",
};

function when(ms: number, timezone: string): string {
  const text = new Intl.DateTimeFormat("en-GB", {
    timeZone: timezone,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(ms);
  return `${text} (${timezone})`;
}

/** The subject line: "[Acme] Database is slow — Identified". */
export function statusNoticeTitle(content: StatusNoticeContent): string {
  const page = content.page.title;
  if (content.type === "confirm") return `Confirm your subscription to ${page} status`;
  if (content.incident) {
    return `[${page}] ${content.incident.title} — ${PROGRESS[content.incident.status] ?? content.incident.status}`;
  }
  return `[${page}] Scheduled maintenance: ${content.maintenance?.title ?? ""}`;
}

/** Label and value lines shared by the text and HTML bodies. */
function lines(content: StatusNoticeContent, links: StatusNoticeLinks): [string, string][] {
  const tz = content.page.timezone;
  const out: [string, string][] = [];
  const i = content.incident;
  const m = content.maintenance;
  if (i) {
    out.push([PROGRESS[i.status] ?? i.status, i.message]);
    out.push(["Impact", i.impact]);
    out.push(["Started", when(i.startedAt, tz)]);
    if (i.resolvedAt !== null) out.push(["Resolved", when(i.resolvedAt, tz)]);
  } else if (m) {
    out.push(["From", when(m.startsAt, tz)]);
    out.push(["Until", when(m.endsAt, tz)]);
    if (m.description) out.push(["Details", m.description]);
  }
  out.push(["Affects", content.components.length ? content.components.join(", ") : "everything on the page"]);
  out.push(["Status page", links.pageUrl]);
  return out;
}

function confirmText(content: StatusNoticeContent, links: StatusNoticeLinks): string {
  return [
    `Someone, hopefully you, asked for notices of incidents and maintenance from ${content.page.title} status.`,
    "",
    `Confirm: ${links.confirmUrl ?? ""}`,
    "",
    "If it was not you, ignore this mail: nothing more will be sent.",
  ].join("\n");
}

export function renderStatusNoticeText(content: StatusNoticeContent, links: StatusNoticeLinks): string {
  const body =
    content.type === "confirm"
      ? confirmText(content, links)
      : lines(content, links)
          .map(([label, value]) => `${label}: ${value}`)
          .join("\n");
  return `${statusNoticeTitle(content)}\n\n${body}\n\n-- \nUnsubscribe: ${links.unsubscribeUrl}\n`;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

const link = (url: string, label = url) => `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`;

export function renderStatusNoticeHtml(content: StatusNoticeContent, links: StatusNoticeLinks): string {
  const title = `<h2 style="font-size:18px;margin:16px 0 8px">${escapeHtml(statusNoticeTitle(content))}</h2>`;
  const body =
    content.type === "confirm"
      ? `<p>Someone, hopefully you, asked for notices of incidents and maintenance from ${escapeHtml(content.page.title)} status.</p><p>${link(links.confirmUrl ?? "", "Confirm the subscription")}</p><p style="color:#555">If it was not you, ignore this mail: nothing more will be sent.</p>`
      : `<table style="border-collapse:collapse;font-size:14px">${lines(content, links)
          .map(
            ([label, value]) =>
              `<tr><td style="padding:2px 12px 2px 0;color:#555;vertical-align:top">${escapeHtml(label)}</td><td style="padding:2px 0;white-space:pre-wrap">${/^https?:\/\//.test(value) ? link(value) : escapeHtml(value)}</td></tr>`,
          )
          .join("")}</table>`;
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111">${title}${body}<p style="margin-top:24px;font-size:12px;color:#777">${link(links.unsubscribeUrl, "Unsubscribe")}</p></body></html>`;
}

/** The JSON a webhook subscriber receives. */
export function statusNoticePayload(
  id: string,
  content: StatusNoticeContent,
  links: StatusNoticeLinks,
  now: number,
): StatusNoticePayloadV1 {
  return {
    version: 1,
    id,
    type: content.type === "maintenance" ? "maintenance" : "incident",
    page: { slug: content.page.slug, title: content.page.title, url: links.pageUrl },
    title: statusNoticeTitle(content),
    incident: content.incident,
    maintenance: content.maintenance,
    components: content.components,
    unsubscribeUrl: links.unsubscribeUrl,
    sentAt: now,
  };
}

export type StatusNoticeTarget = { kind: "email"; address: string } | { kind: "webhook"; url: string };

/** Sends one notice; failures are TransportErrors that say whether a retry can help. */
export async function sendStatusNotice(
  target: StatusNoticeTarget,
  id: string,
  content: StatusNoticeContent,
  links: StatusNoticeLinks,
  deps: TransportDeps,
): Promise<SendResult> {
  const signal = AbortSignal.timeout(deps.timeoutMs);
  if (target.kind === "webhook") {
    const body = JSON.stringify(statusNoticePayload(id, content, links, deps.now()));
    return postJson(deps, target.url, body, { "vigil-delivery": id }, signal);
  }
  if (!deps.mailer) {
    throw new TransportError("no mail transport is configured on this server", true);
  }
  const message: MailMessage = {
    to: [target.address],
    subject: statusNoticeTitle(content),
    text: renderStatusNoticeText(content, links),
    html: renderStatusNoticeHtml(content, links),
    messageId: `<${id}@vigil>`,
    headers: {
      "List-Unsubscribe": `<${links.unsubscribeUrl}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
  };
  await deps.mailer.send(message, signal);
  return { status: null };
}
