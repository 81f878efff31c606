import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { errorBodySchema } from "@vigil/contract";
import { migrationsFolder } from "@vigil/db/migrate";
import type { Clock } from "@vigil/engine";
import { manualClock } from "@vigil/engine/testing";
import { startSmtpSink, startWebhookReceiver, verifyWebhookSignature } from "@vigil/notify/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningServer, StartupError, settingsFromEnv, startServer } from "../src/server.ts";

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const silent = () => {};
async function start(env: Record<string, string>, log: (line: string) => void = silent, clock?: Clock) {
  const server = await startServer(settingsFromEnv({ VIGIL_PORT: "0", ...env }), {
    migrationsFolder,
    log,
    ...(clock ? { clock } : {}),
  });
  running.push(server);
  return server;
}
const freshDir = () => mkdtempSync(join(tmpdir(), "vigil-server-"));

/** A fresh server with one heartbeat check, and a reader of that check's pings as the API lists them. */
async function heartbeatOnServer(env: Record<string, string>) {
  const server = await start({ VIGIL_DATA_DIR: freshDir(), ...env });
  const auth = { authorization: `Bearer ${server.adminKey}` };
  const created = await fetch(`${server.url}/api/v1/checks`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ kind: "heartbeat", name: "backup", period: 3600 }),
  });
  const { pingUrl, id } = (await created.json()) as { pingUrl: string; id: string };
  const pings = async () => {
    const res = await fetch(`${server.url}/api/v1/checks/${id}/pings`, { headers: auth });
    return ((await res.json()) as { pings: { method: string; remoteAddr: string; body: string }[] }).pings;
  };
  return { server, id, pingUrl, pings };
}

describe("the self-hosted server", () => {
  it("creates project default with its admin key saved 0600, and prints a setup link instead of the key", async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const server = await start({ VIGIL_DATA_DIR: dir }, (l) => lines.push(l));
    expect(server.adminKey).toMatch(/^vgl_key_/);
    expect(lines.join("\n")).not.toContain(server.adminKey);

    const file = join(dir, "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({
      adminKey: server.adminKey,
      project: "default",
    });

    const res = await fetch(`${server.url}/api/v1/projects/current`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    expect(await res.json()).toMatchObject({ slug: "default" });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("prints a setup link that opens a form, creates the owner of project default once and signs them in", async () => {
    const lines: string[] = [];
    const server = await start({ VIGIL_DATA_DIR: freshDir() }, (l) => lines.push(l));
    const link = lines.join("\n").match(/http:\/\/\S+\/setup\?token=(\S+)/);
    expect(link).not.toBeNull();
    const [url, token] = [link?.[0] ?? "", link?.[1] ?? ""];
    expect(url.startsWith(server.url)).toBe(true);

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Create the first account");

    const body = { token, name: "Olive", email: "olive@example.com", password: "correct horse battery" };
    const created = await fetch(`${server.url}/api/v1/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify(body),
    });
    expect(created.status).toBe(201);
    const cookie = created.headers.getSetCookie().find((c) => c.includes("session_token"));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const me = await fetch(`${server.url}/api/v1/me`, { headers: { cookie: cookie?.split(";")[0] ?? "" } });
    const { organizations } = (await me.json()) as { organizations: { projects: { slug: string }[] }[] };
    expect(organizations[0]?.projects.map((p) => p.slug)).toEqual(["default"]);

    expect((await fetch(url)).status).toBe(404);
    const again = await fetch(`${server.url}/api/v1/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...body, email: "mallory@example.com" }),
    });
    expect(again.status).toBe(409);
  });

  it("keeps its data across restarts and prints no new key", async () => {
    const dir = freshDir();
    const first = await start({ VIGIL_DATA_DIR: dir });
    await first.close();
    const lines: string[] = [];
    const second = await start({ VIGIL_DATA_DIR: dir }, (l) => lines.push(l));
    expect(second.adminKey).toBeUndefined();
    expect(lines.join("\n")).not.toContain("vgl_key_");
    const res = await fetch(`${second.url}/api/v1/projects/current`, {
      headers: { authorization: `Bearer ${first.adminKey}` },
    });
    expect(res.status).toBe(200);
  });

  it("uses a preset admin key for automation", async () => {
    const preset = `vgl_key_${"a1B2".repeat(11)}`;
    const server = await start({ VIGIL_DATA_DIR: freshDir(), VIGIL_ADMIN_KEY: preset });
    expect(server.adminKey).toBe(preset);
    const res = await fetch(`${server.url}/api/v1/api-keys`, {
      headers: { authorization: `Bearer ${preset}` },
    });
    expect(res.status).toBe(200);
  });

  it("keeps private check targets refused unless VIGIL_ALLOW_PRIVATE_TARGETS=1", () => {
    expect(settingsFromEnv({}).allowPrivateTargets).toBe(false);
    expect(settingsFromEnv({ VIGIL_ALLOW_PRIVATE_TARGETS: "1" }).allowPrivateTargets).toBe(true);
  });

  it("takes pings over real HTTP, HEAD included, and records the caller's address", async () => {
    const { server, id, pingUrl, pings: pingsOf } = await heartbeatOnServer({});
    expect(pingUrl).toBe(`${server.url}/ping/${id}`);
    const head = await fetch(pingUrl, { method: "HEAD" });
    expect(head.status).toBe(200);
    const post = await fetch(`${pingUrl}/0`, { method: "POST", body: "done in 3 s" });
    expect(await post.text()).toBe("OK");
    const pings = await pingsOf();
    expect(pings.map((p) => p.method)).toEqual(["POST", "HEAD"]);
    expect(pings[0]).toMatchObject({ remoteAddr: "127.0.0.1", body: "done in 3 s" });
  });

  it("emails and posts a signed webhook once when a heartbeat misses its grace, and once when it pings again", async () => {
    const clock = manualClock(Date.UTC(2026, 10, 27, 12));
    const sink = await startSmtpSink();
    const secret = "whsec-server-test-0123";
    const receiver = await startWebhookReceiver(async (req) =>
      (await verifyWebhookSignature(
        secret,
        new Headers(req.headers as Record<string, string>),
        req.body,
        clock.now(),
      ))
        ? 401
        : 200,
    );
    try {
      const server = await start(
        {
          VIGIL_DATA_DIR: freshDir(),
          VIGIL_SMTP_URL: sink.url,
          VIGIL_MAIL_FROM: "Vigil <vigil@test.example>",
          VIGIL_ALLOW_PRIVATE_TARGETS: "1",
          VIGIL_TICK_MS: "20",
          VIGIL_LOCAL_PROBE: "0",
        },
        silent,
        clock,
      );
      const call = (path: string, body: unknown) =>
        fetch(`${server.url}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${server.adminKey}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      await call("/api/v1/channels", {
        kind: "email",
        name: "ops",
        to: ["ops@test.example"],
        isDefault: true,
      });
      await call("/api/v1/channels", {
        kind: "webhook",
        name: "hook",
        url: `${receiver.url}/vigil`,
        secret,
        isDefault: true,
      });
      const check = (await (
        await call("/api/v1/checks", { kind: "heartbeat", name: "nightly-backup", period: 60, grace: 60 })
      ).json()) as { pingUrl: string };
      await fetch(check.pingUrl);

      clock.advance(121_000);
      const [down] = await sink.waitFor(1);
      await receiver.waitFor(1);
      expect(down?.subject).toBe("DOWN: nightly-backup");

      clock.advance(60_000);
      await fetch(check.pingUrl);
      const mails = await sink.waitFor(2);
      const hooks = await receiver.waitFor(2);
      expect(mails.map((m) => m.subject)).toEqual(["DOWN: nightly-backup", "UP: nightly-backup"]);
      expect(hooks.map((h) => JSON.parse(h.body).title)).toEqual([
        "DOWN: nightly-backup",
        "UP: nightly-backup",
      ]);
      expect(receiver.accepted).toHaveLength(2);
    } finally {
      await Promise.all(running.splice(0).map((s) => s.close()));
      await sink.close();
      await receiver.close();
    }
  });

  it("reads mail settings from the environment and refuses a malformed SMTP URL in one line", () => {
    expect(
      settingsFromEnv({ VIGIL_SMTP_URL: "smtp://u:p@mail.test:587", VIGIL_MAIL_FROM: "a@b.test" }).mail,
    ).toEqual({
      smtpUrl: "smtp://u:p@mail.test:587",
      from: "a@b.test",
    });
    expect(() => settingsFromEnv({ VIGIL_SMTP_URL: "mail.test:25" })).toThrow(
      /VIGIL_SMTP_URL: an SMTP URL starts with smtp:\/\//,
    );
    expect(() => settingsFromEnv({ VIGIL_EMAIL_API_URL: "https://mail.test/send" })).toThrow(
      /VIGIL_EMAIL_API_KEY/,
    );
  });

  it("refuses a preset admin key in the wrong format with a clear message", () => {
    expect(() => settingsFromEnv({ VIGIL_ADMIN_KEY: "hunter2" })).toThrow(/VIGIL_ADMIN_KEY must look like/);
  });

  it("says in one line that the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, "127.0.0.1", ok));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(start({ VIGIL_DATA_DIR: freshDir(), VIGIL_PORT: String(port) })).rejects.toThrow(
        new StartupError(`port ${port} on 127.0.0.1 is already in use; set VIGIL_PORT to a free port`),
      );
    } finally {
      blocker.close();
    }
  });

  it("says in one line that the data directory is not writable", async () => {
    const file = join(freshDir(), "a-file");
    writeFileSync(file, "");
    await expect(start({ VIGIL_DATA_DIR: join(file, "data") })).rejects.toThrow(
      /data directory .* is not writable/,
    );
  });

  // Starting tsx in a child takes seconds on a loaded machine: a generous budget, no timing assert.
  it("shuts down cleanly on SIGTERM", { timeout: 60_000 }, async () => {
    const entry = resolve(import.meta.dirname, "../src/node.ts");
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      env: { ...process.env, VIGIL_DATA_DIR: freshDir(), VIGIL_PORT: "0", VIGIL_LOCAL_PROBE: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    await new Promise<void>((ready, fail) => {
      child.stdout.on("data", (chunk) => {
        output += chunk;
        if (output.includes("listening on")) ready();
      });
      child.once("exit", (code) => fail(new Error(`exited early with ${code}: ${output}`)));
    });
    const exit = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(output).toContain("SIGTERM received");
  });
});

describe("starting and stopping the self-hosted server", () => {
  const entry = resolve(import.meta.dirname, "../src/node.ts");

  it("fails in one line with exit code 1 when the data directory cannot be made, even under /proc", {
    timeout: 60_000,
  }, async () => {
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      env: { ...process.env, VIGIL_DATA_DIR: "/proc/nope", VIGIL_PORT: "0", VIGIL_LOCAL_PROBE: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    try {
      const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
      expect(code).toBe(1);
      expect(stderr.trim().split("\n")).toEqual([
        expect.stringMatching(/^vigil: data directory \/proc\/nope is not writable \(ENOENT\)/),
      ]);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("keeps the admin key and the way in after a first start that failed after making the project", async () => {
    const dir = freshDir();
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, "127.0.0.1", ok));
    const port = String((blocker.address() as { port: number }).port);
    const failed: string[] = [];
    await expect(start({ VIGIL_DATA_DIR: dir, VIGIL_PORT: port }, (l) => failed.push(l))).rejects.toThrow(
      /already in use/,
    );
    await new Promise<void>((done) => blocker.close(() => done()));
    const saved = JSON.parse(readFileSync(join(dir, "credentials.json"), "utf8")) as { adminKey: string };
    expect(saved.adminKey).toMatch(/^vgl_key_/);
    expect(failed.join("\n")).not.toContain(saved.adminKey);

    const lines: string[] = [];
    const second = await start({ VIGIL_DATA_DIR: dir }, (l) => lines.push(l));
    expect(second.adminKey).toBe(saved.adminKey);
    expect(lines.join("\n")).toMatch(/\/setup\?token=vgl_set_/);
    const res = await fetch(`${second.url}/api/v1/projects/current`, {
      headers: { authorization: `Bearer ${saved.adminKey}` },
    });
    expect(res.status).toBe(200);
    await second.close();

    const third: string[] = [];
    expect((await start({ VIGIL_DATA_DIR: dir }, (l) => third.push(l))).adminKey).toBeUndefined();
    expect(third.join("\n")).not.toContain(saved.adminKey);
  });

  it("makes its data directory 0700 and the database file 0600, like the credentials", async () => {
    const dir = join(freshDir(), "nested", "data");
    await start({ VIGIL_DATA_DIR: dir });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "vigil.db")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "credentials.json")).mode & 0o777).toBe(0o600);
  });

  it("stops a local probe that ignores SIGTERM, and the commands it started, when the server closes", {
    timeout: 60_000,
  }, async () => {
    // A real child process in the probe's place: it ignores SIGTERM and runs a command of its own, like a
    // probe stuck in a long apt-get.
    const probeDir = freshDir();
    mkdirSync(join(probeDir, "dist"));
    writeFileSync(
      join(probeDir, "dist", "vigil-probe.mjs"),
      [
        'import { spawn } from "node:child_process";',
        'process.on("SIGTERM", () => console.log("ignoring SIGTERM"));',
        'const sleeper = spawn("sleep", ["600"], { stdio: "ignore" });',
        'console.log("stuck pid=" + process.pid + " command=" + sleeper.pid);',
        "setInterval(() => {}, 1000);",
      ].join("\n"),
    );
    let announced: (line: string) => void = () => {};
    const stuck = new Promise<string>((done) => {
      announced = done;
    });
    const server = await startServer(
      settingsFromEnv({ VIGIL_PORT: "0", VIGIL_DATA_DIR: freshDir(), VIGIL_LOCAL_PROBE: "1" }),
      {
        migrationsFolder,
        probeDir,
        stopGraceMs: 200,
        log: (line) => {
          if (line.includes("stuck pid=")) announced(line);
        },
      },
    );
    const [, probePid, commandPid] = (await stuck).match(/pid=(\d+) command=(\d+)/) ?? [];
    await server.close();
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(Number(probePid))).toBe(false);
    expect(alive(Number(commandPid))).toBe(false);
  });
});

/** A raw HTTP/1.1 connection: what a client library would hide (headers as sent, reuse, how it closes). */
async function rawConnection(serverUrl: string) {
  const { hostname, port } = new URL(serverUrl);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((ok) => socket.once("connect", ok));
  let received = "";
  const waiters: (() => void)[] = [];
  socket.on("data", (chunk) => {
    received += chunk.toString("latin1");
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ error: string | null }>((done) => {
    let error: string | null = null;
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.once("close", () => done({ error }));
  });
  return {
    socket,
    closed,
    received: () => received,
    /** resolves once `count` complete answers (headers and a JSON or text body) have arrived */
    async answers(count: number): Promise<string[]> {
      for (;;) {
        const parts = received.split(/(?=HTTP\/1\.1 \d{3})/).filter((p) => {
          const [head, body = ""] = p.split("\r\n\r\n");
          const length = Number(/content-length: (\d+)/i.exec(head ?? "")?.[1] ?? -1);
          return length >= 0 && Buffer.byteLength(body, "latin1") >= length;
        });
        if (parts.length >= count) return parts;
        await new Promise<void>((wake) => waiters.push(wake));
      }
    },
  };
}

/** A probe batch of `size` bytes with a token the server refuses, on a fresh server and a raw connection. */
async function batchWithBadToken(size: number) {
  const server = await start({ VIGIL_DATA_DIR: freshDir() });
  const raw = await rawConnection(server.url);
  raw.socket.write(
    `POST /api/v1/probe/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `Authorization: Bearer vgl_hst_nope\r\nContent-Length: ${size}\r\n\r\n`,
  );
  raw.socket.write(Buffer.alloc(size, 0x61));
  return raw;
}

const bodyOf = (answer: string) => JSON.parse(answer.split("\r\n\r\n")[1] ?? "null");

describe("the Node HTTP server", () => {
  it("answers a 60 kB request header with 431 in the error shape", async () => {
    const server = await start({ VIGIL_DATA_DIR: freshDir() });
    const raw = await rawConnection(server.url);
    raw.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(60_000)}\r\n\r\n`);
    const [answer = ""] = await raw.answers(1);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(errorBodySchema.parse(bodyOf(answer)).error.code).toBe("HEADERS_TOO_LARGE");
    expect((await raw.closed).error).toBeNull();
  });

  it("drains a body it refused before reading, so the same keep-alive connection answers the next request", async () => {
    const raw = await batchWithBadToken(500_000);
    const [refused = ""] = await raw.answers(1);
    expect(refused).toMatch(/^HTTP\/1\.1 401 /);
    expect(refused).toMatch(/connection: keep-alive/i);
    raw.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const [, health = ""] = await raw.answers(2);
    expect(health).toMatch(/^HTTP\/1\.1 200 /);
    raw.socket.destroy();
  });

  it("answers a body over the limit with 413 in the error shape and Connection: close, and closes without a reset", async () => {
    const raw = await batchWithBadToken(5_000_000);
    const [answer = ""] = await raw.answers(1);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/connection: close/i);
    expect(errorBodySchema.parse(bodyOf(answer)).error.code).toBe("PAYLOAD_TOO_LARGE");
    expect((await raw.closed).error).toBeNull();
  });

  it("records the socket's address with a ping, never a CF-Connecting-IP or X-Forwarded-For a client sent", async () => {
    const ping = async (env: Record<string, string>) => {
      const { pingUrl, pings } = await heartbeatOnServer(env);
      await fetch(pingUrl, {
        headers: { "cf-connecting-ip": "203.0.113.66", "x-forwarded-for": "203.0.113.77, 198.51.100.5" },
      });
      return (await pings())[0]?.remoteAddr;
    };
    expect(await ping({})).toBe("127.0.0.1");
    // Behind a proxy the operator trusts, the address that proxy added: the last entry.
    expect(await ping({ VIGIL_TRUST_PROXY: "1" })).toBe("198.51.100.5");
  });
});
