// Status page subscribers end to end inside the engine: subscriptions, double opt-in, announcements and
// one-click unsubscribe, sent through a real SMTP server and a real webhook receiver on 127.0.0.1.
import {
  createMaintenanceSchema,
  createStatusIncidentSchema,
  createStatusPageSchema,
  incidentUpdateInputSchema,
  type StatusNoticePayloadV1,
  subscribeRequestSchema,
} from "@vigil/contract";
import { statusNotices, statusSubscribers, statusSubscriberTokens } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { smtpMailer } from "@vigil/notify/node";
import { startSmtpSink, startWebhookReceiver } from "@vigil/notify/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AlertDeps,
  CONFIRM_RESEND_MS,
  CONFIRM_TTL_MS,
  confirmSubscription,
  createMaintenance,
  createStatusIncident,
  createStatusPage,
  deleteStatusPage,
  dispatch,
  findSubscriberByLink,
  getStatusPageRow,
  listSubscribers,
  postIncidentUpdate,
  subscribe,
  unsubscribeByLink,
} from "../src/index.ts";
import { createTestCheck, manualClock } from "../src/testing.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const BASE = "https://status.test.example";

async function setup() {
  const db = await createTestDb();
  const clock = manualClock(Date.UTC(2026, 11, 2, 9));
  const project = await createProject(db);
  const sink = await startSmtpSink();
  const receiver = await startWebhookReceiver();
  closers.push(sink.close, receiver.close);
  const deps: AlertDeps = {
    db,
    clock,
    fetch: (input, init) => fetch(input, init),
    mailer: smtpMailer({ url: sink.url, from: "Vigil <vigil@test.example>" }),
    publicUrl: null,
    allowPrivateTargets: true,
  };
  const api = await createTestCheck(db, clock, project.id, { name: "api", public: true });
  const web = await createTestCheck(db, clock, project.id, { name: "web", public: true });
  const created = await createStatusPage(
    db,
    clock,
    project.id,
    createStatusPageSchema.parse({
      slug: "acme",
      title: "Acme",
      timezone: "Europe/Tallinn",
      components: [
        { type: "check", id: api.id, name: "API" },
        { type: "check", id: web.id, name: "Website" },
      ],
    }),
  );
  const page = await getStatusPageRow(db, project.id, created.id);
  const [apiComponent, webComponent] = created.components;
  const join = (input: Record<string, unknown>, canMail = true) =>
    subscribe(db, clock, page, subscribeRequestSchema.parse(input), {
      baseUrl: BASE,
      policy: { allowPrivateTargets: true },
      cap: { max: 100, setting: "VIGIL_MAX_SUBSCRIBERS" },
      canMail,
    });
  const incident = (input: Record<string, unknown> = {}) =>
    createStatusIncident(
      db,
      clock,
      project.id,
      createStatusIncidentSchema.parse({ title: "API errors", message: "Looking into it", ...input }),
    );
  /** the token at the end of a link in a mail's text */
  const tokenIn = (text: string | undefined, kind: "confirm" | "unsubscribe") =>
    text?.match(new RegExp(`/status/acme/${kind}/([A-Za-z0-9]+)`))?.[1] ?? "";
  return {
    db,
    clock,
    project,
    sink,
    receiver,
    deps,
    page,
    api,
    web,
    apiComponent,
    webComponent,
    join,
    incident,
    tokenIn,
  };
}

describe("status page subscribers", () => {
  it("mail a confirmation link first and nothing else until it is opened, then every announcement", async () => {
    const { db, clock, sink, deps, page, join, incident, tokenIn } = await setup();
    expect(await join({ email: "Reader@Example.org" })).toBe("confirmation_sent");
    await dispatch(deps);
    const [confirmMail] = await sink.waitFor(1);
    expect(confirmMail?.subject).toBe("Confirm your subscription to Acme status");
    expect(confirmMail?.to).toMatchObject({ value: [{ address: "reader@example.org" }] });
    const token = tokenIn(confirmMail?.text, "confirm");
    expect(token).toMatch(/^[A-Za-z0-9]{43}$/);

    await incident();
    await dispatch(deps);
    expect(sink.messages).toHaveLength(1);

    const confirmed = await confirmSubscription(db, clock, page, token);
    expect(confirmed?.confirmedAt).toBe(clock.now());
    clock.advance(60_000);
    await incident({ title: "Website slow", impact: "major" });
    await dispatch(deps);
    const [, notice] = await sink.waitFor(2);
    expect(notice?.subject).toBe("[Acme] Website slow — Investigating");
    expect(notice?.text).toContain("Investigating: Looking into it");
    expect(notice?.text).toContain("Impact: major");
    expect(notice?.text).toContain("Started: 2 Dec 2026, 11:01 (Europe/Tallinn)");
    expect(notice?.text).toContain(`Status page: ${BASE}/status/acme`);
    // Unfolded, as a mail client reads it (long headers are folded onto several lines).
    const header = (name: string) =>
      notice?.headerLines.find((h) => h.key === name)?.line.replace(/\r\n\s+/g, " ");
    expect(header("list-unsubscribe")).toMatch(
      new RegExp(`^List-Unsubscribe: <${BASE}/status/acme/unsubscribe/[A-Za-z0-9]{43}>$`),
    );
    expect(header("list-unsubscribe-post")).toBe("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    // No link token is stored in clear.
    const stored = await db.select().from(statusSubscriberTokens);
    expect(stored.map((t) => t.tokenHash)).not.toContain(token);
    expect(stored.every((t) => /^[0-9a-f]{64}$/.test(t.tokenHash))).toBe(true);
  });

  it("stop at once after a one-click unsubscribe, dropping what was still queued", async () => {
    const { db, clock, sink, deps, page, join, incident, tokenIn } = await setup();
    await join({ email: "reader@example.org" });
    await dispatch(deps);
    const [confirmMail] = await sink.waitFor(1);
    await confirmSubscription(db, clock, page, tokenIn(confirmMail?.text, "confirm"));
    await incident();
    await dispatch(deps);
    const [, notice] = await sink.waitFor(2);
    const token = tokenIn(notice?.text, "unsubscribe");
    expect((await findSubscriberByLink(db, clock, page, token))?.address).toBe("reader@example.org");
    await incident({ title: "queued, never sent" });
    expect(await unsubscribeByLink(db, clock, page, token)).toBe(true);
    await dispatch(deps);
    expect(sink.messages).toHaveLength(2);
    expect(await db.select().from(statusSubscribers)).toEqual([]);
    expect(await db.select().from(statusNotices)).toEqual([]);
    expect(await unsubscribeByLink(db, clock, page, token)).toBe(false);
  });

  it("answer a repeated subscription alike, re-sending an unconfirmed link at most every ten minutes", async () => {
    const { db, clock, sink, deps, page, join, tokenIn } = await setup();
    await join({ email: "reader@example.org" });
    expect(await join({ email: "reader@example.org" })).toBe("confirmation_sent");
    await dispatch(deps);
    await sink.waitFor(1);
    clock.advance(CONFIRM_RESEND_MS);
    await join({ email: "reader@example.org" });
    await dispatch(deps);
    const [first, second] = await sink.waitFor(2);
    await confirmSubscription(db, clock, page, tokenIn(second?.text, "confirm"));
    clock.advance(CONFIRM_RESEND_MS);
    // Confirmed: asking again sends nothing and changes nothing, and still says the same.
    expect(await join({ email: "reader@example.org" })).toBe("confirmation_sent");
    await dispatch(deps);
    expect(sink.messages).toHaveLength(2);
    // Both links of the address work while fresh; a week later a confirmation link no longer does.
    expect(await confirmSubscription(db, clock, page, tokenIn(first?.text, "confirm"))).not.toBeNull();
    clock.advance(CONFIRM_TTL_MS);
    expect(await confirmSubscription(db, clock, page, tokenIn(first?.text, "confirm"))).toBeNull();
  });

  it("tell a subscriber of chosen components about those and the whole page, not the others", async () => {
    const { db, clock, sink, deps, page, join, incident, tokenIn, api, web, apiComponent } = await setup();
    await join({ email: "api-only@example.org", components: [apiComponent?.id] });
    await dispatch(deps);
    const [confirmMail] = await sink.waitFor(1);
    await confirmSubscription(db, clock, page, tokenIn(confirmMail?.text, "confirm"));
    await incident({ title: "Website down", affects: [{ type: "check", id: web.id }] });
    await incident({ title: "API down", affects: [{ type: "check", id: api.id }] });
    await incident({ title: "Everything down" });
    await dispatch(deps);
    const mails = await sink.waitFor(3);
    expect(mails.slice(1).map((m) => m.subject)).toEqual([
      "[Acme] API down — Investigating",
      "[Acme] Everything down — Investigating",
    ]);
    expect(mails[1]?.text).toContain("Affects: API");
  });

  it("post announcements to a webhook subscriber, updates and maintenance included, unless told not to", async () => {
    const { db, clock, project, receiver, deps, join, incident } = await setup();
    expect(await join({ webhook: `${receiver.url}/status-hook` })).toBe("subscribed");
    const opened = await incident({ impact: "critical" });
    await postIncidentUpdate(
      db,
      clock,
      project.id,
      opened.id,
      incidentUpdateInputSchema.parse({ status: "resolved", message: "Fixed" }),
    );
    await postIncidentUpdate(
      db,
      clock,
      project.id,
      opened.id,
      incidentUpdateInputSchema.parse({ status: "resolved", message: "typo", notifySubscribers: false }),
    );
    await createMaintenance(
      db,
      clock,
      project.id,
      createMaintenanceSchema.parse({
        title: "Database upgrade",
        startsAt: clock.now() + 86_400_000,
        endsAt: clock.now() + 90_000_000,
      }),
    );
    await dispatch(deps);
    const bodies = receiver.requests.map((r) => JSON.parse(r.body) as StatusNoticePayloadV1);
    expect(bodies.map((b) => b.title)).toEqual([
      "[Acme] API errors — Investigating",
      "[Acme] API errors — Resolved",
      "[Acme] Scheduled maintenance: Database upgrade",
    ]);
    expect(bodies[1]).toMatchObject({
      version: 1,
      type: "incident",
      page: { slug: "acme", title: "Acme", url: `${BASE}/status/acme` },
      incident: { status: "resolved", message: "Fixed", impact: "critical" },
    });
    expect(bodies[2]?.maintenance).toMatchObject({ title: "Database upgrade" });
    expect(bodies[0]?.unsubscribeUrl).toMatch(/\/status\/acme\/unsubscribe\/[A-Za-z0-9]{43}$/);
    expect(receiver.requests[0]?.headers["vigil-delivery"]).toBe(bodies[0]?.id);
  });

  it("refuse another page's components, email where the server sends none, and a private webhook", async () => {
    const { db, clock, page, join } = await setup();
    await expect(join({ email: "a@example.org", components: [crypto.randomUUID()] })).rejects.toThrow(
      /body\.components\.0: not a component of this page/,
    );
    await expect(join({ email: "a@example.org" }, false)).rejects.toThrow(/sends no email/);
    const strict = subscribe(
      db,
      clock,
      page,
      subscribeRequestSchema.parse({ webhook: "http://10.0.0.5/hook" }),
      {
        baseUrl: BASE,
        policy: { allowPrivateTargets: false },
        cap: { max: 100, setting: "VIGIL_MAX_SUBSCRIBERS" },
        canMail: true,
      },
    );
    await expect(strict).rejects.toThrow(/body\.webhook/);
    expect(await listSubscribers(db, page.projectId, page.id)).toEqual([]);
  });

  it("stop at the project's cap, naming its setting", async () => {
    const { db, clock, page } = await setup();
    const capped = (email: string) =>
      subscribe(db, clock, page, subscribeRequestSchema.parse({ email }), {
        baseUrl: BASE,
        policy: { allowPrivateTargets: true },
        cap: { max: 2, setting: "VIGIL_MAX_SUBSCRIBERS" },
        canMail: true,
      });
    await capped("one@example.org");
    await capped("two@example.org");
    await expect(capped("three@example.org")).rejects.toThrow(
      /cap of 2 status page subscribers \(VIGIL_MAX_SUBSCRIBERS\)/,
    );
  });

  it("leave nothing behind when their page is deleted", async () => {
    const { db, project, deps, page, join } = await setup();
    await join({ email: "reader@example.org" });
    await join({ webhook: "https://hooks.example.org/x" });
    await dispatch(deps);
    await deleteStatusPage(db, project.id, page.id);
    expect(await db.select().from(statusSubscribers)).toEqual([]);
    expect(await db.select().from(statusSubscriberTokens)).toEqual([]);
    expect(await db.select().from(statusNotices)).toEqual([]);
  });
});
