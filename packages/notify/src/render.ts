/**
 * Words for people, from one payload: the subject line, a plain-text and a simple HTML body for email, and
 * the bodies of the chat formats (Slack, Discord, ntfy). Every channel tells the same story, log lines
 * included (quoted as preformatted text, cut to what each chat format allows).
 */
import { type NotificationChange, type NotificationPayloadV1, utcText } from "@vigil/contract";

const EVENT_WORD: Record<NotificationChange["event"], string> = {
  down: "DOWN",
  up: "UP",
  late: "LATE",
  degraded: "DEGRADED",
};

export function changeTitle(change: Pick<NotificationChange, "event" | "reminder" | "subject">): string {
  const word = change.reminder ? "STILL DOWN" : EVENT_WORD[change.event];
  return `${word}: ${change.subject.summary}`;
}

/** One change: its own title; a group: counts by event ("3 changes: 2 down, 1 up"). */
export function groupTitle(changes: NotificationChange[]): string {
  const [first] = changes;
  if (changes.length === 1 && first) return changeTitle(first);
  const counts = new Map<string, number>();
  for (const c of changes) {
    const key = c.reminder ? "still down" : c.event;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const parts = [...counts].map(([event, n]) => `${n} ${event}`);
  return `${changes.length} changes: ${parts.join(", ")}`;
}

/** "3 h 12 min", "45 s" */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export const formatTime = utcText;

/** The link to a subject, absolute when the server knows its public URL. */
export function subjectUrl(
  payload: Pick<NotificationPayloadV1, "url">,
  change: NotificationChange,
): string | null {
  return payload.url ? `${payload.url}${change.subject.path}` : null;
}

/** The lines that describe one change: cause, since when, facts, held-back notices, links. */
export function changeLines(payload: NotificationPayloadV1, change: NotificationChange): [string, string][] {
  const lines: [string, string][] = [];
  if (change.event === "up" && !change.reminder) {
    lines.push(["Recovered", formatTime(change.at)]);
    if (change.downForMs !== null) lines.push([`Was ${change.from} for`, formatDuration(change.downForMs)]);
  } else {
    lines.push(["Cause", change.cause]);
    lines.push(["Since", formatTime(change.at)]);
  }
  if (change.subject.hostName) lines.push(["Host", change.subject.hostName]);
  for (const fact of change.subject.facts) lines.push([fact.label, fact.value]);
  if (change.heldBack.length > 0)
    lines.push(["Held back while the host was down", change.heldBack.join("; ")]);
  if (change.subject.runbookUrl) lines.push(["Runbook", change.subject.runbookUrl]);
  const url = subjectUrl(payload, change);
  if (url) lines.push(["Dashboard", url]);
  return lines;
}

const PRIORITY_WORD = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/** The heading of a change's quoted log lines, with the link to the log view when there is one. */
export function logsHeading(
  payload: Pick<NotificationPayloadV1, "url">,
  change: NotificationChange,
): string | null {
  const logs = change.subject.logs;
  if (!logs) return null;
  const more = logs.truncated ? ", newest shown" : "";
  const link = logs.path && payload.url ? ` (all lines: ${payload.url}${logs.path})` : "";
  return `Log, ${logs.title}${more}${link}:`;
}

/** A change's quoted log lines, one per line: "12:00:01 err nginx: message". Empty when there are none. */
export function logText(change: NotificationChange, limit = Number.POSITIVE_INFINITY): string {
  const logs = change.subject.logs;
  if (!logs) return "";
  const text = logs.lines
    .map((l) => {
      const time = new Date(l.ts).toISOString().slice(11, 19);
      return `${time} ${PRIORITY_WORD[l.priority] ?? l.priority}${l.source ? ` ${l.source}` : ""}: ${l.message}`;
    })
    .join("\n");
  // Cut from the front: the newest lines, at the end, explain most.
  return text.length > limit ? `…${text.slice(text.length - limit + 1)}` : text;
}

export function renderText(payload: NotificationPayloadV1): string {
  const blocks = payload.changes.map((change) => {
    const lines = changeLines(payload, change).map(([label, value]) => `${label}: ${value}`);
    const heading = logsHeading(payload, change);
    const quoted = heading
      ? [
          "",
          heading,
          ...logText(change)
            .split("\n")
            .map((l) => `  ${l}`),
        ]
      : [];
    return [changeTitle(change), ...lines, ...quoted].join("\n");
  });
  const footer = payload.test
    ? "This is a test notice from Vigil: the channel works."
    : `Vigil · project ${payload.project.name}`;
  return `${blocks.join("\n\n")}\n\n-- \n${footer}\n`;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

const COLOURS: Record<NotificationChange["event"], string> = {
  down: "#b42318",
  up: "#067647",
  late: "#b54708",
  degraded: "#b54708",
};

/** Simple HTML that mail clients render alike: tables, inline styles, no images. */
export function renderHtml(payload: NotificationPayloadV1): string {
  const sections = payload.changes.map((change) => {
    const rows = changeLines(payload, change)
      .map(([label, value]) => {
        const shown = /^https?:\/\//.test(value)
          ? `<a href="${escapeHtml(value)}">${escapeHtml(value)}</a>`
          : escapeHtml(value);
        return `<tr><td style="padding:2px 12px 2px 0;color:#555;vertical-align:top">${escapeHtml(label)}</td><td style="padding:2px 0">${shown}</td></tr>`;
      })
      .join("");
    const heading = logsHeading(payload, change);
    const quoted = heading
      ? `<p style="margin:12px 0 4px;font-size:14px;color:#555">${escapeHtml(heading)}</p><pre style="margin:0;padding:8px;background:#f4f4f5;font-size:12px;white-space:pre-wrap">${escapeHtml(logText(change))}</pre>`
      : "";
    return `<h2 style="font-size:18px;margin:16px 0 8px;color:${COLOURS[change.event]}">${escapeHtml(changeTitle(change))}</h2><table style="border-collapse:collapse;font-size:14px">${rows}</table>${quoted}`;
  });
  const footer = payload.test
    ? "This is a test notice from Vigil: the channel works."
    : `Vigil · project ${escapeHtml(payload.project.name)}`;
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111">${sections.join("")}<p style="margin-top:24px;font-size:12px;color:#777">${footer}</p></body></html>`;
}

export function slackBody(payload: NotificationPayloadV1): unknown {
  const blocks = payload.changes.flatMap((change) => {
    const lines = changeLines(payload, change).map(([label, value]) => `*${label}:* ${value}`);
    const heading = logsHeading(payload, change);
    // A section's text holds at most 3000 characters.
    const quoted = heading
      ? [
          {
            type: "section",
            text: { type: "mrkdwn", text: `${heading}\n\`\`\`${logText(change, 2800)}\`\`\`` },
          },
        ]
      : [];
    return [
      { type: "section", text: { type: "mrkdwn", text: `*${changeTitle(change)}*\n${lines.join("\n")}` } },
      ...quoted,
    ];
  });
  // Slack shows `text` in notifications and where blocks cannot be drawn; at most 50 blocks per message.
  return { text: payload.title, blocks: blocks.slice(0, 50) };
}

const DISCORD_COLOURS: Record<NotificationChange["event"], number> = {
  down: 0xb42318,
  up: 0x067647,
  late: 0xb54708,
  degraded: 0xb54708,
};

export function discordBody(payload: NotificationPayloadV1): unknown {
  // Discord allows 10 embeds per message and 25 fields per embed, each value up to 1024 characters.
  const embeds = payload.changes.slice(0, 10).map((change) => {
    const heading = logsHeading(payload, change);
    return {
      title: changeTitle(change).slice(0, 256),
      color: DISCORD_COLOURS[change.event],
      timestamp: new Date(change.at).toISOString(),
      ...(subjectUrl(payload, change) ? { url: subjectUrl(payload, change) } : {}),
      fields: changeLines(payload, change)
        .slice(0, 24)
        .map(([name, value]) => ({ name: name.slice(0, 256), value: value.slice(0, 1024), inline: false }))
        .concat(
          change.subject.logs
            ? [{ name: "Log", value: `\`\`\`\n${logText(change, 1000)}\n\`\`\``, inline: false }]
            : [],
        ),
      // The embed's description carries the log heading and its link (a field's name has no room for both).
      ...(heading ? { description: heading.slice(0, 4096) } : {}),
    };
  });
  return { username: "Vigil", content: payload.title.slice(0, 2000), embeds };
}

/** ntfy's JSON publishing: POST to the server root with the topic in the body (UTF-8 titles stay intact). */
export function ntfyRequest(
  payload: NotificationPayloadV1,
  topicUrl: string,
  downPriority: number,
): { url: string; body: unknown } {
  const url = new URL(topicUrl);
  const segments = url.pathname.split("/").filter(Boolean);
  const topic = segments.pop() ?? "vigil";
  url.pathname = `/${segments.join("/")}`;
  const anyDown = payload.changes.some((c) => c.event !== "up");
  const first = payload.changes[0];
  const click = first ? subjectUrl(payload, first) : null;
  const message = payload.changes
    .map((change) => {
      const heading = logsHeading(payload, change);
      return [
        changeTitle(change),
        ...changeLines(payload, change).map(([l, v]) => `${l}: ${v}`),
        ...(heading ? [heading, logText(change, 1500)] : []),
      ].join("\n");
    })
    .join("\n\n");
  return {
    url: url.toString().replace(/\/$/, ""),
    body: {
      topic,
      title: payload.title,
      message: message.slice(0, 4000),
      priority: anyDown ? downPriority : 3,
      tags: [anyDown ? "rotating_light" : "white_check_mark"],
      ...(click ? { click } : {}),
    },
  };
}

/**
 * Renders `payload` in every format a channel may send, and throws what a send would throw. The dispatcher
 * calls it while composing, so a notice that cannot be shown fails there, alone, instead of at every retry.
 */
export function renderAll(payload: NotificationPayloadV1): void {
  JSON.stringify(payload);
  renderText(payload);
  renderHtml(payload);
  slackBody(payload);
  discordBody(payload);
}
