import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Counts every answer by route pattern (`/api/v1/checks/:id`, never the concrete path, so the series stay
 * few), method and status. A thrown error has become its answer by the time `next` returns.
 */
export const countRequests = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const metrics = c.var.deps?.runtime?.metrics;
  if (!metrics) return;
  const route = c.res.status === 404 && c.req.routePath === "/*" ? "unmatched" : c.req.routePath;
  metrics.count("vigil_http_requests_total", {
    route,
    method: METHODS.has(c.req.method) ? c.req.method : "other",
    status: String(c.res.status),
  });
});
