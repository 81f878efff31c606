import { createEventRequestSchema, timeRangeQuerySchema } from "@vigil/contract";
import { listEvents, recordEvent } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";

/** Annotations such as deploy markers: written with an ingest key (a deploy hook), read with a read key. */
export const eventRoutes = new Hono<AppEnv>()
  .post("/", requireScope("ingest"), validate("json", createEventRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(await recordEvent(db, clock, c.var.principal.projectId, c.req.valid("json")), 201);
  })
  .get("/", requireScope("read"), validate("query", timeRangeQuerySchema), async (c) => {
    return c.json({
      events: await listEvents(c.var.deps.db, c.var.principal.projectId, c.req.valid("query")),
    });
  });
