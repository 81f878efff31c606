/**
 * Webhook signatures, as receivers verify them. Each request carries
 *   Vigil-Timestamp: <unix seconds>
 *   Vigil-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * A receiver recomputes the HMAC over the raw body, compares in constant time, and rejects timestamps
 * older than a few minutes, so a captured request cannot be replayed later. WebCrypto only.
 */
export const SIGNATURE_HEADER = "vigil-signature";
export const TIMESTAMP_HEADER = "vigil-timestamp";
/** Receivers should reject requests older than this (and `verifyWebhookSignature` does). */
export const SIGNATURE_TOLERANCE_SEC = 300;

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text));
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function signWebhook(
  secret: string,
  body: string,
  nowMs: number,
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: `v1=${await hmacHex(secret, `${timestamp}.${body}`)}`,
  };
}

function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/** Why a request fails verification, or null when it is genuine and fresh. */
export async function verifyWebhookSignature(
  secret: string,
  headers: { get(name: string): string | null },
  rawBody: string,
  nowMs: number,
  toleranceSec = SIGNATURE_TOLERANCE_SEC,
): Promise<string | null> {
  const timestamp = headers.get(TIMESTAMP_HEADER);
  const signature = headers.get(SIGNATURE_HEADER);
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || !signature) return "missing signature headers";
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSec) return "stale timestamp";
  const expected = `v1=${await hmacHex(secret, `${timestamp}.${rawBody}`)}`;
  return constantTimeEqual(expected, signature) ? null : "signature mismatch";
}
