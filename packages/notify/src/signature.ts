/**
 * Webhook signatures, as receivers verify them. Each request carries
 *   Vigil-Timestamp: <unix seconds>
 *   Vigil-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * A receiver recomputes the HMAC over the raw body, compares in constant time, and rejects timestamps
 * older than a few minutes, so a captured request cannot be replayed later. WebCrypto only.
 *
 * Or, for receivers with an off-the-shelf verifier, the Standard Webhooks form (standardwebhooks.com):
 *   webhook-id: <delivery id>   webhook-timestamp: <unix seconds>
 *   webhook-signature: v1,<base64 HMAC-SHA256(base64-decoded secret, "<id>.<timestamp>.<raw body>")>
 * with a secret written `whsec_<base64>`.
 */
export const SIGNATURE_HEADER = "vigil-signature";
export const TIMESTAMP_HEADER = "vigil-timestamp";
/** Receivers should reject requests older than this (and `verifyWebhookSignature` does). */
export const SIGNATURE_TOLERANCE_SEC = 300;

async function hmac(keyBytes: Uint8Array<ArrayBuffer>, text: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
}

async function hmacHex(secret: string, text: string): Promise<string> {
  const mac = await hmac(new Uint8Array(new TextEncoder().encode(secret)), text);
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. */
export const STANDARD_SECRET = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

/** The headers of a Standard Webhooks signature of `body`, sent as message `id`. */
export async function signStandardWebhook(
  secret: string,
  id: string,
  body: string,
  nowMs: number,
): Promise<Record<string, string>> {
  if (!STANDARD_SECRET.test(secret)) throw new Error("a Standard Webhooks secret is whsec_ and base64");
  const keyBytes = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
  const timestamp = String(Math.floor(nowMs / 1000));
  const mac = await hmac(keyBytes, `${id}.${timestamp}.${body}`);
  return {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${btoa(String.fromCharCode(...mac))}`,
  };
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
