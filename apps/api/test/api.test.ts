import { errorBodySchema } from "@vigil/contract";
import { createApiKey, createProject } from "@vigil/db/testing";
import { describe, expect, it } from "vitest";
import { bearer, jsonRequest, testApp } from "./helpers.ts";

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body.error;
}

describe("health", () => {
  it("answers 200 with the database reachable", async () => {
    const { app } = await testApp();
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", db: "ok" });
  });

  it("answers 503 in the error-free health shape when the database is gone", async () => {
    const { app, db } = await testApp();
    db.$client.close();
    const res = await app.request("/healthz");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "degraded", db: "unreachable" });
  });
});

describe("authentication and scopes", () => {
  it("refuses a request without a key with 401 in the error shape", async () => {
    const { app } = await testApp();
    await expectError(await app.request("/api/v1/projects/current"), 401, "UNAUTHORIZED");
  });

  it("refuses a malformed, a wrong and a deleted key alike", async () => {
    const { app, db, project, adminKey } = await testApp();
    await expectError(
      await app.request("/api/v1/projects/current", { headers: bearer("nonsense") }),
      401,
      "UNAUTHORIZED",
    );
    const forged = `${adminKey.slice(0, -4)}AAAA`;
    await expectError(
      await app.request("/api/v1/projects/current", { headers: bearer(forged) }),
      401,
      "UNAUTHORIZED",
    );
    const other = await createApiKey(db, project.id, ["read"]);
    await app.request(`/api/v1/api-keys/${other.id}`, { method: "DELETE", headers: bearer(adminKey) });
    await expectError(
      await app.request("/api/v1/projects/current", { headers: bearer(other.key) }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("refuses a read key on an admin route with 403", async () => {
    const { app, db, project } = await testApp();
    const read = await createApiKey(db, project.id, ["read"]);
    const error = await expectError(
      await app.request("/api/v1/api-keys", { headers: bearer(read.key) }),
      403,
      "FORBIDDEN",
    );
    expect(error.message).toContain("admin");
  });

  it("refuses an ingest-only key on a read route with 403", async () => {
    const { app, db, project } = await testApp();
    const ingest = await createApiKey(db, project.id, ["ingest"]);
    await expectError(
      await app.request("/api/v1/projects/current", { headers: bearer(ingest.key) }),
      403,
      "FORBIDDEN",
    );
  });

  it("lets an admin key read, since admin carries every scope", async () => {
    const { app, adminKey, project } = await testApp();
    const res = await app.request("/api/v1/projects/current", { headers: bearer(adminKey) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: project.id,
      name: project.name,
      slug: project.slug,
      pingKey: project.pingKey,
      organizationId: null,
      createdAt: project.createdAt,
    });
  });

  it("records when a key was last used", async () => {
    const { app, adminKey, clock } = await testApp();
    await app.request("/api/v1/projects/current", { headers: bearer(adminKey) });
    const res = await app.request("/api/v1/api-keys", { headers: bearer(adminKey) });
    const { apiKeys } = (await res.json()) as { apiKeys: { lastUsedAt: number | null }[] };
    expect(apiKeys[0]?.lastUsedAt).toBe(clock.now());
  });
});

describe("API keys", () => {
  it("shows the secret once at creation and never in the list", async () => {
    const { app, adminKey } = await testApp();
    const created = await app.request(
      "/api/v1/api-keys",
      jsonRequest("POST", { name: "grafana", scopes: ["read"] }, adminKey),
    );
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; key: string; prefix: string; scopes: string[] };
    expect(key.key.startsWith(key.prefix)).toBe(true);
    expect(key.scopes).toEqual(["read"]);

    const list = await (await app.request("/api/v1/api-keys", { headers: bearer(adminKey) })).text();
    expect(list).toContain(key.prefix);
    expect(list).not.toContain(key.key);

    const works = await app.request("/api/v1/projects/current", { headers: bearer(key.key) });
    expect(works.status).toBe(200);
  });

  it("deletes a key so that it stops working", async () => {
    const { app, adminKey } = await testApp();
    const created = (await (
      await app.request("/api/v1/api-keys", jsonRequest("POST", { name: "ci", scopes: ["ingest"] }, adminKey))
    ).json()) as { id: string };
    const res = await app.request(`/api/v1/api-keys/${created.id}`, {
      method: "DELETE",
      headers: bearer(adminKey),
    });
    expect(res.status).toBe(204);
    const list = (await (await app.request("/api/v1/api-keys", { headers: bearer(adminKey) })).json()) as {
      apiKeys: { id: string }[];
    };
    expect(list.apiKeys.map((k) => k.id)).not.toContain(created.id);
  });

  it("will not delete the project's last admin key", async () => {
    const { app, adminKey } = await testApp();
    const list = (await (await app.request("/api/v1/api-keys", { headers: bearer(adminKey) })).json()) as {
      apiKeys: { id: string }[];
    };
    const res = await app.request(`/api/v1/api-keys/${list.apiKeys[0]?.id}`, {
      method: "DELETE",
      headers: bearer(adminKey),
    });
    await expectError(res, 409, "CONFLICT");
  });
});

describe("tenancy", () => {
  it("never shows or touches another project's keys", async () => {
    const { app, db, adminKey } = await testApp();
    const other = await createProject(db);
    const otherKey = await createApiKey(db, other.id, ["admin"]);
    const theirs = await createApiKey(db, other.id, ["read"], "theirs");

    const list = await (await app.request("/api/v1/api-keys", { headers: bearer(adminKey) })).text();
    expect(list).not.toContain(theirs.id);
    expect(list).not.toContain("theirs");

    const del = await app.request(`/api/v1/api-keys/${theirs.id}`, {
      method: "DELETE",
      headers: bearer(adminKey),
    });
    await expectError(del, 404, "NOT_FOUND");
    const still = await app.request("/api/v1/projects/current", { headers: bearer(theirs.key) });
    expect(((await still.json()) as { id: string }).id).toBe(other.id);

    const mine = await app.request("/api/v1/projects/current", { headers: bearer(otherKey.key) });
    expect(((await mine.json()) as { id: string }).id).toBe(other.id);
  });
});

describe("bad input", () => {
  it("answers malformed JSON with 400 INVALID_JSON", async () => {
    const { app, adminKey } = await testApp();
    const res = await app.request("/api/v1/api-keys", jsonRequest("POST", "{not json", adminKey));
    await expectError(res, 400, "INVALID_JSON");
  });

  it("names each field of the wrong type", async () => {
    const { app, adminKey } = await testApp();
    const res = await app.request(
      "/api/v1/api-keys",
      jsonRequest("POST", { name: 42, scopes: ["root"] }, adminKey),
    );
    const error = await expectError(res, 400, "VALIDATION_FAILED");
    expect(error.fields?.map((f) => f.path)).toEqual(expect.arrayContaining(["body.name", "body.scopes.0"]));
    expect(error.message).toContain("body.name");
  });

  it("answers a body that is not JSON with 415", async () => {
    const { app, adminKey } = await testApp();
    const res = await app.request("/api/v1/api-keys", {
      method: "POST",
      headers: { ...bearer(adminKey), "content-type": "text/plain" },
      body: "name=x",
    });
    await expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers an oversized body with 413", async () => {
    const { app, adminKey } = await testApp();
    const res = await app.request(
      "/api/v1/api-keys",
      jsonRequest("POST", { name: "x".repeat(2 * 1024 * 1024), scopes: ["read"] }, adminKey),
    );
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("answers an id that is not a UUID with 400 naming the path parameter", async () => {
    const { app, adminKey } = await testApp();
    const res = await app.request("/api/v1/api-keys/not-a-uuid", {
      method: "DELETE",
      headers: bearer(adminKey),
    });
    const error = await expectError(res, 400, "VALIDATION_FAILED");
    expect(error.fields?.[0]?.path).toBe("path.id");
  });

  it("answers an unknown route with 404 in the error shape", async () => {
    const { app } = await testApp();
    const error = await expectError(await app.request("/api/v1/nothing-here"), 404, "NOT_FOUND");
    expect(error.message).toContain("/api/v1/nothing-here");
  });

  it("keeps a sane caller request id and replaces an unsafe one", async () => {
    const { app } = await testApp();
    const kept = await app.request("/healthz", { headers: { "x-request-id": "trace-123" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-123");
    const replaced = await app.request("/healthz", { headers: { "x-request-id": "<script>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
