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
import { parseSmtpUrl, type SmtpUrl } from "./smtp-socket.ts";
import type { Mailer } from "./transports.ts";

export interface SmtpOptions {
  url: string;
  from: string;
  /** trust anchors for a relay with a private CA (tests) */
  ca?: string;
}

/** nodemailer's options for an SMTP URL; throws a readable Error on a malformed one (shown at startup). */
export function smtpTransportOptions(url: string, ca?: string) {
  let smtp: SmtpUrl;
  try {
    smtp = parseSmtpUrl(url);
  } catch (err) {
    const shown = url.replace(/\/\/[^@]*@/, "//…@");
    throw new Error(
      `VIGIL_SMTP_URL: ${err instanceof TypeError ? `not a URL: ${shown}` : (err as Error).message}`,
    );
  }
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: smtp.starttls === "required",
    ignoreTLS: smtp.starttls === "off",
    ...(smtp.user !== null ? { auth: { user: smtp.user, pass: smtp.pass ?? "" } } : {}),
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
        ...(message.headers ? { headers: message.headers } : {}),
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
