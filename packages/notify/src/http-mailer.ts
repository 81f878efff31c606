/**
 * Email through an HTTP API, for runtimes without SMTP (Workers) or operators who prefer one. Provider
 * neutral: one POST of JSON `{from, to, subject, text, html, headers: {"Message-ID"}}` with
 * `Authorization: Bearer <key>`. A small relay in front of any provider speaks it; 2xx means accepted.
 */
import { isTransientStatus, TransportError } from "./errors.ts";
import type { Mailer } from "./transports.ts";

export function httpMailer(options: {
  url: string;
  key: string;
  from: string;
  fetch?: typeof fetch;
}): Mailer {
  const doFetch = options.fetch ?? fetch;
  return {
    async send(message, signal) {
      let res: Response;
      try {
        res = await doFetch(options.url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${options.key}` },
          body: JSON.stringify({
            from: options.from,
            to: message.to,
            subject: message.subject,
            text: message.text,
            html: message.html,
            headers: { ...message.headers, "Message-ID": message.messageId },
          }),
          signal,
        });
      } catch (err) {
        throw new TransportError(`email API unreachable: ${(err as Error).message}`, false);
      }
      const text = (await res.text().catch(() => "")).slice(0, 300);
      if (res.ok) return;
      throw new TransportError(
        `email API answered HTTP ${res.status}${text ? `: ${text}` : ""}`,
        !isTransientStatus(res.status),
        res.status,
      );
    },
  };
}
