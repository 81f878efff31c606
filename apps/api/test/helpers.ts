import { createApiKey, createProject, createTestDb } from "@vigil/db/testing";
import { manualClock } from "@vigil/engine/testing";
import { createApp, defaultConfig } from "../src/app.ts";

/** A fresh app on its own in-memory database with one project and an admin key. */
export async function testApp() {
  const db = await createTestDb();
  const clock = manualClock(Date.UTC(2026, 10, 27, 12));
  const app = createApp({ db, clock, config: defaultConfig });
  const project = await createProject(db);
  const admin = await createApiKey(db, project.id, ["admin"]);
  return { app, db, clock, project, adminKey: admin.key };
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

export const jsonRequest = (method: string, body: unknown, key?: string): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...(key ? bearer(key) : {}) },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
