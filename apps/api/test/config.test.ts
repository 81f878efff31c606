// The environment both entries read (src/config.ts): the server refuses to start on a problem, a Worker logs
// it and keeps that one setting's default; both get the same settings from the same variables.
import type { Mailer } from "@vigil/notify";
import { describe, expect, it } from "vitest";
import { mailerFor, settingsFromEnvironment } from "../src/config.ts";

describe("settings from the environment", () => {
  it("reads every shared variable the same way for both entries", () => {
    const { settings, problems } = settingsFromEnvironment({
      VIGIL_PUBLIC_URL: "https://vigil.example.com//",
      VIGIL_ALLOW_PRIVATE_TARGETS: "yes",
      VIGIL_TRUST_PROXY: "1",
      VIGIL_SIGNUP: "Open",
      VIGIL_TRUSTED_ORIGINS: "https://a.example.com/x, https://b.example.com",
      VIGIL_HEARTBEAT_URL: "https://hc.example.com/ping/abc",
      VIGIL_METRICS_TOKEN: "metrics-token",
      VIGIL_SECRET_KEY: "secret",
      VIGIL_SMTP_URL: "smtps://u:p@mail.example.com",
      VIGIL_MAIL_FROM: "ops@example.com",
      VIGIL_LIMIT_API_PER_KEY: "10",
    });
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({
      publicUrl: "https://vigil.example.com",
      allowPrivateTargets: true,
      trustProxy: true,
      signUpMode: "open",
      trustedOrigins: ["https://a.example.com", "https://b.example.com"],
      heartbeatUrl: "https://hc.example.com/ping/abc",
      metricsToken: "metrics-token",
      secretKey: "secret",
      mail: { smtpUrl: "smtps://u:p@mail.example.com", from: "ops@example.com" },
    });
    expect(settings.limits.apiPerKey.max).toBe(10);
  });

  it("counts an empty variable as unset and gives the defaults", () => {
    const { settings, problems } = settingsFromEnvironment({ VIGIL_PUBLIC_URL: "", VIGIL_SIGNUP: " " });
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({ allowPrivateTargets: false, signUpMode: "invite", trustedOrigins: [] });
    expect(settings.publicUrl).toBeUndefined();
    expect(settings.mail).toBeUndefined();
  });

  it("names each problem in one line and keeps the default of that setting only", () => {
    const { settings, problems } = settingsFromEnvironment({
      VIGIL_SIGNUP: "sometimes",
      VIGIL_HEARTBEAT_URL: "ftp://hc.example.com",
      VIGIL_SMTP_URL: "smtp://user:hunter2@",
      VIGIL_EMAIL_API_URL: "https://mail.example.com/send",
      VIGIL_PUBLIC_URL: "https://vigil.example.com",
      VIGIL_MAX_CHECKS: "-1",
    });
    expect(problems).toEqual([
      'VIGIL_SIGNUP must be open, invite or closed, got "sometimes"',
      'VIGIL_HEARTBEAT_URL must be an http(s) URL, got "ftp://hc.example.com"',
      "VIGIL_SMTP_URL is not a URL: smtp://…@",
      "VIGIL_EMAIL_API_URL needs VIGIL_EMAIL_API_KEY",
      expect.stringContaining("VIGIL_MAX_CHECKS"),
    ]);
    expect(problems.join("\n")).not.toContain("hunter2");
    expect(settings).toMatchObject({ signUpMode: "invite", publicUrl: "https://vigil.example.com" });
    expect(settings.heartbeatUrl).toBeUndefined();
    expect(settings.mail).toBeUndefined();
  });
});

describe("the mailer the settings ask for", () => {
  const smtpMade: string[] = [];
  const smtp = ({ url }: { url: string; from: string }): Mailer => {
    smtpMade.push(url);
    return { send: async () => {} };
  };

  it("is the runtime's SMTP client when an SMTP URL is set, the HTTP email API otherwise, and none without either", () => {
    const both = settingsFromEnvironment({
      VIGIL_SMTP_URL: "smtp://mail.example.com",
      VIGIL_EMAIL_API_URL: "https://mail.example.com/send",
      VIGIL_EMAIL_API_KEY: "k",
    }).settings.mail;
    expect(mailerFor(both, smtp)).toBeDefined();
    expect(smtpMade).toEqual(["smtp://mail.example.com"]);
    const api = settingsFromEnvironment({
      VIGIL_EMAIL_API_URL: "https://mail.example.com/send",
      VIGIL_EMAIL_API_KEY: "k",
    }).settings.mail;
    expect(mailerFor(api, smtp)).toBeDefined();
    expect(smtpMade).toHaveLength(1);
    expect(mailerFor(undefined, smtp)).toBeUndefined();
  });
});
