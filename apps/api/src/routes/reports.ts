import { buildWeeklyReport, ConflictError, sendWeeklyReport } from "@vigil/engine";
import { Hono } from "hono";
import { z } from "zod";
import { alertDeps } from "../alert-deps.ts";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";

const sendNowSchema = z
  .object({
    /** these addresses instead of the project's `reports.to` (a trial run to oneself) */
    to: z.array(z.email().max(254)).min(1).max(20).optional(),
  })
  .strict();

/** The weekly report: its content for the last 7 days as JSON, and a send-now to try the mail. */
export const reportRoutes = new Hono<AppEnv>()
  .get("/weekly", requireScope("read"), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(await buildWeeklyReport(db, c.var.principal.projectId, clock.now()));
  })
  .post("/weekly/send", requireScope("admin"), validate("json", sendNowSchema), async (c) => {
    const deps = alertDeps(c.var.deps, new URL(c.req.url).origin);
    if (!deps.mailer) {
      // The request is sound; the server is not set up for it (409: it never reads as a server fault).
      throw new ConflictError("this server sends no email: set VIGIL_SMTP_URL or VIGIL_EMAIL_API_URL");
    }
    const { to } = c.req.valid("json");
    const sent = await sendWeeklyReport(deps.db, deps.mailer, c.var.principal.projectId, deps.clock.now(), {
      dashboardUrl: deps.publicUrl,
      ...(to ? { to } : {}),
    });
    return c.json({ sent: true, ...sent });
  });
