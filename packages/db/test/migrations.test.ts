import { describe, expect, it } from "vitest";
import { createApiKey, createProject, createTestDb } from "../src/testing.ts";

describe("migrations", () => {
  it("create every table of the schema in a fresh database", async () => {
    const db = await createTestDb();
    const rows = await db.$client.execute(
      "select name from sqlite_master where type = 'table' order by name",
    );
    const tables = rows.rows.map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(["projects", "api_keys", "hosts", "enrollment_tokens"]));
  });

  it("remove a project's keys together with the project", async () => {
    const db = await createTestDb();
    await db.$client.execute("pragma foreign_keys = on");
    const project = await createProject(db);
    await createApiKey(db, project.id);
    await db.$client.execute({ sql: "delete from projects where id = ?", args: [project.id] });
    const left = await db.$client.execute("select count(*) as n from api_keys");
    expect(left.rows[0]?.n).toBe(0);
  });
});
