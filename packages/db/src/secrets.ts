/**
 * Bearer secrets (API keys, host tokens, enrollment tokens).
 *
 * Shape: `vgl_<kind>_<id><secret>` — a 12-character public id (stored in clear as part of the prefix, so
 * the row is found by an indexed lookup) followed by 32 random base62 characters (~190 bits). Only the
 * SHA-256 of the whole token is stored; a slow hash buys nothing for secrets of this entropy. The stored
 * hash is compared in constant time. WebCrypto only, so this runs on Node and in workerd alike.
 */
/** key: API key, hst: host token, enr: enrollment token, set: the one-time setup link */
export type SecretKind = "key" | "hst" | "enr" | "set";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ID_LENGTH = 12;
const SECRET_LENGTH = 32;

export function randomBase62(length: number): string {
  let out = "";
  // 62 * 4 = 248: bytes at or above it are rejected so every character is equally likely.
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export interface IssuedSecret {
  token: string;
  prefix: string;
  hash: string;
}

export async function issueSecret(kind: SecretKind): Promise<IssuedSecret> {
  const prefix = `vgl_${kind}_${randomBase62(ID_LENGTH)}`;
  const token = prefix + randomBase62(SECRET_LENGTH);
  return { token, prefix, hash: await sha256Hex(token) };
}

/** The prefix of a well-formed token of this kind, or null: malformed tokens never reach the database. */
export function secretPrefix(token: string, kind: SecretKind): string | null {
  const head = `vgl_${kind}_`;
  if (!token.startsWith(head) || token.length !== head.length + ID_LENGTH + SECRET_LENGTH) return null;
  if (!/^[A-Za-z0-9]+$/.test(token.slice(head.length))) return null;
  return token.slice(0, head.length + ID_LENGTH);
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two strings without an early exit, so timing tells nothing about where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const length = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/** True when `token` hashes to `storedHash`. */
export async function verifySecret(token: string, storedHash: string): Promise<boolean> {
  return timingSafeEqual(await sha256Hex(token), storedHash);
}

/** The stored form of a token chosen elsewhere (e.g. preset by an operator), or null if malformed. */
export async function secretFromToken(token: string, kind: SecretKind): Promise<IssuedSecret | null> {
  const prefix = secretPrefix(token, kind);
  return prefix ? { token, prefix, hash: await sha256Hex(token) } : null;
}

/*
 * Secrets Vigil must use again, not only verify (a webhook's signing secret), are sealed with AES-GCM under
 * a key derived from the server's secret key (VIGIL_SECRET_KEY): a copy of the database alone does not
 * give them away. Sealed form: `v1.<iv base64url>.<ciphertext base64url>`.
 */
const toBase64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const fromBase64Url = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function sealingKey(serverKey: string): Promise<CryptoKey> {
  const raw = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`vigil-seal:${serverKey}`));
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function sealSecret(plain: string, serverKey: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    await sealingKey(serverKey),
    new TextEncoder().encode(plain),
  );
  return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

/** The plain secret; throws when the server key is not the one it was sealed with. */
export async function openSecret(sealed: string, serverKey: string): Promise<string> {
  const [version, iv, data] = sealed.split(".");
  if (version !== "v1" || !iv || !data) throw new Error("not a sealed secret");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64Url(iv) },
    await sealingKey(serverKey),
    fromBase64Url(data),
  );
  return new TextDecoder().decode(plain);
}
