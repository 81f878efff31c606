import { createTestDb } from "@vigil/db/testing";
import { describe, expect, it } from "vitest";
import { authenticateApiKey, bootstrapProject, grants, listApiKeys } from "../src/index.ts";
import { manualClock } from "../src/testing.ts";

describe("bootstrapping a fresh install", () => {
  it("creates project default with an admin key on an empty database", async () => {
    const db = await createTestDb();
    const clock = manualClock();
    const boot = await bootstrapProject(db, clock);
    expect(boot.created).toBe(true);
    expect(boot.project.slug).toBe("default");
    expect(boot.project.pingKey).toMatch(/^[A-Za-z0-9]{22}$/);
    const principal = await authenticateApiKey(db, clock, boot.adminKey ?? "");
    expect(principal).toMatchObject({ projectId: boot.project.id, scopes: ["admin"] });
  });

  it("creates nothing the second time", async () => {
    const db = await createTestDb();
    const clock = manualClock();
    const first = await bootstrapProject(db, clock);
    const second = await bootstrapProject(db, clock);
    expect(second).toEqual({ project: first.project, created: false });
    expect(await listApiKeys(db, first.project.id)).toHaveLength(1);
  });

  it("adds a preset admin key to an existing install once", async () => {
    const db = await createTestDb();
    const clock = manualClock();
    const first = await bootstrapProject(db, clock);
    const preset = `vgl_key_${"Zz09".repeat(11)}`;
    const second = await bootstrapProject(db, clock, preset);
    expect(second.adminKey).toBe(preset);
    await bootstrapProject(db, clock, preset);
    expect(await listApiKeys(db, first.project.id)).toHaveLength(2);
    expect(await authenticateApiKey(db, clock, preset)).toMatchObject({ projectId: first.project.id });
  });
});

describe("API key authentication", () => {
  it("refreshes last-used at most once a minute, so reads stay reads", async () => {
    const db = await createTestDb();
    const clock = manualClock();
    const { project, adminKey } = await bootstrapProject(db, clock);
    const start = clock.now();
    await authenticateApiKey(db, clock, adminKey ?? "");
    clock.advance(30_000);
    await authenticateApiKey(db, clock, adminKey ?? "");
    expect((await listApiKeys(db, project.id))[0]?.lastUsedAt).toBe(start);
    clock.advance(30_000);
    await authenticateApiKey(db, clock, adminKey ?? "");
    expect((await listApiKeys(db, project.id))[0]?.lastUsedAt).toBe(start + 60_000);
  });

  it("treats admin as every scope and the others as only themselves", () => {
    expect(grants(["admin"], "read")).toBe(true);
    expect(grants(["admin"], "ingest")).toBe(true);
    expect(grants(["read"], "ingest")).toBe(false);
    expect(grants(["ingest"], "read")).toBe(false);
    expect(grants(["read", "ingest"], "admin")).toBe(false);
  });
});
