import { ErrorCode } from "@vigil/contract";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { compress } from "hono/compress";
import { authProvider } from "./accounts.ts";
import { type AppDeps, withRuntime } from "./deps.ts";
import type { AppEnv, SessionUser } from "./env.ts";
import { auditWrites } from "./middleware/audit.ts";
import { errorResponse, notFound, onError } from "./middleware/errors.ts";
import { requestId } from "./middleware/request-id.ts";
import { meRoutes, orgRoutes, setupRoutes } from "./routes/accounts.ts";
import { alertRoutes } from "./routes/alerts.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { authHandlerRoutes } from "./routes/auth-handler.ts";
import { backupRoutes } from "./routes/backups.ts";
import { channelRoutes, deliveryRoutes } from "./routes/channels.ts";
import { checkRoutes } from "./routes/checks.ts";
import { customMetricRoutes } from "./routes/custom-metrics.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { enrollmentTokenRoutes } from "./routes/enrollment-tokens.ts";
import { eventRoutes } from "./routes/events.ts";
import { healthRoutes } from "./routes/health.ts";
import { hostRoutes } from "./routes/hosts.ts";
import { locationRoutes } from "./routes/locations.ts";
import { logRoutes } from "./routes/logs.ts";
import { prometheusRoutes } from "./routes/metrics.ts";
import { pingRoutes } from "./routes/ping.ts";
import { probeRoutes } from "./routes/probe.ts";
import { probeAssetRoutes } from "./routes/probe-assets.ts";
import { projectRoutes } from "./routes/projects.ts";
import { reportRoutes } from "./routes/reports.ts";
import { ruleRoutes } from "./routes/rules.ts";
import { runbookRoutes, runbookRunRoutes, runbookTemplateRoutes, secretRoutes } from "./routes/runbooks.ts";
import { setupPageRoutes } from "./routes/setup-page.tsx";
import { maintenanceWindowRoutes, silenceRoutes } from "./routes/silences.ts";
import { customDomainRoutes, statusJsonRoutes, statusRoutes } from "./routes/status.ts";
import { statusIncidentRoutes, statusMaintenanceRoutes, statusPageRoutes } from "./routes/status-pages.ts";
import { countRequests } from "./self/count-requests.ts";

export type { AppConfig, AppDeps, WebAssets } from "./deps.ts";
export { defaultConfig } from "./deps.ts";

/** Builds the one Hono app both runtimes serve. Holds no clients of its own: everything comes in `deps`. */
export function createApp(given: AppDeps) {
  const deps = withRuntime(given);
  const auth = authProvider(deps);
  const app = new Hono<AppEnv>();
  app.use(requestId);
  app.use(countRequests);
  app.use(async (c, next) => {
    c.set("deps", deps);
    c.set("auth", () => auth(c.req.raw));
    c.set("session", sessionOf(c.req.raw, auth));
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
  app.route("/api/auth", authHandlerRoutes);
  app.route("/api/v1/me", meRoutes);
  app.route("/api/v1/orgs", orgRoutes);
  app.route("/api/v1/setup", setupRoutes);
  app.route("/setup", setupPageRoutes);
  app.route("/api/v1/projects", projectRoutes);
  // Every project resource answers at two paths: /api/v1/<resource> for an API key's own project, and
  // /api/v1/projects/:projectId/<resource> for any project (the form signed-in people use).
  for (const [path, routes] of projectResources) {
    // Events and metric pushes are ingest, not changes of configuration: the audit log would drown.
    if (path !== "/events" && path !== "/metrics") {
      app.use(`/api/v1${path}/*`, auditWrites);
      app.use(`/api/v1/projects/:projectId${path}/*`, auditWrites);
    }
    app.route(`/api/v1${path}`, routes);
    app.route(`/api/v1/projects/:projectId${path}`, routes);
  }
  app.route("/api/v1/probe", probeRoutes);
  app.route("/", prometheusRoutes);
  app.route("/", probeAssetRoutes);
  app.route("/ping", pingRoutes);
  app.route("/api/v1/status", statusJsonRoutes);
  app.route("/status", statusRoutes);
  app.route("/", customDomainRoutes);
  // Last: every other GET outside the API and the server's own paths is the dashboard's.
  app.route("/", dashboardRoutes);

  app.notFound(notFound);
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;

const projectResources = [
  ["/api-keys", apiKeyRoutes],
  ["/enrollment-tokens", enrollmentTokenRoutes],
  ["/hosts", hostRoutes],
  ["/logs", logRoutes],
  ["/backups", backupRoutes],
  ["/events", eventRoutes],
  ["/checks", checkRoutes],
  ["/locations", locationRoutes],
  ["/secrets", secretRoutes],
  ["/runbooks", runbookRoutes],
  ["/runbook-runs", runbookRunRoutes],
  ["/runbook-templates", runbookTemplateRoutes],
  ["/channels", channelRoutes],
  ["/deliveries", deliveryRoutes],
  ["/rules", ruleRoutes],
  ["/alerts", alertRoutes],
  ["/silences", silenceRoutes],
  ["/maintenance-windows", maintenanceWindowRoutes],
  ["/status-pages", statusPageRoutes],
  ["/status-incidents", statusIncidentRoutes],
  ["/status-maintenance", statusMaintenanceRoutes],
  ["/reports", reportRoutes],
  ["/metrics", customMetricRoutes],
] as const;

/**
 * The request's session, looked up at most once and only when asked: most requests carry a key or no
 * cookie at all, and those never touch the session table.
 */
function sessionOf(request: Request, auth: ReturnType<typeof authProvider>) {
  let found: Promise<{ user: SessionUser } | null> | null = null;
  return () => {
    found ??= (async () => {
      if (!request.headers.get("cookie")?.includes("session_token")) return null;
      const session = await (await auth(request)).api.getSession({ headers: request.headers });
      return session ? { user: session.user } : null;
    })();
    return found;
  };
}
