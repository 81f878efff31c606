/**
 * The project's sealed secrets: values HTTP steps name as `{{secret.NAME}}`, sealed with the server's key
 * and never shown again. Every query is scoped by project.
 */
import type { Secret } from "@vigil/contract";
import { type Db, openSecret, runbooks, sealSecret, secrets } from "@vigil/db";
import { and, asc, eq } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";

/** `{{secret.NAME}}`, as steps write it. */
export const SECRET_REFERENCE = /\{\{\s*secret\.([A-Z][A-Z0-9_]{0,63})\s*\}\}/g;

function requireKey(serverKey: string | undefined): string {
  if (!serverKey) throw new ConflictError("this server has no VIGIL_SECRET_KEY, so it cannot keep secrets");
  return serverKey;
}

/** The names a text refers to, each once. */
export function secretNamesIn(...texts: (string | null | undefined)[]): string[] {
  const names = new Set<string>();
  for (const text of texts)
    for (const match of (text ?? "").matchAll(SECRET_REFERENCE)) names.add(match[1] ?? "");
  return [...names];
}

export async function putSecret(
  db: Db,
  clock: Clock,
  projectId: string,
  name: string,
  value: string,
  serverKey: string | undefined,
): Promise<void> {
  const sealed = await sealSecret(value, requireKey(serverKey));
  const now = clock.now();
  await db
    .insert(secrets)
    .values({ projectId, name, sealed, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: [secrets.projectId, secrets.name], set: { sealed, updatedAt: now } });
}

export async function deleteSecret(db: Db, projectId: string, name: string): Promise<void> {
  const gone = await db
    .delete(secrets)
    .where(and(eq(secrets.projectId, projectId), eq(secrets.name, name)))
    .returning({ name: secrets.name });
  if (gone.length === 0) throw new NotFoundError("secret");
}

export async function listSecrets(db: Db, projectId: string): Promise<Secret[]> {
  const [rows, books] = await Promise.all([
    db.query.secrets.findMany({ where: eq(secrets.projectId, projectId), orderBy: [asc(secrets.name)] }),
    db.query.runbooks.findMany({
      where: eq(runbooks.projectId, projectId),
      columns: { id: true, name: true, steps: true },
    }),
  ]);
  return rows.map((r) => ({
    name: r.name,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    usedBy: books
      .filter((b) => secretNamesIn(JSON.stringify(b.steps)).includes(r.name))
      .map((b) => ({ id: b.id, name: b.name })),
  }));
}

/**
 * The project's secrets a set of texts names, opened; a missing one is an error naming it, so a step never
 * goes out with a literal `{{secret.X}}` in it.
 */
export async function openSecrets(
  db: Db,
  projectId: string,
  names: string[],
  serverKey: string | undefined,
): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  const key = requireKey(serverKey);
  const rows = await db.query.secrets.findMany({ where: eq(secrets.projectId, projectId) });
  const opened = new Map<string, string>();
  for (const name of names) {
    const row = rows.find((r) => r.name === name);
    if (!row) throw new InvalidInputError("secret", `no secret named ${name} in this project`);
    opened.set(name, await openSecret(row.sealed, key));
  }
  return opened;
}

/** Replaces every `{{secret.NAME}}` with its opened value. */
export function fillSecrets(text: string, opened: Map<string, string>): string {
  return text.replace(SECRET_REFERENCE, (_all, name: string) => opened.get(name) ?? "");
}
