import type { ApiKey, ApiKeyScope, CreateApiKeyRequest, CreatedApiKey } from "@vigil/contract";
import {
  type ApiKeyRow,
  apiKeys,
  type Db,
  issueSecret,
  projects,
  secretFromToken,
  secretPrefix,
  verifySecret,
} from "@vigil/db";
import { and, eq } from "drizzle-orm";
import type { Clock } from "./clock.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors.ts";

/** What a request authenticated by an API key may act as. */
export interface ApiKeyPrincipal {
  projectId: string;
  keyId: string;
  keyName: string;
  scopes: ApiKeyScope[];
}

/** `admin` grants everything; `write` grants `read` and `ingest` too; `read` and `ingest` only themselves. */
export function grants(scopes: readonly string[], needed: ApiKeyScope): boolean {
  if (scopes.includes("admin") || scopes.includes(needed)) return true;
  return scopes.includes("write") && (needed === "read" || needed === "ingest");
}

/** Writing last-used on every request would turn reads into writes; a minute of precision is enough. */
const LAST_USED_PRECISION_MS = 60_000;

/**
 * Finds the key a bearer token belongs to.
 * 1. Malformed tokens are rejected without touching the database.
 * 2. The row is found by its public prefix (indexed), then the stored hash is compared in constant time.
 * 3. Last-used is refreshed at most once a minute.
 */
export async function authenticateApiKey(
  db: Db,
  clock: Clock,
  token: string,
): Promise<ApiKeyPrincipal | null> {
  const prefix = secretPrefix(token, "key");
  if (!prefix) return null;
  const [found] = await db
    .select({ key: apiKeys, deletingAt: projects.deletingAt })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(eq(apiKeys.prefix, prefix))
    .limit(1);
  const row = found?.key;
  // A project being deleted is gone for its keys at once, before the purge reaches them.
  if (!row || found.deletingAt !== null || !(await verifySecret(token, row.secretHash))) return null;
  const now = clock.now();
  if (row.lastUsedAt === null || now - row.lastUsedAt >= LAST_USED_PRECISION_MS) {
    await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.id));
  }
  return { projectId: row.projectId, keyId: row.id, keyName: row.name, scopes: row.scopes as ApiKeyScope[] };
}

export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as ApiKeyScope[],
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
  };
}

/** Creates a key; the answer is the only place the secret ever appears. */
export async function createApiKey(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateApiKeyRequest,
  presetToken?: string,
): Promise<CreatedApiKey> {
  const secret = presetToken ? await presetSecret(presetToken) : await issueSecret("key");
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: crypto.randomUUID(),
      projectId,
      name: input.name,
      prefix: secret.prefix,
      secretHash: secret.hash,
      scopes: [...new Set(input.scopes)],
      createdAt: clock.now(),
    })
    .returning();
  if (!row) throw new Error("api key insert returned nothing");
  return { ...toApiKey(row), key: secret.token };
}

async function presetSecret(token: string) {
  const secret = await secretFromToken(token, "key");
  if (!secret) throw new InvalidInputError("key", "a preset API key must be in Vigil's key format");
  return secret;
}

export async function listApiKeys(db: Db, projectId: string): Promise<ApiKey[]> {
  const rows = await db.query.apiKeys.findMany({
    where: eq(apiKeys.projectId, projectId),
    orderBy: (k, { asc }) => [asc(k.createdAt), asc(k.id)],
  });
  return rows.map(toApiKey);
}

/**
 * Deletes a key of this project. The project's last admin key cannot go: nobody could then manage the
 * project, and there is no other way back in.
 */
export async function deleteApiKey(db: Db, projectId: string, keyId: string): Promise<void> {
  const keys = await db.query.apiKeys.findMany({ where: eq(apiKeys.projectId, projectId) });
  const target = keys.find((k) => k.id === keyId);
  if (!target) throw new NotFoundError("API key");
  const admins = keys.filter((k) => k.scopes.includes("admin"));
  if (target.scopes.includes("admin") && admins.length === 1) {
    throw new ConflictError("this is the project's last admin key; create another admin key first");
  }
  await db.delete(apiKeys).where(and(eq(apiKeys.projectId, projectId), eq(apiKeys.id, keyId)));
}
