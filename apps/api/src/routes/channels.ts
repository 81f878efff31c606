import {
  type ChannelTestResult,
  createChannelRequestSchema,
  deliveryLogQuerySchema,
  updateChannelRequestSchema,
} from "@vigil/contract";
import {
  type ChannelEnvironment,
  createChannel,
  deleteChannel,
  deliveryLog,
  findChannel,
  listChannels,
  sendTestNotification,
  toChannel,
  updateChannel,
} from "@vigil/engine";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { alertDeps } from "../alert-deps.ts";
import type { AppEnv } from "../env.ts";
import { enforceCap } from "../limits.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";

const idParam = z.object({ id: z.uuid() });

/** What this server can do for channels, from its settings and runtime. */
function channelEnvironment(c: Context<AppEnv>): ChannelEnvironment {
  const { config, mailer, probes } = c.var.deps;
  return {
    serverKey: config.secretKey,
    mailer: mailer !== undefined,
    allowPrivateTargets: config.allowPrivateTargets,
    ...(probes?.resolve ? { resolve: probes.resolve } : {}),
  };
}

/** Notification channels of the key's project (admin scope: they hold addresses and webhook URLs). */
export const channelRoutes = new Hono<AppEnv>()
  .use(requireScope("write"))
  .post("/", validate("json", createChannelRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const { projectId } = c.var.principal;
    await enforceCap(c, "maxChannels", projectId);
    const row = await createChannel(db, clock, projectId, c.req.valid("json"), channelEnvironment(c));
    return c.json(toChannel(row), 201);
  })
  .get("/", async (c) => {
    const rows = await listChannels(c.var.deps.db, c.var.principal.projectId);
    return c.json({ channels: rows.map(toChannel) });
  })
  .get("/:id", validate("param", idParam), async (c) => {
    const row = await findChannel(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id);
    return c.json(toChannel(row));
  })
  .patch("/:id", validate("param", idParam), validate("json", updateChannelRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const { projectId } = c.var.principal;
    const id = c.req.valid("param").id;
    const row = await updateChannel(db, clock, projectId, id, c.req.valid("json"), channelEnvironment(c));
    return c.json(toChannel(row));
  })
  .delete("/:id", validate("param", idParam), async (c) => {
    await deleteChannel(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id);
    return c.body(null, 204);
  })
  // Sends now and answers with the outcome; the attempt is in the delivery log like any other.
  .post("/:id/test", validate("param", idParam), async (c) => {
    const channel = await findChannel(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id);
    const result = await sendTestNotification(alertDeps(c.var.deps, new URL(c.req.url).origin), channel);
    return c.json<ChannelTestResult>({
      deliveryId: result.deliveryId,
      sent: result.state === "sent",
      outcome: result.attempt.outcome,
      status: result.attempt.status,
      error: result.attempt.error,
      latencyMs: result.attempt.latencyMs,
    });
  });

/** The delivery log: `?channelId=` for one channel, `?incidentId=` for one incident, newest first. */
export const deliveryRoutes = new Hono<AppEnv>().get(
  "/",
  requireScope("read"),
  validate("query", deliveryLogQuerySchema),
  async (c) => {
    const entries = await deliveryLog(c.var.deps.db, c.var.principal.projectId, c.req.valid("query"));
    return c.json({ entries });
  },
);
