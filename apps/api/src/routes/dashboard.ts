/**
 * The dashboard (apps/web) at `/` and every deep link: any GET the routes before this one did not take,
 * except under the API and the server's own paths, which keep their JSON 404. Hashed files under
 * /assets/ never change, so browsers may keep them for a year; index.html is revalidated every time.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

const serverPaths = /^\/(?:api|ping|status|probe|setup|install\.sh|healthz|metrics)(?:\/|$)/;

export const dashboardRoutes = new Hono<AppEnv>().get("*", async (c, next) => {
  const assets = c.var.deps.webAssets;
  if (!assets || serverPaths.test(c.req.path)) return next();
  const res = await assets.fetch(c.req.raw);
  const isAsset = c.req.path.startsWith("/assets/");
  // The Workers single-page fallback answers a missing file with index.html; a script tag must get a 404.
  if (isAsset && (!res.ok || res.headers.get("content-type")?.startsWith("text/html"))) return next();
  const headers = new Headers(res.headers);
  headers.set("Cache-Control", isAsset ? "public, max-age=31536000, immutable" : "no-cache");
  headers.set("X-Content-Type-Options", "nosniff");
  return new Response(res.body, { status: res.status, headers });
});
