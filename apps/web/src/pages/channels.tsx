/** Channels: create a webhook or email channel, send a test, and read the delivery log with every attempt. */
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
          <p>Channels carry alerts to you: a webhook (chat tools, your own endpoint) or email.</p>
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

function NewChannel() {
  const { projectId } = useProject();
  const [kind, setKind] = useState<"webhook" | "email">("webhook");
  const create = useAction(async (form) => {
    const name = String(form.get("name"));
    const settings =
      kind === "webhook"
        ? { kind, url: String(form.get("url")) }
        : {
            kind,
            to: String(form.get("to"))
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
          };
    await post(projectPath(projectId, "/channels"), { name, isDefault: true, ...settings });
    (document.getElementById("new-channel-form") as HTMLFormElement | null)?.reset();
    await invalidate(projectPath(projectId, "/channels"));
  });
  return (
    <section aria-labelledby="new-channel">
      <h2 id="new-channel">New channel</h2>
      <form id="new-channel-form" class="stack form-card" onSubmit={create.onSubmit}>
        <div class="field">
          <label for="f-kind">Kind</label>
          <select
            id="f-kind"
            value={kind}
            onChange={(e) => setKind((e.target as HTMLSelectElement).value as typeof kind)}
          >
            <option value="webhook">Webhook</option>
            <option value="email">Email</option>
          </select>
        </div>
        <Field label="Name" name="name" required />
        {kind === "webhook" ? (
          <Field label="URL" name="url" type="url" required placeholder="https://example.com/hooks/vigil" />
        ) : (
          <Field label="To (comma-separated)" name="to" required placeholder="ops@example.com" />
        )}
        <ErrorNote error={create.error} />
        <button type="submit" disabled={create.busy}>
          Create channel
        </button>
      </form>
    </section>
  );
}
