// The real probe bundle against the real self-hosted server on 127.0.0.1, including an outage.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { closeDb, createDb } from "@vigil/db";
import { migrationsFolder } from "@vigil/db/migrate";
import { describe, expect, it } from "vitest";
import { settingsFromEnv, startServer } from "../src/server.ts";

const run = promisify(execFile);
const probeDir = resolve(import.meta.dirname, "../../../probe");
const bundle = join(probeDir, "dist", "vigil-probe.mjs");

async function probe(stateDir: string, ...args: string[]) {
  try {
    const { stdout } = await run(process.execPath, [bundle, ...args], {
      env: { ...process.env, VIGIL_STATE_DIR: stateDir, VIGIL_CONFIG: join(stateDir, "probe.json") },
    });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("the probe against the self-hosted server", () => {
  it("enrolls, delivers complete batches, and after an outage delivers every spooled batch exactly once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "vigil-e2e-"));
    const stateDir = mkdtempSync(join(tmpdir(), "vigil-e2e-probe-"));
    // `apt-get -s dist-upgrade` takes seconds of CPU on a machine with full package lists, in each of the
    // five runs; this test is about delivery and the spool, so that one collector sits out.
    writeFileSync(join(stateDir, "probe.json"), JSON.stringify({ disabledCollectors: ["updates"] }));
    const settings = { ...settingsFromEnv({ VIGIL_DATA_DIR: dataDir, VIGIL_PORT: "0" }), localProbe: false };
    const options = { migrationsFolder, probeDir, log: () => {} };
    let server = await startServer(settings, options);
    const auth = { authorization: `Bearer ${server.adminKey}` };
    try {
      const installer = await (await fetch(`${server.url}/install.sh`)).text();
      expect(installer).toContain(`DEFAULT_SERVER="${server.url}"`);
      expect(await (await fetch(`${server.url}/probe/vigil-probe.mjs`)).text()).toBe(
        readFileSync(bundle, "utf8"),
      );

      const { token } = (await (
        await fetch(`${server.url}/api/v1/enrollment-tokens`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ name: "e2e" }),
        })
      ).json()) as { token: string };
      expect((await probe(stateDir, "enroll", "--server", server.url, "--token", token)).code).toBe(0);
      const sent = await probe(stateDir, "once");
      expect(sent.stdout).toContain("sent 1 batches; 0 waiting");

      const { hosts } = (await (await fetch(`${server.url}/api/v1/hosts`, { headers: auth })).json()) as {
        hosts: { id: string; online: boolean; latest: Record<string, number>; facts: { cpuCount: number } }[];
      };
      expect(hosts).toHaveLength(1);
      const [host] = hosts;
      expect(host?.online).toBe(true);
      expect(host?.facts.cpuCount).toBeGreaterThan(0);
      expect(host?.latest.memoryAvailablePct).toBeGreaterThan(0);
      expect(host?.latest.diskUsedPctMax).toBeGreaterThan(0);
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: auth })).text();
      expect(metrics).toContain(`vigil_memory_total_bytes{host=`);

      // The server goes away: the probe spools.
      const port = new URL(server.url).port;
      await server.close();
      const down1 = await probe(stateDir, "once");
      const down2 = await probe(stateDir, "once");
      expect(down1.code).toBe(1);
      expect(down2.stdout).toContain("2 waiting in the spool");

      // It comes back on the same port: the spool drains, oldest first, each batch once.
      server = await startServer({ ...settings, port: Number(port) }, options);
      const back = await probe(stateDir, "once");
      expect(back.stdout).toContain("sent 3 batches; 0 waiting");
      await server.close();

      const db = createDb({ url: `file:${join(dataDir, "vigil.db")}` });
      const batches = await db.$client.execute("select count(*) as n from ingested_batches");
      expect(batches.rows[0]?.n).toBe(4);
      const samples = await db.$client.execute(
        "select count(*) as n, count(distinct ts) as d from samples join series on series.id = samples.series_id where series.name = 'mem.total_bytes'",
      );
      expect(samples.rows[0]).toMatchObject({ n: 4, d: 4 });
      closeDb(db);
    } finally {
      await server.close();
    }
  }, 60_000); // five real probe runs, each collecting twice one second apart
});
