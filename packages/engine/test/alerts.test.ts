// Alert delivery end to end inside the engine: real checks flip, the pipeline (src/alerts/) queues, groups and
// sends through @vigil/notify's transports to a real SMTP server and a real webhook receiver on 127.0.0.1.
import { createChannelRequestSchema, type NotificationPayloadV1 } from "@vigil/contract";
import { type Db, deliveries, deliveryAttempts, flips, notifications, silences } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { verifyWebhookSignature } from "@vigil/notify";
import { smtpMailer } from "@vigil/notify/node";
import { startSmtpSink, startWebhookReceiver } from "@vigil/notify/testing";
import { asc, eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AlertDeps,
  claimFlips,
  createChannel,
  createEngineState,
  DELIVERY_LOG_DAYS,
  dispatch,
  FLIP_CLAIM_LEASE_MS,
  findChannel,
  GIVE_UP_AFTER_MS,
  type PingInput,
  pruneDeliveryLog,
  RETRY_BASE_MS,
  recordPing,
  SEND_LEASE_MS,
  sendTestNotification,
} from "../src/index.ts";
import { createTestCheck, manualClock } from "../src/testing.ts";

const SECRET_KEY = "test-server-key";
const WEBHOOK_SECRET = "whsec-0123456789abcdef";
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function setup(options: { timeoutMs?: number } = {}) {
  const db = await createTestDb();
  const clock = manualClock(Date.UTC(2026, 10, 27, 12));
  const project = await createProject(db);
  const sink = await startSmtpSink();
  const receiver = await startWebhookReceiver();
  closers.push(sink.close, receiver.close);
  const deps: AlertDeps = {
    db,
    clock,
    fetch: (input, init) => fetch(input, init),
    mailer: smtpMailer({ url: sink.url, from: "Vigil <vigil@test.example>" }),
    secretKey: SECRET_KEY,
    publicUrl: "https://vigil.test.example",
    // the receivers are on 127.0.0.1
    allowPrivateTargets: true,
    timeoutMs: options.timeoutMs ?? 2000,
  };
  const check = await createTestCheck(db, clock, project.id, {
    name: "nightly-backup",
    period: 60,
    grace: 60,
    tags: ["backups"],
    runbookUrl: "https://wiki.test.example/backups",
  });
  const engine = createEngineState();
  const ping = (action: PingInput["action"], checkId = check.id) =>
    recordPing(db, clock, engine, {
      target: { checkId },
      action,
      exitStatus: null,
      rid: null,
      method: "POST",
      body: action === "fail" ? "restic: repository locked" : null,
      userAgent: "curl/8",
      remoteAddr: "203.0.113.7",
    });
  /** A channel through the API's own schema (its defaults), routed as the project default unless told. */
  const channel = (fields: Record<string, unknown>) =>
    createChannel(db, clock, project.id, createChannelRequestSchema.parse({ isDefault: true, ...fields }), {
      serverKey: SECRET_KEY,
      mailer: true,
      allowPrivateTargets: true,
    });
  const email = (fields: Record<string, unknown> = {}) =>
    channel({ kind: "email", name: "ops mail", to: ["ops@test.example"], ...fields });
  const webhook = (fields: Record<string, unknown> = {}) =>
    channel({
      kind: "webhook",
      name: "hook",
      url: `${receiver.url}/hook`,
      secret: WEBHOOK_SECRET,
      ...fields,
    });
  return { db, clock, project, sink, receiver, deps, check, ping, channel, email, webhook };
}

const payloadOf = (body: string) => JSON.parse(body) as NotificationPayloadV1;
const countRows = async (db: Db, table: typeof deliveries | typeof notifications) =>
  (await db.select().from(table)).length;

describe("alert delivery", () => {
  it("sends one email and one signed webhook when a check goes down, and one of each when it recovers", async () => {
    const { clock, sink, receiver, deps, ping, email, webhook } = await setup();
    await email();
    await webhook();
    await ping("success");
    clock.advance(60_000);
    await ping("fail");
    await dispatch(deps);

    const [down] = await sink.waitFor(1);
    expect(down?.subject).toBe("DOWN: nightly-backup");
    expect(down?.to).toMatchObject({ value: [{ address: "ops@test.example" }] });
    expect(down?.text).toContain("Cause:");
    expect(down?.text).toContain("Last ping: 2026-11-27 12:01:00 UTC (fail, POST from 203.0.113.7)");
    expect(down?.text).toContain("restic: repository locked");
    expect(down?.text).toContain("Runbook: https://wiki.test.example/backups");
    expect(down?.text).toMatch(
      /Dashboard: https:\/\/vigil\.test\.example\/p\/[0-9a-f-]{36}\/checks\/[0-9a-f-]{36}/,
    );
    expect(down?.html).toContain('<a href="https://wiki.test.example/backups">');

    expect(receiver.accepted).toHaveLength(1);
    const hook = receiver.accepted[0];
    if (!hook) throw new Error("no webhook");
    const headers = new Headers(hook.headers as Record<string, string>);
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, headers, hook.body, clock.now())).toBeNull();
    const payload = payloadOf(hook.body);
    expect(payload).toMatchObject({ version: 1, title: "DOWN: nightly-backup", test: false });
    expect(payload.changes[0]).toMatchObject({ event: "down", from: "up", to: "down" });
    expect(headers.get("vigil-delivery")).toBe(payload.id);

    clock.advance(12 * 60_000);
    await ping("success");
    await dispatch(deps);
    const [, up] = await sink.waitFor(2);
    expect(up?.subject).toBe("UP: nightly-backup");
    expect(up?.text).toContain("Was down for: 12 min");
    expect(payloadOf(receiver.accepted[1]?.body ?? "{}").changes[0]?.downForMs).toBe(12 * 60_000);

    await dispatch(deps);
    expect(sink.messages).toHaveLength(2);
    expect(receiver.accepted).toHaveLength(2);
  });

  it("a webhook signature fails for a tampered body, a wrong secret and a stale timestamp", async () => {
    const { clock, receiver, deps, ping, webhook } = await setup();
    await webhook();
    await ping("fail");
    await dispatch(deps);
    const [hook] = await receiver.waitFor(1);
    if (!hook) throw new Error("no webhook");
    const headers = new Headers(hook.headers as Record<string, string>);
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, headers, hook.body, clock.now())).toBeNull();
    expect(
      await verifyWebhookSignature(WEBHOOK_SECRET, headers, hook.body.replace("down", "up!"), clock.now()),
    ).toBe("signature mismatch");
    expect(await verifyWebhookSignature("another-secret-of-16", headers, hook.body, clock.now())).toBe(
      "signature mismatch",
    );
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, headers, hook.body, clock.now() + 10 * 60_000)).toBe(
      "stale timestamp",
    );
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, new Headers(), hook.body, clock.now())).toBe(
      "missing signature headers",
    );
  });

  it("retries a receiver that answers 500, then times out, then is down, and delivers exactly once when it recovers", async () => {
    const { db, clock, receiver, deps, ping, webhook } = await setup({ timeoutMs: 300 });
    await webhook();
    receiver.answers.push(500, "hang");
    await ping("fail");

    await dispatch(deps); // 500
    clock.advance(RETRY_BASE_MS);
    await dispatch(deps); // times out
    expect(receiver.requests).toHaveLength(2);

    const hookUrl = new URL(receiver.url);
    await receiver.close(); // connection refused from now on
    clock.advance(2 * RETRY_BASE_MS);
    await dispatch(deps);

    const revived = await startWebhookReceiver();
    closers.push(revived.close);
    const channelRows = await db.query.channels.findMany();
    await db.$client.execute({
      sql: "update channels set config = json_set(config, '$.url', ?)",
      args: [`${revived.url}/hook`],
    });
    expect(channelRows).toHaveLength(1);
    clock.advance(4 * RETRY_BASE_MS);
    await dispatch(deps);
    clock.advance(60 * 60_000);
    await dispatch(deps);

    expect(revived.accepted).toHaveLength(1);
    const attempts = await db.select().from(deliveryAttempts).orderBy(asc(deliveryAttempts.id));
    expect(attempts.map((a) => a.outcome)).toEqual(["transient", "transient", "transient", "sent"]);
    expect(attempts[0]?.status).toBe(500);
    expect(attempts[1]?.error).toMatch(/timed out/);
    expect(attempts[2]?.error).toMatch(/request failed/);
    expect(hookUrl.hostname).toBe("127.0.0.1");
    const [delivery] = await db.select().from(deliveries);
    expect(delivery).toMatchObject({ state: "sent", attempts: 4 });
  });

  it("stops at a 4xx, marks the channel failing, and a later success clears it", async () => {
    const { db, clock, project, receiver, deps, ping, webhook } = await setup();
    const channel = await webhook();
    receiver.answers.push(410);
    await ping("fail");
    await dispatch(deps);
    clock.advance(GIVE_UP_AFTER_MS);
    await dispatch(deps);
    expect(receiver.requests).toHaveLength(1);
    const failing = await findChannel(db, project.id, channel.id);
    expect(failing.failingSince).toBe(Date.UTC(2026, 10, 27, 12));
    expect(failing.lastError).toMatch(/HTTP 410/);

    await ping("success");
    await dispatch(deps);
    const healed = await findChannel(db, project.id, channel.id);
    expect(healed.failingSince).toBeNull();
    expect(receiver.accepted).toHaveLength(1);
  });

  it("gives up after a day of transient failures and marks the channel failing", async () => {
    const { db, clock, project, receiver, deps, ping, webhook } = await setup();
    const channel = await webhook();
    receiver.answers.push(...Array.from({ length: 100 }, () => 503));
    await ping("fail");
    for (let i = 0; i < 40; i++) {
      await dispatch(deps);
      clock.advance(60 * 60_000);
    }
    const [delivery] = await db.select().from(deliveries);
    expect(delivery?.state).toBe("failed");
    expect(delivery?.lastError).toMatch(/gave up after \d+ attempts over a day/);
    expect(receiver.accepted).toHaveLength(0);
    expect(receiver.requests.length).toBeLessThan(40);
    expect((await findChannel(db, project.id, channel.id)).failingSince).not.toBeNull();
  });

  it("two dispatchers racing send each notice once", async () => {
    const { receiver, deps, ping, webhook, sink, email } = await setup();
    await webhook();
    await email();
    await ping("fail");
    await Promise.all([dispatch(deps), dispatch(deps), dispatch({ ...deps })]);
    await Promise.all([dispatch(deps), dispatch(deps)]);
    await sink.waitFor(1);
    expect(receiver.requests).toHaveLength(1);
    expect(sink.messages).toHaveLength(1);
  });

  it("sends again with the same delivery id when the dispatcher died while sending", async () => {
    const { db, clock, receiver, deps, ping, webhook } = await setup();
    await webhook();
    await ping("fail");
    await dispatch(deps);
    // Pretend the send was cut short after its claim: back to "sending" with the old lease.
    const [delivery] = await db.select().from(deliveries);
    await db
      .update(deliveries)
      .set({ state: "sending", claimedAt: clock.now() })
      .where(eq(deliveries.id, delivery?.id ?? ""));
    await dispatch(deps);
    expect(receiver.requests).toHaveLength(1);
    clock.advance(SEND_LEASE_MS + 1);
    await dispatch(deps);
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[1]?.headers["vigil-delivery"]).toBe(
      receiver.requests[0]?.headers["vigil-delivery"],
    );
  });

  it("groups flips within the channel's window into one message", async () => {
    const { db, clock, project, receiver, deps, ping, webhook } = await setup();
    await webhook({ groupWindowSec: 30 });
    const other = await createTestCheck(db, clock, project.id, { name: "db-dump", period: 60, grace: 60 });
    await ping("fail");
    await dispatch(deps);
    clock.advance(10_000);
    await ping("fail", other.id);
    await dispatch(deps);
    expect(receiver.requests).toHaveLength(0);
    clock.advance(20_000);
    await dispatch(deps);
    expect(receiver.requests).toHaveLength(1);
    const payload = payloadOf(receiver.requests[0]?.body ?? "{}");
    expect(payload.title).toBe("2 changes: 2 down");
    expect(payload.changes.map((c) => c.subject.name)).toEqual(["nightly-backup", "db-dump"]);
  });

  it("reminds while a check stays down and stops once it recovers", async () => {
    const { clock, receiver, deps, ping, webhook } = await setup();
    await webhook({ reminderSec: 3600 });
    await ping("fail");
    await dispatch(deps);
    clock.advance(59 * 60_000);
    await dispatch(deps);
    expect(receiver.requests).toHaveLength(1);
    clock.advance(60_000);
    await dispatch(deps);
    clock.advance(3600_000);
    await dispatch(deps);
    const titles = receiver.requests.map((r) => payloadOf(r.body).title);
    expect(titles).toEqual([
      "DOWN: nightly-backup",
      "STILL DOWN: nightly-backup",
      "STILL DOWN: nightly-backup",
    ]);
    expect(payloadOf(receiver.requests[2]?.body ?? "{}").changes[0]?.downForMs).toBe(2 * 3600_000);

    await ping("success");
    await dispatch(deps);
    clock.advance(5 * 3600_000);
    await dispatch(deps);
    expect(receiver.requests.map((r) => payloadOf(r.body).title).slice(3)).toEqual(["UP: nightly-backup"]);
  });

  it("stops reminding after the channel's limit for an outage, and counts again from the next outage", async () => {
    const { clock, receiver, deps, ping, webhook } = await setup();
    await webhook({ reminderSec: 3600, reminderLimit: 2 });
    const titles = () => receiver.requests.map((r) => payloadOf(r.body).title);
    await ping("fail");
    await dispatch(deps);
    for (let hour = 0; hour < 4; hour++) {
      clock.advance(3600_000);
      await dispatch(deps);
    }
    expect(titles()).toEqual([
      "DOWN: nightly-backup",
      "STILL DOWN: nightly-backup",
      "STILL DOWN: nightly-backup",
    ]);

    await ping("success");
    await dispatch(deps);
    await ping("fail");
    await dispatch(deps);
    for (let hour = 0; hour < 3; hour++) {
      clock.advance(3600_000);
      await dispatch(deps);
    }
    expect(titles().slice(3)).toEqual([
      "UP: nightly-backup",
      "DOWN: nightly-backup",
      "STILL DOWN: nightly-backup",
      "STILL DOWN: nightly-backup",
    ]);
  });

  it("routes by tag, by check and by project default, and only the transitions a channel asked for", async () => {
    const { db, clock, project, receiver, deps, ping, webhook, check } = await setup();
    await webhook({ name: "tagged", isDefault: false, tags: ["backups"], url: `${receiver.url}/tagged` });
    await webhook({ name: "by id", isDefault: false, subjectIds: [check.id], url: `${receiver.url}/by-id` });
    await webhook({ name: "other tag", isDefault: false, tags: ["web"], url: `${receiver.url}/other` });
    await webhook({ name: "up only", events: ["up"], url: `${receiver.url}/up-only` });
    await webhook({ name: "off", enabled: false, url: `${receiver.url}/off` });
    await createTestCheck(db, clock, project.id, { name: "untagged" });
    await ping("fail");
    await dispatch(deps);
    expect(receiver.requests.map((r) => r.path).sort()).toEqual(["/by-id", "/tagged"]);
    await ping("success");
    await dispatch(deps);
    expect(
      receiver.requests
        .map((r) => r.path)
        .slice(2)
        .sort(),
    ).toEqual(["/by-id", "/tagged", "/up-only"]);
  });

  it("keeps a silenced notice in the log without sending it, and the flip in the history", async () => {
    const { db, clock, project, receiver, deps, ping, webhook, check } = await setup();
    await webhook();
    await db.insert(silences).values({
      id: crypto.randomUUID(),
      projectId: project.id,
      matchers: { checkId: check.id },
      startsAt: clock.now(),
      endsAt: clock.now() + 3_600_000,
      comment: "restic upgrade",
      author: "ops",
      createdAt: clock.now(),
    });
    await ping("fail");
    await dispatch(deps);
    expect(receiver.requests).toHaveLength(0);
    const held = await db.select().from(notifications).where(eq(notifications.subjectId, check.id));
    expect(held).toMatchObject([
      { state: "suppressed", suppressedReason: expect.stringContaining("(restic upgrade)") },
    ]);
    expect(
      (await db.select().from(flips).where(eq(flips.subjectId, check.id))).map((f) => f.toStatus),
    ).toEqual(["down"]);
  });

  it("a silence stored with an end far past what dates can show still holds back its notice, and the other check's notice goes out", async () => {
    const { db, clock, project, receiver, deps, ping, webhook, check } = await setup();
    await webhook();
    const other = await createTestCheck(db, clock, project.id, { name: "db-dump", period: 60, grace: 60 });
    // Written before input times were bounded: 9e15 ms is past the last date `Date` can show.
    await db.insert(silences).values({
      id: crypto.randomUUID(),
      projectId: project.id,
      matchers: { checkId: check.id },
      startsAt: clock.now() - 1000,
      endsAt: 9e15,
      comment: "forever",
      author: "ops",
      createdAt: clock.now(),
    });
    await ping("fail");
    await ping("fail", other.id);
    await dispatch(deps);

    expect(receiver.requests.map((r) => payloadOf(r.body).title)).toEqual(["DOWN: db-dump"]);
    const held = await db.select().from(notifications).where(eq(notifications.subjectId, check.id));
    expect(held).toMatchObject([
      { state: "suppressed", suppressedReason: expect.stringContaining("9000000000000000") },
    ]);
  });

  it("a flip whose subject cannot be described is marked failed with its error, and the other flips are notified", async () => {
    const { db, clock, project, receiver, deps, ping, webhook, check } = await setup();
    await webhook();
    const other = await createTestCheck(db, clock, project.id, { name: "db-dump", period: 60, grace: 60 });
    await ping("fail");
    await ping("fail", other.id);
    // The check's stored tags are no longer JSON (a hand edit gone wrong): describing it throws.
    await db.run(sql`update checks set tags = '[not json' where id = ${check.id}`);
    const report = await dispatch(deps);

    expect(receiver.requests.map((r) => payloadOf(r.body).title)).toEqual(["DOWN: db-dump"]);
    expect(report).toMatchObject({ flips: 2, sent: 1, failed: 1 });
    const [failed] = await db.select().from(notifications).where(eq(notifications.subjectId, check.id));
    expect(failed).toMatchObject({
      state: "failed",
      suppressedReason: expect.stringMatching(/^could not be queued: SyntaxError: /),
    });
    // Done with, not claimed again when the lease runs out.
    expect((await db.select().from(flips)).every((f) => f.processedAt !== null)).toBe(true);
    clock.advance(FLIP_CLAIM_LEASE_MS + 1);
    expect((await dispatch(deps)).flips).toBe(0);
  });

  it("a queued notice that cannot be read fails alone, and the other channel's notice still goes out", async () => {
    const { db, clock, receiver, deps, ping, webhook } = await setup();
    const broken = await webhook({ name: "broken", groupWindowSec: 30, url: `${receiver.url}/broken` });
    await webhook({ name: "fine", groupWindowSec: 30, url: `${receiver.url}/fine` });
    await ping("fail");
    await dispatch(deps);
    // A notice stored by another version, or damaged: its change no longer parses.
    await db
      .update(notifications)
      .set({ change: { at: "yesterday" } })
      .where(eq(notifications.channelId, broken.id));
    clock.advance(30_000);
    await dispatch(deps);

    expect(receiver.requests.map((r) => r.path)).toEqual(["/fine"]);
    const [failed] = await db.select().from(notifications).where(eq(notifications.channelId, broken.id));
    expect(failed?.state).toBe("failed");
    expect(failed?.suppressedReason).toMatch(/^could not be rendered: /);
    clock.advance(60_000);
    await dispatch(deps);
    expect(receiver.requests).toHaveLength(1);
  });

  it("speaks Slack, Discord and ntfy", async () => {
    const { receiver, deps, ping, channel } = await setup();
    const chat = (kind: string, path: string, extra: Record<string, unknown> = {}) =>
      channel({ kind, name: kind, url: `${receiver.url}${path}`, ...extra });
    await chat("slack", "/services/T0/B0/xyz");
    await chat("discord", "/api/webhooks/1/abc");
    await chat("ntfy", "/base/vigil-alerts", { priority: 5 });
    await ping("fail");
    await dispatch(deps);
    const byPath = Object.fromEntries(receiver.requests.map((r) => [r.path, JSON.parse(r.body)]));
    expect(byPath["/services/T0/B0/xyz"]).toMatchObject({
      text: "DOWN: nightly-backup",
      blocks: [
        {
          type: "section",
          text: { type: "mrkdwn", text: expect.stringContaining("*DOWN: nightly-backup*") },
        },
        // the failed run's output, quoted
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: expect.stringContaining("```12:00:00 err: restic: repository locked```"),
          },
        },
      ],
    });
    expect(byPath["/api/webhooks/1/abc"]).toMatchObject({
      content: "DOWN: nightly-backup",
      embeds: [{ title: "DOWN: nightly-backup", color: 0xb42318, fields: expect.any(Array) }],
    });
    expect(byPath["/base"]).toMatchObject({
      topic: "vigil-alerts",
      title: "DOWN: nightly-backup",
      priority: 5,
      tags: ["rotating_light"],
      click: expect.stringMatching(/^https:\/\/vigil\.test\.example\/p\/[0-9a-f-]{36}\/checks\//),
    });
  });

  it("refuses a receiver the address rule refuses, and says why on the channel", async () => {
    const { db, clock, project, receiver, deps, ping, webhook } = await setup();
    const channel = await webhook();
    await ping("fail");
    await dispatch({ ...deps, allowPrivateTargets: false });
    expect(receiver.requests).toHaveLength(0);
    const row = await findChannel(db, project.id, channel.id);
    expect(row.lastError).toMatch(/^refused: 127\.0\.0\.1 is a private/);
    expect(row.failingSince).toBe(clock.now());
  });

  it("sends a test notice on request and logs it", async () => {
    const { db, project, sink, deps, email } = await setup();
    const channel = await email();
    const result = await sendTestNotification(deps, await findChannel(db, project.id, channel.id));
    expect(result).toMatchObject({ state: "sent", attempt: { outcome: "sent" } });
    const [mail] = await sink.waitFor(1);
    expect(mail?.subject).toBe('TEST: Vigil channel "ops mail"');
    expect(mail?.text).toContain("This is a test notice from Vigil");
    expect(await countRows(db, deliveries)).toBe(1);
  });
});

describe("flips as an outbox", () => {
  it("are claimed by one dispatcher only, and handed out again when a claim goes stale", async () => {
    const { db, clock, ping } = await setup();
    await ping("success");
    await ping("fail");
    await ping("success");
    const [a, b] = await Promise.all([claimFlips(db, clock.now()), claimFlips(db, clock.now())]);
    const claimed = [...(a ?? []), ...(b ?? [])].map((f) => f.id).sort();
    expect(claimed).toHaveLength(3);
    expect(new Set(claimed).size).toBe(3);
    expect(await claimFlips(db, clock.now())).toEqual([]);

    const first = claimed[0] ?? 0;
    await db.update(flips).set({ processedAt: clock.now() }).where(eq(flips.id, first));
    clock.advance(FLIP_CLAIM_LEASE_MS + 1);
    const again = await claimFlips(db, clock.now());
    expect(again.map((f) => f.id).sort()).toEqual(claimed.slice(1));
  });
});

describe("the delivery log", () => {
  it("forgets finished messages after 90 days and keeps what is still to be sent", async () => {
    const { db, clock, receiver, deps, ping, webhook } = await setup();
    await webhook();
    await ping("fail");
    await dispatch(deps);
    receiver.answers.push(...Array.from({ length: 50 }, () => 503 as const));
    clock.advance(60_000);
    await ping("success");
    await dispatch(deps);
    clock.advance(DELIVERY_LOG_DAYS * 86_400_000);
    expect(await pruneDeliveryLog(db, clock.now())).toBe(2);
    const left = await db.select().from(deliveries);
    expect(left.map((d) => [d.title, d.state])).toEqual([["UP: nightly-backup", "pending"]]);
    expect((await db.select().from(notifications)).map((n) => n.title)).toEqual(["UP: nightly-backup"]);
  });
});
