// Checks from locations end to end: three real probe daemons (the built bundle), each a location with its
// own name, run the checks the real self-hosted server assigns them against a local HTTP server that fails
// requests from the locations a test chooses. The server judges by quorum, mails exactly one alert, takes
// the results the probes spooled while it was down, and a probe reports a TLS certificate's expiry.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { promisify } from "node:util";
import { migrationsFolder } from "@vigil/db/migrate";
import { startSmtpSink } from "@vigil/notify/testing";
import { describe, expect, it } from "vitest";
import { settingsFromEnv, startServer } from "../src/server.ts";
import { callApi, until } from "./helpers.ts";

const run = promisify(execFile);
const probeDir = resolve(import.meta.dirname, "../../../probe");
const bundle = join(probeDir, "dist", "vigil-probe.mjs");
const fixtures = resolve(import.meta.dirname, "../../../packages/engine/test/fixtures");
const DAY = 86_400_000;

async function listen(server: Server | ReturnType<typeof createTlsServer>): Promise<number> {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return (server.address() as { port: number }).port;
}

interface CheckView {
  status: string;
  locationResults: { name: string; status: string; responseMs: number | null; error: string | null }[];
}

describe("checks from three real probe locations against the real server", () => {
  it("alerts once when two of three locations fail, none when one does, and takes runs spooled through an outage", async () => {
    const work = mkdtempSync(join(tmpdir(), "vigil-locations-e2e-"));
    const sink = await startSmtpSink();

    // The shop answers 503 to the locations in `failing` (each probe names its location in its User-Agent).
    const failing = new Set<string>();
    const seen: { location: string; at: number }[] = [];
    const shop = createServer((req, res) => {
      const location = /location ([a-z0-9._-]+)/.exec(req.headers["user-agent"] ?? "")?.[1] ?? "?";
      seen.push({ location, at: Date.now() });
      res.statusCode = failing.has(location) ? 503 : 200;
      res.end("shop");
    });
    const shopPort = await listen(shop);
    const tls = createTlsServer(
      {
        cert: readFileSync(join(fixtures, "tls-127.0.0.1.cert.pem")),
        key: readFileSync(join(fixtures, "tls-127.0.0.1.key.pem")),
      },
      (socket) => socket.end(),
    );
    const tlsPort = await listen(tls);

    const dataDir = join(work, "server");
    const start = (port: number) =>
      startServer(
        {
          ...settingsFromEnv({
            VIGIL_DATA_DIR: dataDir,
            VIGIL_PORT: String(port),
            VIGIL_SMTP_URL: sink.url,
            VIGIL_TICK_MS: "200",
          }),
          localProbe: false,
        },
        { migrationsFolder, probeDir, log: () => {} },
      );
    let server = await start(0);
    const port = Number(new URL(server.url).port);
    // The key is shown at the first start only; a restarted server keeps it.
    const adminKey = server.adminKey ?? "";
    const call = <T>(method: string, path: string, body?: unknown) =>
      callApi<T>(server.url, adminKey, method, path, body);
    const daemons: ChildProcess[] = [];
    try {
      // Probes collect every 5 s, so a new check reaches them within seconds.
      await call("PATCH", "/projects/current/settings", { probe: { intervalSec: 5 } });
      await call("POST", "/channels", {
        kind: "email",
        name: "ops",
        to: ["ops@test.example"],
        isDefault: true,
      });
      const { token } = await call<{ token: string }>("POST", "/enrollment-tokens", { name: "e2e" });

      for (const location of ["fra-1", "ams-2", "home-lab"]) {
        const stateDir = join(work, location);
        mkdirSync(stateDir);
        writeFileSync(
          join(stateDir, "probe.json"),
          JSON.stringify({ disabledCollectors: ["updates", "journal", "docker", "ssh", "systemd"] }),
        );
        const env = {
          ...process.env,
          VIGIL_STATE_DIR: stateDir,
          VIGIL_CONFIG: join(stateDir, "probe.json"),
          VIGIL_LOCATION: location,
          // home-lab trusts the test certificate, as a host trusts its own CA.
          ...(location === "home-lab"
            ? { NODE_EXTRA_CA_CERTS: join(fixtures, "tls-127.0.0.1.cert.pem") }
            : {}),
        };
        await run(
          process.execPath,
          [bundle, "enroll", "--server", server.url, "--token", token, "--force-new"],
          {
            env,
          },
        );
        const daemon = spawn(process.execPath, [bundle, "run"], { env, stdio: ["ignore", "ignore", "pipe"] });
        daemon.stderr?.resume();
        daemons.push(daemon);
      }
      await until(
        "three probe locations",
        () => call<{ locations: { name: string }[] }>("GET", "/locations"),
        (l) => ["fra-1", "ams-2", "home-lab"].every((n) => l.locations.some((x) => x.name === n)),
      );

      const check = await call<{ id: string }>("POST", "/checks", {
        kind: "http",
        name: "shop",
        url: `http://127.0.0.1:${shopPort}/`,
        period: 20,
        failuresToDown: 1,
        locations: ["fra-1", "ams-2", "home-lab"],
        quorum: 2,
      });
      const cert = await call<{ id: string }>("POST", "/checks", {
        kind: "tls",
        name: "certificate",
        host: "127.0.0.1",
        port: tlsPort,
        period: 60,
        locations: ["home-lab"],
      });
      const view = () => call<CheckView>("GET", `/checks/${check.id}`);
      const statusOf = (v: CheckView, name: string) => v.locationResults.find((l) => l.name === name)?.status;

      const up = await until("all three locations up", view, (v) =>
        v.locationResults.every((l) => l.status === "up"),
      );
      expect(up.status).toBe("up");
      expect(up.locationResults.every((l) => typeof l.responseMs === "number")).toBe(true);

      // One location fails: it shows down, the check stays up, nobody is mailed.
      failing.add("ams-2");
      const oneDown = await until("ams-2 down", view, (v) => statusOf(v, "ams-2") === "down");
      expect(oneDown.status).toBe("up");
      expect(sink.messages).toHaveLength(0);

      // A second one fails: down, one mail naming both.
      failing.add("fra-1");
      await until("the check down", view, (v) => v.status === "down");
      const [mail] = await sink.waitFor(1);
      expect(mail?.subject).toBe("DOWN: shop");
      expect(mail?.text).toContain(
        "down from fra-1 (HTTP 503, expected 200-299) and ams-2 (HTTP 503, expected 200-299), up from home-lab",
      );

      // The certificate as home-lab saw it: trusted, its days left counted from the probe's report.
      const certRuns = await until(
        "a TLS run from home-lab",
        () =>
          call<{ runs: { tlsDaysLeft: number | null; location: string }[] }>(
            "GET",
            `/checks/${cert.id}/runs`,
          ),
        (r) => r.runs.length > 0,
      );
      const notAfter = Date.parse("2036-11-24T17:48:35Z");
      expect(certRuns.runs[0]?.location).toBe("home-lab");
      expect(
        Math.abs((certRuns.runs[0]?.tlsDaysLeft ?? 0) - Math.floor((notAfter - Date.now()) / DAY)),
      ).toBeLessThanOrEqual(1);
      expect((await call<CheckView>("GET", `/checks/${cert.id}`)).status).toBe("up");

      // The server goes away; the shop recovers meanwhile. The probes keep checking and spool what they see.
      await server.close();
      const downAt = Date.now();
      failing.clear();
      await until(
        "every location to check the shop during the outage",
        // A second after the close, so the run started after it too (a run under way as it closed may
        // have been delivered before).
        async () => new Set(seen.filter((s) => s.at > downAt + 1000).map((s) => s.location)),
        (locations) => locations.size === 3,
      );
      const backAt = Date.now();
      server = await start(port);
      await until("the check up again", view, (v) => v.status === "up");
      // Each probe delivers its spool when its own backoff next tries the server.
      const spooledRuns = async () =>
        (
          await call<{ runs: { at: number; location: string; result: string }[] }>(
            "GET",
            `/checks/${check.id}/runs?limit=200`,
          )
        ).runs.filter((r) => r.at > downAt && r.at < backAt);
      const spooled = await until(
        "runs from the outage, from every location",
        spooledRuns,
        (runs) => new Set(runs.map((r) => r.location)).size === 3,
      );
      expect(spooled.every((r) => r.result === "up")).toBe(true);
      const mails = await sink.waitFor(2);
      expect(mails.map((m) => m.subject)).toEqual(["DOWN: shop", "UP: shop"]);
    } finally {
      for (const daemon of daemons) daemon.kill("SIGTERM");
      await server.close().catch(() => undefined);
      await sink.close();
      shop.closeAllConnections();
      await new Promise((done) => shop.close(done));
      await new Promise((done) => tls.close(done));
    }
  }, 240_000);
});
