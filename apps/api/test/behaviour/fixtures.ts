/**
 * The outside world of the behaviour suite, in Node: one HTTP server on 127.0.0.1 that stands in for
 * webhook receivers and check targets, an SMTP sink (smtp-server), and a small control endpoint that
 * tells what each case's servers received. The Node runner starts these beside itself; for the Worker
 * they run in global-setup, since a workerd test cannot host a server: it reaches them over 127.0.0.1.
 *
 * Every case has its own id: its webhooks and targets live under `/<case>/…` and its mail goes to
 * `ops-<case>@example.com`, so cases never see each other's traffic.
 */
import { cpSync, mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDb, createDb } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { createApiKey, createProject } from "@vigil/db/testing";
import { issueSetupToken } from "@vigil/engine";
import { manualClock } from "@vigil/engine/testing";
import { startSmtpSink } from "@vigil/notify/testing";
import { type Sqld, startSqld } from "../../scripts/sqld.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface RecordedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Fixtures {
  /** where the control endpoint answers (see `FixturesClient` in target.ts) */
  controlUrl: string;
  stop(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((done) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
  });

const listen = async (server: Server) => {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const json = (res: ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
};

/**
 * Fresh databases for the Worker runner: each is a copy of one migrated template, served by its own sqld,
 * so a case starts from an empty project exactly as the Node runner's `:memory:` database does.
 */
async function databasePool() {
  const template = join(mkdtempSync(join(tmpdir(), "vigil-behaviour-")), "template");
  const first = await startSqld({ dbPath: template });
  const db = createDb({ url: first.url });
  await migrateDb(db);
  closeDb(db);
  await first.stop();
  const running = new Map<string, Sqld>();
  return {
    async create(now: number) {
      const dbPath = join(mkdtempSync(join(tmpdir(), "vigil-behaviour-")), "db");
      cpSync(template, dbPath, { recursive: true });
      const sqld = await startSqld({ dbPath });
      running.set(sqld.url, sqld);
      return { url: sqld.url, ...(await this.project(sqld.url, now)) };
    },
    async project(url: string, _now: number) {
      const db = createDb({ url });
      try {
        const project = await createProject(db);
        const admin = await createApiKey(db, project.id, ["admin"]);
        return { projectId: project.id, adminKey: admin.key, pingKey: project.pingKey, slug: project.slug };
      } finally {
        closeDb(db);
      }
    },
    async setupToken(url: string, now: number) {
      const db = createDb({ url });
      try {
        return await issueSetupToken(db, manualClock(now));
      } finally {
        closeDb(db);
      }
    },
    async drop(url: string) {
      await running.get(url)?.stop();
      running.delete(url);
    },
    async stop() {
      await Promise.all([...running.values()].map((s) => s.stop()));
    },
  };
}

export async function startFixtures(options: { databases?: boolean } = {}): Promise<Fixtures> {
  const requests = new Map<string, RecordedRequest[]>();
  const answers = new Map<string, number[]>();
  const smtp = await startSmtpSink();

  // Webhook receiver and check target in one: `/<case>/…?status=N&body=…` answers N with the body,
  // unless the control endpoint queued answers for the case.
  const targets = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://target");
    const caseId = url.pathname.split("/")[1] ?? "";
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) headers[name] = String(value);
    const list = requests.get(caseId) ?? [];
    list.push({ method: req.method ?? "GET", path: url.pathname + url.search, headers, body });
    requests.set(caseId, list);
    const status = answers.get(caseId)?.shift() ?? Number(url.searchParams.get("status") ?? 200);
    res.writeHead(status, { "content-type": "text/plain" }).end(url.searchParams.get("body") ?? "ok");
  });
  const targetUrl = await listen(targets);
  const databases = options.databases ? await databasePool() : null;

  const control = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://control");
    const [, what, caseId = ""] = url.pathname.split("/");
    try {
      if (what === "info") return json(res, { targetUrl, smtpUrl: smtp.url });
      if (what === "requests") return json(res, requests.get(caseId) ?? []);
      if (what === "answers") {
        answers.set(caseId, JSON.parse(await readBody(req)) as number[]);
        return json(res, {});
      }
      if (what === "mails") {
        const mails: RecordedMail[] = smtp.messages
          .filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((a) => a?.text.includes(caseId)))
          .map((m) => ({
            to: (Array.isArray(m.to) ? m.to : [m.to]).map((a) => a?.text ?? "").join(", "),
            subject: m.subject ?? "",
            text: m.text ?? "",
            html: typeof m.html === "string" ? m.html : "",
          }));
        return json(res, mails);
      }
      if (databases && what === "db") {
        const now = Number(url.searchParams.get("now") ?? Date.now());
        const dbUrl = url.searchParams.get("url") ?? "";
        if (req.method === "DELETE") {
          await databases.drop(dbUrl);
          return json(res, {});
        }
        if (caseId === "project") return json(res, await databases.project(dbUrl, now));
        if (caseId === "setup-token") return json(res, { token: await databases.setupToken(dbUrl, now) });
        return json(res, await databases.create(now));
      }
      json(res, { error: "unknown control path" }, 404);
    } catch (err) {
      json(res, { error: String(err) }, 500);
    }
  });
  const controlUrl = await listen(control);
  return {
    controlUrl,
    async stop() {
      targets.closeAllConnections();
      control.closeAllConnections();
      await Promise.all([
        new Promise((ok) => targets.close(ok)),
        new Promise((ok) => control.close(ok)),
        smtp.close(),
        databases?.stop(),
      ]);
    },
  };
}
