import { randomUUID } from "node:crypto";
import { loadConfig } from "../config.ts";
import { runWrapped, TailBuffer } from "../platform/wrap-command.ts";
import { PROBE_VERSION } from "../version.ts";
import type { CommandContext } from "./context.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The server keeps the first 100 kB of a ping body; the tail of a job's output is what explains a failure. */
const OUTPUT_TAIL_BYTES = 10_000;

export function pingBaseUrl(server: string, check: string, pingKey: string | undefined): string {
  if (UUID.test(check)) return `${server}/ping/${check}`;
  if (!pingKey)
    throw new Error(
      `--check ${check} is a slug: set the ping key (--ping-key, VIGIL_PING_KEY or pingKey in the config)`,
    );
  return `${server}/ping/${encodeURIComponent(pingKey)}/${encodeURIComponent(check)}`;
}

/** A ping that fails must never fail the job: retried a few times, then reported on stderr. */
async function ping(ctx: CommandContext, url: string, body?: string): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const init: RequestInit = {
        method: "POST",
        headers: {
          "User-Agent": `vigil-probe/${PROBE_VERSION}`,
          "Content-Type": "text/plain; charset=utf-8",
        },
        signal: AbortSignal.timeout(10_000),
      };
      if (body !== undefined) init.body = body;
      const response = await ctx.fetch(url, init);
      await response.body?.cancel();
      if (response.ok) return;
      if (response.status < 500 && response.status !== 429) {
        ctx.err(`vigil-probe: ping ${new URL(url).pathname} answered HTTP ${response.status}\n`);
        return;
      }
    } catch (error) {
      if (attempt === 3) ctx.err(`vigil-probe: ping failed: ${(error as Error).message}\n`);
    }
    if (attempt < 3) await ctx.sleep(1_000 * attempt);
  }
}

/**
 * `exec --check SLUG -- cmd …`: start ping, run the command with its output passed through, then a ping
 * with the exit code (0 = success) and the output's tail. The run id ties the two so the server measures
 * the duration. Exits with the command's own exit code.
 */
export async function execCommand(ctx: CommandContext): Promise<number> {
  const check = ctx.flags.check;
  if (typeof check !== "string" || ctx.rest.length === 0) {
    ctx.err("usage: vigil-probe exec --check SLUG|UUID [--create] -- command [args…]\n");
    return 2;
  }
  const { config } = await loadConfig(ctx.flags, ctx.env);
  let base: string | undefined;
  try {
    if (!config.server) throw new Error("no server: pass --server URL or set VIGIL_SERVER");
    base = pingBaseUrl(config.server, check, config.pingKey);
  } catch (error) {
    // Still run the job: a monitoring misconfiguration must not stop the backup or cron task itself.
    ctx.err(`vigil-probe: ${(error as Error).message}; running without heartbeats\n`);
  }
  const query = `?rid=${randomUUID()}${ctx.flags.create === true ? "&create=1" : ""}`;
  if (base) await ping(ctx, `${base}/start${query}`);
  const output = new TailBuffer(OUTPUT_TAIL_BYTES);
  const run = await runWrapped(ctx.rest, {
    ...ctx.passThrough,
    env: ctx.env,
    onStdout: (c) => output.push(c),
    onStderr: (c) => output.push(c),
  });
  if (run.spawnError) {
    const message = `vigil-probe: cannot run ${ctx.rest[0]}: ${run.spawnError.message}\n`;
    ctx.err(message);
    output.push(Buffer.from(message));
  }
  if (base) await ping(ctx, `${base}/${run.exitCode}${query}`, output.toString());
  return run.exitCode;
}
