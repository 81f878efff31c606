/**
 * The settings both entries read from their environment (the self-hosted server's process.env, the Worker's
 * bindings), parsed once here with zod: the same names, defaults and checks on both runtimes, and the same
 * choice of mailer. A value that does not parse is a problem: the self-hosted server refuses to start with
 * it (server.ts, one line), a Worker, which has no start to refuse, logs it and runs with that setting's
 * default (platform/worker-deps.ts). What only one entry has (port, data dir, tick, the Worker's bindings)
 * stays with that entry.
 */
import { DEFAULT_MAX_WRITERS } from "@vigil/db";
import type { SignUpMode } from "@vigil/engine";
import { httpMailer, type Mailer, parseSmtpUrl } from "@vigil/notify";
import { z } from "zod";
import { type Limits, limitsFromEnv } from "./limits.ts";

/** Alert email: SMTP (VIGIL_SMTP_URL) or an HTTP email API (VIGIL_EMAIL_API_URL + _KEY); SMTP wins. */
export interface MailSettings {
  smtpUrl?: string;
  apiUrl?: string;
  apiKey?: string;
  from: string;
}

export interface EnvSettings {
  /** VIGIL_PUBLIC_URL without a trailing slash: links in alerts, install.sh, the setup link */
  publicUrl?: string;
  /** VIGIL_ALLOW_PRIVATE_TARGETS=1: checks and webhooks may reach private, loopback and link-local addresses */
  allowPrivateTargets: boolean;
  /** VIGIL_TRUST_PROXY=1: a reverse proxy stands in front (self-hosted only; Workers have CF-Connecting-IP) */
  trustProxy: boolean;
  /** VIGIL_SIGNUP: open, invite (default) or closed */
  signUpMode: SignUpMode;
  /** VIGIL_TRUSTED_ORIGINS: comma-separated origins whose pages may call with a session cookie */
  trustedOrigins: string[];
  /** rate limits and caps (VIGIL_LIMIT_*, VIGIL_MAX_*; limits.ts) */
  limits: Limits;
  /** VIGIL_HEARTBEAT_URL: the dead-man switch pinged after healthy ticks */
  heartbeatUrl?: string;
  /** VIGIL_METRICS_TOKEN: bearer token for the self-metrics on /metrics */
  metricsToken?: string;
  /** VIGIL_SECRET_KEY: signs sessions and seals webhook secrets */
  secretKey?: string;
  mail?: MailSettings;
  /** LIBSQL_MAX_WRITERS: write calls in flight to a remote database (0: no cap; @vigil/db writers.ts) */
  maxWriters: number;
}

const DEFAULT_FROM = "Vigil <vigil@localhost>";

/** An empty variable counts as unset, as a shell's `VAR=` does. */
const optional = z.preprocess(
  (v) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined),
  z.string().optional(),
);

const flag = optional.transform((v) => ["1", "true", "yes"].includes((v ?? "").toLowerCase()));

/** A variable read by `read`, which throws a message (without the name) when the value will not do. */
function checked<T>(name: string, read: (value: string) => T) {
  return optional.transform((value, ctx): T | undefined => {
    if (value === undefined) return undefined;
    try {
      return read(value);
    } catch (err) {
      const message = (err as Error).message;
      ctx.addIssue({
        code: "custom",
        message: `${name}${message.startsWith(":") ? "" : " "}${message}`,
        input: value,
      });
      return z.NEVER;
    }
  });
}

function httpUrl(value: string): string {
  if (!/^https?:\/\/[^/]/.test(value)) throw new Error(`must be an http(s) URL, got "${value}"`);
  return value;
}

const envSchema = z
  .object({
    VIGIL_PUBLIC_URL: checked("VIGIL_PUBLIC_URL", (v) => httpUrl(v).replace(/\/+$/, "")),
    VIGIL_ALLOW_PRIVATE_TARGETS: flag,
    VIGIL_TRUST_PROXY: flag,
    VIGIL_SIGNUP: checked("VIGIL_SIGNUP", (v): SignUpMode => {
      const mode = v.toLowerCase();
      if (mode === "open" || mode === "invite" || mode === "closed") return mode;
      throw new Error(`must be open, invite or closed, got "${v}"`);
    }),
    VIGIL_TRUSTED_ORIGINS: checked("VIGIL_TRUSTED_ORIGINS", (v) =>
      v
        .split(",")
        .map((o) => o.trim())
        .filter(Boolean)
        .map((o) => {
          try {
            return new URL(o).origin;
          } catch {
            throw new Error(`holds "${o}", which is not a URL`);
          }
        }),
    ),
    VIGIL_HEARTBEAT_URL: checked("VIGIL_HEARTBEAT_URL", httpUrl),
    VIGIL_METRICS_TOKEN: optional,
    VIGIL_SECRET_KEY: optional,
    VIGIL_SMTP_URL: checked("VIGIL_SMTP_URL", (v) => {
      try {
        parseSmtpUrl(v);
      } catch (err) {
        // The URL may hold a password: a message shows it without the credentials.
        const shown = v.replace(/\/\/[^@]*@/, "//…@");
        throw new Error(err instanceof TypeError ? `is not a URL: ${shown}` : `: ${(err as Error).message}`);
      }
      return v;
    }),
    VIGIL_EMAIL_API_URL: checked("VIGIL_EMAIL_API_URL", httpUrl),
    VIGIL_EMAIL_API_KEY: optional,
    VIGIL_MAIL_FROM: optional,
    LIBSQL_MAX_WRITERS: checked("LIBSQL_MAX_WRITERS", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`must be a whole number (0: no cap), got "${v}"`);
      return n;
    }),
  })
  .superRefine((env, ctx) => {
    if (env.VIGIL_EMAIL_API_URL && !env.VIGIL_EMAIL_API_KEY) {
      ctx.addIssue({
        code: "custom",
        path: ["VIGIL_EMAIL_API_URL"],
        message: "VIGIL_EMAIL_API_URL needs VIGIL_EMAIL_API_KEY",
      });
    }
  });

type ParsedEnv = z.output<typeof envSchema>;

/**
 * Reads the shared settings. Every problem is named in `problems` (one line each, as the operator should
 * read it); the settings then hold that variable's default, as if it were unset.
 */
export function settingsFromEnvironment(env: Record<string, string | undefined>): {
  settings: EnvSettings;
  problems: string[];
} {
  const problems: string[] = [];
  let source: Record<string, string | undefined> = { ...env };
  let parsed = envSchema.safeParse(source);
  while (!parsed.success) {
    const bad = new Set<string>();
    for (const issue of parsed.error.issues) {
      problems.push(issue.message);
      bad.add(String(issue.path[0]));
    }
    if (![...bad].some((k) => k in source))
      throw new Error(`unparseable environment: ${problems.join("; ")}`);
    // Drop what did not parse and read again: the rest keeps its values, the bad ones their defaults.
    source = Object.fromEntries(Object.entries(source).filter(([k]) => !bad.has(k)));
    parsed = envSchema.safeParse(source);
  }
  const { limits, problems: limitProblems } = limitsFromEnv(env);
  problems.push(...limitProblems);
  return { settings: { ...fromParsed(parsed.data), limits }, problems };
}

function fromParsed(env: ParsedEnv): Omit<EnvSettings, "limits"> {
  const mail: MailSettings | undefined =
    env.VIGIL_SMTP_URL || env.VIGIL_EMAIL_API_URL
      ? {
          ...(env.VIGIL_SMTP_URL ? { smtpUrl: env.VIGIL_SMTP_URL } : {}),
          ...(env.VIGIL_EMAIL_API_URL && env.VIGIL_EMAIL_API_KEY
            ? { apiUrl: env.VIGIL_EMAIL_API_URL, apiKey: env.VIGIL_EMAIL_API_KEY }
            : {}),
          from: env.VIGIL_MAIL_FROM ?? DEFAULT_FROM,
        }
      : undefined;
  return {
    ...(env.VIGIL_PUBLIC_URL ? { publicUrl: env.VIGIL_PUBLIC_URL } : {}),
    allowPrivateTargets: env.VIGIL_ALLOW_PRIVATE_TARGETS,
    trustProxy: env.VIGIL_TRUST_PROXY,
    signUpMode: env.VIGIL_SIGNUP ?? "invite",
    maxWriters: env.LIBSQL_MAX_WRITERS ?? DEFAULT_MAX_WRITERS,
    trustedOrigins: env.VIGIL_TRUSTED_ORIGINS ?? [],
    ...(env.VIGIL_HEARTBEAT_URL ? { heartbeatUrl: env.VIGIL_HEARTBEAT_URL } : {}),
    ...(env.VIGIL_METRICS_TOKEN ? { metricsToken: env.VIGIL_METRICS_TOKEN } : {}),
    ...(env.VIGIL_SECRET_KEY ? { secretKey: env.VIGIL_SECRET_KEY } : {}),
    ...(mail ? { mail } : {}),
  };
}

/**
 * The mailer the settings ask for: SMTP through the runtime's own transport (nodemailer on Node, a
 * `cloudflare:sockets` client on Workers), else the HTTP email API, else none (email channels then refuse).
 */
export function mailerFor(
  mail: MailSettings | undefined,
  smtp: (options: { url: string; from: string }) => Mailer,
): Mailer | undefined {
  if (mail?.smtpUrl) return smtp({ url: mail.smtpUrl, from: mail.from });
  if (mail?.apiUrl && mail.apiKey) return httpMailer({ url: mail.apiUrl, key: mail.apiKey, from: mail.from });
  return undefined;
}
