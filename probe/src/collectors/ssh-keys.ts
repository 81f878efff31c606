import { createHash } from "node:crypto";
import type { StateSnapshot } from "@vigil/contract";
import type { NoteSink } from "../notes.ts";
import { readTextIfPresent } from "../platform/files.ts";

type SshKeys = NonNullable<StateSnapshot["sshKeys"]>;

const KEY_TYPE =
  /^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/;

/**
 * OpenSSH's fingerprint: "SHA256:" + unpadded base64 of SHA-256 over the decoded key blob. Computed here so
 * only fingerprints ever leave the host.
 */
export function fingerprintOfKeyBlob(base64Blob: string): string {
  const digest = createHash("sha256").update(Buffer.from(base64Blob, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/**
 * Each authorized_keys line is "[options] type base64 [comment]"; options may hold quoted spaces, so we look
 * for the first token that is a key type and take the next one as the blob.
 */
export function fingerprintsOfAuthorizedKeys(text: string): string[] {
  const fingerprints: string[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const tokens = line.match(/"[^"]*"|\S+/g) ?? [];
    const typeIndex = tokens.findIndex((token) => KEY_TYPE.test(token));
    const blob = typeIndex >= 0 ? tokens[typeIndex + 1] : undefined;
    if (blob && /^[A-Za-z0-9+/]+={0,2}$/.test(blob)) fingerprints.push(fingerprintOfKeyBlob(blob));
  }
  return fingerprints;
}

interface PasswdUser {
  name: string;
  home: string;
}

/** Users from /etc/passwd with a login shell or a home that may hold keys (root always). */
export function parsePasswd(text: string): PasswdUser[] {
  const users: PasswdUser[] = [];
  for (const line of text.split("\n")) {
    const [name, , , , , home, shell] = line.split(":");
    if (!name || !home || home === "/" || home === "/nonexistent") continue;
    if (name !== "root" && shell && /(nologin|false|sync|halt|shutdown)$/.test(shell)) continue;
    users.push({ name, home });
  }
  return users;
}

/** Fingerprints per user with at least one key; unreadable homes (0700 as another user) become one note. */
export async function collectSshKeys(rootDir: string, notes: NoteSink): Promise<SshKeys | undefined> {
  let passwd: string | undefined;
  try {
    passwd = await readTextIfPresent(rootDir, "/etc/passwd");
  } catch (error) {
    notes.failed("ssh", "/etc/passwd", error);
    return undefined;
  }
  if (passwd === undefined) {
    notes.add("ssh", "no /etc/passwd");
    return undefined;
  }
  const result: SshKeys = [];
  const denied: string[] = [];
  for (const user of parsePasswd(passwd).slice(0, 1_000)) {
    const fingerprints = new Set<string>();
    for (const file of ["authorized_keys", "authorized_keys2"]) {
      try {
        const text = await readTextIfPresent(rootDir, `${user.home}/.ssh/${file}`);
        if (text !== undefined) for (const fp of fingerprintsOfAuthorizedKeys(text)) fingerprints.add(fp);
      } catch (error) {
        if ((error as { code?: string }).code === "EACCES") denied.push(user.name);
        else notes.failed("ssh", `${user.name} ${file}`, error);
      }
    }
    if (fingerprints.size > 0)
      result.push({ user: user.name, fingerprints: [...fingerprints].slice(0, 1_000) });
  }
  if (denied.length > 0) {
    notes.add("ssh", `authorized_keys not readable for: ${[...new Set(denied)].join(", ")}`);
  }
  return result;
}
