// Backup assurance end to end: the real probe bundle checks and drills real restic repositories on this
// machine and delivers the results to the real self-hosted server, which grades the machine's data against
// 3-2-1 and alerts the day a repository turns out damaged.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { migrationsFolder } from "@vigil/db/migrate";
import { describe, expect, it } from "vitest";
import { settingsFromEnv, startServer } from "../src/server.ts";

const run = promisify(execFile);
const probeDir = resolve(import.meta.dirname, "../../../probe");
const bundle = join(probeDir, "dist", "vigil-probe.mjs");

describe("backup assurance with the real probe, restic and server", () => {
  it("grades the machine's data from two checked repositories and a drill, and alerts when one is damaged", async () => {
    const work = mkdtempSync(join(tmpdir(), "vigil-backup-e2e-"));
    const stateDir = join(work, "probe");
    const data = join(work, "srv");
    mkdirSync(stateDir);
    mkdirSync(data);
    for (let i = 0; i < 8; i++)
      writeFileSync(join(data, `file-${i}.txt`), `line ${i}\n`.repeat(100 * (i + 1)));
    writeFileSync(join(data, "blob.bin"), randomBytes(400_000));
    // Only what this test is about: no journal, updates or Docker to wait for.
    writeFileSync(
      join(stateDir, "probe.json"),
      JSON.stringify({ disabledCollectors: ["updates", "journal", "docker", "ssh", "systemd"] }),
    );
    const env = {
      ...process.env,
      VIGIL_STATE_DIR: stateDir,
      VIGIL_CONFIG: join(stateDir, "probe.json"),
      RESTIC_PASSWORD: "correct horse battery",
      RESTIC_CACHE_DIR: join(work, "cache"),
    };
    const probe = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run(process.execPath, [bundle, ...args], { env });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const restic = (repo: string, ...args: string[]) => run("restic", ["-r", repo, ...args], { env });
    const usb = join(work, "usb");
    const nas = join(work, "nas");
    for (const repo of [usb, nas]) {
      await restic(repo, "init");
      await restic(repo, "backup", data);
    }

    const dataDir = mkdtempSync(join(tmpdir(), "vigil-backup-e2e-data-"));
    const settings = { ...settingsFromEnv({ VIGIL_DATA_DIR: dataDir, VIGIL_PORT: "0" }), localProbe: false };
    const server = await startServer(settings, { migrationsFolder, probeDir, log: () => {} });
    const auth = { authorization: `Bearer ${server.adminKey}` };
    const get = async <T>(path: string) =>
      (await (await fetch(`${server.url}${path}`, { headers: auth })).json()) as T;
    try {
      const { token } = (await (
        await fetch(`${server.url}/api/v1/enrollment-tokens`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ name: "e2e" }),
        })
      ).json()) as { token: string };
      expect((await probe("enroll", "--server", server.url, "--token", token)).code).toBe(0);

      // A USB disk on the desk, and a NAS in another building mounted at a path: the operator says so.
      const usbCheck = await probe("backup-check", "--name", "usb", "--", "restic", "-r", usb);
      expect(usbCheck.code, usbCheck.stderr).toBe(0);
      expect(usbCheck.stdout).toMatch(/^backup-check usb: ok/);
      const nasFlags = ["--name", "nas", "--kind", "host", "--site", "offsite"];
      expect((await probe("backup-check", ...nasFlags, "--", "restic", "-r", nas)).code).toBe(0);
      const drill = await probe("backup-drill", "--name", "nas", "--files", "5", "--", "restic", "-r", nas);
      expect(drill.code, drill.stderr).toBe(0);
      expect((await probe("once")).stdout).toContain("0 waiting");

      const { sources } = await get<{
        sources: {
          hostname: string;
          paths: string[];
          copies: number;
          media: number;
          offsite: number;
          summary: string;
        }[];
      }>("/api/v1/backups/sources");
      expect(sources).toEqual([
        expect.objectContaining({ hostname: hostname(), paths: [data], copies: 3, media: 2, offsite: 1 }),
      ]);
      expect(sources[0]?.summary).toMatch(
        /^3 copies, 2 media, 1 off site, last drill restored 5 files identical \d+ min ago$/,
      );

      // A bit flips in the USB disk's largest pack; a check that reads the data finds it.
      const packs = readdirSync(join(usb, "data"), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name))
        .sort((a, b) => statSync(b).size - statSync(a).size);
      const pack = await open(packs[0] ?? "", "r+");
      await pack.write(Buffer.from("damaged!"), 0, 8, 1000);
      await pack.close();
      const damaged = await probe(
        "backup-check",
        "--name",
        "usb",
        "--read-data-subset",
        "100%",
        "--",
        "restic",
        "-r",
        usb,
      );
      expect(damaged.code).toBe(1);
      expect(damaged.stdout).toMatch(/^backup-check usb: damaged/);
      expect((await probe("once")).stdout).toContain("0 waiting");

      const { alerts } = await get<{ alerts: { targetKey: string; state: string; cause: string }[] }>(
        "/api/v1/alerts",
      );
      expect(alerts.find((a) => a.targetKey === "repository=usb")).toMatchObject({ state: "firing" });
      const after = await get<{ sources: { copies: number; summary: string }[] }>("/api/v1/backups/sources");
      expect(after.sources[0]?.copies).toBe(2);
    } finally {
      await server.close();
    }
  }, 180_000);
});
