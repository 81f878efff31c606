/**
 * The probe for the machine the self-hosted server runs on, so a newcomer sees real data at once.
 * It is the real probe bundle in a child process, enrolled like any other host; VIGIL_LOCAL_PROBE=0
 * turns it off.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Db } from "@vigil/db";
import { type Clock, createEnrollmentToken, hostExists } from "@vigil/engine";
import type { LocalProbeReport } from "./self/runtime.ts";

export interface LocalProbeOptions {
  db: Db;
  clock: Clock;
  projectId: string;
  serverUrl: string;
  stateDir: string;
  bundle: string;
  log: (line: string) => void;
}

export interface LocalProbe {
  /** for /readyz: running, its spool's backlog, its last delivery complaint */
  status(): Promise<LocalProbeReport>;
  /** SIGTERM, and SIGKILL for the probe and its commands if it has not exited within `graceMs` */
  stop(graceMs: number): Promise<void>;
}

/**
 * The probe needs an enrollment token unless its saved identity still names this server and a host that
 * exists. A new port means enrolling again with the saved host token, which gets the same host back (the
 * probe sends it); a host that is gone (a wiped database) means starting afresh without the identity.
 */
async function enrollmentTokenIfNeeded(options: LocalProbeOptions): Promise<string | undefined> {
  const identityFile = join(options.stateDir, "identity.json");
  if (existsSync(identityFile)) {
    try {
      const identity = JSON.parse(readFileSync(identityFile, "utf8")) as { server?: string; hostId?: string };
      const host = identity.hostId ? await hostExists(options.db, options.projectId, identity.hostId) : false;
      if (identity.server === options.serverUrl && host) return undefined;
      if (!host) rmSync(identityFile, { force: true });
    } catch {
      // unreadable identity: enroll afresh
      rmSync(identityFile, { force: true });
    }
  }
  const created = await createEnrollmentToken(options.db, options.clock, options.projectId, {
    name: "local probe",
    expiresInSec: 3600,
  });
  return created.token;
}

export async function startLocalProbe(options: LocalProbeOptions): Promise<LocalProbe | null> {
  if (!existsSync(options.bundle)) {
    options.log(`local probe: ${options.bundle} is missing (npm run build -w @vigil/probe); not started`);
    return null;
  }
  const token = await enrollmentTokenIfNeeded(options);
  const child: ChildProcess = spawn(process.execPath, [options.bundle, "run"], {
    env: {
      ...process.env,
      VIGIL_SERVER: options.serverUrl,
      VIGIL_STATE_DIR: options.stateDir,
      VIGIL_CONFIG: join(options.stateDir, "probe.json"),
      ...(token ? { VIGIL_TOKEN: token } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stopping it can also end the commands it runs (apt-get, journalctl).
    detached: true,
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // the group is gone already
    }
  };
  // A server that dies without stopping it (an uncaught error) must not leave the probe behind.
  const orphanGuard = () => signalGroup("SIGKILL");
  process.once("exit", orphanGuard);
  let lastError: LocalProbeReport["lastError"] = null;
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (!line.trim()) continue;
      options.log(`[probe] ${line}`);
      // What the probe logs when its batches do not get through (delivery.ts) or the spool overflows.
      if (/delivery paused|rejected by the server|refused the host token|spool full/.test(line)) {
        lastError = { at: options.clock.now(), message: line.trim().slice(0, 300) };
      }
    }
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  let stopping = false;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.once("exit", (code, signal) => {
    if (!stopping) options.log(`local probe exited (${signal ?? code}); the server keeps running without it`);
  });
  options.log(`local probe started (pid ${child.pid}, state in ${options.stateDir})`);
  const spool = join(options.stateDir, "spool");
  return {
    status: async () => {
      // Spool files are named <15-digit ms timestamp>_<seq>-<batch id>.json.gz (probe/src/spool.ts).
      const files = (await readdir(spool).catch(() => [] as string[])).filter((f) => f.endsWith(".json.gz"));
      const times = files.map((f) => Number(f.slice(0, 15))).filter(Number.isFinite);
      return {
        running: child.exitCode === null && child.signalCode === null,
        spooled: files.length,
        oldestSpooledAt: times.length ? Math.min(...times) : null,
        lastError,
      };
    },
    // The probe finishes the collection it is in before it exits on SIGTERM, and a slow one (apt-get's
    // simulation takes many seconds) would hold up Ctrl-C; its spool makes a cut-short run lose nothing sent.
    stop: async (graceMs) => {
      stopping = true;
      process.off("exit", orphanGuard);
      if (child.exitCode === null && child.signalCode === null) signalGroup("SIGTERM");
      const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      // Commands of its own that outlived a clean exit go with it.
      signalGroup("SIGKILL");
    },
  };
}
