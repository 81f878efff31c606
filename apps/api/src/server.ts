/**
 * The self-hosted server: one Node process on an embedded libSQL file (or any libSQL URL).
 * 1. Resolve settings from the environment and make sure the data dir is writable.
 * 2. Open the database and apply migrations.
 * 3. On an empty database create project `default` with an admin key, print it once, save credentials.
 * 4. Serve the app and tick the scheduler until SIGINT/SIGTERM.
 */
import { randomBytes } from "node:crypto";
import {
  accessSync,
  constants,
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { createAdaptorServer } from "@hono/node-server";
import { closeDb, createDb, type Db, secretPrefix } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import {
  bootstrapProject,
  type Clock,
  issueSetupToken,
  type SignUpMode,
  setupUrl,
  systemClock,
} from "@vigil/engine";
import { guardedFetch, nodeProbes } from "@vigil/engine/node";
import { httpMailer, type Mailer } from "@vigil/notify";
import { smtpMailer, smtpTransportOptions } from "@vigil/notify/node";
import { createApp, defaultConfig } from "./app.ts";
import type { AppDeps, ProbeAssetName, ProbeAssets } from "./deps.ts";
import { startLocalProbe } from "./local-probe.ts";
import { nodeGunzip } from "./platform/node-gunzip.ts";
import { webAssetsFrom } from "./platform/web-assets.ts";
import { runScheduledJobs, scheduledJobs, startInterval } from "./scheduler.ts";
import { memoryStatusCache } from "./status/memory-cache.ts";

export interface ServerSettings {
  host: string;
  port: number;
  dataDir: string;
  dbUrl: string;
  authToken?: string;
  presetAdminKey?: string;
  tickMs: number;
  /** run a probe for this machine (VIGIL_LOCAL_PROBE, on unless "0") */
  localProbe: boolean;
  publicUrl?: string;
  /** let active checks reach private, loopback and link-local addresses (VIGIL_ALLOW_PRIVATE_TARGETS=1) */
  allowPrivateTargets: boolean;
  /** alert email: VIGIL_SMTP_URL (smtp://user:pass@host:587) or VIGIL_EMAIL_API_URL + VIGIL_EMAIL_API_KEY */
  mail?: { smtpUrl?: string; apiUrl?: string; apiKey?: string; from: string };
  /** VIGIL_SECRET_KEY; when unset, one is made on first start and kept in the data dir */
  secretKey?: string;
  /** VIGIL_SIGNUP: open, invite (default) or closed */
  signUpMode: SignUpMode;
  /** VIGIL_TRUSTED_ORIGINS: comma-separated origins whose pages may call with a session cookie */
  trustedOrigins: string[];
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
  return {
    host: env.VIGIL_HOST ?? "127.0.0.1",
    port,
    dataDir,
    dbUrl: env.VIGIL_DB_URL ?? `file:${join(dataDir, "vigil.db")}`,
    authToken: env.LIBSQL_AUTH_TOKEN || undefined,
    presetAdminKey,
    tickMs: Number(env.VIGIL_TICK_MS ?? 5000),
    localProbe: env.VIGIL_LOCAL_PROBE !== "0",
    publicUrl: env.VIGIL_PUBLIC_URL?.replace(/\/+$/, "") || undefined,
    allowPrivateTargets: ["1", "true", "yes"].includes((env.VIGIL_ALLOW_PRIVATE_TARGETS ?? "").toLowerCase()),
    ...mailFromEnv(env),
    ...(env.VIGIL_SECRET_KEY ? { secretKey: env.VIGIL_SECRET_KEY } : {}),
    signUpMode: signUpModeFrom(env.VIGIL_SIGNUP),
    trustedOrigins: originsFrom(env.VIGIL_TRUSTED_ORIGINS),
  };
}

export function signUpModeFrom(value: string | undefined): SignUpMode {
  const mode = (value ?? "invite").trim().toLowerCase();
  if (mode !== "open" && mode !== "invite" && mode !== "closed") {
    throw new StartupError(`VIGIL_SIGNUP must be open, invite or closed, got "${value}"`);
  }
  return mode;
}

export function originsFrom(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => {
      try {
        return new URL(o).origin;
      } catch {
        throw new StartupError(`VIGIL_TRUSTED_ORIGINS holds "${o}", which is not a URL`);
      }
    });
}

function mailFromEnv(env: NodeJS.ProcessEnv): Pick<ServerSettings, "mail"> {
  const smtpUrl = env.VIGIL_SMTP_URL || undefined;
  const apiUrl = env.VIGIL_EMAIL_API_URL || undefined;
  if (!smtpUrl && !apiUrl) return {};
  if (smtpUrl) {
    try {
      smtpTransportOptions(smtpUrl);
    } catch (err) {
      throw new StartupError((err as Error).message);
    }
  }
  if (apiUrl && !env.VIGIL_EMAIL_API_KEY)
    throw new StartupError("VIGIL_EMAIL_API_URL needs VIGIL_EMAIL_API_KEY");
  return {
    mail: {
      ...(smtpUrl ? { smtpUrl } : {}),
      ...(apiUrl ? { apiUrl, apiKey: env.VIGIL_EMAIL_API_KEY } : {}),
      from: env.VIGIL_MAIL_FROM || "Vigil <vigil@localhost>",
    },
  };
}

function mailerFor(mail: ServerSettings["mail"]): Mailer | undefined {
  if (mail?.smtpUrl) return smtpMailer({ url: mail.smtpUrl, from: mail.from });
  if (mail?.apiUrl && mail.apiKey) return httpMailer({ url: mail.apiUrl, key: mail.apiKey, from: mail.from });
  return undefined;
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

function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new StartupError(
      `data directory ${dir} is not writable (${code}); set VIGIL_DATA_DIR to a writable directory`,
    );
  }
}

/**
 * WAL for the embedded file: readers no longer wait for the writer, and a commit is one append plus one
 * fsync of the log instead of journal-and-database syncs. `synchronous` stays FULL so an answered ping or
 * batch survives a power cut (DESIGN: acknowledge only what is committed).
 */
export async function tuneEmbeddedDb(db: Db, url: string): Promise<void> {
  if (!url.startsWith("file:")) return;
  await db.$client.execute("pragma journal_mode = wal");
  await db.$client.execute("pragma busy_timeout = 5000");
}

export interface RunningServer {
  url: string;
  adminKey?: string;
  close(): Promise<void>;
}

export interface ServerOptions {
  migrationsFolder: string;
  /** the probe workspace: install.sh and dist/vigil-probe.mjs are served from it and run as the local probe */
  probeDir?: string;
  /** the dashboard's build (apps/web/dist), served at `/`; absent or unbuilt: API paths only */
  webDir?: string;
  clock?: Clock;
  log?: (line: string) => void;
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

  const db = createDb({ url: settings.dbUrl, authToken: settings.authToken });
  let bootstrap: Awaited<ReturnType<typeof bootstrapProject>>;
  try {
    await migrateDb(db, options.migrationsFolder);
    await tuneEmbeddedDb(db, settings.dbUrl);
    bootstrap = await bootstrapProject(db, clock, settings.presetAdminKey);
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
    },
    // Connections are vetted again at connect time, by the address they go to (DNS rebinding).
    probes: nodeProbes({ allowPrivate: settings.allowPrivateTargets }),
    fetch: guardedFetch(settings.allowPrivateTargets),
    ...(settings.mail ? { mailer: mailerFor(settings.mail) } : {}),
    gunzip: nodeGunzip,
    statusCache: memoryStatusCache(clock, defaultConfig.statusCacheTtlMs),
    ...(options.probeDir ? { probeAssets: probeAssetsFrom(options.probeDir) } : {}),
  };
  const webAssets = options.webDir ? webAssetsFrom(options.webDir) : null;
  if (webAssets) deps.webAssets = webAssets;
  // The app is made once the listen URL is known (port 0 picks one): account links and the origin that
  // signed-in writes must come from are that URL unless VIGIL_PUBLIC_URL names another.
  let app: ReturnType<typeof createApp> | undefined;
  const server = createAdaptorServer({
    fetch: (request: Request, env: unknown) =>
      app ? app.fetch(request, env) : new Response("starting", { status: 503 }),
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
  const url = `http://${settings.host.includes(":") ? `[${settings.host}]` : settings.host}:${port}`;
  // A wildcard address is not a place a browser can go; this machine can, as 127.0.0.1.
  const wildcard = ["0.0.0.0", "::", "[::]"].includes(settings.host);
  const siteUrl = settings.publicUrl ?? (wildcard ? `http://127.0.0.1:${port}` : url);
  deps.config = { ...deps.config, siteUrl };
  app = createApp(deps);

  const lastRun = new Map<string, number>();
  // Links in alerts point at the listen URL unless the operator set VIGIL_PUBLIC_URL.
  const schedulerDeps: AppDeps = {
    ...deps,
    config: { ...deps.config, publicUrl: deps.config.publicUrl ?? url },
  };
  const stopTicking = startInterval(
    () => runScheduledJobs(schedulerDeps, scheduledJobs, lastRun),
    settings.tickMs,
  );

  // credentials.json is written before anything is logged, so automation that waits for the first line can read it.
  const credentialsFile = join(settings.dataDir, "credentials.json");
  if (bootstrap.adminKey) {
    const credentials = {
      server: url,
      project: bootstrap.project.slug,
      projectId: bootstrap.project.id,
      pingKey: bootstrap.project.pingKey,
      adminKey: bootstrap.adminKey,
    };
    writeFileSync(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  }
  log(`Vigil is listening on ${url} (database ${settings.dbUrl})`);
  if (bootstrap.adminKey) {
    log(
      `Created project "${bootstrap.project.slug}"; its admin API key is in ${credentialsFile} (mode 0600).`,
    );
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

  let closing: Promise<void> | null = null;
  return {
    url,
    ...(bootstrap.adminKey ? { adminKey: bootstrap.adminKey } : {}),
    close: () => {
      closing ??= (async () => {
        await localProbe?.stop();
        await stopTicking();
        await new Promise<void>((done) => {
          server.close(() => done());
          // Idle keep-alive connections would hold close() open; nothing new arrives once we stop listening.
          if ("closeIdleConnections" in server) server.closeIdleConnections();
        });
        closeDb(db);
      })();
      return closing;
    },
  };
}
