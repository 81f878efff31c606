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
    expect(tables).toEqual(
      expect.arrayContaining(["checks", "pings", "check_runs", "flips", "incidents", "uptime_daily"]),
    );
  });

  it("answer the scheduler's due query from the deadline index, not a scan", async () => {
    const db = await createTestDb();
    const plan = await db.$client.execute(
      "explain query plan select id from checks where alert_after <= 0 order by alert_after limit 100",
    );
    expect(plan.rows.map((r) => String(r.detail)).join("\n")).toContain("checks_alert_after_idx");
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
