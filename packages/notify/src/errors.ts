/**
 * How a transport says a send failed. `permanent` means trying again cannot help (a 4xx from the
 * receiver, a mailbox that does not exist, a refused address): the dispatcher stops and marks the channel
 * failing. Everything else (network, timeout, 5xx, 408, 429) is retried with backoff.
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** the receiver's HTTP status or SMTP reply code */
    readonly status: number | null = null,
    /** how long the receiver asked us to wait (Retry-After), in ms */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

/** Transient: 408, 429 and 5xx. Every other 4xx (and a redirect we do not follow) is permanent. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
