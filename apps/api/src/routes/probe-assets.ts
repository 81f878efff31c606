import { ErrorCode } from "@vigil/contract";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { errorResponse } from "../middleware/errors.ts";

/** The installer names this server as its default, so `curl …/install.sh | sudo sh -s -- --token T` is enough. */
const SERVER_LINE = 'DEFAULT_SERVER="__VIGIL_SERVER__"';

export const probeAssetRoutes = new Hono<AppEnv>()
  .get("/install.sh", async (c) => {
    const script = (await c.var.deps.probeAssets?.read("install.sh")) ?? null;
    if (script === null) return notBuilt(c);
    const origin = c.var.deps.config.publicUrl ?? new URL(c.req.url).origin;
    c.header("Content-Type", "text/x-shellscript; charset=utf-8");
    c.header("Cache-Control", "no-cache");
    return c.body(script.replace(SERVER_LINE, `DEFAULT_SERVER="${origin.replace(/["$`\\]/g, "")}"`));
  })
  .get("/probe/:name{vigil-probe-linux-(?:x64|arm64)}", async (c) => {
    // For hosts without Node ≥ 20: the probe compiled with Bun into one executable.
    const arch = c.req.param("name").slice("vigil-probe-linux-".length);
    const file = await c.var.deps.probeAssets?.executable?.(arch);
    if (!file) return notBuilt(c);
    c.header("Content-Type", "application/octet-stream");
    c.header("Content-Length", String(file.size));
    c.header("Cache-Control", "no-cache");
    return c.body(file.body);
  })
  .get("/probe/vigil-probe.mjs", async (c) => {
    const bundle = (await c.var.deps.probeAssets?.read("vigil-probe.mjs")) ?? null;
    if (bundle === null) return notBuilt(c);
    c.header("Content-Type", "text/javascript; charset=utf-8");
    c.header("Cache-Control", "no-cache");
    return c.body(bundle);
  });

const notBuilt = (c: Parameters<typeof errorResponse>[0]) =>
  errorResponse(
    c,
    404,
    ErrorCode.notFound,
    "the probe is not built on this server (npm run build -w @vigil/probe)",
  );
