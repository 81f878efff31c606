// The Workers SMTP client (over cloudflare:sockets' shape), tested on Node against a real smtp-server.
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { TransportError } from "../src/errors.ts";
import { buildMime, parseSmtpUrl, socketSmtpMailer } from "../src/smtp-socket.ts";
import { nodeSocketConnect, startSmtpSink } from "../src/testing.ts";

const fixtures = join(import.meta.dirname, "../../engine/test/fixtures");
const cert = readFileSync(join(fixtures, "tls-127.0.0.1.cert.pem"), "utf8");
const key = readFileSync(join(fixtures, "tls-127.0.0.1.key.pem"), "utf8");

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const message = {
  to: ["ops@test.example", "oncall@test.example"],
  subject: "DOWN: web-1 disk / 93% — plein",
  text: `Cause: disk / at 93%\n.\n${"long line ".repeat(40)}`,
  html: "<p>disk / at <b>93%</b></p>",
  messageId: "<d-1@vigil>",
};
const signal = () => AbortSignal.timeout(5000);

/** An SMTP server that behaves as told, collecting what it accepts. */
async function server(options: Partial<SMTPServerOptions>) {
  const received: { from: string; to: string[]; raw: string; user?: string }[] = [];
  const smtp = new SMTPServer({
    logger: false,
    authOptional: true,
    ...options,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          ...(session.user ? { user: String(session.user) } : {}),
        });
        done();
      });
    },
  });
  await new Promise<void>((ok) => smtp.listen(0, "127.0.0.1", ok));
  closers.push(() => new Promise<void>((done) => smtp.close(() => done())));
  return { port: (smtp.server.address() as AddressInfo).port, received };
}

describe("SMTP over a socket (the Workers mail path)", () => {
  it("delivers a text and HTML message to every recipient, with a non-ASCII subject intact", async () => {
    const sink = await startSmtpSink();
    closers.push(sink.close);
    const mailer = socketSmtpMailer({
      url: sink.url,
      from: "Vigil Alerts <vigil@test.example>",
      connect: nodeSocketConnect(),
    });
    await mailer.send(message, signal());
    const [mail] = await sink.waitFor(1);
    expect(mail?.subject).toBe(message.subject);
    expect(mail?.from?.value[0]).toMatchObject({ address: "vigil@test.example", name: "Vigil Alerts" });
    expect(mail?.to && "value" in mail.to ? mail.to.value.map((a) => a.address) : []).toEqual(message.to);
    expect(mail?.text).toBe(message.text);
    expect(mail?.html).toContain("<b>93%</b>");
    expect(mail?.messageId).toBe("<d-1@vigil>");
  });

  it("upgrades with STARTTLS and logs in with AUTH PLAIN", async () => {
    const smtp = await server({
      key,
      cert,
      authMethods: ["PLAIN"],
      onAuth(auth, _session, done) {
        if (auth.username === "alerts" && auth.password === "p@ss word") done(null, { user: "alerts" });
        else done(new Error("bad credentials"));
      },
    });
    const mailer = socketSmtpMailer({
      url: `smtp://alerts:${encodeURIComponent("p@ss word")}@127.0.0.1:${smtp.port}?starttls=required`,
      from: "vigil@test.example",
      connect: nodeSocketConnect(cert),
    });
    await mailer.send(message, signal());
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]).toMatchObject({ from: "vigil@test.example", to: message.to, user: "alerts" });
    expect((await simpleParser(smtp.received[0]?.raw ?? "")).text).toBe(message.text);
  });

  it("fails for good on a refused login or recipient, and transiently on a 4xx", async () => {
    const smtp = await server({
      disabledCommands: ["STARTTLS"],
      authMethods: ["PLAIN"],
      onAuth: (_auth, _session, done) => done(new Error("nope")),
      onRcptTo(address, _session, done) {
        if (address.address.startsWith("busy")) {
          const err = new Error("try later") as Error & { responseCode: number };
          err.responseCode = 451;
          done(err);
        } else if (address.address.startsWith("nobody")) done(new Error("no such user"));
        else done();
      },
    });
    const send = async (url: string, to: string) => {
      const mailer = socketSmtpMailer({ url, from: "vigil@test.example", connect: nodeSocketConnect() });
      return mailer.send({ ...message, to: [to] }, signal()).then(
        () => null,
        (err: TransportError) => err,
      );
    };
    const base = `127.0.0.1:${smtp.port}`;
    const login = await send(`smtp://u:p@${base}?starttls=off`, "ops@test.example");
    expect(login).toMatchObject({ permanent: true, status: 535 });
    const unknown = await send(`smtp://${base}?starttls=off`, "nobody@test.example");
    expect(unknown).toMatchObject({ permanent: true, status: 550 });
    const busy = await send(`smtp://${base}?starttls=off`, "busy@test.example");
    expect(busy).toMatchObject({ permanent: false, status: 451 });
    const required = await send(`smtp://${base}?starttls=required`, "ops@test.example");
    expect(required?.message).toMatch(/does not offer STARTTLS/);
    expect(smtp.received).toHaveLength(0);
  });

  it("treats a refused connection as worth retrying", async () => {
    const mailer = socketSmtpMailer({
      url: "smtp://127.0.0.1:1?starttls=off",
      from: "v@test.example",
      connect: nodeSocketConnect(),
    });
    const err = await mailer.send(message, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ permanent: false });
  });

  it("reads SMTP URLs with their defaults", () => {
    expect(parseSmtpUrl("smtps://a%40b:c@mail.test")).toEqual({
      host: "mail.test",
      port: 465,
      secure: true,
      starttls: "auto",
      user: "a@b",
      pass: "c",
    });
    expect(parseSmtpUrl("smtp://mail.test")).toMatchObject({ port: 587, secure: false, user: null });
    expect(() => parseSmtpUrl("http://mail.test")).toThrow(/smtp:\/\//);
    expect(buildMime("v@test.example", message, new Date(0))).toMatch(/^Subject: =\?UTF-8\?B\?/m);
  });
});
