import { execFile } from "node:child_process";
import { mkdir, readFile, utimes, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { stateSnapshotSchema } from "@vigil/contract";
import { afterEach, describe, expect, it } from "vitest";
import { collectContainers } from "../src/collectors/docker.ts";
import {
  collectOsUpdates,
  parseAptSimulation,
  parseDnfCheckUpdate,
  parseDnfSecurityList,
} from "../src/collectors/os-updates.ts";
import { readLastUnattendedUpgrade, readRebootRequired } from "../src/collectors/reboot.ts";
import { collectSshKeys, fingerprintsOfAuthorizedKeys } from "../src/collectors/ssh-keys.ts";
import { collectFailedUnits, parseFailedUnits } from "../src/collectors/systemd-units.ts";
import { NoteSink } from "../src/notes.ts";
import { FIXTURES, temporaryDirectory } from "./helpers.ts";

const run = promisify(execFile);

describe("OS updates", () => {
  it("counts pending apt upgrades and the security ones from a real simulation", async () => {
    const updates = parseAptSimulation(await readFile(join(FIXTURES, "apt-dist-upgrade.txt"), "utf8"));
    expect(updates).toMatchObject({ manager: "apt", pending: 25, security: 15 });
    expect(updates.packages).toContain("libgcrypt20");
    expect(updates.packages).not.toContain("Conf");
  });

  it("recognises Ubuntu security pockets", () => {
    const text = [
      "Inst openssl [3.0.2-0ubuntu1.15] (3.0.2-0ubuntu1.18 Ubuntu:22.04/jammy-security [amd64])",
      "Inst tzdata [2024a-0ubuntu0.22.04] (2024b-0ubuntu0.22.04 Ubuntu:22.04/jammy-updates [all])",
      "Inst newdep (1.0 Ubuntu:22.04/jammy-updates [amd64])",
    ].join("\n");
    expect(parseAptSimulation(text)).toEqual({
      manager: "apt",
      pending: 3,
      security: 1,
      packages: ["openssl", "tzdata", "newdep"],
    });
  });

  it("parses dnf check-update and its security advisories", () => {
    const check = "\nkernel.x86_64    5.14.0-427.el9    baseos\nopenssl.x86_64   1:3.0.7-27.el9    baseos\n";
    expect(parseDnfCheckUpdate(check)).toEqual(["kernel", "openssl"]);
    const advisories =
      "RHSA-2024:1 Important/Sec. openssl-1:3.0.7-27.el9.x86_64\nRHBA-2024:2 bugfix kernel-5.14\n";
    expect(parseDnfSecurityList(advisories)).toBe(1);
  });
});

describe("reboot required", () => {
  it("reports a pending reboot with its time and packages", async () => {
    const root = await temporaryDirectory();
    await mkdir(join(root, "var/run"), { recursive: true });
    await writeFile(join(root, "var/run/reboot-required"), "*** System restart required ***\n");
    await writeFile(join(root, "var/run/reboot-required.pkgs"), "linux-image-6.1.0-28-amd64\nlibc6\nlibc6\n");
    await utimes(join(root, "var/run/reboot-required"), 1_790_000_000, 1_790_000_000);
    expect(await readRebootRequired(root, new NoteSink())).toEqual({
      required: true,
      since: 1_790_000_000_000,
      packages: ["linux-image-6.1.0-28-amd64", "libc6"],
    });
  });

  it("reports no reboot needed when the flag file is absent", async () => {
    expect(await readRebootRequired(await temporaryDirectory(), new NoteSink())).toEqual({ required: false });
  });

  it("reads when unattended-upgrades last ran from apt's stamp", async () => {
    const root = await temporaryDirectory();
    await mkdir(join(root, "var/lib/apt/periodic"), { recursive: true });
    await writeFile(join(root, "var/lib/apt/periodic/unattended-upgrades-stamp"), "");
    await utimes(join(root, "var/lib/apt/periodic/unattended-upgrades-stamp"), 1_791_000_000, 1_791_000_000);
    expect(await readLastUnattendedUpgrade(root)).toBe(1_791_000_000_000);
    expect(await readLastUnattendedUpgrade(await temporaryDirectory())).toBeUndefined();
  });
});

describe("failed systemd units", () => {
  it("notes that systemd is not running instead of calling systemctl", async () => {
    const notes = new NoteSink();
    expect(await collectFailedUnits(await temporaryDirectory(), notes)).toBeUndefined();
    expect(notes.notes).toEqual([{ collector: "systemd", message: "systemd is not running on this host" }]);
  });

  it("lists failed units from systemctl's plain output", () => {
    const text =
      "backup.service loaded failed failed Nightly backup\n● nginx.service loaded failed failed nginx\n";
    expect(parseFailedUnits(text)).toEqual(["backup.service", "nginx.service"]);
  });

  it("runs systemctl when systemd is running", async () => {
    const root = await temporaryDirectory();
    await mkdir(join(root, "run/systemd/system"), { recursive: true });
    const systemctl = join(root, "systemctl");
    await writeFile(systemctl, "#!/bin/sh\necho 'certbot.service loaded failed failed Certbot'\n", {
      mode: 0o755,
    });
    expect(await collectFailedUnits(root, new NoteSink(), systemctl)).toEqual(["certbot.service"]);
  });
});

describe("docker containers", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A Docker Engine API double on a real unix socket, answering the two calls the collector makes. */
  async function fakeDocker(): Promise<string> {
    const socketPath = join(await temporaryDirectory(), "docker.sock");
    const docker = createServer((req, res) => {
      res.setHeader("Content-Type", "application/json");
      if (req.url === "/containers/json?all=1") {
        res.end(
          JSON.stringify([
            { Id: "aaa111", Names: ["/web-production-1"], Image: "ghcr.io/acme/web:abc", State: "running" },
            { Id: "bbb222", Names: ["/old-job"], Image: "busybox", State: "exited" },
          ]),
        );
      } else if (req.url === "/containers/aaa111/json") {
        res.end(
          JSON.stringify({
            RestartCount: 2,
            State: {
              Status: "running",
              StartedAt: "2026-11-27T09:00:00.123456789Z",
              Health: { Status: "healthy" },
            },
            Config: {
              Labels: { service: "acme", role: "web", destination: "production", "other.label": "x" },
            },
          }),
        );
      } else if (req.url === "/containers/bbb222/json") {
        res.end(
          JSON.stringify({ RestartCount: 0, State: { Status: "exited", StartedAt: "0001-01-01T00:00:00Z" } }),
        );
      } else {
        res.statusCode = 404;
        res.end("{}");
      }
    });
    server = docker;
    await new Promise<void>((resolve) => docker.listen(socketPath, resolve));
    return socketPath;
  }

  it("lists containers with state, health, restarts, start time and Kamal labels", async () => {
    const containers = await collectContainers(await fakeDocker(), new NoteSink());
    expect(containers).toEqual([
      {
        id: "aaa111",
        name: "web-production-1",
        image: "ghcr.io/acme/web:abc",
        state: "running",
        health: "healthy",
        restartCount: 2,
        startedAt: Date.parse("2026-11-27T09:00:00.123Z"),
        labels: { service: "acme", role: "web", destination: "production" },
      },
      { id: "bbb222", name: "old-job", image: "busybox", state: "exited", health: "none", restartCount: 0 },
    ]);
    expect(
      stateSnapshotSchema.safeParse({ collectedAt: 1_795_000_000_000, containers }).error,
    ).toBeUndefined();
  });

  it("notes a host without Docker", async () => {
    const notes = new NoteSink();
    expect(await collectContainers(join(await temporaryDirectory(), "docker.sock"), notes)).toBeUndefined();
    expect(notes.notes[0]?.message).toMatch(/no Docker socket/);
  });
});

describe("SSH authorized keys", () => {
  it("computes the same SHA256 fingerprints as ssh-keygen, options and comments included", async () => {
    const dir = await temporaryDirectory();
    await run("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "alice@laptop",
      "-f",
      join(dir, "id_ed25519"),
    ]);
    await run("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", join(dir, "id_ecdsa")]);
    const ed25519 = (await readFile(join(dir, "id_ed25519.pub"), "utf8")).trim();
    const ecdsa = (await readFile(join(dir, "id_ecdsa.pub"), "utf8")).trim();
    const authorizedKeys = [
      "# deploy keys",
      ed25519,
      `command="/usr/bin/backup --mode \\"a b\\"",no-pty ${ecdsa}`,
      "",
      "not a key line",
    ].join("\n");
    const expected = await Promise.all(
      ["id_ed25519.pub", "id_ecdsa.pub"].map(async (file) => {
        const { stdout } = await run("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, file)]);
        return stdout.split(" ")[1];
      }),
    );
    expect(fingerprintsOfAuthorizedKeys(authorizedKeys)).toEqual(expected);
  });

  it("reports fingerprints per user and never the keys themselves", async () => {
    const root = await temporaryDirectory();
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDJps7I1l3uqb5PRo84/cKEg7RNd1pPWdOC39p5jHaGe root@vm";
    await mkdir(join(root, "etc"), { recursive: true });
    await mkdir(join(root, "home/deploy/.ssh"), { recursive: true });
    await writeFile(
      join(root, "etc/passwd"),
      "root:x:0:0:root:/root:/bin/bash\ndeploy:x:1000:1000::/home/deploy:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n",
    );
    await writeFile(join(root, "home/deploy/.ssh/authorized_keys"), `${key}\n`);
    const keys = await collectSshKeys(root, new NoteSink());
    expect(keys).toEqual([
      { user: "deploy", fingerprints: ["SHA256:Fzli3VIZiLSuwxq4fiuI5RKtOIQ1jecVaBza6Mrxhr4"] },
    ]);
    expect(JSON.stringify(keys)).not.toContain("AAAAC3");
  });
});

describe("OS updates on this machine", () => {
  it("runs apt-get's simulation without locks or cache writes and counts what it lists", async () => {
    const notes = new NoteSink();
    const updates = await collectOsUpdates({}, notes);
    if (!updates) {
      // Not a Debian-family machine: the collector must have said why.
      expect(notes.notes[0]?.collector).toBe("updates");
      return;
    }
    expect(updates.manager).toMatch(/^(apt|dnf)$/);
    expect(updates.security).toBeLessThanOrEqual(updates.pending);
    expect(stateSnapshotSchema.safeParse({ collectedAt: 1_795_000_000_000, updates }).error).toBeUndefined();
    // apt-get's simulation takes about 5 s of CPU with full package lists; other test runs share the cores.
  }, 90_000);
});
