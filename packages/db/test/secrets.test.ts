import { describe, expect, it } from "vitest";
import {
  issueSecret,
  secretFromToken,
  secretPrefix,
  sha256Hex,
  timingSafeEqual,
  verifySecret,
} from "../src/secrets.ts";

describe("secrets", () => {
  it("issues tokens whose prefix is visible and whose hash verifies", async () => {
    const secret = await issueSecret("key");
    expect(secret.token).toMatch(/^vgl_key_[A-Za-z0-9]{44}$/);
    expect(secret.token.startsWith(secret.prefix)).toBe(true);
    expect(secretPrefix(secret.token, "key")).toBe(secret.prefix);
    expect(await verifySecret(secret.token, secret.hash)).toBe(true);
    expect(secret.hash).toBe(await sha256Hex(secret.token));
  });

  it("never stores the token itself", async () => {
    const secret = await issueSecret("hst");
    expect(secret.hash).not.toContain(secret.token.slice(secret.prefix.length));
  });

  it("rejects a token of another kind or shape before any lookup", async () => {
    const secret = await issueSecret("enr");
    expect(secretPrefix(secret.token, "key")).toBeNull();
    expect(secretPrefix(`${secret.token}x`, "enr")).toBeNull();
    expect(secretPrefix(secret.token.replace(/.$/, "!"), "enr")).toBeNull();
    expect(await secretFromToken("not-a-token", "key")).toBeNull();
  });

  it("rejects a token that differs in one character", async () => {
    const secret = await issueSecret("key");
    const last = secret.token.at(-1) === "A" ? "B" : "A";
    expect(await verifySecret(secret.token.slice(0, -1) + last, secret.hash)).toBe(false);
  });

  it("compares strings of different lengths as unequal", () => {
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("abc", "abcd")).toBe(false);
    expect(timingSafeEqual("", "a")).toBe(false);
  });

  it("issues distinct tokens every time", async () => {
    const tokens = new Set(
      await Promise.all(Array.from({ length: 200 }, async () => (await issueSecret("key")).token)),
    );
    expect(tokens.size).toBe(200);
  });
});
