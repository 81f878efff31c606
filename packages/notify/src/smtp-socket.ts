/**
 * A small SMTP client over a socket with web streams, for Workers (`cloudflare:sockets`), where nodemailer
 * cannot run. It speaks what alert mail needs and no more:
 * 1. greeting, EHLO; STARTTLS when offered (or required) and EHLO again over TLS;
 * 2. AUTH PLAIN when the URL has credentials;
 * 3. MAIL FROM, RCPT TO each recipient, DATA with a multipart/alternative body (text + HTML, base64, so
 *    no line is too long and none starts with a dot), QUIT.
 * Replies 5xx are permanent failures, 4xx and broken connections transient (TransportError).
 */
import { TransportError } from "./errors.ts";
import type { Mailer, MailMessage } from "./transports.ts";

/** The shape of a `cloudflare:sockets` Socket, which is all this client uses. */
export interface StreamSocket {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  /** upgrades the connection in place (the socket must have been opened with STARTTLS allowed) */
  startTls(): StreamSocket;
  close(): Promise<void>;
}

export type SocketConnect = (host: string, port: number, tls: "on" | "starttls" | "off") => StreamSocket;

export interface SmtpUrl {
  host: string;
  port: number;
  secure: boolean;
  starttls: "auto" | "required" | "off";
  user: string | null;
  pass: string | null;
}

export function parseSmtpUrl(url: string): SmtpUrl {
  const parsed = new URL(url);
  if (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:") {
    throw new Error("an SMTP URL starts with smtp:// (STARTTLS) or smtps:// (TLS)");
  }
  const secure = parsed.protocol === "smtps:";
  const starttls = (parsed.searchParams.get("starttls") ?? "auto") as SmtpUrl["starttls"];
  if (!["auto", "required", "off"].includes(starttls))
    throw new Error("starttls must be auto, required or off");
  return {
    host: parsed.hostname,
    port: Number(parsed.port || (secure ? 465 : 587)),
    secure,
    starttls,
    user: parsed.username ? decodeURIComponent(parsed.username) : null,
    pass: parsed.password ? decodeURIComponent(parsed.password) : null,
  };
}

const encoder = new TextEncoder();

function base64Utf8(text: string): string {
  const bytes = encoder.encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A header value: as is when plain ASCII, else RFC 2047 encoded-words. */
function headerText(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${base64Utf8(text)}?=`;
}

const wrap76 = (text: string) => text.replace(/.{1,76}/g, "$&\r\n");

/** The bare address of "Name <addr>" or "addr". */
export const envelopeAddress = (from: string) => from.match(/<([^>]+)>/)?.[1] ?? from.trim();

export function buildMime(from: string, message: MailMessage, now: Date): string {
  const boundary = `vigil-${crypto.randomUUID()}`;
  const nameMatch = from.match(/^\s*(.*?)\s*<([^>]+)>\s*$/);
  const fromHeader = nameMatch?.[1] ? `${headerText(nameMatch[1])} <${nameMatch[2]}>` : from;
  return [
    `From: ${fromHeader}`,
    `To: ${message.to.join(", ")}`,
    `Subject: ${headerText(message.subject)}`,
    `Date: ${now.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: ${message.messageId}`,
    // Names and values go out as given: callers pass ASCII only, and line breaks are stripped so a value
    // can never start a header of its own.
    ...Object.entries(message.headers ?? {}).map(
      ([name, value]) => `${name}: ${value.replace(/[\r\n]+/g, " ")}`,
    ),
    "MIME-Version: 1.0",
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    wrap76(base64Utf8(message.text)),
    `--${boundary}`,
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    wrap76(base64Utf8(message.html)),
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/** Reads SMTP replies (possibly multi-line: "250-…" then "250 …") from a socket. */
class ReplyReader {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  async reply(): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    for (;;) {
      const newline = this.buffer.indexOf("\r\n");
      if (newline >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 2);
        lines.push(line.slice(4));
        if (line[3] !== "-") return { code: Number(line.slice(0, 3)), lines };
        continue;
      }
      const { value, done } = await this.reader.read();
      if (done) throw new TransportError("SMTP: the server closed the connection", false);
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  release(): void {
    this.reader.releaseLock();
  }
}

class SmtpSession {
  private reader: ReplyReader;
  private writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(private socket: StreamSocket) {
    this.reader = new ReplyReader(socket.readable.getReader());
    this.writer = socket.writable.getWriter();
  }

  async expect(accepted: number[], what: string): Promise<string[]> {
    const { code, lines } = await this.reader.reply();
    if (!accepted.includes(code)) {
      throw new TransportError(`SMTP ${what}: ${code} ${lines.join(" ")}`, code >= 500, code);
    }
    return lines;
  }

  async command(line: string, accepted: number[], what = line.split(" ")[0] ?? line): Promise<string[]> {
    await this.writer.write(encoder.encode(`${line}\r\n`));
    return this.expect(accepted, what);
  }

  async raw(text: string): Promise<void> {
    await this.writer.write(encoder.encode(text));
  }

  upgrade(): void {
    this.reader.release();
    this.writer.releaseLock();
    this.socket = this.socket.startTls();
    this.reader = new ReplyReader(this.socket.readable.getReader());
    this.writer = this.socket.writable.getWriter();
  }

  close(): Promise<void> {
    return this.socket.close().catch(() => {});
  }
}

export function socketSmtpMailer(options: { url: string; from: string; connect: SocketConnect }): Mailer {
  const smtp = parseSmtpUrl(options.url);
  return {
    async send(message, signal) {
      let session: SmtpSession | null = null;
      const run = async () => {
        const tls = smtp.secure ? "on" : smtp.starttls === "off" ? "off" : "starttls";
        session = new SmtpSession(options.connect(smtp.host, smtp.port, tls));
        await session.expect([220], "greeting");
        let capabilities = await session.command("EHLO vigil", [250]);
        const offersTls = capabilities.some((c) => c.toUpperCase() === "STARTTLS");
        if (!smtp.secure && smtp.starttls !== "off" && offersTls) {
          await session.command("STARTTLS", [220]);
          session.upgrade();
          capabilities = await session.command("EHLO vigil", [250]);
        } else if (!smtp.secure && smtp.starttls === "required") {
          throw new TransportError("SMTP: the server does not offer STARTTLS, and the URL requires it", true);
        }
        if (smtp.user !== null) {
          await session.command(
            `AUTH PLAIN ${base64Utf8(`\0${smtp.user}\0${smtp.pass ?? ""}`)}`,
            [235],
            "AUTH",
          );
        }
        await session.command(`MAIL FROM:<${envelopeAddress(options.from)}>`, [250], "MAIL FROM");
        for (const to of message.to) await session.command(`RCPT TO:<${to}>`, [250, 251], "RCPT TO");
        await session.command("DATA", [354]);
        await session.raw(`${buildMime(options.from, message, new Date())}\r\n.\r\n`);
        await session.expect([250], "message");
        await session.command("QUIT", [221]).catch(() => {});
      };
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(new TransportError("SMTP: timed out", false));
        signal.addEventListener("abort", () => reject(new TransportError("SMTP: timed out", false)), {
          once: true,
        });
      });
      try {
        await Promise.race([run(), aborted]);
      } catch (err) {
        if (err instanceof TransportError) throw err;
        throw new TransportError(`SMTP: ${(err as Error).message}`, false);
      } finally {
        await (session as SmtpSession | null)?.close();
      }
    },
  };
}
