// Two organisations with a project each. For every project route of the REST API, a member of one tries to
// read, change and delete the other's things, by session and by API key, and gets 404; nothing of the other
// changes. The matrix names every route: a new route with no row (or no stated exclusion) fails the test.
import { describe, expect, it } from "vitest";
import { type AccountsApp, accountsApp, type Browser, ORIGIN, signUpAndIn } from "./accounts-helpers.ts";
import { hostBatch, sendBatch } from "./helpers.ts";

/** Everything organisation B owns, by id. */
interface Victim {
  orgId: string;
  projectId: string;
  key: string;
  keyId: string;
  hostId: string;
  checkId: string;
  checkPingUrl: string;
  channelId: string;
  ruleId: string;
  alertId: string;
  silenceId: string;
  windowId: string;
  pageId: string;
  incidentId: string;
  maintenanceId: string;
  tokenId: string;
  subscriberId: string;
  repositoryId: string;
  runbookId: string;
  runId: string;
  secretName: string;
}

type Row = {
  /** the `:id` of the other organisation's row this route names */
  id?: (v: Victim) => string;
  /** a body that would be accepted for one's own project, so only the ownership check can refuse it */
  body?: (v: Victim) => unknown;
  /** an endless stream: only the forms naming the other project are tried (they answer at once) */
  stream?: true;
  /** a query string the route needs to answer 200 for one's own project */
  query?: string;
};

const hour = 3_600_000;
const NOW = Date.UTC(2026, 10, 27, 12);

/** Project routes, relative to /api/v1 (key form) and /api/v1/projects/:projectId (any project). */
const MATRIX: Record<string, Row> = {
  "GET /api-keys": {},
  "POST /api-keys": { body: () => ({ name: "x", scopes: ["read"] }) },
  "DELETE /api-keys/:id": { id: (v) => v.keyId },
  "GET /enrollment-tokens": {},
  "POST /enrollment-tokens": { body: () => ({ name: "x" }) },
  "DELETE /enrollment-tokens/:id": { id: (v) => v.tokenId },
  "GET /hosts": {},
  "GET /hosts/:id": { id: (v) => v.hostId },
  "PATCH /hosts/:id": { id: (v) => v.hostId, body: () => ({ name: "taken" }) },
  "DELETE /hosts/:id": { id: (v) => v.hostId },
  "GET /hosts/:id/metrics": { id: (v) => v.hostId },
  "GET /hosts/:id/logs": { id: (v) => v.hostId },
  "GET /hosts/:id/logs/tail": { id: (v) => v.hostId },
  "GET /hosts/:id/backups": { id: (v) => v.hostId },
  "GET /hosts/:id/filesystems": { id: (v) => v.hostId },
  "GET /hosts/:id/state": { id: (v) => v.hostId },
  "GET /hosts/:id/events": { id: (v) => v.hostId },
  "GET /logs": {},
  "GET /logs/tail": { stream: true },
  "GET /backups": {},
  "GET /backups/repositories": {},
  "GET /backups/repositories/:id": { id: (v) => v.repositoryId },
  "PATCH /backups/repositories/:id": { id: (v) => v.repositoryId, body: () => ({ site: "offsite" }) },
  "GET /backups/sources": {},
  "GET /events": {},
  "POST /events": { body: (v) => ({ service: "web", version: "2", host: v.hostId, message: "x" }) },
  "GET /checks": {},
  "GET /checks/uptime": {},
  "GET /checks/schedule-preview": { query: "?schedule=0+3+*+*+*" },
  "POST /checks": { body: () => ({ kind: "heartbeat", name: "mine", period: 3600 }) },
  "GET /checks/:id": { id: (v) => v.checkId },
  "PATCH /checks/:id": { id: (v) => v.checkId, body: () => ({ name: "taken" }) },
  "DELETE /checks/:id": { id: (v) => v.checkId },
  "POST /checks/:id/pause": { id: (v) => v.checkId },
  "POST /checks/:id/resume": { id: (v) => v.checkId },
  "GET /checks/:id/pings": { id: (v) => v.checkId },
  "GET /checks/:id/durations": { id: (v) => v.checkId },
  "GET /checks/:id/runs": { id: (v) => v.checkId },
  "GET /checks/:id/flips": { id: (v) => v.checkId },
  "GET /checks/:id/incidents": { id: (v) => v.checkId },
  "GET /checks/:id/uptime": { id: (v) => v.checkId },
  "GET /locations": {},
  "GET /secrets": {},
  "PUT /secrets/:name": { body: () => ({ value: "mine" }) },
  "DELETE /secrets/:name": { id: (v) => v.secretName },
  "GET /runbooks": {},
  "GET /runbook-templates": {},
  "POST /runbooks/from-template": {
    body: (v) => ({ template: "os-upgrade", hosts: { hostIds: [v.hostId] } }),
  },
  "POST /runbooks": {
    body: (v) => ({
      name: "theirs",
      hosts: { hostIds: [v.hostId] },
      steps: [{ kind: "manual", title: "x" }],
    }),
  },
  "GET /runbooks/:id": { id: (v) => v.runbookId },
  "PATCH /runbooks/:id": { id: (v) => v.runbookId, body: () => ({ name: "taken" }) },
  "DELETE /runbooks/:id": { id: (v) => v.runbookId },
  "POST /runbooks/:id/runs": { id: (v) => v.runbookId, body: () => ({}) },
  "GET /runbooks/:id/runs": { id: (v) => v.runbookId },
  "GET /runbook-runs": {},
  "GET /runbook-runs/:id": { id: (v) => v.runId },
  "POST /runbook-runs/:id/steps/:index/complete": { id: (v) => v.runId, body: () => ({}) },
  "POST /runbook-runs/:id/steps/:index/skip": { id: (v) => v.runId, body: () => ({}) },
  "POST /runbook-runs/:id/cancel": { id: (v) => v.runId },
  "GET /channels": {},
  "POST /channels": { body: () => ({ kind: "email", name: "mine", to: ["me@example.com"] }) },
  "GET /channels/:id": { id: (v) => v.channelId },
  "PATCH /channels/:id": { id: (v) => v.channelId, body: () => ({ name: "taken" }) },
  "DELETE /channels/:id": { id: (v) => v.channelId },
  "POST /channels/:id/test": { id: (v) => v.channelId },
  "GET /deliveries": {},
  "GET /rules": {},
  "POST /rules": {
    body: (v) => ({ name: "theirs", kind: "reboot_required", scope: "host", hostId: v.hostId }),
  },
  "GET /rules/:id": { id: (v) => v.ruleId },
  "PATCH /rules/:id": { id: (v) => v.ruleId, body: () => ({ name: "taken" }) },
  "DELETE /rules/:id": { id: (v) => v.ruleId },
  "GET /alerts": {},
  "GET /alerts/:id": { id: (v) => v.alertId },
  "GET /silences": {},
  "POST /silences": { body: (v) => ({ hostId: v.hostId, durationMinutes: 30 }) },
  "POST /silences/:id/expire": { id: (v) => v.silenceId },
  "GET /maintenance-windows": {},
  "POST /maintenance-windows": {
    body: (v) => ({ name: "w", hostId: v.hostId, days: [1], start: "02:00", durationMinutes: 60 }),
  },
  "DELETE /maintenance-windows/:id": { id: (v) => v.windowId },
  "GET /status-pages": {},
  "POST /status-pages": {
    body: (v) => ({
      slug: "mine-page",
      title: "Mine",
      components: [{ type: "check", id: v.checkId, name: "x" }],
    }),
  },
  "GET /status-pages/:id": { id: (v) => v.pageId },
  "PATCH /status-pages/:id": { id: (v) => v.pageId, body: () => ({ title: "taken" }) },
  "DELETE /status-pages/:id": { id: (v) => v.pageId },
  "GET /status-pages/:id/subscribers": { id: (v) => v.pageId },
  "DELETE /status-pages/:id/subscribers/:subscriberId": { id: (v) => v.pageId },
  "GET /metrics": {},
  "GET /metrics/query": { query: "?name=queue_depth" },
  "POST /metrics": { body: (v) => ({ host: v.hostId, samples: [{ name: "queue_depth", value: 1 }] }) },
  "GET /reports/weekly": {},
  "POST /reports/weekly/send": { body: () => ({ to: ["me@example.com"] }) },
  "GET /status-incidents": {},
  "POST /status-incidents": {
    body: (v) => ({ title: "x", message: "x", affects: [{ type: "check", id: v.checkId }] }),
  },
  "GET /status-incidents/:id": { id: (v) => v.incidentId },
  "PATCH /status-incidents/:id": { id: (v) => v.incidentId, body: () => ({ title: "taken" }) },
  "POST /status-incidents/:id/updates": {
    id: (v) => v.incidentId,
    body: () => ({ status: "resolved", message: "x" }),
  },
  "DELETE /status-incidents/:id": { id: (v) => v.incidentId },
  "GET /status-maintenance": {},
  "POST /status-maintenance": {
    body: (v) => ({
      title: "x",
      startsAt: NOW + hour,
      endsAt: NOW + 2 * hour,
      affects: [{ type: "check", id: v.checkId }],
    }),
  },
  "GET /status-maintenance/:id": { id: (v) => v.maintenanceId },
  "PATCH /status-maintenance/:id": { id: (v) => v.maintenanceId, body: () => ({ title: "taken" }) },
  "DELETE /status-maintenance/:id": { id: (v) => v.maintenanceId },
};

/** Prometheus scrapes with a key at one path; it must show only the key's own project. */
const KEY_ONLY = ["GET /metrics"];

/** Routes of the project itself (under /api/v1/projects/:projectId) and of organisations. */
const PROJECT_ROUTES: Record<string, Row> = {
  "GET /api/v1/projects/:projectId": {},
  "PATCH /api/v1/projects/:projectId": { body: () => ({ name: "taken" }) },
  "DELETE /api/v1/projects/:projectId": {},
  "GET /api/v1/projects/:projectId/settings": {},
  "PATCH /api/v1/projects/:projectId/settings": { body: () => ({ retention: { rawDays: 3 } }) },
  "GET /api/v1/projects/:projectId/audit-log": {},
};
const ORG_ROUTES = [
  "GET /api/v1/orgs/:orgId/members",
  "POST /api/v1/orgs/:orgId/invitations",
  "POST /api/v1/orgs/:orgId/transfer-ownership",
  "DELETE /api/v1/orgs/:orgId",
  "GET /api/v1/orgs/:orgId/audit-log",
];

/** Not addressed by project, each for a reason of its own. */
const EXCLUDED: Record<string, string> = {
  "GET /healthz": "public liveness",
  "GET /readyz": "public readiness: counts and delays across the server, never a project's data",
  "GET /api/auth/*": "better-auth: acts on the signed-in person only",
  "POST /api/auth/*": "better-auth: acts on the signed-in person only (organisation calls check membership)",
  "GET /api/v1/me": "the signed-in person's own memberships",
  "GET /api/v1/me/invitations": "invitations to the signed-in person's own address (checked below)",
  "POST /api/v1/setup": "one-time setup link",
  "GET /setup": "one-time setup link",
  "GET /api/v1/projects": "lists the caller's own projects (checked below)",
  "POST /api/v1/projects": "creates in an organisation of the caller's (checked below)",
  "POST /api/v1/probe/enroll": "enrollment token names its project",
  "POST /api/v1/probe/batches": "host token names its host",
  "GET /install.sh": "public installer",
  "GET /probe/vigil-probe.mjs": "public probe bundle",
  "GET /probe/:name{vigil-probe-linux-(?:x64|arm64)}": "public probe executable",
  "GET /ping/*": "Healthchecks-style: the check's unguessable id or ping key is the credential",
  "POST /ping/*": "Healthchecks-style: the check's unguessable id or ping key is the credential",
  "GET /api/v1/status/:slug": "public status page",
  "GET /status/:slug": "public status page",
  "GET /status/:slug/feed.atom": "public status page",
  "GET /status/:slug/feed.rss": "public status page",
  "POST /status/:slug/subscribe": "public status page: a visitor subscribes (confirmed by mail)",
  "GET /status/:slug/confirm/:token": "public status page: the mailed link token is the credential",
  "GET /status/:slug/unsubscribe/:token": "public status page: the mailed link token is the credential",
  "POST /status/:slug/unsubscribe/:token": "public status page: the mailed link token is the credential",
  "POST /api/v1/status/:slug/subscribers": "public status page: a visitor subscribes",
  "GET /status/:slug/badge.svg": "public status page",
  "GET /status/:slug/components/:component/badge.svg": "public status page",
  "GET /": "the dashboard's files (or a custom domain's status page)",
  "GET /*": "the dashboard's files",
};

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Organisation B with one of everything, made through its own API key. */
async function victim(env: AccountsApp, owner: Browser): Promise<Victim> {
  const me = await json<{ organizations: { id: string; projects: { id: string }[] }[] }>(
    await owner.request("/api/v1/me"),
  );
  const orgId = me.organizations[0]?.id ?? "";
  const projectId = me.organizations[0]?.projects[0]?.id ?? "";
  const created = await json<{ key: string; id: string }>(
    await owner.request(`/api/v1/projects/${projectId}/api-keys`, { body: { name: "b", scopes: ["admin"] } }),
  );
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await env.app.request(`${ORIGIN}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${created.key}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const token = await call<{ id: string; token: string }>("POST", "/enrollment-tokens", { name: "b" });
  const enrolled = await call<{ hostId: string; hostToken: string }>("POST", "/probe/enroll", {
    token: token.token,
    facts: { hostname: "b-web-1", machineId: crypto.randomUUID() },
  });
  const batch = await sendBatch(env.app, enrolled.hostToken, {
    ...hostBatch(NOW, 97, "success"),
    // B's probe is a check location: A's list of locations must not show it.
    facts: { hostname: "b-web-1", location: { name: "b-lab", kinds: ["http", "tcp"] } },
    customMetrics: [{ ts: NOW, name: "queue_depth", labels: { job: "app" }, value: 3, kind: "gauge" }],
    backupChecks: [
      {
        name: "b-nas",
        tool: "restic",
        status: "ok",
        startedAt: NOW - 60_000,
        endedAt: NOW,
        repository: { location: "/srv/restic", id: "b0b0b0b0" },
        snapshotCount: 1,
        sources: [
          { hostname: "b-web-1", paths: ["/srv"], snapshots: 1, newestAt: NOW - hour, oldestAt: NOW - hour },
        ],
      },
    ],
  });
  if (batch.status !== 200) throw new Error(`batch answered ${batch.status}: ${await batch.text()}`);
  const { repositories } = await call<{ repositories: { id: number }[] }>("GET", "/backups/repositories");
  const check = await call<{ id: string; pingUrl: string }>("POST", "/checks", {
    kind: "heartbeat",
    name: "b-nightly",
    period: 3600,
    public: true,
  });
  await env.app.request(check.pingUrl.replace(/^https?:\/\/[^/]+/, ORIGIN), { method: "POST", body: "ok" });
  const channel = await call<{ id: string }>("POST", "/channels", {
    kind: "email",
    name: "b-mail",
    to: ["b@example.com"],
  });
  const rule = await call<{ id: string }>("POST", "/rules", { name: "b-reboot", kind: "reboot_required" });
  const { alerts } = await call<{ alerts: { id: string }[] }>("GET", "/alerts?state=all");
  const silence = await call<{ id: string }>("POST", "/silences", {
    hostId: enrolled.hostId,
    durationMinutes: 60,
  });
  const window = await call<{ id: string }>("POST", "/maintenance-windows", {
    name: "b-window",
    hostId: enrolled.hostId,
    days: [0],
    start: "03:00",
    durationMinutes: 30,
  });
  const page = await call<{ id: string }>("POST", "/status-pages", {
    slug: `b-${crypto.randomUUID().slice(0, 8)}`,
    title: "B",
    components: [{ type: "check", id: check.id, name: "nightly" }],
  });
  const incident = await call<{ id: string }>("POST", "/status-incidents", { title: "b", message: "b" });
  const maintenance = await call<{ id: string }>("POST", "/status-maintenance", {
    title: "b",
    startsAt: NOW + hour,
    endsAt: NOW + 2 * hour,
  });
  // A visitor follows B's page (no session, no key: the public route).
  const slug = (await call<{ slug: string }>("GET", `/status-pages/${page.id}`)).slug;
  const subscribed = await env.app.request(`${ORIGIN}/api/v1/status/${slug}/subscribers`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ webhook: "https://hooks.example.org/b" }),
  });
  expect(subscribed.status).toBe(202);
  const { subscribers } = await call<{ subscribers: { id: string }[] }>(
    "GET",
    `/status-pages/${page.id}/subscribers`,
  );
  const secretName = "B_ONLY_SECRET";
  const sealed = await env.app.request(`${ORIGIN}/api/v1/secrets/${secretName}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${created.key}`, "content-type": "application/json" },
    body: JSON.stringify({ value: "b-secret-value" }),
  });
  expect(sealed.status).toBe(204);
  const runbook = await call<{ id: string }>("POST", "/runbooks", {
    name: "b-upgrades",
    hosts: { hostIds: [enrolled.hostId] },
    steps: [{ kind: "manual", title: "b's step" }],
  });
  const run = await call<{ id: string }>("POST", `/runbooks/${runbook.id}/runs`, {});
  return {
    orgId,
    projectId,
    key: created.key,
    keyId: created.id,
    hostId: enrolled.hostId,
    checkId: check.id,
    checkPingUrl: check.pingUrl,
    channelId: channel.id,
    ruleId: rule.id,
    alertId: alerts[0]?.id ?? "",
    silenceId: silence.id,
    windowId: window.id,
    pageId: page.id,
    incidentId: incident.id,
    maintenanceId: maintenance.id,
    tokenId: token.id,
    repositoryId: String(repositories[0]?.id ?? ""),
    subscriberId: subscribers[0]?.id ?? "",
    runbookId: runbook.id,
    runId: run.id,
    secretName,
  };
}

/** A route's path naming B's rows: `:id` (or `:name`) by the row's rule, a nested `:subscriberId` by B's subscriber. */
function fill(pattern: string, row: Row | undefined, v: Victim): string {
  const named = row?.id ? pattern.replace(/:id\b|:name\b/, row.id(v)) : pattern;
  return named.replace(":subscriberId", v.subscriberId).replace(":index", "0") + (row?.query ?? "");
}

/** What B can see of its own project: every list and every row, to compare before and after the attack. */
async function snapshot(env: AccountsApp, v: Victim): Promise<string> {
  const paths = Object.keys(MATRIX)
    .filter((k) => k.startsWith("GET ") && !MATRIX[k]?.stream && !k.includes("tail"))
    .map((k) => {
      const path = k.slice(4);
      const row = MATRIX[k];
      return fill(path, row, v);
    });
  const parts: string[] = [];
  for (const path of [...paths, `/projects/current`, `/projects/current/settings`]) {
    const res = await env.app.request(`${ORIGIN}/api/v1${path}`, {
      headers: { authorization: `Bearer ${v.key}` },
    });
    // lastUsedAt of B's own key moves as this very snapshot reads; it is not B's data changing.
    parts.push(`${path} ${res.status} ${(await res.text()).replace(/"lastUsedAt":\d+/g, "")}`);
  }
  return parts.join("\n");
}

describe("tenant isolation", () => {
  it("lists every route of the API either in the matrix or as excluded with a reason", async () => {
    const env = await accountsApp({ mail: false });
    const routes = new Set(
      env.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`),
    );
    const covered = new Set<string>([
      ...Object.keys(EXCLUDED),
      ...Object.keys(PROJECT_ROUTES),
      ...ORG_ROUTES,
      ...KEY_ONLY,
    ]);
    for (const key of Object.keys(MATRIX)) {
      const [method, path] = key.split(" ");
      covered.add(`${method} /api/v1${path}`);
      covered.add(`${method} /api/v1/projects/:projectId${path}`);
    }
    expect([...routes].filter((r) => !covered.has(r))).toEqual([]);
    expect([...covered].filter((r) => !routes.has(r))).toEqual([]);
  });

  it("answers 404 to every read, change and delete of another organisation's things, by session and by key", {
    timeout: 120_000,
  }, async () => {
    const env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    const { person: bob } = await signUpAndIn(env, "bob@b.example");
    const v = await victim(env, bob);
    expect(v.alertId).not.toBe("");
    const before = await snapshot(env, v);

    const { person: alice } = await signUpAndIn(env, "alice@a.example");
    const mine = await json<{ organizations: { id: string; projects: { id: string }[] }[] }>(
      await alice.request("/api/v1/me"),
    );
    const aliceProject = mine.organizations[0]?.projects[0]?.id ?? "";
    const aliceKey = (
      await json<{ key: string }>(
        await alice.request(`/api/v1/projects/${aliceProject}/api-keys`, {
          body: { name: "a", scopes: ["admin"] },
        }),
      )
    ).key;

    const failures: string[] = [];
    const expect404 = async (
      who: string,
      method: string,
      path: string,
      body: unknown,
      auth: "session" | "key",
    ) => {
      const init = {
        method,
        headers: {
          origin: ORIGIN,
          "content-type": "application/json",
          ...(auth === "key" ? { authorization: `Bearer ${aliceKey}` } : { cookie: alice.cookieHeader() }),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      };
      const res = await env.app.request(`${ORIGIN}${path}`, init);
      const text = await res.text();
      if (res.status !== 404) failures.push(`${who} ${method} ${path} → ${res.status} ${text.slice(0, 160)}`);
    };
    const mustNotShow = async (method: string, path: string, auth: "session" | "key") => {
      const res = await env.app.request(`${ORIGIN}${path}`, {
        headers: auth === "key" ? { authorization: `Bearer ${aliceKey}` } : { cookie: alice.cookieHeader() },
      });
      const text = await res.text();
      // A repository's id is a small integer, found in any answer; a leaked repository shows B's hostId.
      const leaked = Object.entries(v).filter(
        ([k, id]) => k !== "key" && k !== "repositoryId" && id && text.includes(id),
      );
      if (res.status !== 200 || leaked.length > 0) {
        failures.push(
          `${auth} ${method} ${path} → ${res.status}, shows ${leaked.map(([k]) => k).join(", ")}`,
        );
      }
    };

    for (const [key, row] of Object.entries(MATRIX)) {
      const [method = "GET", pattern = ""] = key.split(" ");
      const path = fill(pattern, row, v);
      const body = row.body?.(v);
      // 1. Naming B's project: by session and by A's key, always 404.
      await expect404("session→B", method, `/api/v1/projects/${v.projectId}${path}`, body, "session");
      await expect404("key→B", method, `/api/v1/projects/${v.projectId}${path}`, body, "key");
      if (row.stream) continue;
      if (row.id) {
        // 2. B's row through A's own project: not found there.
        await expect404("session→A", method, `/api/v1/projects/${aliceProject}${path}`, body, "session");
        await expect404("key", method, `/api/v1${path}`, body, "key");
      } else if (method === "GET") {
        // 3. A's own lists show nothing of B.
        await mustNotShow(method, `/api/v1/projects/${aliceProject}${path}`, "session");
        await mustNotShow(method, `/api/v1${path}`, "key");
      } else if (body !== undefined) {
        // 4. Creating in A's project while naming B's rows (a host to silence, a check on a page): refused.
        const refs = JSON.stringify(body);
        if (refs.includes(v.hostId) || refs.includes(v.checkId)) {
          const res = await env.app.request(`${ORIGIN}/api/v1${path}`, {
            method,
            headers: { authorization: `Bearer ${aliceKey}`, "content-type": "application/json" },
            body: refs,
          });
          if (res.status < 400 || res.status >= 500)
            failures.push(`key ${method} ${path} naming B's rows → ${res.status}`);
        }
      }
    }
    for (const [key, row] of Object.entries(PROJECT_ROUTES)) {
      const [method = "GET", pattern = ""] = key.split(" ");
      const path = pattern.replace(":projectId", v.projectId);
      await expect404("session", method, path, row.body?.(v), "session");
      await expect404("key", method, path, row.body?.(v), "key");
    }
    for (const key of ORG_ROUTES) {
      const [method = "GET", pattern = ""] = key.split(" ");
      const body = key.includes("invitations")
        ? { email: "x@example.com", role: "viewer" }
        : { memberId: "x" };
      await expect404(
        "session",
        method,
        pattern.replace(":orgId", v.orgId),
        method === "POST" ? body : undefined,
        "session",
      );
    }
    await mustNotShow("GET", "/metrics", "key");
    await mustNotShow("GET", "/api/v1/projects", "session");
    await mustNotShow("GET", "/api/v1/me", "session");
    await mustNotShow("GET", "/api/v1/me/invitations", "session");
    const intoB = await alice.request("/api/v1/projects", {
      body: { organizationId: v.orgId, name: "mine now" },
    });
    if (intoB.status !== 404) failures.push(`POST /api/v1/projects into B's organisation → ${intoB.status}`);

    expect(failures).toEqual([]);
    expect(await snapshot(env, v)).toBe(before);
  });
});
