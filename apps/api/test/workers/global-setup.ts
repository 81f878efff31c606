// Runs in Node before the workerd tests: a real sqld, migrated, with one project and an admin key.
import { closeDb, createDb } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { createApiKey, createProject } from "@vigil/db/testing";
import type { TestProject } from "vitest/node";
import { startSqld } from "../../scripts/sqld.ts";

declare module "vitest" {
  export interface ProvidedContext {
    sqldUrl: string;
    projectId: string;
    adminKey: string;
    readKey: string;
  }
}

export default async function setup(project: TestProject) {
  const sqld = await startSqld();
  const db = createDb({ url: sqld.url });
  await migrateDb(db);
  const tenant = await createProject(db);
  const admin = await createApiKey(db, tenant.id, ["admin"]);
  const read = await createApiKey(db, tenant.id, ["read"]);
  closeDb(db);
  project.provide("sqldUrl", sqld.url);
  project.provide("projectId", tenant.id);
  project.provide("adminKey", admin.key);
  project.provide("readKey", read.key);
  return () => sqld.stop();
}
