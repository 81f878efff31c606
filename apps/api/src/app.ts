import { ErrorCode } from "@vigil/contract";
import { SeriesCache } from "@vigil/engine";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { compress } from "hono/compress";
import type { AppDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { errorResponse, notFound, onError } from "./middleware/errors.ts";
import { requestId } from "./middleware/request-id.ts";
import { alertRoutes } from "./routes/alerts.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { channelRoutes, deliveryRoutes } from "./routes/channels.ts";
import { checkRoutes } from "./routes/checks.ts";
import { enrollmentTokenRoutes } from "./routes/enrollment-tokens.ts";
import { eventRoutes } from "./routes/events.ts";
import { healthRoutes } from "./routes/health.ts";
import { hostRoutes } from "./routes/hosts.ts";
import { logRoutes } from "./routes/logs.ts";
import { prometheusRoutes } from "./routes/metrics.ts";
import { pingRoutes } from "./routes/ping.ts";
import { probeRoutes } from "./routes/probe.ts";
import { probeAssetRoutes } from "./routes/probe-assets.ts";
import { projectRoutes } from "./routes/projects.ts";
import { ruleRoutes } from "./routes/rules.ts";
import { maintenanceWindowRoutes, silenceRoutes } from "./routes/silences.ts";
import { customDomainRoutes, statusJsonRoutes, statusRoutes } from "./routes/status.ts";
import { statusIncidentRoutes, statusMaintenanceRoutes, statusPageRoutes } from "./routes/status-pages.ts";

export type { AppConfig, AppDeps } from "./deps.ts";
export { defaultConfig } from "./deps.ts";

/** Builds the one Hono app both runtimes serve. Holds no clients of its own: everything comes in `deps`. */
export function createApp(given: AppDeps) {
  const deps: AppDeps = { ...given, seriesCache: given.seriesCache ?? new SeriesCache() };
  const app = new Hono<AppEnv>();
  app.use(requestId);
  app.use(async (c, next) => {
    c.set("deps", deps);
    await next();
  });
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: deps.config.maxJsonBodyBytes,
      onError: (c) =>
        errorResponse(
          c,
          413,
          ErrorCode.payloadTooLarge,
          `request body over ${deps.config.maxJsonBodyBytes} bytes`,
        ),
    }),
  );

  // Status pages are the large public bodies (hundreds of kB of bars and days); gzip takes them to a tenth for a
  // phone on a poor link. Cloudflare would compress at its edge anyway; the self-hosted server does it here.
  for (const path of ["/", "/status/*", "/api/v1/status/*"]) app.use(path, compress());

  app.route("/", healthRoutes);
  app.route("/api/v1/projects", projectRoutes);
  app.route("/api/v1/api-keys", apiKeyRoutes);
  app.route("/api/v1/enrollment-tokens", enrollmentTokenRoutes);
  app.route("/api/v1/probe", probeRoutes);
  app.route("/api/v1/hosts", hostRoutes);
  app.route("/api/v1/logs", logRoutes);
  app.route("/api/v1/events", eventRoutes);
  app.route("/", prometheusRoutes);
  app.route("/", probeAssetRoutes);
  app.route("/api/v1/checks", checkRoutes);
  app.route("/api/v1/channels", channelRoutes);
  app.route("/api/v1/deliveries", deliveryRoutes);
  app.route("/api/v1/rules", ruleRoutes);
  app.route("/api/v1/alerts", alertRoutes);
  app.route("/api/v1/silences", silenceRoutes);
  app.route("/api/v1/maintenance-windows", maintenanceWindowRoutes);
  app.route("/ping", pingRoutes);
  app.route("/api/v1/status-pages", statusPageRoutes);
  app.route("/api/v1/status-incidents", statusIncidentRoutes);
  app.route("/api/v1/status-maintenance", statusMaintenanceRoutes);
  app.route("/api/v1/status", statusJsonRoutes);
  app.route("/status", statusRoutes);
  app.route("/", customDomainRoutes);

  app.notFound(notFound);
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;
