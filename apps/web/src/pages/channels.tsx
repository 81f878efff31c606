/**
 * Channels: create one (email, a webhook, or a chat, paging or push service), send a test, and read the
 * delivery log with every attempt.
 */
import type { Channel, ChannelTestResult, DeliveryLogEntry } from "@vigil/contract";
import { useState } from "preact/hooks";
import { can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, Badge, Empty, ErrorNote, Field, useAction, when } from "../ui.tsx";

export function ChannelsPage() {
  const { projectId, role } = useProject();
  const channels = useQuery<{ channels: Channel[] }>(projectPath(projectId, "/channels"));
  const deliveries = useQuery<{ entries: DeliveryLogEntry[] }>(
    projectPath(projectId, "/deliveries?limit=50"),
  );
  const list = channels.data?.channels ?? [];
  const names = new Map(list.map((c) => [c.id, c.name]));
  return (
    <>
      <h1>Channels</h1>
      <ErrorNote error={channels.error} />
      {channels.data && list.length === 0 ? (
        <Empty title="No channels yet">
          <p>
            Channels carry alerts to you: email, a webhook, Slack, Discord, Teams, ntfy, Telegram, PagerDuty,
            Opsgenie, Pushover, Gotify or Matrix.
          </p>
        </Empty>
      ) : (
        <ul class="cards">
          {list.map((c) => (
            <ChannelCard key={c.id} channel={c} canTest={can(role, "write")} />
          ))}
        </ul>
      )}
      {can(role, "write") && <NewChannel />}
      <section aria-labelledby="log">
        <h2 id="log">Delivery log</h2>
        {(deliveries.data?.entries ?? []).length === 0 ? (
          <p class="muted">Nothing sent yet.</p>
        ) : (
          <div class="table-wrap">
            <table data-testid="delivery-log">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Notice</th>
                  <th scope="col">State</th>
                  <th scope="col">Attempts</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.data?.entries.map((e) => (
                  <tr key={`${e.notificationId}-${e.channelId}`}>
                    <td>{when(e.createdAt)}</td>
                    <td>{names.get(e.channelId) ?? e.channelId}</td>
                    <td>{e.title}</td>
                    <td>
                      <Badge
                        tone={
                          e.delivery?.state === "sent"
                            ? "ok"
                            : e.delivery?.state === "failed"
                              ? "bad"
                              : "muted"
                        }
                      >
                        {e.delivery?.state ?? e.state}
                      </Badge>
                      {e.suppressedReason && <span class="muted"> {e.suppressedReason}</span>}
                    </td>
                    <td>
                      {e.delivery?.attempts.map((a) => (
                        <div key={a.at}>
                          {a.outcome} {a.status ?? ""} {a.error ?? ""}{" "}
                          <span class="muted">{a.latencyMs} ms</span>
                        </div>
                      ))}
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

function ChannelCard({ channel, canTest }: { channel: Channel; canTest: boolean }) {
  const { projectId } = useProject();
  const [result, setResult] = useState<ChannelTestResult | null>(null);
  const test = useAction(async () => {
    setResult(await post<ChannelTestResult>(projectPath(projectId, `/channels/${channel.id}/test`)));
    await invalidate(projectPath(projectId, "/deliveries"));
  });
  const target =
    channel.kind === "email"
      ? (channel.settings.to as string[] | undefined)?.join(", ")
      : channel.settings.url;
  return (
    <li class="card">
      <div class="card-head">
        <strong>{channel.name}</strong>
        <Badge tone={channel.health === "ok" ? "ok" : "bad"}>{channel.health}</Badge>
      </div>
      <p class="muted">
        {channel.kind} → {String(target ?? "")}
      </p>
      <p class="muted">
        on {channel.events.join(", ")}
        {channel.tlsExpiry && !channel.events.includes("degraded") ? ", expiring certificates" : ""}
      </p>
      <p class="muted">last sent {ago(channel.lastSentAt)}</p>
      {canTest && (
        <form onSubmit={test.onSubmit}>
          <button type="submit" class="small" disabled={test.busy}>
            Send test
          </button>
        </form>
      )}
      {result && (
        <p role="status">
          {result.sent ? "Sent" : "Not sent"}: {result.outcome} {result.status ?? ""} {result.error ?? ""}
        </p>
      )}
      <ErrorNote error={test.error} />
    </li>
  );
}

/** A field of the new-channel form; empty optional fields are left out, so the API's defaults apply. */
interface KindField {
  name: string;
  label: string;
  type?: "url" | "password";
  required?: boolean;
  placeholder?: string;
}

const urlField = (placeholder: string, required = true): KindField => ({
  name: "url",
  label: required ? "URL" : "API URL (leave empty for the public service)",
  type: "url",
  required,
  placeholder,
});
const token = (label: string): KindField => ({ name: "token", label, type: "password", required: true });

/** What each kind asks for (the API's settings per kind; README "Alerts"). */
const KINDS: Record<string, { label: string; fields: KindField[] }> = {
  webhook: { label: "Webhook", fields: [urlField("https://example.com/hooks/vigil")] },
  email: {
    label: "Email",
    fields: [{ name: "to", label: "To (comma-separated)", required: true, placeholder: "ops@example.com" }],
  },
  slack: { label: "Slack", fields: [urlField("https://hooks.slack.com/services/…")] },
  discord: { label: "Discord", fields: [urlField("https://discord.com/api/webhooks/…")] },
  teams: { label: "Microsoft Teams", fields: [urlField("the Workflows webhook URL")] },
  ntfy: { label: "ntfy", fields: [urlField("https://ntfy.sh/my-alerts")] },
  telegram: {
    label: "Telegram",
    fields: [
      token("Bot token"),
      { name: "chatId", label: "Chat id", required: true, placeholder: "-1001234567890" },
      urlField("https://api.telegram.org", false),
    ],
  },
  pagerduty: {
    label: "PagerDuty",
    fields: [token("Events API v2 integration key"), urlField("https://events.pagerduty.com", false)],
  },
  opsgenie: {
    label: "Opsgenie",
    fields: [token("API integration key"), urlField("https://api.eu.opsgenie.com for the EU", false)],
  },
  pushover: {
    label: "Pushover",
    fields: [
      token("Application token"),
      { name: "userKey", label: "User or group key", required: true },
      urlField("https://api.pushover.net", false),
    ],
  },
  gotify: { label: "Gotify", fields: [urlField("https://gotify.example.com"), token("Application token")] },
  matrix: {
    label: "Matrix",
    fields: [
      urlField("https://matrix.example.org"),
      { name: "roomId", label: "Room id", required: true, placeholder: "!abc:example.org" },
      token("Access token"),
    ],
  },
};

/** The changes a channel can be told of, with the API's default (down and up) checked. */
const EVENTS: [event: string, label: string, on: boolean][] = [
  ["down", "down (and alerts firing)", true],
  ["up", "back up (and alerts resolved)", true],
  ["late", "late (a heartbeat past its due time, within grace)", false],
  ["degraded", "degraded (slow responses, certificates expiring)", false],
];

function NewChannel() {
  const { projectId } = useProject();
  const [kind, setKind] = useState("webhook");
  const create = useAction(async (form) => {
    const settings: Record<string, unknown> = { kind };
    for (const field of KINDS[kind]?.fields ?? []) {
      const value = String(form.get(field.name) ?? "").trim();
      if (!value) continue;
      settings[field.name] =
        field.name === "to"
          ? value
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean)
          : value;
    }
    await post(projectPath(projectId, "/channels"), {
      name: String(form.get("name")),
      isDefault: true,
      events: EVENTS.map(([event]) => event).filter((event) => form.get(`event-${event}`) === "on"),
      tlsExpiry: form.get("tlsExpiry") === "on",
      ...settings,
    });
    (document.getElementById("new-channel-form") as HTMLFormElement | null)?.reset();
    await invalidate(projectPath(projectId, "/channels"));
  });
  return (
    <section aria-labelledby="new-channel">
      <h2 id="new-channel">New channel</h2>
      <form id="new-channel-form" class="stack form-card" onSubmit={create.onSubmit}>
        <div class="field">
          <label for="f-kind">Kind</label>
          <select id="f-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
            {Object.entries(KINDS).map(([value, k]) => (
              <option key={value} value={value}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
        <Field label="Name" name="name" required />
        {(KINDS[kind]?.fields ?? []).map((f) => (
          <Field
            key={`${kind}-${f.name}`}
            label={f.label}
            name={f.name}
            type={f.type}
            required={f.required}
            placeholder={f.placeholder}
          />
        ))}
        <fieldset class="stack">
          <legend>Notify on</legend>
          {EVENTS.map(([event, label, on]) => (
            <div key={event} class="field check">
              <label>
                <input type="checkbox" name={`event-${event}`} defaultChecked={on} /> {label}
              </label>
            </div>
          ))}
          <div class="field check">
            <label>
              <input type="checkbox" name="tlsExpiry" defaultChecked /> a certificate about to expire (TLS
              checks), even without “degraded”
            </label>
          </div>
        </fieldset>
        <ErrorNote error={create.error} />
        <button type="submit" disabled={create.busy}>
          Create channel
        </button>
      </form>
    </section>
  );
}
