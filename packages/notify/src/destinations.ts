/**
 * The chat, paging and push services a channel can send to besides email, webhooks, Slack, Discord and
 * ntfy: each turns a payload into the HTTP requests its API documents. Paging services (PagerDuty,
 * Opsgenie) get one event per change, keyed by the subject, so a recovery resolves the incident the
 * problem opened and a retried send is recognised as the same event. Each channel's `url` is its service's
 * API base (the public one by default; a self-hosted Gotify or Matrix server, or a local receiver in tests).
 */
import type { NotificationChange, NotificationPayloadV1 } from "@vigil/contract";
import type { DestinationConfig } from "@vigil/db";
import {
  changeLines,
  changeTitle,
  logsHeading,
  logText,
  renderHtml,
  renderText,
  subjectUrl,
} from "./render.ts";

export type DestinationKind = DestinationConfig["kind"];

/** One request to a service's API. */
export interface DestinationRequest {
  method: "POST" | "PUT";
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

const base = (url: string) => url.replace(/\/+$/, "");

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);

/** The same key for a subject's problem and its recovery, so paging services pair them. */
export function dedupKey(change: NotificationChange): string {
  return `vigil-${change.subject.type}-${change.subject.id}`;
}

const isProblem = (change: NotificationChange) => change.event !== "up";

/** Facts and quoted lines as a flat map, the shape paging services show as details. */
function details(payload: NotificationPayloadV1, change: NotificationChange): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [label, value] of changeLines(payload, change)) out[label] = value;
  const logs = logText(change);
  if (logs) out.Log = logs;
  return out;
}

/** Telegram's HTML: bold title, facts, quoted lines in <pre>; at most 4096 characters. */
function telegramText(payload: NotificationPayloadV1): string {
  const blocks = payload.changes.map((change) => {
    const lines = changeLines(payload, change).map(([l, v]) => `${escapeHtml(l)}: ${escapeHtml(v)}`);
    const heading = logsHeading(payload, change);
    const quoted = heading ? [escapeHtml(heading), `<pre>${escapeHtml(logText(change, 1500))}</pre>`] : [];
    return [`<b>${escapeHtml(changeTitle(change))}</b>`, ...lines, ...quoted].join("\n");
  });
  const text = blocks.join("\n\n");
  // Cutting HTML mid-tag would make Telegram refuse the message: past the limit, plain text instead.
  return text.length <= 4096 ? text : escapeHtml(cut(renderText(payload), 4000));
}

/** A Teams message for a Workflows webhook: an Adaptive Card with a fact set per change. */
function teamsBody(payload: NotificationPayloadV1): unknown {
  const body = payload.changes.flatMap((change) => {
    const heading = logsHeading(payload, change);
    return [
      { type: "TextBlock", text: changeTitle(change), weight: "Bolder", size: "Medium", wrap: true },
      {
        type: "FactSet",
        facts: changeLines(payload, change).map(([title, value]) => ({ title, value })),
      },
      ...(heading
        ? [
            { type: "TextBlock", text: heading, wrap: true, isSubtle: true },
            { type: "TextBlock", text: logText(change, 3000), wrap: true, fontType: "Monospace" },
          ]
        : []),
    ];
  });
  const first = payload.changes[0];
  const link = first ? subjectUrl(payload, first) : null;
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body,
          ...(link ? { actions: [{ type: "Action.OpenUrl", title: "Open in Vigil", url: link }] } : {}),
        },
      },
    ],
  };
}

/** Markdown for Gotify's markdown display. */
function markdown(payload: NotificationPayloadV1): string {
  return payload.changes
    .map((change) => {
      const lines = changeLines(payload, change).map(([l, v]) => `**${l}:** ${v}  `);
      const heading = logsHeading(payload, change);
      const quoted = heading ? ["", heading, "```", logText(change, 3000), "```"] : [];
      return [`### ${changeTitle(change)}`, ...lines, ...quoted].join("\n");
    })
    .join("\n\n");
}

/** The requests that deliver `payload` to a destination with its `token` (the service's credential). */
export function destinationRequests(
  config: DestinationConfig,
  token: string | null,
  payload: NotificationPayloadV1,
): DestinationRequest[] {
  const anyProblem = payload.changes.some(isProblem);
  const first = payload.changes[0];
  const link = first ? subjectUrl(payload, first) : null;
  const bearer = (value: string | null): Record<string, string> =>
    value ? { authorization: `Bearer ${value}` } : {};
  switch (config.kind) {
    case "telegram":
      return [
        {
          method: "POST",
          url: `${base(config.url)}/bot${token ?? ""}/sendMessage`,
          headers: {},
          body: {
            chat_id: config.chatId,
            text: telegramText(payload),
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
          },
        },
      ];
    case "teams":
      return [{ method: "POST", url: config.url, headers: {}, body: teamsBody(payload) }];
    case "pagerduty":
      // Events API v2: one event per change; "resolve" closes what the same dedup_key triggered.
      return payload.changes.map((change) => ({
        method: "POST",
        url: `${base(config.url)}/v2/enqueue`,
        headers: {},
        body: isProblem(change)
          ? {
              routing_key: token,
              event_action: "trigger",
              dedup_key: dedupKey(change),
              payload: {
                summary: cut(changeTitle(change), 1024),
                source: change.subject.hostName ?? "vigil",
                severity: config.severity,
                timestamp: new Date(change.at).toISOString(),
                component: change.subject.name,
                group: payload.project.name,
                class: change.event,
                custom_details: details(payload, change),
              },
              client: "Vigil",
              ...(subjectUrl(payload, change)
                ? {
                    client_url: subjectUrl(payload, change),
                    links: [{ href: subjectUrl(payload, change), text: "Open in Vigil" }],
                  }
                : {}),
            }
          : { routing_key: token, event_action: "resolve", dedup_key: dedupKey(change) },
      }));
    case "opsgenie":
      // Alert API: create with an alias per subject; a recovery closes the alert by that alias.
      return payload.changes.map((change) => {
        const headers = { authorization: `GenieKey ${token ?? ""}` };
        const alias = encodeURIComponent(dedupKey(change));
        return isProblem(change)
          ? {
              method: "POST",
              url: `${base(config.url)}/v2/alerts`,
              headers,
              body: {
                message: cut(changeTitle(change), 130),
                alias: dedupKey(change),
                description: cut(renderText({ ...payload, changes: [change] }), 15_000),
                priority: config.priority,
                source: "Vigil",
                entity: change.subject.hostName ?? change.subject.name,
                tags: change.subject.tags.slice(0, 20),
                details: details(payload, change),
              },
            }
          : {
              method: "POST",
              url: `${base(config.url)}/v2/alerts/${alias}/close?identifierType=alias`,
              headers,
              body: { source: "Vigil", note: cut(changeTitle(change), 25_000) },
            };
      });
    case "pushover":
      return [
        {
          method: "POST",
          url: `${base(config.url)}/1/messages.json`,
          headers: {},
          body: {
            token,
            user: config.userKey,
            title: cut(payload.title, 250),
            message: cut(renderText(payload), 1024),
            priority: anyProblem ? config.priority : 0,
            timestamp: Math.floor(payload.sentAt / 1000),
            ...(link ? { url: link, url_title: "Open in Vigil" } : {}),
          },
        },
      ];
    case "gotify":
      return [
        {
          method: "POST",
          url: `${base(config.url)}/message`,
          headers: { "x-gotify-key": token ?? "" },
          body: {
            title: payload.title,
            message: markdown(payload),
            priority: anyProblem ? config.priority : Math.min(config.priority, 4),
            extras: {
              "client::display": { contentType: "text/markdown" },
              ...(link ? { "client::notification": { click: { url: link } } } : {}),
            },
          },
        },
      ];
    case "matrix":
      // A PUT with the delivery's id as transaction id: a retried send is the same event, not a second.
      return [
        {
          method: "PUT",
          url: `${base(config.url)}/_matrix/client/v3/rooms/${encodeURIComponent(config.roomId)}/send/m.room.message/${encodeURIComponent(payload.id)}`,
          headers: bearer(token),
          body: {
            msgtype: "m.text",
            body: renderText(payload),
            format: "org.matrix.custom.html",
            // Matrix takes an HTML fragment: the email's body without its document wrapper.
            formatted_body: renderHtml(payload)
              .replace(/^[\s\S]*?<body[^>]*>/, "")
              .replace(/<\/body><\/html>$/, ""),
          },
        },
      ];
  }
}
