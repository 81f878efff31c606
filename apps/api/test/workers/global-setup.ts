// Runs in Node before the workerd tests: a real sqld, migrated, with one project and an admin key.

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

export default async function setup(project: TestProject) {
  const sqld = await startSqld();
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
    await sqld.stop();
  };
}
