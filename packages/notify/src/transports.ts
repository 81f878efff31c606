/**
 * Sending one rendered message to one channel. Webhook-shaped channels (generic JSON, Slack, Discord,
 * ntfy) are one HTTP POST, the chat, paging and push services one request or more (destinations.ts); email goes through whichever `Mailer` the runtime supplies (SMTP on Node, an
 * HTTP email API anywhere). Failures are `TransportError`s that say whether retrying can help.
 */
import type { NotificationPayloadV1 } from "@vigil/contract";
import type { ChannelRow } from "@vigil/db";
import { destinationRequests } from "./destinations.ts";
import { isTransientStatus, TransportError } from "./errors.ts";
import { discordBody, ntfyRequest, renderHtml, renderText, slackBody } from "./render.ts";
import { signStandardWebhook, signWebhook } from "./signature.ts";

export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** stable per delivery, so a retried send is recognisable as the same message */
  messageId: string;
  /** further headers, plain ASCII (List-Unsubscribe and List-Unsubscribe-Post on subscriber notices) */
  headers?: Record<string, string>;
}

/** Sends one email or throws a TransportError. */
export interface Mailer {
  send(message: MailMessage, signal: AbortSignal): Promise<void>;
}

export interface TransportDeps {
  fetch: typeof fetch;
  mailer?: Mailer;
  now(): number;
  /** why a receiver URL may not be reached (a private address), or null */
  refuseUrl?(url: URL): Promise<string | null>;
  /** one send's limit; slower receivers count as a (transient) timeout */
  timeoutMs: number;
}

/** What the delivery log records of a successful send. */
export interface SendResult {
  status: number | null;
}

/** Seconds or an HTTP date, as Retry-After allows; capped by the caller. */
function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export async function postJson(
  deps: TransportDeps,
  target: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  method: "POST" | "PUT" = "POST",
): Promise<SendResult> {
  const url = new URL(target);
  const refusal = await deps.refuseUrl?.(url);
  if (refusal) throw new TransportError(refusal, true);
  let res: Response;
  try {
    res = await deps.fetch(url, {
      method,
      headers: { "content-type": "application/json", "user-agent": "Vigil-Notify/1", ...headers },
      body,
      // A redirect could lead to an address the check above refused; receivers must give the final URL.
      redirect: "manual",
      signal,
    });
  } catch (err) {
    const reason = signal.aborted ? `timed out after ${deps.timeoutMs} ms` : (err as Error).message;
    throw new TransportError(`request failed: ${reason}`, false);
  }
  // Drain the body so the connection is released; its text helps the operator read a refusal.
  const text = (await res.text().catch(() => "")).slice(0, 300);
  if (res.status >= 200 && res.status < 300) return { status: res.status };
  // The URL may carry a credential (Telegram's bot token is a path segment): the log names its host only.
  const where = url.pathname.includes("/bot") ? `${url.origin}/bot…` : target.split("?")[0];
  const detail = `${where} answered HTTP ${res.status}${text ? `: ${text}` : ""}`;
  throw new TransportError(
    detail,
    !isTransientStatus(res.status),
    res.status,
    retryAfterMs(res.headers.get("retry-after"), deps.now()),
  );
}

/** Sends `payload` to `channel`; `secret` is the webhook's opened signing secret, if it has one. */
export async function sendToChannel(
  channel: ChannelRow,
  secret: string | null,
  payload: NotificationPayloadV1,
  deps: TransportDeps,
): Promise<SendResult> {
  const signal = AbortSignal.timeout(deps.timeoutMs);
  const config = channel.config;
  switch (config.kind) {
    case "email": {
      if (!deps.mailer) {
        throw new TransportError(
          "no mail transport is configured on this server (VIGIL_SMTP_URL or VIGIL_EMAIL_API_URL)",
          false,
        );
      }
      await deps.mailer.send(
        {
          to: config.to,
          subject: payload.title,
          text: renderText(payload),
          html: renderHtml(payload),
          messageId: `<${payload.id}@vigil>`,
        },
        signal,
      );
      return { status: null };
    }
    case "webhook": {
      const body = JSON.stringify(payload);
      const signature = !secret
        ? {}
        : config.signature === "standard"
          ? await signStandardWebhook(secret, payload.id, body, deps.now())
          : await signWebhook(secret, body, deps.now());
      return postJson(
        deps,
        config.url,
        body,
        { ...config.headers, "vigil-delivery": payload.id, ...signature },
        signal,
      );
    }
    case "slack":
      return postJson(deps, config.url, JSON.stringify(slackBody(payload)), {}, signal);
    case "discord":
      return postJson(deps, config.url, JSON.stringify(discordBody(payload)), {}, signal);
    case "ntfy": {
      const request = ntfyRequest(payload, config.url, config.priority);
      return postJson(deps, request.url, JSON.stringify(request.body), {}, signal);
    }
    default: {
      if (config.kind !== "teams" && !secret) {
        throw new TransportError(`no ${config.kind} token is stored for this channel`, true);
      }
      // One request, or one per change (paging services); a retry sends all again, which they dedupe.
      let last: SendResult = { status: null };
      for (const request of destinationRequests(config, secret, payload)) {
        last = await postJson(
          deps,
          request.url,
          JSON.stringify(request.body),
          request.headers,
          signal,
          request.method,
        );
      }
      return last;
    }
  }
}
