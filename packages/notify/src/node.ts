/**
 * SMTP from the self-hosted server, through nodemailer (MIME, encodings, STARTTLS and AUTH done right).
 * Configured by one URL, as operators write it elsewhere:
 *   smtp://user:pass@mail.example:587            STARTTLS when the server offers it
 *   smtp://user:pass@mail.example:587?starttls=required   refuse to send in clear
 *   smtps://user:pass@mail.example:465           TLS from the first byte
 *   smtp://127.0.0.1:2525?starttls=off           a local relay or test sink
 */
import nodemailer from "nodemailer";
import { TransportError } from "./errors.ts";
import type { Mailer } from "./transports.ts";

export interface SmtpOptions {
  url: string;
  from: string;
  /** trust anchors for a relay with a private CA (tests) */
  ca?: string;
}

/** Reads an SMTP URL; throws a readable Error on a malformed one (shown at startup). */
export function smtpTransportOptions(url: string, ca?: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`VIGIL_SMTP_URL is not a URL: ${url.replace(/\/\/[^@]*@/, "//…@")}`);
  }
  if (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:") {
    throw new Error("VIGIL_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS)");
  }
  const secure = parsed.protocol === "smtps:";
  const starttls = parsed.searchParams.get("starttls") ?? "auto";
  if (!["auto", "required", "off"].includes(starttls)) {
    throw new Error("VIGIL_SMTP_URL: starttls must be auto, required or off");
  }
  return {
    host: parsed.hostname,
    port: Number(parsed.port || (secure ? 465 : 587)),
    secure,
    requireTLS: starttls === "required",
    ignoreTLS: starttls === "off",
    ...(parsed.username
      ? { auth: { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } }
      : {}),
    ...(ca ? { tls: { ca } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  };
}

/**
 * SMTP replies 5xx and a refused login are permanent; 4xx replies (greylisting, a full queue) and network
 * trouble are worth retrying.
 */
function toTransportError(err: unknown): TransportError {
  const e = err as { message?: string; responseCode?: number; code?: string };
  const message = `SMTP: ${e.message ?? String(err)}`;
  if (typeof e.responseCode === "number") {
    return new TransportError(message, e.responseCode >= 500, e.responseCode);
  }
  return new TransportError(message, e.code === "EAUTH" || e.code === "EENVELOPE");
}

export function smtpMailer(options: SmtpOptions): Mailer {
  const transport = nodemailer.createTransport(smtpTransportOptions(options.url, options.ca));
  return {
    async send(message, signal) {
      if (signal.aborted) throw new TransportError("SMTP: timed out before sending", false);
      const sending = transport.sendMail({
        from: options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
      });
      const aborted = new Promise<never>((_, reject) =>
        signal.addEventListener("abort", () => reject(new TransportError("SMTP: timed out", false)), {
          once: true,
        }),
      );
      try {
        await Promise.race([sending, aborted]);
      } catch (err) {
        throw err instanceof TransportError ? err : toTransportError(err);
      }
    },
  };
}
