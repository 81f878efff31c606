import { createEventRequestSchema } from "@vigil/contract";
import { listEvents, recordEvent } from "@vigil/engine";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";

const listQuery = z.object({
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

/** Annotations such as deploy markers: written with an ingest key (a deploy hook), read with a read key. */
export const eventRoutes = new Hono<AppEnv>()
  .post("/", requireScope("ingest"), validate("json", createEventRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(await recordEvent(db, clock, c.var.principal.projectId, c.req.valid("json")), 201);
  })
  .get("/", requireScope("read"), validate("query", listQuery), async (c) => {
    return c.json({
      events: await listEvents(c.var.deps.db, c.var.principal.projectId, c.req.valid("query")),
    });
  });
