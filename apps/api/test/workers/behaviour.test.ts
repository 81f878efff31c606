// The behaviour suite (test/behaviour/) against the Worker inside workerd: the Worker's own deps
// (`workerDeps`) with only the clock replaced, over a fresh sqld database per case. The outside servers
// run in Node (global-setup) and are reached over 127.0.0.1.
import { env } from "cloudflare:test";
import { manualClock } from "@vigil/engine/testing";
import { describe, inject, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { type Env, workerDeps } from "../../src/platform/worker-deps.ts";
import { scheduledJobs } from "../../src/scheduler.ts";
import { runWatchedTick } from "../../src/self/watched-tick.ts";
import { areas } from "../behaviour/cases.ts";
import { Outside, START, type Target } from "../behaviour/target.ts";

async function control<T>(path: string, method = "POST"): Promise<T> {
  const res = await fetch(`${inject("behaviourControlUrl")}${path}`, { method });
  if (!res.ok) throw new Error(`fixtures ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

async function workerTarget(): Promise<{ target: Target; drop: () => Promise<void> }> {
  const outside = await Outside.connect(inject("behaviourControlUrl"));
  const clock = manualClock(START);
  const db = await control<{ url: string; projectId: string; adminKey: string; pingKey: string }>(
    `/db?now=${START}`,
  );
  const workerEnv: Env = {
    ...(env as unknown as Env),
    LIBSQL_URL: db.url,
    VIGIL_CHECK_SPREAD_MS: "0",
    VIGIL_SECRET_KEY: "behaviour-secret-key-0123456789abcdef",
    VIGIL_ALLOW_PRIVATE_TARGETS: "1",
    VIGIL_SMTP_URL: outside.smtpUrl,
  };
  const deps = () => workerDeps(workerEnv, { clock });
  const target: Target = {
    runtime: "worker",
    // Absolute URLs as given (a case may name the host); paths on http://localhost, as app.request does.
    request: async (path, init) =>
      createApp(deps()).fetch(
        new Request(/^https?:/.test(path) ? path : `http://localhost${path}`, init) as Request<
          unknown,
          IncomingRequestCfProperties
        >,
      ),
    clock,
    async tick() {
      // A cron run has no request to take a URL from: links in alerts need VIGIL_PUBLIC_URL.
      const scheduler = workerDeps({ ...workerEnv, VIGIL_PUBLIC_URL: "http://localhost" }, { clock });
      const { failed } = await runWatchedTick(scheduler, scheduledJobs);
      if (failed.length) throw new Error(`scheduled jobs failed: ${failed.join(", ")}`);
    },
    adminKey: db.adminKey,
    projectId: db.projectId,
    pingKey: db.pingKey,
    otherProject: () => control(`/db/project?url=${encodeURIComponent(db.url)}&now=${clock.now()}`),
    async setupToken() {
      const { token } = await control<{ token: string | null }>(
        `/db/setup-token?url=${encodeURIComponent(db.url)}&now=${clock.now()}`,
      );
      if (!token) throw new Error("no setup token on a fresh database");
      return token;
    },
    outside,
  };
  return {
    target,
    drop: async () => {
      await control(`/db?url=${encodeURIComponent(db.url)}`, "DELETE");
    },
  };
}

for (const { title, cases } of areas) {
  describe(title, () => {
    for (const c of cases) {
      it(c.differs?.worker ? `${c.name} (differs on the Worker: ${c.differs.worker})` : c.name, async () => {
        const { target, drop } = await workerTarget();
        try {
          await c.run(target);
        } finally {
          await drop();
        }
      });
    }
  });
}
