/**
 * Test factories. Each test makes its own database and tenant, so tests never share state and every
 * query they exercise runs against the real migrations.
 */
import { createDb, type Db } from "./client.ts";
import { migrateDb } from "./migrate.ts";
import { apiKeys, projects } from "./schema/index.ts";
import { issueSecret, randomBase62 } from "./secrets.ts";

/** A fresh in-memory libSQL database with every migration applied. */
export async function createTestDb(): Promise<Db> {
  const db = createDb({ url: ":memory:" });
  await migrateDb(db);
  return db;
}

export async function createProject(
  db: Db,
  fields: Partial<typeof projects.$inferInsert> = {},
): Promise<typeof projects.$inferSelect> {
  const suffix = randomBase62(8).toLowerCase();
  const [row] = await db
    .insert(projects)
    .values({
      id: crypto.randomUUID(),
      name: `Project ${suffix}`,
      slug: `project-${suffix}`,
      pingKey: randomBase62(22),
      createdAt: Date.now(),
      ...fields,
    })
    .returning();
  if (!row) throw new Error("project insert returned nothing");
  return row;
}

/** Inserts an API key and returns its row together with the one-time secret. */
export async function createApiKey(
  db: Db,
  projectId: string,
  scopes: string[] = ["admin"],
  name = "test key",
): Promise<{ key: string; id: string }> {
  const secret = await issueSecret("key");
  const id = crypto.randomUUID();
  await db.insert(apiKeys).values({
    id,
    projectId,
    name,
    prefix: secret.prefix,
    secretHash: secret.hash,
    scopes,
    createdAt: Date.now(),
  });
  return { key: secret.token, id };
}
