/**
 * The self-hosted server: one Node process on an embedded libSQL file (or any libSQL URL).
 * 1. Resolve settings from the environment and make sure the data dir is writable.
 * 2. Open the database and apply migrations.
 * 3. On an empty database create project `default` with an admin key and save it at once (credentials.json,
 *    0600), before anything else can fail; it is printed once the server listens, and again on the next
 *    start if this one never got that far.
 * 4. Serve the app and tick the scheduler until SIGINT/SIGTERM; stopping takes a second or two at most.
 */
import { randomBytes } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { createAdaptorServer } from "@hono/node-server";
import { closeDb, createDb, type Db, secretPrefix, WriterGate } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { bootstrapProject, type Clock, issueSetupToken, setupUrl, systemClock } from "@vigil/engine";
import { guardedFetch, nodeProbes } from "@vigil/engine/node";
import { smtpMailer } from "@vigil/notify/node";
import { createApp, defaultConfig } from "./app.ts";
import { type EnvSettings, mailerFor, settingsFromEnvironment } from "./config.ts";
import { type AppDeps, defaultSelfWatch, type ProbeAssetName, type ProbeAssets } from "./deps.ts";
import { startLocalProbe } from "./local-probe.ts";
import { nodeClientAddress } from "./platform/client-address.ts";
import { nodeGunzip } from "./platform/node-gunzip.ts";
import { createNodeServer } from "./platform/node-http.ts";
import { webAssetsFrom } from "./platform/web-assets.ts";
import { scheduledJobs, startInterval } from "./scheduler.ts";
import { createRuntime } from "./self/runtime.ts";
import { runWatchedTick } from "./self/watched-tick.ts";
import { memoryStatusCache } from "./status/memory-cache.ts";

/** The self-hosted server's settings: the shared ones (config.ts) and what only a server process has. */
export interface ServerSettings extends EnvSettings {
  host: string;
  port: number;
  dataDir: string;
  dbUrl: string;
  authToken?: string;
  presetAdminKey?: string;
  tickMs: number;
  /** run a probe for this machine (VIGIL_LOCAL_PROBE, on unless "0") */
  localProbe: boolean;
}

/** A setup problem the operator can fix; printed as one line, never as a stack trace. */
export class StartupError extends Error {}

export function settingsFromEnv(env: NodeJS.ProcessEnv): ServerSettings {
  const dataDir = resolve(env.VIGIL_DATA_DIR ?? "./data");
  const port = Number(env.VIGIL_PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new StartupError(`VIGIL_PORT must be a port number 0–65535, got "${env.VIGIL_PORT}"`);
  }
  const presetAdminKey = env.VIGIL_ADMIN_KEY || undefined;
  if (presetAdminKey && !secretPrefix(presetAdminKey, "key")) {
    throw new StartupError(
      'VIGIL_ADMIN_KEY must look like "vgl_key_" followed by 44 letters or digits ' +
        "(generate one: node -e \"console.log('vgl_key_'+require('crypto').randomBytes(33).toString('base64url').replace(/[-_]/g,'x').slice(0,44))\")",
    );
  }
  const { settings, problems } = settingsFromEnvironment(env);
  if (problems[0]) throw new StartupError(problems[0]);
  return {
    ...settings,
    host: env.VIGIL_HOST ?? "127.0.0.1",
    port,
    dataDir,
    dbUrl: env.VIGIL_DB_URL ?? `file:${join(dataDir, "vigil.db")}`,
    authToken: env.LIBSQL_AUTH_TOKEN || undefined,
    presetAdminKey,
    tickMs: Number(env.VIGIL_TICK_MS ?? 5000),
    localProbe: env.VIGIL_LOCAL_PROBE !== "0",
  };
}

/** The operator's VIGIL_SECRET_KEY, or the one this server made on first start (data dir, mode 0600). */
function secretKeyFor(settings: ServerSettings): string {
  if (settings.secretKey) return settings.secretKey;
  const file = join(settings.dataDir, "secret.key");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const key = randomBytes(32).toString("base64url");
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/**
 * mkdir -p, one level at a time. Node's own `recursive: true` spins forever at full CPU on paths such as
 * /proc/nope (mkdir answers ENOENT for a parent that exists), and being synchronous it cannot be signalled.
 * Only the directory itself gets `mode`; parents made on the way get the defaults.
 */
function makeDirs(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { mode });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && statSync(dir).isDirectory()) return;
    if (code !== "ENOENT" || dirname(dir) === dir) throw err;
  }
  makeDirs(dirname(dir), 0o777);
  mkdirSync(dir, { mode });
}

/** The data dir holds the database, the credentials and the secret key: only its owner may look in. */
function ensureWritableDir(dir: string): void {
  try {
    makeDirs(dir, 0o700);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new StartupError(
      `data directory ${dir} is not writable (${code}); set VIGIL_DATA_DIR to a writable directory`,
    );
  }
}

/**
 * The database file of a `file:` URL is made 0600 before libSQL opens it (which would make it 0644), like
 * the credentials beside it; SQLite gives its -wal and -shm files the same mode.
 */
function restrictEmbeddedDbFile(url: string): void {
  if (!url.startsWith("file:")) return;
  const path = (url.startsWith("file://") ? new URL(url).pathname : url.slice("file:".length)).split("?")[0];
  if (!path || path === ":memory:") return;
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
}

/**
 * WAL for the embedded file: readers no longer wait for the writer, and a commit is one append plus one
 * fsync of the log instead of journal-and-database syncs. `synchronous` stays FULL so an answered ping or
 * batch survives a power cut (DESIGN: acknowledge only what is committed).
 */
export async function tuneEmbeddedDb(db: Db, url: string): Promise<void> {
  if (!url.startsWith("file:")) return;
  await db.$client.execute("pragma journal_mode = wal");
  // No busy_timeout pragma: it would reach one pooled connection only; createDb sets it on every one.
}

/** What `credentials.json` holds; `shown` is false until the key has been printed (absent in older files). */
interface Credentials {
  server: string;
  project: string;
  projectId: string;
  pingKey: string;
  adminKey: string;
  shown?: boolean;
}

function saveCredentials(file: string, credentials: Credentials): void {
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

/** Credentials a start saved but never printed: this start just made them, or an earlier one died first. */
function credentialsToShow(file: string): Credentials | null {
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Credentials;
    return saved.shown === false && typeof saved.adminKey === "string" ? saved : null;
  } catch {
    return null;
  }
}

const urlOf = (host: string, port: number) => `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

export interface RunningServer {
  url: string;
  adminKey?: string;
  close(): Promise<void>;
}

/** How long stopping waits for the probe, a scheduler tick and open requests before cutting them off. */
export const STOP_GRACE_MS = 1500;

/**
 * Stops listening and closes idle keep-alive connections at once; requests still running (a log tail's
 * event stream never ends) get the grace, then their connections are closed.
 */
function closeHttp(server: ReturnType<typeof createAdaptorServer>, graceMs: number): Promise<void> {
  return new Promise<void>((done) => {
    const timer = setTimeout(() => {
      if ("closeAllConnections" in server) server.closeAllConnections();
    }, graceMs);
    server.close(() => {
      clearTimeout(timer);
      done();
    });
    if ("closeIdleConnections" in server) server.closeIdleConnections();
  });
}

export interface ServerOptions {
  migrationsFolder: string;
  /** the probe workspace: install.sh and dist/vigil-probe.mjs are served from it and run as the local probe */
  probeDir?: string;
  /** the dashboard's build (apps/web/dist), served at `/`; absent or unbuilt: API paths only */
  webDir?: string;
  clock?: Clock;
  log?: (line: string) => void;
  /** STOP_GRACE_MS unless a test wants another */
  stopGraceMs?: number;
}

/** Reads the probe's installer and bundle from disk on each request, so a rebuild needs no restart. */
function probeAssetsFrom(probeDir: string): ProbeAssets {
  const files: Record<ProbeAssetName, string> = {
    "install.sh": join(probeDir, "install.sh"),
    "vigil-probe.mjs": join(probeDir, "dist", "vigil-probe.mjs"),
  };
  return {
    read: (name) => readFile(files[name], "utf8").catch(() => null),
    // Only this machine's architecture is built (bun build --compile; cross-compiling needs a download).
    executable: async (arch) => {
      const path = join(probeDir, "dist", "vigil-probe");
      if (arch !== process.arch) return null;
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) return null;
      return { body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>, size: info.size };
    },
  };
}

export async function startServer(settings: ServerSettings, options: ServerOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const clock = options.clock ?? systemClock;
  ensureWritableDir(settings.dataDir);

  try {
    restrictEmbeddedDbFile(settings.dbUrl);
  } catch (err) {
    throw new StartupError(`cannot create the database at ${settings.dbUrl}: ${(err as Error).message}`);
  }
  const db = createDb({
    url: settings.dbUrl,
    authToken: settings.authToken,
    writers: new WriterGate({ max: settings.maxWriters }),
  });
  const credentialsFile = join(settings.dataDir, "credentials.json");
  let bootstrap: Awaited<ReturnType<typeof bootstrapProject>>;
  try {
    await migrateDb(db, options.migrationsFolder);
    await tuneEmbeddedDb(db, settings.dbUrl);
    bootstrap = await bootstrapProject(db, clock, settings.presetAdminKey);
    // Saved before anything else can fail (the port, the secret key, the local probe): the key exists only
    // here, so a first start that dies later must still leave it on disk for the next start to show.
    if (bootstrap.adminKey) {
      saveCredentials(credentialsFile, {
        server: urlOf(settings.host, settings.port),
        project: bootstrap.project.slug,
        projectId: bootstrap.project.id,
        pingKey: bootstrap.project.pingKey,
        adminKey: bootstrap.adminKey,
        shown: false,
      });
    }
  } catch (err) {
    closeDb(db);
    throw new StartupError(`cannot prepare the database at ${settings.dbUrl}: ${(err as Error).message}`);
  }

  const deps: AppDeps = {
    db,
    clock,
    config: {
      ...defaultConfig,
      allowPrivateTargets: settings.allowPrivateTargets,
      ...(settings.publicUrl ? { publicUrl: settings.publicUrl } : {}),
      secretKey: secretKeyFor(settings),
      signUpMode: settings.signUpMode,
      trustedOrigins: settings.trustedOrigins,
      limits: settings.limits,
      selfWatch: {
        ...defaultSelfWatch,
        schedulerInProcess: true,
        ...(settings.heartbeatUrl ? { heartbeatUrl: settings.heartbeatUrl } : {}),
        ...(settings.metricsToken ? { metricsToken: settings.metricsToken } : {}),
      },
    },
    runtime: createRuntime(clock.now()),
    // Connections are vetted again at connect time, by the address they go to (DNS rebinding).
    probes: nodeProbes({ allowPrivate: settings.allowPrivateTargets }),
    fetch: guardedFetch(settings.allowPrivateTargets),
    ...(settings.mail ? { mailer: mailerFor(settings.mail, smtpMailer) } : {}),
    gunzip: nodeGunzip,
    statusCache: memoryStatusCache(clock, defaultConfig.statusCacheTtlMs),
    ...(options.probeDir ? { probeAssets: probeAssetsFrom(options.probeDir) } : {}),
    clientAddress: nodeClientAddress(settings.trustProxy),
  };
  const webAssets = options.webDir ? webAssetsFrom(options.webDir) : null;
  if (webAssets) deps.webAssets = webAssets;
  // The app is made once the listen URL is known (port 0 picks one): account links and the origin that
  // signed-in writes must come from are that URL unless VIGIL_PUBLIC_URL names another.
  let app: ReturnType<typeof createApp> | undefined;
  // Unread request bodies are handled by createNodeServer (drained or Connection: close), not the adaptor.
  const server = createAdaptorServer({
    fetch: (request: Request, env: unknown) =>
      app ? app.fetch(request, env) : new Response("starting", { status: 503 }),
    createServer: createNodeServer,
    autoCleanupIncoming: false,
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      closeDb(db);
      fail(
        new StartupError(
          err.code === "EADDRINUSE"
            ? `port ${settings.port} on ${settings.host} is already in use; set VIGIL_PORT to a free port`
            : `cannot listen on ${settings.host}:${settings.port} (${err.code ?? err.message})`,
        ),
      );
    });
    server.listen(settings.port, settings.host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const url = urlOf(settings.host, port);
  // A wildcard address is not a place a browser can go; this machine can, as 127.0.0.1.
  const wildcard = ["0.0.0.0", "::", "[::]"].includes(settings.host);
  const siteUrl = settings.publicUrl ?? (wildcard ? `http://127.0.0.1:${port}` : url);
  deps.config = { ...deps.config, siteUrl };
  app = createApp(deps);

  // Links in alerts point at the listen URL unless the operator set VIGIL_PUBLIC_URL.
  const schedulerDeps: AppDeps = {
    ...deps,
    config: { ...deps.config, publicUrl: deps.config.publicUrl ?? url },
  };
  const stopTicking = startInterval(() => runWatchedTick(schedulerDeps, scheduledJobs), settings.tickMs);

  // credentials.json is complete before anything is logged, so automation that waits for the first line can read it.
  const unshown = credentialsToShow(credentialsFile);
  if (unshown) saveCredentials(credentialsFile, { ...unshown, server: url, shown: true });
  log(`Vigil is listening on ${url} (database ${settings.dbUrl})`);
  if (unshown) {
    log(`Project "${unshown.project}" has an admin API key for scripts in ${credentialsFile} (mode 0600).`);
  }
  // Until someone has an account, every start prints a fresh one-time link that creates the owner.
  const setupToken = await issueSetupToken(db, clock);
  if (setupToken) {
    log(
      [
        "",
        "Open this link to create the owner account (it works once):",
        "",
        `  ${setupUrl(siteUrl, setupToken)}`,
        "",
      ].join("\n"),
    );
  } else {
    log(`Sign in at ${siteUrl}/`);
  }
  if (options.webDir && !webAssets) {
    log(`The dashboard is not built (npm run build -w @vigil/web); serving the API only.`);
  }
  if (wildcard && !settings.publicUrl) {
    log(
      `Listening on every address: set VIGIL_PUBLIC_URL to the URL people open (sign-in checks the page's origin).`,
    );
  }

  const localProbe =
    settings.localProbe && options.probeDir
      ? await startLocalProbe({
          db,
          clock,
          projectId: bootstrap.project.id,
          serverUrl: url,
          stateDir: join(settings.dataDir, "probe"),
          bundle: join(options.probeDir, "dist", "vigil-probe.mjs"),
          log,
        })
      : null;
  if (localProbe && deps.runtime) deps.runtime.localProbe = localProbe.status;

  let closing: Promise<void> | null = null;
  const graceMs = options.stopGraceMs ?? STOP_GRACE_MS;
  return {
    url,
    ...(unshown ? { adminKey: unshown.adminKey } : {}),
    close: () => {
      // Everything stops at once, each within the grace, so Ctrl-C is done in about a second.
      closing ??= (async () => {
        await Promise.all([localProbe?.stop(graceMs), stopTicking(graceMs), closeHttp(server, graceMs)]);
        closeDb(db);
      })();
      return closing;
    },
  };
}
