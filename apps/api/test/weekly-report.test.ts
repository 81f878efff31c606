/**
 * The weekly report over the API and the scheduler: settings, a preview as JSON, a send-now and the
 * scheduled mail, against a real SMTP server, with the clock injected.
 */
import { smtpMailer } from "@vigil/notify/node";
import { type SmtpSink, startSmtpSink } from "@vigil/notify/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runScheduledJobs, scheduledJobs } from "../src/scheduler.ts";
import { bearer, jsonRequest, testApp } from "./helpers.ts";

let sink: SmtpSink;
beforeEach(async () => {
  sink = await startSmtpSink();
});
afterEach(async () => {
  await sink.close();
});

async function setup() {
  const env = await testApp({ mailer: smtpMailer({ url: sink.url, from: "Vigil <vigil@test.example>" }) });
  const { app, adminKey, project } = env;
  const check = await app.request(
    "/api/v1/checks",
    jsonRequest("POST", { kind: "heartbeat", name: "nightly <dump>", period: 3600 }, adminKey),
  );
  expect(check.status).toBe(201);
  const { id } = (await check.json()) as { id: string };
  await app.request(`/ping/${id}`);
  const settings = (patch: unknown) =>
    app.request(`/api/v1/projects/${project.id}/settings`, jsonRequest("PATCH", patch, adminKey));
  return { ...env, settings };
}

describe("the weekly report", () => {
  it("previews as JSON and sends now to the given addresses", async () => {
    const { app, adminKey } = await setup();
    const preview = await app.request("/api/v1/reports/weekly", { headers: bearer(adminKey) });
    expect(preview.status).toBe(200);
    const report = (await preview.json()) as { checks: { name: string; status: string }[] };
    expect(report.checks).toMatchObject([{ name: "nightly <dump>", status: "up" }]);
    const sent = await app.request(
      "/api/v1/reports/weekly/send",
      jsonRequest("POST", { to: ["me@example.org"] }, adminKey),
    );
    expect(sent.status).toBe(200);
    const [mail] = await sink.waitFor(1);
    expect(mail?.subject).toMatch(/^Vigil weekly: /);
    expect(mail?.to).toMatchObject({ value: [{ address: "me@example.org" }] });
    expect(mail?.html).toContain("nightly &lt;dump&gt;");
  });

  it("goes out from the scheduler at the project's weekday and hour, once", async () => {
    const { deps, clock, settings } = await setup();
    // Friday 2026-11-27 12:00 UTC is when testApp's clock starts: ask for Fridays at 13:00 in Helsinki (UTC+2).
    const saved = await settings({
      reports: { weekly: true, to: ["team@example.org"], weekday: 5, hour: 13, timezone: "Europe/Helsinki" },
    });
    expect(saved.status).toBe(200);
    await runScheduledJobs(deps, scheduledJobs);
    expect(sink.messages).toHaveLength(1);
    const [mail] = await sink.waitFor(1);
    expect(mail?.to).toMatchObject({ value: [{ address: "team@example.org" }] });
    clock.advance(10 * 60_000);
    await runScheduledJobs(deps, scheduledJobs);
    expect(sink.messages).toHaveLength(1);
  });

  it("refuses the report with nobody to send it to, naming the field", async () => {
    const { settings } = await setup();
    const res = await settings({ reports: { weekly: true } });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(error.message).toMatch(/^body\.reports\.to: /);
  });
});
