import { errorBodySchema } from "@vigil/contract";
import { expect } from "vitest";
import { area } from "./case.ts";
import { bearer, jsonRequest, legacy, newKey } from "./client.ts";

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body.error;
}

const api1 = area("health", [
  {
    name: "answers 200 with the database reachable",
    run: async (t) => {
      const { app } = legacy(t);
      const res = await app.request("/healthz");
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: "ok", db: "ok" });
    },
  },
]);

const api2 = area("authentication and scopes", [
  {
    name: "refuses a request without a key with 401 in the error shape",
    run: async (t) => {
      const { app } = legacy(t);
      await expectError(await app.request("/api/v1/projects/current"), 401, "UNAUTHORIZED");
    },
  },

  {
    name: "refuses a malformed, a wrong and a deleted key alike",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
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
      const other = await newKey(t, ["read"]);
      await app.request(`/api/v1/api-keys/${other.id}`, { method: "DELETE", headers: bearer(adminKey) });
      await expectError(
        await app.request("/api/v1/projects/current", { headers: bearer(other.key) }),
        401,
        "UNAUTHORIZED",
      );
    },
  },

  {
    name: "refuses a read key on an admin route with 403",
    run: async (t) => {
      const { app } = legacy(t);
      const read = await newKey(t, ["read"]);
      const error = await expectError(
        await app.request("/api/v1/api-keys", { headers: bearer(read.key) }),
        403,
        "FORBIDDEN",
      );
      expect(error.message).toContain("admin");
    },
  },

  {
    name: "refuses an ingest-only key on a read route with 403",
    run: async (t) => {
      const { app } = legacy(t);
      const ingest = await newKey(t, ["ingest"]);
      await expectError(
        await app.request("/api/v1/projects/current", { headers: bearer(ingest.key) }),
        403,
        "FORBIDDEN",
      );
    },
  },

  {
    name: "lets an admin key read, since admin carries every scope",
    run: async (t) => {
      const { app, adminKey, project } = legacy(t);
      const res = await app.request("/api/v1/projects/current", { headers: bearer(adminKey) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        id: project.id,
        name: expect.any(String),
        slug: expect.any(String),
        pingKey: project.pingKey,
        organizationId: null,
        createdAt: expect.any(Number),
      });
    },
  },

  {
    name: "records when a key was last used",
    run: async (t) => {
      const { app, adminKey, clock } = legacy(t);
      await app.request("/api/v1/projects/current", { headers: bearer(adminKey) });
      const res = await app.request("/api/v1/api-keys", { headers: bearer(adminKey) });
      const { apiKeys } = (await res.json()) as { apiKeys: { lastUsedAt: number | null }[] };
      expect(apiKeys[0]?.lastUsedAt).toBe(clock.now());
    },
  },
]);

const api3 = area("API keys", [
  {
    name: "shows the secret once at creation and never in the list",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
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
    },
  },

  {
    name: "deletes a key so that it stops working",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const created = (await (
        await app.request(
          "/api/v1/api-keys",
          jsonRequest("POST", { name: "ci", scopes: ["ingest"] }, adminKey),
        )
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
    },
  },

  {
    name: "will not delete the project's last admin key",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const list = (await (await app.request("/api/v1/api-keys", { headers: bearer(adminKey) })).json()) as {
        apiKeys: { id: string }[];
      };
      const res = await app.request(`/api/v1/api-keys/${list.apiKeys[0]?.id}`, {
        method: "DELETE",
        headers: bearer(adminKey),
      });
      await expectError(res, 409, "CONFLICT");
    },
  },
]);

const api4 = area("tenancy", [
  {
    name: "never shows or touches another project's keys",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const other = await t.otherProject();
      const otherKey = { key: other.adminKey };
      const theirs = await newKey(t, ["read"], "theirs", other.adminKey);

      const list = await (await app.request("/api/v1/api-keys", { headers: bearer(adminKey) })).text();
      expect(list).not.toContain(theirs.id);
      expect(list).not.toContain("theirs");

      const del = await app.request(`/api/v1/api-keys/${theirs.id}`, {
        method: "DELETE",
        headers: bearer(adminKey),
      });
      await expectError(del, 404, "NOT_FOUND");
      const still = await app.request("/api/v1/projects/current", { headers: bearer(theirs.key) });
      expect(((await still.json()) as { id: string }).id).toBe(other.projectId);

      const mine = await app.request("/api/v1/projects/current", { headers: bearer(otherKey.key) });
      expect(((await mine.json()) as { id: string }).id).toBe(other.projectId);
    },
  },
]);

const api5 = area("bad input", [
  {
    name: "answers malformed JSON with 400 INVALID_JSON",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const res = await app.request("/api/v1/api-keys", jsonRequest("POST", "{not json", adminKey));
      await expectError(res, 400, "INVALID_JSON");
    },
  },

  {
    name: "names each field of the wrong type",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const res = await app.request(
        "/api/v1/api-keys",
        jsonRequest("POST", { name: 42, scopes: ["root"] }, adminKey),
      );
      const error = await expectError(res, 400, "VALIDATION_FAILED");
      expect(error.fields?.map((f) => f.path)).toEqual(
        expect.arrayContaining(["body.name", "body.scopes.0"]),
      );
      expect(error.message).toContain("body.name");
    },
  },

  {
    name: "answers a body that is not JSON with 415",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const res = await app.request("/api/v1/api-keys", {
        method: "POST",
        headers: { ...bearer(adminKey), "content-type": "text/plain" },
        body: "name=x",
      });
      await expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    },
  },

  {
    name: "answers an oversized body with 413",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const res = await app.request(
        "/api/v1/api-keys",
        jsonRequest("POST", { name: "x".repeat(2 * 1024 * 1024), scopes: ["read"] }, adminKey),
      );
      await expectError(res, 413, "PAYLOAD_TOO_LARGE");
    },
  },

  {
    name: "answers an id that is not a UUID with 400 naming the path parameter",
    run: async (t) => {
      const { app, adminKey } = legacy(t);
      const res = await app.request("/api/v1/api-keys/not-a-uuid", {
        method: "DELETE",
        headers: bearer(adminKey),
      });
      const error = await expectError(res, 400, "VALIDATION_FAILED");
      expect(error.fields?.[0]?.path).toBe("path.id");
    },
  },

  {
    name: "answers an unknown route with 404 in the error shape",
    run: async (t) => {
      const { app } = legacy(t);
      const error = await expectError(await app.request("/api/v1/nothing-here"), 404, "NOT_FOUND");
      expect(error.message).toContain("/api/v1/nothing-here");
    },
  },

  {
    name: "keeps a sane caller request id and replaces an unsafe one",
    run: async (t) => {
      const { app } = legacy(t);
      const kept = await app.request("/healthz", { headers: { "x-request-id": "trace-123" } });
      expect(kept.headers.get("x-request-id")).toBe("trace-123");
      const replaced = await app.request("/healthz", { headers: { "x-request-id": "<script>" } });
      expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    },
  },
]);

export const apiCases = [api1, api2, api3, api4, api5];
