// The database side of `npm run deploy` against a real sqld, as the Worker's Turso would be.

import { resolve } from "node:path";
import { closeDb, createDb } from "@vigil/db";
import { completeSetup, createAuth, systemClock } from "@vigil/engine";
import { describe, expect, it } from "vitest";
import {
  nextStep,
  planSecrets,
  prepareDeployment,
  secretNames,
  wranglerEnvArgs,
} from "../scripts/deployment.ts";
import { startSqld } from "../scripts/sqld.ts";

describe("preparing a Worker deployment", () => {
  it("migrates a fresh database and ends at a setup link, then at the sign-in page once an owner exists", {
    timeout: 60_000,
  }, async () => {
    const sqld = await startSqld();
    try {
      const target = { dbUrl: sqld.url, publicUrl: "https://vigil.example.workers.dev/" };
      const first = await prepareDeployment(target);
      expect(first.setupUrl).toMatch(/^https:\/\/vigil\.example\.workers\.dev\/setup\?token=vgl_set_\w+$/);
      expect(nextStep(first)).toContain(first.setupUrl);

      // A second deploy before anyone used the link replaces it: only the newest link works.
      const second = await prepareDeployment(target);
      expect(second.setupUrl).not.toBe(first.setupUrl);

      const db = createDb({ url: sqld.url });
      const auth = createAuth({
        db,
        clock: systemClock,
        baseUrl: "https://vigil.example.workers.dev",
        secret: "a-test-secret-for-the-deployment",
        signUpMode: "invite",
      });
      const token = new URL(second.setupUrl ?? "").searchParams.get("token") ?? "";
      await expect(
        completeSetup(db, systemClock, auth, {
          token: new URL(first.setupUrl ?? "").searchParams.get("token") ?? "",
          name: "Old",
          email: "old@example.com",
          password: "correct horse battery",
          organizationName: "Org",
        }),
      ).rejects.toThrow(/not found/);
      await completeSetup(db, systemClock, auth, {
        token,
        name: "Olive",
        email: "olive@example.com",
        password: "correct horse battery",
        organizationName: "Org",
      });
      closeDb(db);

      const third = await prepareDeployment(target);
      expect(third.setupUrl).toBeNull();
      expect(nextStep(third)).toBe("An owner exists already: sign in at https://vigil.example.workers.dev/");
    } finally {
      await sqld.stop();
    }
  });
});

describe("the secrets a deploy uploads", () => {
  const generate = () => "generated-key";

  it("generates a secret key for a Worker that has none and uploads the database token it is given", () => {
    const plan = planSecrets({
      existing: new Set(),
      given: { LIBSQL_AUTH_TOKEN: "turso-token" },
      dbUrl: "libsql://vigil-acme.turso.io",
      generate,
    });
    expect(plan.put).toEqual([
      ["LIBSQL_AUTH_TOKEN", "turso-token"],
      ["VIGIL_SECRET_KEY", "generated-key"],
    ]);
    expect(plan.notes.join()).toContain("generated VIGIL_SECRET_KEY");
  });

  it("leaves the secrets a Worker holds alone unless new values are given", () => {
    const existing = secretNames(
      JSON.stringify([
        { name: "VIGIL_SECRET_KEY", type: "secret_text" },
        { name: "LIBSQL_AUTH_TOKEN", type: "secret_text" },
      ]),
    );
    const again = planSecrets({ existing, given: {}, dbUrl: "libsql://vigil-acme.turso.io", generate });
    expect(again).toEqual({ put: [], notes: [] });

    const rotated = planSecrets({
      existing,
      given: { VIGIL_METRICS_TOKEN: "scrape-me" },
      dbUrl: "libsql://vigil-acme.turso.io",
      generate,
    });
    expect(rotated.put).toEqual([["VIGIL_METRICS_TOKEN", "scrape-me"]]);
  });

  it("refuses to deploy against Turso without a token stored or given, before anything changes", () => {
    expect(() =>
      planSecrets({
        existing: new Set(["VIGIL_SECRET_KEY"]),
        given: {},
        dbUrl: "libsql://a-b.turso.io",
        generate,
      }),
    ).toThrow(/LIBSQL_AUTH_TOKEN/);
    // A local sqld over http needs none.
    expect(
      planSecrets({
        existing: new Set(["VIGIL_SECRET_KEY"]),
        given: {},
        dbUrl: "http://127.0.0.1:8080",
        generate,
      }).put,
    ).toEqual([]);
  });

  it("reads a missing Worker's secret list as empty, and picks the environment by name only", () => {
    expect(secretNames("✘ [ERROR] This Worker does not exist")).toEqual(new Set());
    expect(wranglerEnvArgs({ VIGIL_WRANGLER_ENV: "staging" })).toEqual(["--env", "staging"]);
    expect(wranglerEnvArgs({})).toEqual([]);
    expect(() => wranglerEnvArgs({ VIGIL_WRANGLER_ENV: "prod; rm -rf /" })).toThrow(/environment/);
  });
});

describe("the queued environment of wrangler.toml", () => {
  it("alone binds the ingest queue", async () => {
    const { experimental_readRawConfig } = await import("wrangler");
    const { rawConfig } = experimental_readRawConfig({
      config: resolve(import.meta.dirname, "../../../wrangler.toml"),
    });
    const queued = rawConfig.env?.queued;
    expect(rawConfig.queues).toBeUndefined();
    for (const other of ["staging", "production"]) expect(rawConfig.env?.[other]?.queues).toBeUndefined();
    expect(queued?.queues?.producers).toEqual([{ binding: "INGEST_QUEUE", queue: "vigil-ingest" }]);
    expect(queued?.queues?.consumers).toEqual([expect.objectContaining({ queue: "vigil-ingest" })]);
    expect(wranglerEnvArgs({ VIGIL_WRANGLER_ENV: "queued" })).toEqual(["--env", "queued"]);
  });
});
