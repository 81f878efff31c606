// The database side of `npm run deploy` against a real sqld, as the Worker's Turso would be.

import { closeDb, createDb } from "@vigil/db";
import { completeSetup, createAuth, systemClock } from "@vigil/engine";
import { describe, expect, it } from "vitest";
import { nextStep, prepareDeployment } from "../scripts/deployment.ts";
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
