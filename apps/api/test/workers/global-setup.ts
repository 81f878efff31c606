// Runs in Node before the workerd tests: a real sqld, migrated, with one project and an admin key; a
// second one for the check runner (a Durable Object reads its database URL from the bindings, not from a
// test's env), and a real HTTP target on 127.0.0.1 for its checks.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { closeDb, createDb } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { createApiKey, createProject } from "@vigil/db/testing";
import { issueSetupToken, systemClock } from "@vigil/engine";
import { startSmtpSink, startWebhookReceiver } from "@vigil/notify/testing";
import type { TestProject } from "vitest/node";
import { startSqld } from "../../scripts/sqld.ts";
import { startFixtures } from "../behaviour/fixtures.ts";

declare module "vitest" {
  export interface ProvidedContext {
    sqldUrl: string;
    projectId: string;
    adminKey: string;
    readKey: string;
    /** a real SMTP sink and webhook receiver in Node; GET `logUrl` tells what both received */
    smtpUrl: string;
    receiverUrl: string;
    logUrl: string;
    /** the one-time setup link's token, minted on the sqld database as `npm run deploy` does */
    setupToken: string;
    /** the check runner's database (the LIBSQL_URL binding) and the project in it */
    runnerSqldUrl: string;
    runnerProjectId: string;
    /** an HTTP target answering 200; GET `${targetUrl}/__hits` counts the other requests it had */
    targetUrl: string;
    /** the behaviour suite's outside servers and fresh sqld databases (test/behaviour/fixtures.ts) */
    behaviourControlUrl: string;
  }
}

/** Lets the workerd tests see what the Node-side sinks received (they cannot share memory). */
async function startSinks() {
  const sink = await startSmtpSink();
  const receiver = await startWebhookReceiver();
  const log = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        hooks: receiver.requests.filter((r) => r.path !== "/__log"),
        mails: sink.messages.map((m) => ({ subject: m.subject, text: m.text, to: m.to })),
      }),
    );
  });
  await new Promise<void>((ok) => log.listen(0, "127.0.0.1", ok));
  return {
    smtpUrl: sink.url,
    receiverUrl: receiver.url,
    logUrl: `http://127.0.0.1:${(log.address() as AddressInfo).port}`,
    stop: async () => {
      await Promise.all([
        sink.close(),
        receiver.close(),
        new Promise<void>((done) => log.close(() => done())),
      ]);
    },
  };
}

/** A real HTTP target for checks: answers 200 and counts what it answered. */
async function startTarget() {
  let hits = 0;
  const server = createServer((req, res) => {
    if (req.url === "/__hits") {
      res.end(String(hits));
      return;
    }
    hits++;
    res.end("ok");
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

async function migratedWithProject(url: string) {
  const db = createDb({ url });
  await migrateDb(db);
  const tenant = await createProject(db);
  closeDb(db);
  return tenant.id;
}

export default async function setup(project: TestProject) {
  const runnerSqld = await startSqld();
  project.provide("runnerSqldUrl", runnerSqld.url);
  project.provide("runnerProjectId", await migratedWithProject(runnerSqld.url));
  const target = await startTarget();
  project.provide("targetUrl", target.url);
  // vitest.queue.config.ts picks the port, since the queue consumer's bindings are fixed before this runs.
  const port = process.env.VIGIL_TEST_SQLD_PORT;
  const sqld = await startSqld(port ? { port: Number(port) } : {});
  const db = createDb({ url: sqld.url });
  await migrateDb(db);
  const tenant = await createProject(db);
  const admin = await createApiKey(db, tenant.id, ["admin"]);
  const read = await createApiKey(db, tenant.id, ["read"]);
  const setupToken = await issueSetupToken(db, systemClock);
  if (!setupToken) throw new Error("a fresh database must give a setup token");
  closeDb(db);
  project.provide("setupToken", setupToken);
  project.provide("sqldUrl", sqld.url);
  project.provide("projectId", tenant.id);
  project.provide("adminKey", admin.key);
  project.provide("readKey", read.key);
  const sinks = await startSinks();
  project.provide("smtpUrl", sinks.smtpUrl);
  project.provide("receiverUrl", sinks.receiverUrl);
  project.provide("logUrl", sinks.logUrl);
  const behaviour = await startFixtures({ databases: true });
  project.provide("behaviourControlUrl", behaviour.controlUrl);
  return async () => {
    await behaviour.stop();
    await sinks.stop();
    await target.stop();
    await sqld.stop();
    await runnerSqld.stop();
  };
}
