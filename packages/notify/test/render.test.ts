// Quoted log lines in every format a channel sends, within what each chat API accepts.
import type { NotificationChange, NotificationPayloadV1 } from "@vigil/contract";
import { describe, expect, it } from "vitest";
import { discordBody, ntfyRequest, renderHtml, renderText, slackBody } from "../src/render.ts";

const AT = Date.UTC(2026, 11, 2, 12, 0, 5);

function payload(lines: number, messageLength = 40): NotificationPayloadV1 {
  const change: NotificationChange = {
    event: "down",
    from: "inactive",
    to: "firing",
    cause: "unit nginx.service failed",
    at: AT,
    downForMs: null,
    reminder: false,
    heldBack: [],
    subject: {
      type: "alert",
      id: "a1",
      name: "web-1 unit nginx.service",
      summary: "web-1 unit nginx.service failed",
      tags: [],
      checkId: null,
      checkKind: null,
      ruleId: "r1",
      hostId: "h1",
      hostName: "web-1",
      runbookUrl: null,
      path: "/p/p1/hosts/h1",
      facts: [],
      logs: {
        title: "the last lines of nginx.service",
        truncated: true,
        path: "/p/p1/logs?host=h1&unit=nginx.service&at=1",
        lines: Array.from({ length: lines }, (_, i) => ({
          ts: AT - (lines - i) * 1000,
          priority: 3,
          source: "nginx",
          message: `line ${i + 1} <b>${"y".repeat(messageLength)}`,
        })),
      },
    },
  };
  return {
    version: 1,
    id: "n1",
    project: { id: "p1", name: "prod" },
    test: false,
    title: "DOWN: web-1 unit nginx.service failed",
    changes: [change],
    url: "https://vigil.example",
    sentAt: AT,
  };
}

describe("log lines in a notification", () => {
  it("are quoted in plain text and HTML email with their time, priority and source, and a link to the log view", () => {
    const text = renderText(payload(2));
    expect(text).toContain(
      "Log, the last lines of nginx.service, newest shown (all lines: https://vigil.example/p/p1/logs?host=h1&unit=nginx.service&at=1):",
    );
    expect(text).toContain(`  12:00:04 err nginx: line 2 <b>${"y".repeat(40)}`);
    const html = renderHtml(payload(2));
    expect(html).toContain("<pre");
    expect(html).toContain("line 2 &lt;b&gt;");
    expect(html).not.toContain("line 2 <b>");
  });

  it("fit Slack's, Discord's and ntfy's limits and keep the newest lines when cut", () => {
    const big = payload(50, 400);
    const slack = slackBody(big) as { blocks: { text: { text: string } }[] };
    const quoted = slack.blocks[1]?.text.text ?? "";
    expect(quoted.length).toBeLessThanOrEqual(3000);
    expect(quoted).toContain("line 50 ");
    expect(quoted).not.toContain("line 1 ");

    const discord = discordBody(big) as {
      embeds: { fields: { name: string; value: string }[]; description: string }[];
    };
    const field = discord.embeds[0]?.fields.find((f) => f.name === "Log");
    expect(field?.value.length).toBeLessThanOrEqual(1024);
    expect(field?.value).toContain("line 50 ");
    expect(discord.embeds[0]?.description).toContain("the last lines of nginx.service");

    const ntfy = ntfyRequest(big, "https://ntfy.example/alerts", 5).body as { message: string };
    expect(ntfy.message.length).toBeLessThanOrEqual(4000);
    expect(ntfy.message).toContain("line 50 ");
  });

  it("are left out where a change quotes none", () => {
    const none = payload(0);
    const [change] = none.changes;
    if (change) change.subject.logs = null;
    expect(renderText(none)).not.toContain("Log,");
    expect((slackBody(none) as { blocks: unknown[] }).blocks).toHaveLength(1);
  });
});
