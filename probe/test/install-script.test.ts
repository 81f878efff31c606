import { execFile } from "node:child_process";
import { access, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defined, FIXTURES, temporaryDirectory } from "./helpers.ts";

const run = promisify(execFile);
const PROBE_DIR = join(FIXTURES, "..", "..");
const INSTALL_SH = join(PROBE_DIR, "install.sh");
const BUNDLE = join(PROBE_DIR, "dist", "vigil-probe.mjs");

/**
 * Account tools that would change this machine's users are replaced by recorders; everything else
 * (curl, node, the built bundle, enrollment over HTTP) is real. systemctl is absent from PATH.
 */
const FAKE_TOOLS: Record<string, string> = {
  useradd: `echo "useradd $*" >>"$FAKE/log"; echo "vigil:x:999:999:Vigil probe:/var/lib/vigil-probe:/usr/sbin/nologin" >>"$FAKE/passwd"`,
  usermod: `echo "usermod $*" >>"$FAKE/log"`,
  userdel: `echo "userdel $*" >>"$FAKE/log"; : >"$FAKE/passwd"`,
  chown: `echo "chown $*" >>"$FAKE/log"`,
  getent: `grep "^$2:" "$FAKE/$1"`,
};

async function fakeToolsDir(): Promise<string> {
  const dir = await temporaryDirectory("vigil-fake-bin-");
  for (const [name, body] of Object.entries(FAKE_TOOLS)) {
    await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  await writeFile(join(dir, "passwd"), "root:x:0:0:root:/root:/bin/bash\n");
  await writeFile(join(dir, "group"), "adm:x:4:\ndocker:x:998:\n");
  await writeFile(join(dir, "log"), "");
  return dir;
}

let server: Server;
let serverUrl = "";
const enrollRequests: unknown[] = [];

beforeAll(async () => {
  await run(process.execPath, [join(PROBE_DIR, "scripts", "build.mjs")]);
  const bundle = await readFile(BUNDLE);
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url === "/probe/vigil-probe.mjs") return void res.end(bundle);
    if (req.url === "/api/v1/probe/enroll" && req.method === "POST") {
      enrollRequests.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(201, { "Content-Type": "application/json" });
      const config = { intervalSec: 30, journal: { minPriority: 4, units: [] } };
      return void res.end(JSON.stringify({ hostId: "host_42", hostToken: "vht_abc", config }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 30_000);

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function install(root: string, fake: string, args: string[]) {
  // A PATH with the recorders first and without any systemctl.
  const path = [
    fake,
    dirname(process.execPath),
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
  ].join(":");
  return run("sh", [INSTALL_SH, ...args], { env: { PATH: path, FAKE: fake, VIGIL_INSTALL_ROOT: root } });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe("install.sh", () => {
  it("is clean under shellcheck as POSIX sh", async () => {
    await expect(run("shellcheck", ["-s", "sh", INSTALL_SH])).resolves.toBeTruthy();
  });

  it("installs, enrolls and writes a hardened unit into a throwaway root without systemd", async () => {
    const root = await temporaryDirectory("vigil-root-");
    const fake = await fakeToolsDir();
    const before = enrollRequests.length;
    const { stdout } = await install(root, fake, ["--token", "enroll_tok_1", "--server", serverUrl]);

    expect(stdout).toMatch(/systemd is not running here/);
    const config = JSON.parse(await readFile(join(root, "etc/vigil/probe.json"), "utf8"));
    expect(config).toEqual({ server: serverUrl, token: "enroll_tok_1", stateDir: "/var/lib/vigil-probe" });
    expect((await stat(join(root, "etc/vigil/probe.json"))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(root, "var/lib/vigil-probe/identity.json"), "utf8"))).toMatchObject(
      {
        hostId: "host_42",
        hostToken: "vht_abc",
      },
    );
    expect(enrollRequests.length).toBe(before + 1);
    expect(defined(enrollRequests.at(-1) as { token?: string }).token).toBe("enroll_tok_1");

    const unit = await readFile(join(root, "etc/systemd/system/vigil-probe.service"), "utf8");
    expect(unit).toContain(
      `ExecStart=${process.execPath} /usr/local/lib/vigil-probe/vigil-probe.mjs run --config /etc/vigil/probe.json`,
    );
    for (const line of [
      "User=vigil",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/vigil-probe",
      "MemoryMax=128M",
    ]) {
      expect(unit).toContain(line);
    }
    // The command wrapper points at the final location, not at the throwaway root.
    expect(await readFile(join(root, "usr/local/bin/vigil-probe"), "utf8")).toContain(
      "/usr/local/lib/vigil-probe/vigil-probe.mjs",
    );

    const log = await readFile(join(fake, "log"), "utf8");
    expect(log).toMatch(/^useradd --system .*--comment Vigil probe --user-group vigil$/m);
    expect(log).toContain("usermod -a -G adm vigil");
    expect(log).toContain("usermod -a -G docker vigil");
    expect(log).not.toContain("systemd-journal");
    expect(log).toMatch(/chown -R vigil:vigil .*var\/lib\/vigil-probe/);
  }, 30_000);

  it("can run again without creating the user or enrolling a second time", async () => {
    const root = await temporaryDirectory("vigil-root-");
    const fake = await fakeToolsDir();
    await install(root, fake, ["--token", "enroll_tok_1", "--server", serverUrl]);
    const before = enrollRequests.length;
    const { stdout } = await install(root, fake, ["--server", serverUrl]);
    expect(stdout).toMatch(/keeping \/etc\/vigil\/probe.json/);
    expect(enrollRequests.length).toBe(before);
    const log = await readFile(join(fake, "log"), "utf8");
    expect(log.match(/^useradd/gm)).toHaveLength(1);
  }, 30_000);

  it("removes everything it made with --uninstall", async () => {
    const root = await temporaryDirectory("vigil-root-");
    const fake = await fakeToolsDir();
    await install(root, fake, ["--token", "enroll_tok_1", "--server", serverUrl]);
    await install(root, fake, ["--uninstall"]);
    for (const path of [
      "etc/vigil",
      "etc/systemd/system/vigil-probe.service",
      "usr/local/lib/vigil-probe",
      "usr/local/bin/vigil-probe",
      "var/lib/vigil-probe",
    ]) {
      expect(await exists(join(root, path)), path).toBe(false);
    }
    expect(await readFile(join(fake, "log"), "utf8")).toContain("userdel vigil");
  }, 30_000);

  it("writes --scrape targets into probe.json, and refuses one the probe would refuse", async () => {
    const root = await temporaryDirectory("vigil-root-");
    const fake = await fakeToolsDir();
    await install(root, fake, [
      "--token",
      "enroll_tok_1",
      "--server",
      serverUrl,
      "--scrape",
      "app=http://127.0.0.1:3000/metrics",
      "--scrape=db=http://127.0.0.1:9187/metrics?collect[]=a",
    ]);
    const config = JSON.parse(await readFile(join(root, "etc/vigil/probe.json"), "utf8"));
    expect(config.scrape).toEqual([
      { name: "app", url: "http://127.0.0.1:3000/metrics" },
      { name: "db", url: "http://127.0.0.1:9187/metrics?collect[]=a" },
    ]);

    for (const [spec, message] of [
      ["App=http://127.0.0.1:3000/metrics", 'name "App" must be lower-case'],
      ["app=127.0.0.1:3000/metrics", "the URL must start with http:// or https://"],
      ["http://127.0.0.1:3000/metrics", "expects NAME=URL"],
    ] as const) {
      await expect(
        install(await temporaryDirectory("vigil-root-"), fake, ["--server", serverUrl, "--scrape", spec]),
      ).rejects.toMatchObject({ stderr: expect.stringContaining(message) });
    }
  }, 30_000);

  it("writes --location and --no-checks into probe.json, and refuses a name the probe would refuse", async () => {
    const fake = await fakeToolsDir();
    const named = await temporaryDirectory("vigil-root-");
    await install(named, fake, ["--token", "enroll_tok_1", "--server", serverUrl, "--location", "fra-lab.1"]);
    const config = JSON.parse(await readFile(join(named, "etc/vigil/probe.json"), "utf8"));
    expect(config.checks).toEqual({ location: "fra-lab.1" });

    const off = await temporaryDirectory("vigil-root-");
    await install(off, fake, [
      "--token",
      "enroll_tok_1",
      "--server",
      serverUrl,
      "--no-checks",
      "--location=x1",
    ]);
    expect(JSON.parse(await readFile(join(off, "etc/vigil/probe.json"), "utf8")).checks).toEqual({
      enabled: false,
      location: "x1",
    });

    for (const [name, message] of [
      ["Fra 1", "must be lower-case letters"],
      ["-lab", "must be lower-case letters"],
      ["edge", "the server's own location"],
      ["a".repeat(64), "longer than 63 characters"],
    ] as const) {
      await expect(
        install(await temporaryDirectory("vigil-root-"), fake, ["--server", serverUrl, "--location", name]),
      ).rejects.toMatchObject({ stderr: expect.stringContaining(message) });
    }
  }, 30_000);

  it("writes --enable-runbooks and --runbook-allow into probe.json; without the flag runbooks stay off", async () => {
    const fake = await fakeToolsDir();
    const on = await temporaryDirectory("vigil-root-");
    await install(on, fake, [
      "--token",
      "enroll_tok_1",
      "--server",
      serverUrl,
      "--enable-runbooks",
      "--runbook-allow",
      "systemctl restart",
      '--runbook-allow= apt-get "-y" ',
    ]);
    expect(JSON.parse(await readFile(join(on, "etc/vigil/probe.json"), "utf8")).runbooks).toEqual({
      enabled: true,
      allow: ["systemctl restart", 'apt-get "-y"'],
    });

    const listOnly = await temporaryDirectory("vigil-root-");
    const { stdout } = await install(listOnly, fake, [
      "--token",
      "enroll_tok_1",
      "--server",
      serverUrl,
      "--runbook-allow",
      "uptime",
    ]);
    expect(stdout).toContain("runbook commands stay off");
    expect(JSON.parse(await readFile(join(listOnly, "etc/vigil/probe.json"), "utf8")).runbooks).toEqual({
      allow: ["uptime"],
    });

    const plain = await temporaryDirectory("vigil-root-");
    await install(plain, fake, ["--token", "enroll_tok_1", "--server", serverUrl]);
    expect(JSON.parse(await readFile(join(plain, "etc/vigil/probe.json"), "utf8")).runbooks).toBeUndefined();

    for (const [prefix, message] of [
      ["  ", "--runbook-allow needs a command prefix"],
      ["apt-get\nrm", "contains control characters"],
      ["x".repeat(257), "longer than 256 characters"],
    ] as const) {
      await expect(
        install(await temporaryDirectory("vigil-root-"), fake, [
          "--server",
          serverUrl,
          "--runbook-allow",
          prefix,
        ]),
      ).rejects.toMatchObject({ stderr: expect.stringContaining(message) });
    }
  }, 30_000);

  it("sets up the root runner with --runbooks-as-root, keeps it on a re-run, and removes it when asked for runbooks without it", async () => {
    const fake = await fakeToolsDir();
    const root = await temporaryDirectory("vigil-root-");
    const asRoot = ["--enable-runbooks", "--runbook-allow", "apt-get", "--runbooks-as-root"];
    const { stdout } = await install(root, fake, [
      "--token",
      "enroll_tok_1",
      "--server",
      serverUrl,
      ...asRoot,
    ]);
    expect(stdout).toContain("these commands run as root");
    expect(stdout).toContain("nothing starts the root runner");
    expect(JSON.parse(await readFile(join(root, "etc/vigil/probe.json"), "utf8")).runbooks).toEqual({
      enabled: true,
      allow: ["apt-get"],
      runner: "/run/vigil-probe-runner.sock",
    });
    // Root's own list, which the probe's user cannot change (probe.json is handed to that user).
    const runnerJson = join(root, "etc/vigil/runner.json");
    expect(JSON.parse(await readFile(runnerJson, "utf8"))).toEqual({ allow: ["apt-get"] });
    expect((await stat(runnerJson)).mode & 0o777).toBe(0o644);
    const log = await readFile(join(fake, "log"), "utf8");
    expect(log).not.toMatch(/chown .*runner\.json/);
    const socketUnit = await readFile(join(root, "etc/systemd/system/vigil-probe-runner.socket"), "utf8");
    for (const line of [
      "ListenStream=/run/vigil-probe-runner.sock",
      "SocketUser=root",
      "SocketGroup=vigil",
      "SocketMode=0660",
      "Accept=yes",
    ])
      expect(socketUnit).toContain(line);
    const serviceUnit = await readFile(join(root, "etc/systemd/system/vigil-probe-runner@.service"), "utf8");
    expect(serviceUnit).toContain(
      `ExecStart=${process.execPath} /usr/local/lib/vigil-probe/vigil-probe.mjs runner --runner-config /etc/vigil/runner.json`,
    );
    expect(serviceUnit).toContain("StandardInput=socket");
    expect(serviceUnit).not.toContain("User=");

    // A re-run that changes nothing keeps the runner and its list.
    await install(root, fake, ["--server", serverUrl]);
    expect(JSON.parse(await readFile(runnerJson, "utf8"))).toEqual({ allow: ["apt-get"] });
    expect(await exists(join(root, "etc/systemd/system/vigil-probe-runner.socket"))).toBe(true);

    // Runbooks asked for without --runbooks-as-root: they run as the probe's user again.
    const again = await install(root, fake, [
      "--server",
      serverUrl,
      "--enable-runbooks",
      "--runbook-allow",
      "apt-get",
    ]);
    expect(again.stdout).toContain("removed the root runner");
    expect(await exists(runnerJson)).toBe(false);
    expect(await exists(join(root, "etc/systemd/system/vigil-probe-runner.socket"))).toBe(false);
    expect(await exists(join(root, "etc/systemd/system/vigil-probe-runner@.service"))).toBe(false);
    expect(
      JSON.parse(await readFile(join(root, "etc/vigil/probe.json"), "utf8")).runbooks.runner,
    ).toBeUndefined();

    await install(root, fake, ["--server", serverUrl, ...asRoot]);
    await install(root, fake, ["--uninstall"]);
    expect(await exists(runnerJson)).toBe(false);
    expect(await exists(join(root, "etc/systemd/system/vigil-probe-runner@.service"))).toBe(false);
  }, 30_000);

  it("refuses --runbooks-as-root without runbooks enabled or without an allow-list", async () => {
    const fake = await fakeToolsDir();
    for (const [args, message] of [
      [["--runbooks-as-root", "--runbook-allow", "apt-get"], "--runbooks-as-root needs --enable-runbooks"],
      [["--runbooks-as-root", "--enable-runbooks"], "needs at least one --runbook-allow PREFIX"],
    ] as const)
      await expect(
        install(await temporaryDirectory("vigil-root-"), fake, ["--server", serverUrl, ...args]),
      ).rejects.toMatchObject({ stderr: expect.stringContaining(message) });
  });

  it("refuses to install without a server", async () => {
    const root = await temporaryDirectory("vigil-root-");
    await expect(install(root, await fakeToolsDir(), ["--token", "t"])).rejects.toMatchObject({
      stderr: expect.stringContaining("no server"),
    });
  });
});

describe("the bundle", () => {
  it("is one executable ESM file with a shebang and no zod inside", async () => {
    const text = await readFile(BUNDLE, "utf8");
    expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(text).not.toMatch(/\bzod\b/);
    expect(text).not.toMatch(/from ["'](?!node:)[^"']+["']/);
    const { stdout } = await run(BUNDLE, ["version"]);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
