// When weekly reports go out: each project's weekday and hour in its time zone, once per week however many
// schedulers run, mailed to a real SMTP server; the clock is injected.
import { createProject, createTestDb } from "@vigil/db/testing";
import { smtpMailer } from "@vigil/notify/node";
import { startSmtpSink } from "@vigil/notify/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AlertDeps,
  lastWeeklyMoment,
  REPORT_LATE_LIMIT_MS,
  sendDueWeeklyReports,
  updateProjectSettings,
} from "../src/index.ts";
import { manualClock } from "../src/testing.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const HOUR = 3_600_000;

describe("the weekly report's moment", () => {
  it("is the latest chosen weekday and hour in the zone, last week's while today's hour is ahead", () => {
    // Monday 2026-11-30, 08:00 in Berlin (UTC+1) is 07:00Z.
    const monday8 = Date.UTC(2026, 10, 30, 7);
    expect(lastWeeklyMoment(monday8, 1, 8, "Europe/Berlin")).toBe(monday8);
    expect(lastWeeklyMoment(monday8 + 3 * 86_400_000, 1, 8, "Europe/Berlin")).toBe(monday8);
    expect(lastWeeklyMoment(monday8 - 1, 1, 8, "Europe/Berlin")).toBe(monday8 - 7 * 86_400_000);
  });

  it("keeps the local hour across a daylight-saving change", () => {
    // Sunday 2026-03-29 Europe/Berlin moves to UTC+2; the Monday after, 08:00 local is 06:00Z.
    expect(lastWeeklyMoment(Date.UTC(2026, 2, 30, 12), 1, 8, "Europe/Berlin")).toBe(Date.UTC(2026, 2, 30, 6));
    expect(lastWeeklyMoment(Date.UTC(2026, 2, 24, 12), 1, 8, "Europe/Berlin")).toBe(Date.UTC(2026, 2, 23, 7));
  });
});

describe("sending weekly reports", () => {
  async function setup() {
    const db = await createTestDb();
    const clock = manualClock(Date.UTC(2026, 10, 30, 6, 59));
    const sink = await startSmtpSink();
    closers.push(sink.close);
    const deps: AlertDeps = {
      db,
      clock,
      fetch: (input, init) => fetch(input, init),
      mailer: smtpMailer({ url: sink.url, from: "Vigil <vigil@test.example>" }),
      publicUrl: "https://vigil.test.example",
      allowPrivateTargets: true,
    };
    const wants = await createProject(db);
    await updateProjectSettings(db, wants.id, {
      reports: { weekly: true, to: ["owner@example.org", "ops@example.org"], timezone: "Europe/Berlin" },
    });
    const quiet = await createProject(db);
    return { db, clock, sink, deps, wants, quiet };
  }

  it("mails each asking project once at its moment, whichever scheduler gets there, and again a week on", async () => {
    const { clock, sink, deps, wants } = await setup();
    expect(await sendDueWeeklyReports(deps, "scheduler-a")).toEqual([]);
    clock.advance(60_000);
    expect(await sendDueWeeklyReports(deps, "scheduler-a")).toEqual([wants.id]);
    clock.advance(5 * 60_000);
    expect(await sendDueWeeklyReports(deps, "scheduler-b")).toEqual([]);
    const [mail] = await sink.waitFor(1);
    expect(mail?.subject).toMatch(/^Vigil weekly: /);
    expect(mail?.to).toMatchObject({
      value: [{ address: "owner@example.org" }, { address: "ops@example.org" }],
    });
    clock.advance(7 * 24 * HOUR);
    expect(await sendDueWeeklyReports(deps, "scheduler-b")).toEqual([wants.id]);
    await sink.waitFor(2);
    expect(sink.messages).toHaveLength(2);
  });

  it("skips a week whose moment passed more than a day ago rather than send it late", async () => {
    const { clock, sink, deps } = await setup();
    clock.advance(60_000 + REPORT_LATE_LIMIT_MS + 60_000);
    expect(await sendDueWeeklyReports(deps, "scheduler-a")).toEqual([]);
    expect(sink.messages).toHaveLength(0);
  });

  it("sends nothing for a project that switched the report off", async () => {
    const { db, clock, sink, deps, wants } = await setup();
    await updateProjectSettings(db, wants.id, { reports: { weekly: false } });
    clock.advance(60_000);
    expect(await sendDueWeeklyReports(deps, "scheduler-a")).toEqual([]);
    expect(sink.messages).toHaveLength(0);
  });

  it("refuses a weekly report with nobody to send it to", async () => {
    const { db, quiet } = await setup();
    await expect(updateProjectSettings(db, quiet.id, { reports: { weekly: true } })).rejects.toThrow(
      /body\.reports\.to: give at least one address/,
    );
  });
});
