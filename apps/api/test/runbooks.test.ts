// Runbooks through the API on Node: secrets, runbooks, and runs with manual, HTTP and command steps.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { nodeProbes } from "@vigil/engine/node";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/app.ts";
import { runScheduledJobs, scheduledJobs } from "../src/scheduler.ts";
import { accountsApp, setUpOwner } from "./accounts-helpers.ts";
import { batch, bearer, enrollHost, jsonRequest, sendBatch, testApp } from "./helpers.ts";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
});

/** A receiver on 127.0.0.1 that records requests and answers `status` with `body`. */
async function receiver(answer: { status: number; body?: (req: IncomingMessage, text: string) => string }) {
  const seen: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[] = [];
  const server = createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: text });
    res.statusCode = answer.status;
    res.end(answer.body ? answer.body(req, text) : "ok");
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

interface RunView {
  id: string;
  status: string;
  startedBy: string;
  currentStep: number;
  hosts: { id: string; name: string }[];
  steps: {
    status: string;
    doneBy: string | null;
    note: string | null;
    httpStatus: number | null;
    output: string | null;
    startedAt: number | null;
    endedAt: number | null;
    commands: { hostId: string; status: string; output: string }[];
    views: Record<string, Record<string, unknown>>;
  }[];
}

async function setup(options: { secretKey?: boolean; allowPrivateTargets?: boolean } = {}) {
  const allowPrivateTargets = options.allowPrivateTargets ?? true;
  const env = await testApp({
    probes: nodeProbes({ allowPrivate: allowPrivateTargets }),
    config: {
      ...defaultConfig,
      ...(options.secretKey === false ? {} : { secretKey: "test-secret-key-0123456789abcdef" }),
      allowPrivateTargets,
    },
  });
  const call = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => {
    const res = await env.app.request(
      `/api/v1${path}`,
      body === undefined && method === "GET"
        ? { headers: bearer(env.adminKey) }
        : jsonRequest(method, body ?? {}, env.adminKey),
    );
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  const ok = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => {
    const res = await call<T>(method, path, body);
    if (res.status >= 300)
      throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return { ...env, call, ok };
}

describe("secrets", () => {
  it("are kept sealed: listed by name with the runbooks that use them, never shown, replaced and deleted", async () => {
    const t = await setup();
    expect((await t.call("PUT", "/secrets/DEPLOY_TOKEN", { value: "s3cret-value" })).status).toBe(204);
    await t.ok("POST", "/runbooks", {
      name: "deploy hook",
      steps: [
        {
          kind: "http",
          title: "call",
          url: "https://example.com/hook",
          headers: { authorization: "Bearer {{secret.DEPLOY_TOKEN}}" },
        },
      ],
    });
    const listed = await t.ok<{ secrets: { name: string; usedBy: { name: string }[] }[] }>("GET", "/secrets");
    expect(listed.secrets).toEqual([
      expect.objectContaining({
        name: "DEPLOY_TOKEN",
        usedBy: [expect.objectContaining({ name: "deploy hook" })],
      }),
    ]);
    expect(JSON.stringify(listed)).not.toContain("s3cret-value");
    expect((await t.call("PUT", "/secrets/DEPLOY_TOKEN", { value: "rotated" })).status).toBe(204);
    expect((await t.call("PUT", "/secrets/lower_case", { value: "x" })).status).toBe(400);
    expect((await t.call("DELETE", "/secrets/DEPLOY_TOKEN")).status).toBe(204);
    expect((await t.call("DELETE", "/secrets/DEPLOY_TOKEN")).status).toBe(404);
  });

  it("cannot be kept on a server without VIGIL_SECRET_KEY, and say so", async () => {
    const t = await setup({ secretKey: false });
    const res = await t.call<{ error: { message: string } }>("PUT", "/secrets/TOKEN", { value: "x" });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain("VIGIL_SECRET_KEY");
  });
});

describe("a run of a runbook", () => {
  it("pauses at each manual step until someone marks it done, recording who, when and their note", async () => {
    const t = await setup();
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "monthly upgrades",
      steps: [
        { kind: "manual", title: "Read the release notes", text: "Check **breaking** changes." },
        { kind: "manual", title: "Tell the team" },
      ],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, { note: "December" });
    expect(run.status).toBe("waiting");
    expect(run.startedBy).toMatch(/^API key /);
    expect(run.steps.map((s) => s.status)).toEqual(["waiting", "pending"]);

    t.clock.advance(3_600_000);
    const second = await t.ok<RunView>("POST", `/runbook-runs/${run.id}/steps/0/complete`, {
      note: "nothing breaking",
    });
    expect(second.status).toBe("waiting");
    expect(second.currentStep).toBe(1);
    expect(second.steps[0]).toMatchObject({
      status: "done",
      note: "nothing breaking",
      endedAt: t.clock.now(),
    });
    expect(second.steps[0]?.doneBy).toMatch(/^API key /);

    // Completing a step that is not the current one is refused, and changes nothing.
    expect((await t.call("POST", `/runbook-runs/${run.id}/steps/0/complete`, {})).status).toBe(409);
    const done = await t.ok<RunView>("POST", `/runbook-runs/${run.id}/steps/1/complete`, {});
    expect(done.status).toBe("succeeded");
    const listed = await t.ok<{ runs: RunView[] }>("GET", `/runbooks/${book.id}/runs`);
    expect(listed.runs.map((r) => r.status)).toEqual(["succeeded"]);
  });

  it("records one completion when two people complete the same step at once", async () => {
    const t = await setup();
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "check",
      steps: [
        { kind: "manual", title: "one" },
        { kind: "manual", title: "two" },
      ],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {});
    const answers = await Promise.all(
      [1, 2, 3].map((n) =>
        t.call("POST", `/runbook-runs/${run.id}/steps/0/complete`, { note: `person ${n}` }),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(2);
    const after = await t.ok<RunView>("GET", `/runbook-runs/${run.id}`);
    expect(after.currentStep).toBe(1);
  });

  it("sends an HTTP step with a sealed secret, records status and answer, and never the secret", async () => {
    const t = await setup();
    const hook = await receiver({ status: 202, body: (req) => `accepted with ${req.headers.authorization}` });
    await t.ok("PUT", "/secrets/HOOK_TOKEN", { value: "tok-123456" });
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "deploy",
      steps: [
        {
          kind: "http",
          title: "Trigger the deploy",
          url: `${hook.url}/deploy?token={{secret.HOOK_TOKEN}}`,
          headers: { authorization: "Bearer {{secret.HOOK_TOKEN}}" },
          body: '{"ref":"main"}',
        },
        { kind: "manual", title: "Watch it roll out" },
      ],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {});
    expect(hook.seen).toEqual([
      expect.objectContaining({
        method: "POST",
        url: "/deploy?token=tok-123456",
        body: '{"ref":"main"}',
        headers: expect.objectContaining({ authorization: "Bearer tok-123456" }),
      }),
    ]);
    expect(run.status).toBe("waiting");
    expect(run.steps[0]).toMatchObject({
      status: "done",
      httpStatus: 202,
      output: "accepted with Bearer ********",
    });
    expect(JSON.stringify(run)).not.toContain("tok-123456");
  });

  it("fails at an HTTP step that answers an unexpected status, or names a secret that does not exist", async () => {
    const t = await setup();
    const hook = await receiver({ status: 500, body: () => "boom" });
    const failing = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "x",
      steps: [
        { kind: "http", title: "call", url: hook.url },
        { kind: "manual", title: "never reached" },
      ],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${failing.id}/runs`, {});
    expect(run.status).toBe("failed");
    expect(run.steps[0]).toMatchObject({
      status: "failed",
      httpStatus: 500,
      output: "HTTP 500, expected 200-299\nboom",
    });
    expect(run.steps[1]?.status).toBe("pending");

    const missing = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "y",
      steps: [{ kind: "http", title: "call", url: `${hook.url}/?t={{secret.NOPE}}` }],
    });
    const second = await t.ok<RunView>("POST", `/runbooks/${missing.id}/runs`, {});
    expect(second.steps[0]?.output).toContain("no secret named NOPE");
    expect(hook.seen).toHaveLength(1);
  });

  it("refuses an HTTP step to a private address unless the operator allows private targets", async () => {
    const t = await setup({ allowPrivateTargets: false });
    const hook = await receiver({ status: 200 });
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "x",
      steps: [{ kind: "http", title: "call", url: hook.url }],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {});
    expect(run.status).toBe("failed");
    expect(run.steps[0]?.output).toMatch(/refused/);
    expect(hook.seen).toHaveLength(0);
  });

  it("hands a command step to each chosen host and shows what the probe saw of them as the step began", async () => {
    const t = await setup();
    const web1 = await enrollHost(t.app, t.adminKey, { hostname: "web-1" });
    const web2 = await enrollHost(t.app, t.adminKey, { hostname: "web-2" });
    await t.ok("PATCH", `/hosts/${web1.hostId}`, { tags: ["web"] });
    await t.ok("PATCH", `/hosts/${web2.hostId}`, { tags: ["web"] });
    const now = t.clock.now();
    const runbooksOn = (hostname: string) => ({ hostname, runbooks: { allow: [] } });
    await sendBatch(
      t.app,
      web1.hostToken,
      batch({
        facts: runbooksOn("web-1"),
        state: {
          collectedAt: now,
          updates: { manager: "apt", pending: 12, security: 3 },
          reboot: { required: false },
        },
      }),
    );
    await sendBatch(t.app, web2.hostToken, batch({ facts: runbooksOn("web-2") }));
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "upgrade",
      hosts: { tags: ["web"] },
      steps: [
        { kind: "command", title: "Upgrade", command: "apt-get -y upgrade", shows: ["updates", "reboot"] },
      ],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {});
    expect(run.status).toBe("running");
    expect(run.hosts.map((h) => h.name).sort()).toEqual(["web-1", "web-2"]);
    expect(run.steps[0]?.commands.map((c) => c.status)).toEqual(["pending", "pending"]);
    expect(run.steps[0]?.views[web1.hostId]).toEqual({
      updates: { manager: "apt", pending: 12, security: 3 },
      reboot: { required: false },
    });

    // Skipping withdraws the commands no probe picked up yet.
    const skipped = await t.ok<RunView>("POST", `/runbook-runs/${run.id}/steps/0/skip`, {
      note: "done by hand",
    });
    expect(skipped.status).toBe("succeeded");
    expect(skipped.steps[0]?.commands.map((c) => c.status)).toEqual(["refused", "refused"]);
  });

  it("refuses to start a runbook with command steps on no host, and hosts of another project", async () => {
    const t = await setup();
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "x",
      steps: [{ kind: "command", title: "df", command: "df -h" }],
    });
    const none = await t.call<{ error: { message: string } }>("POST", `/runbooks/${book.id}/runs`, {});
    expect(none.status).toBe(400);
    expect(none.body.error.message).toContain("body.hostIds");
    const stranger = await t.call("POST", `/runbooks/${book.id}/runs`, { hostIds: ["not-a-host-of-mine"] });
    expect(stranger.status).toBe(400);
  });

  it("can be cancelled, and then moves no more", async () => {
    const t = await setup();
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "x",
      steps: [{ kind: "manual", title: "a" }],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {});
    const cancelled = await t.ok<RunView>("POST", `/runbook-runs/${run.id}/cancel`);
    expect(cancelled.status).toBe("cancelled");
    expect((await t.call("POST", `/runbook-runs/${run.id}/steps/0/complete`, {})).status).toBe(409);
  });
});

describe("command steps and the probes that run them", () => {
  /** A host whose probe has runbooks on (with this allow-list), or off. */
  async function host(t: Awaited<ReturnType<typeof setup>>, name: string, runbooks?: { allow: string[] }) {
    const enrolled = await enrollHost(t.app, t.adminKey, { hostname: name });
    const facts = { hostname: name, ...(runbooks ? { runbooks } : {}) };
    const send = async (fields: Record<string, unknown> = {}) => {
      const res = await sendBatch(t.app, enrolled.hostToken, batch({ facts, ...fields }));
      expect(res.status).toBe(200);
      return (
        (await res.json()) as { config: { commands?: { id: string; command: string; timeoutSec: number }[] } }
      ).config.commands;
    };
    await send();
    return { ...enrolled, send };
  }

  it("hands each enabled host its command with the batch answer until it reports, then moves the run on", async () => {
    const t = await setup();
    const web1 = await host(t, "web-1", { allow: [] });
    const web2 = await host(t, "web-2", { allow: ["apt-get"] });
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "upgrade",
      steps: [
        { kind: "command", title: "Upgrade", command: "apt-get -y upgrade", timeoutSec: 600 },
        { kind: "manual", title: "Look at the services" },
      ],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {
      hostIds: [web1.hostId, web2.hostId],
    });
    expect(run.status).toBe("running");
    const handed = await web1.send();
    expect(handed).toEqual([{ id: expect.any(String), command: "apt-get -y upgrade", timeoutSec: 600 }]);
    // The answer was lost: the same command comes again (the probe runs an id at most once).
    expect(await web1.send()).toEqual(handed);
    const id1 = handed?.[0]?.id ?? "";
    const id2 = (await web2.send())?.[0]?.id ?? "";
    // A host cannot report another host's command.
    await web2.send({
      commandResults: [{ id: id1, status: "failed", exitCode: 1, output: "forged", endedAt: t.clock.now() }],
    });
    await web1.send({
      commandResults: [
        {
          id: id1,
          status: "done",
          exitCode: 0,
          output: "0 upgraded",
          startedAt: t.clock.now(),
          endedAt: t.clock.now(),
        },
      ],
    });
    expect(await web1.send()).toEqual([]);
    const half = await t.ok<RunView>("GET", `/runbook-runs/${run.id}`);
    expect(half.status).toBe("running");
    expect(half.steps[0]?.commands.map((c) => [c.hostId, c.status])).toEqual(
      expect.arrayContaining([
        [web1.hostId, "done"],
        [web2.hostId, "running"],
      ]),
    );
    await web2.send({
      commandResults: [
        { id: id2, status: "done", exitCode: 0, output: "3 upgraded", endedAt: t.clock.now() },
      ],
    });
    const after = await t.ok<RunView>("GET", `/runbook-runs/${run.id}`);
    expect(after.status).toBe("waiting");
    expect(after.steps[0]?.status).toBe("done");
    expect(after.currentStep).toBe(1);
  });

  it("refuses at once on a host without runbooks or outside its allow-list, and fails the step saying why", async () => {
    const t = await setup();
    const off = await host(t, "db-1");
    const strict = await host(t, "web-1", { allow: ["docker system prune"] });
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "upgrade",
      steps: [{ kind: "command", title: "Upgrade", command: "apt-get -y upgrade" }],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {
      hostIds: [off.hostId, strict.hostId],
    });
    expect(run.status).toBe("failed");
    const outputs = Object.fromEntries(run.steps[0]?.commands.map((c) => [c.hostId, c.output]) ?? []);
    expect(outputs[off.hostId]).toBe("runbooks are not enabled on this host (vigil-probe --enable-runbooks)");
    expect(outputs[strict.hostId]).toBe("the command is outside this host's runbooks.allow list");
    expect(await off.send()).toBeUndefined();
    expect(await strict.send()).toEqual([]);
  });

  it("refuses a command that carries shell syntax past an allowed prefix, as the probe would", async () => {
    const t = await setup();
    const web1 = await host(t, "web-1", { allow: ["apt-get"] });
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "sneaky",
      steps: [{ kind: "command", title: "Upgrade", command: "apt-get -y upgrade; rm -rf /srv" }],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, { hostIds: [web1.hostId] });
    expect(run.status).toBe("failed");
    expect(run.steps[0]?.commands[0]?.output).toBe("the command is outside this host's runbooks.allow list");
    expect(await web1.send()).toEqual([]);
  });

  it("gives up on a command whose probe stays silent past its timeout", async () => {
    const t = await setup();
    const web1 = await host(t, "web-1", { allow: [] });
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "x",
      steps: [{ kind: "command", title: "df", command: "df -h", timeoutSec: 60 }],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, { hostIds: [web1.hostId] });
    expect(await web1.send()).toHaveLength(1);
    t.clock.advance(60_000 + 10 * 60_000 + 1);
    expect(await web1.send()).toEqual([]);
    const after = await t.ok<RunView>("GET", `/runbook-runs/${run.id}`);
    expect(after.status).toBe("failed");
    expect(after.steps[0]?.commands[0]).toMatchObject({
      status: "timed-out",
      output: "the probe did not report this command within its timeout and 10 minutes",
    });
  });

  it("gives up on a command whose host went silent for good, without waiting for a batch from it", async () => {
    const t = await setup();
    const web1 = await host(t, "web-1", { allow: [] });
    const web2 = await host(t, "web-2", { allow: [] });
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "x",
      steps: [
        { kind: "command", title: "df", command: "df -h", timeoutSec: 60 },
        { kind: "manual", title: "Look" },
      ],
    });
    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {
      hostIds: [web1.hostId, web2.hostId],
    });
    expect(await web1.send()).toHaveLength(1);
    const id2 = (await web2.send())?.[0]?.id ?? "";
    await web2.send({
      commandResults: [{ id: id2, status: "done", exitCode: 0, output: "ok", endedAt: t.clock.now() }],
    });
    const sweep = scheduledJobs.filter((job) => job.name === "runbook-commands");
    expect(sweep).toHaveLength(1);
    // Within its timeout and the grace, web-1 may still report: nothing changes.
    t.clock.advance(60_000 + 10 * 60_000);
    expect(await runScheduledJobs(t.deps, sweep)).toEqual([]);
    expect((await t.ok<RunView>("GET", `/runbook-runs/${run.id}`)).steps[0]?.commands).toEqual(
      expect.arrayContaining([expect.objectContaining({ hostId: web1.hostId, status: "running" })]),
    );
    t.clock.advance(60_001);
    expect(await runScheduledJobs(t.deps, sweep)).toEqual([]);
    const after = await t.ok<RunView>("GET", `/runbook-runs/${run.id}`);
    expect(after.status).toBe("failed");
    expect(after.steps[0]?.commands).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hostId: web1.hostId, status: "timed-out" }),
        expect.objectContaining({ hostId: web2.hostId, status: "done" }),
      ]),
    );
  });
});

describe("templates", () => {
  it("lists the built-in runbooks and refuses an unknown one naming the field", async () => {
    const t = await setup();
    const { templates } = await t.ok<{ templates: { id: string; schedule: { cron: string } }[] }>(
      "GET",
      "/runbook-templates",
    );
    expect(templates.map((x) => x.id)).toEqual([
      "os-upgrade",
      "docker-cleanup",
      "ssh-key-review",
      "backup-preparation",
    ]);
    const res = await t.call<{ error: { message: string } }>("POST", "/runbooks/from-template", {
      template: "nope",
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("body.template");
  });

  it("OS upgrade shows pending updates before and reboot-required after, read from the probe's own reports", async () => {
    const t = await setup();
    const web1 = await enrollHost(t.app, t.adminKey, { hostname: "web-1" });
    await t.ok("PATCH", `/hosts/${web1.hostId}`, { tags: ["web"] });
    const facts = { hostname: "web-1", runbooks: { allow: ["apt-get"] } };
    const report = async (state: Record<string, unknown>, fields: Record<string, unknown> = {}) => {
      const res = await sendBatch(
        t.app,
        web1.hostToken,
        batch({ facts, state: { collectedAt: t.clock.now(), ...state }, ...fields }),
      );
      return (
        ((await res.json()) as { config: { commands?: { id: string; command: string }[] } }).config
          .commands ?? []
      );
    };
    await report({ updates: { manager: "apt", pending: 12, security: 3 }, reboot: { required: false } });
    const book = await t.ok<{
      id: string;
      steps: { kind: string }[];
      schedule: { cron: string };
      taskCheckId: string;
    }>("POST", "/runbooks/from-template", {
      template: "os-upgrade",
      name: "Monthly upgrades",
      hosts: { tags: ["web"] },
    });
    expect(book.steps.map((x) => x.kind)).toEqual(["manual", "command", "command", "manual"]);
    expect(book.schedule.cron).toBe("0 9 1 * *");
    expect(book.taskCheckId).toEqual(expect.any(String));

    const run = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {});
    expect(run.steps[0]?.views[web1.hostId]).toMatchObject({ updates: { pending: 12, security: 3 } });
    t.clock.advance(60_000);
    await t.ok("POST", `/runbook-runs/${run.id}/steps/0/complete`, { note: "read the changelogs" });
    const before = { updates: { manager: "apt", pending: 12, security: 3 }, reboot: { required: false } };
    const [refresh] = await report(before);
    expect(refresh?.command).toBe("apt-get update -q");
    const [command] = await report(before, {
      commandResults: [{ id: refresh?.id, status: "done", exitCode: 0, output: "", endedAt: t.clock.now() }],
    });
    expect(command?.command).toBe("apt-get -y -q upgrade");
    // The upgrade ran; the probe's next state says a reboot is needed.
    t.clock.advance(300_000);
    await report(
      {
        updates: { manager: "apt", pending: 0, security: 0 },
        reboot: { required: true, packages: ["linux-image-amd64"] },
      },
      {
        commandResults: [
          { id: command?.id, status: "done", exitCode: 0, output: "12 upgraded", endedAt: t.clock.now() },
        ],
      },
    );
    const waiting = await t.ok<RunView>("GET", `/runbook-runs/${run.id}`);
    expect(waiting.currentStep).toBe(3);
    expect(waiting.steps[3]?.views[web1.hostId]).toMatchObject({
      reboot: { required: true },
      updates: { pending: 0 },
    });
    const done = await t.ok<RunView & { steps: { viewsAtEnd: Record<string, Record<string, unknown>> }[] }>(
      "POST",
      `/runbook-runs/${run.id}/steps/3/complete`,
      { note: "rebooted" },
    );
    expect(done.status).toBe("succeeded");
    expect(done.steps[3]?.viewsAtEnd[web1.hostId]).toMatchObject({ reboot: { required: true } });
    const task = await t.ok<{ status: string; lastPingAt: number }>("GET", `/checks/${book.taskCheckId}`);
    expect(task).toMatchObject({ status: "up", lastPingAt: t.clock.now() });
  });

  it("SSH key review shows the keys added and removed since the last review, and records each key confirmed", async () => {
    const t = await setup();
    const web1 = await enrollHost(t.app, t.adminKey, { hostname: "web-1" });
    const keys = (fingerprints: string[]) =>
      sendBatch(
        t.app,
        web1.hostToken,
        batch({ state: { collectedAt: t.clock.now(), sshKeys: [{ user: "root", fingerprints }] } }),
      );
    await keys(["SHA256:alice", "SHA256:bob"]);
    const book = await t.ok<{ id: string }>("POST", "/runbooks/from-template", {
      template: "ssh-key-review",
      hosts: { hostIds: [web1.hostId] },
      schedule: null,
    });
    const first = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {});
    expect(first.steps[0]?.views[web1.hostId]).toMatchObject({ sinceLastReview: null });
    const reviewed = await t.ok<RunView & { steps: { confirmed: string[] }[] }>(
      "POST",
      `/runbook-runs/${first.id}/steps/0/complete`,
      { confirmed: ["root SHA256:alice", "root SHA256:bob"] },
    );
    expect(reviewed.steps[0]?.confirmed).toEqual(["root SHA256:alice", "root SHA256:bob"]);

    t.clock.advance(90 * 86_400_000);
    await keys(["SHA256:alice", "SHA256:mallory"]);
    const second = await t.ok<RunView>("POST", `/runbooks/${book.id}/runs`, {});
    expect(second.steps[0]?.views[web1.hostId]?.sinceLastReview).toEqual({
      added: ["root SHA256:mallory"],
      removed: ["root SHA256:bob"],
    });
  });
});

describe("the record of runs", () => {
  it("puts every run started and every step done, skipped or cancelled in the audit log, with who", async () => {
    const env = await accountsApp({ mail: false });
    const { owner, body } = await setUpOwner(env);
    const projectId = body.organizations[0]?.projects[0]?.id ?? "";
    const base = `/api/v1/projects/${projectId}`;
    const book = await owner.json<{ id: string }>(`${base}/runbooks`, {
      body: {
        name: "upgrades",
        steps: [
          { kind: "manual", title: "one" },
          { kind: "manual", title: "two" },
        ],
      },
    });
    const run = await owner.json<{ id: string; startedBy: string }>(`${base}/runbooks/${book.body.id}/runs`, {
      body: {},
    });
    expect(run.body.startedBy).toBe("owner@example.com");
    await owner.json(`${base}/runbook-runs/${run.body.id}/steps/0/complete`, { body: { note: "ok" } });
    await owner.json(`${base}/runbook-runs/${run.body.id}/steps/1/skip`, { body: {} });
    const log = await owner.json<{
      entries: { action: string; actor: { label: string }; target: { id: string } | null }[];
    }>(`${base}/audit-log`);
    // One clock moment for all four: compare as a set.
    expect(log.body.entries.map((e) => `${e.action} ${e.actor.label}`).sort()).toEqual([
      "runbook.create owner@example.com",
      "runbook.runs owner@example.com",
      "runbook_run.complete owner@example.com",
      "runbook_run.skip owner@example.com",
    ]);
    expect(log.body.entries.find((e) => e.action === "runbook_run.skip")?.target?.id).toBe(run.body.id);
  });
});

describe("runbooks", () => {
  it("refuse a step of an unknown kind and an empty list of steps with 400 naming the field", async () => {
    const t = await setup();
    const unknown = await t.call<{ error: { message: string } }>("POST", "/runbooks", {
      name: "x",
      steps: [{ kind: "ssh", title: "nope" }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain("steps");
    expect((await t.call("POST", "/runbooks", { name: "x", steps: [] })).status).toBe(400);
  });

  it("keep a past run's record as it was when the runbook is edited or deleted", async () => {
    const t = await setup();
    const book = await t.ok<{ id: string }>("POST", "/runbooks", {
      name: "v1",
      steps: [{ kind: "manual", title: "old step" }],
    });
    const run = await t.ok<RunView & { runbookName: string }>("POST", `/runbooks/${book.id}/runs`, {});
    await t.ok("PATCH", `/runbooks/${book.id}`, {
      name: "v2",
      steps: [{ kind: "manual", title: "new step" }],
    });
    expect((await t.call("DELETE", `/runbooks/${book.id}`)).status).toBe(204);
    const kept = await t.ok<{ runbookName: string; steps: { title: string }[] }>(
      "GET",
      `/runbook-runs/${run.id}`,
    );
    expect(kept.runbookName).toBe("v1");
    expect(kept.steps.map((s) => s.title)).toEqual(["old step"]);
  });
});
