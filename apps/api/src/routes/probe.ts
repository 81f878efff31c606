import { enrollRequestSchema, probeBatchV1Schema } from "@vigil/contract";
import { enrollHost, evaluateBatchRules, ingestBatch } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireHost } from "../middleware/auth.ts";
import { readBatchBody } from "../middleware/batch-body.ts";
import { parseInput, validate } from "../middleware/validate.ts";

/** What probes call. Enrollment authenticates with the token in the body; batches with the host token. */
export const probeRoutes = new Hono<AppEnv>()
  .post("/enroll", validate("json", enrollRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const { created, ...enrolled } = await enrollHost(db, clock, c.req.valid("json"));
    return c.json(enrolled, created ? 201 : 200);
  })
  .post("/batches", requireHost, async (c) => {
    const batch = parseInput(probeBatchV1Schema, await readBatchBody(c), "body");
    const { db, clock, seriesCache } = c.var.deps;
    const result = await ingestBatch(db, clock, c.var.host, batch, seriesCache);
    if (!result.duplicate) {
      // The batch is durable already: a failing rule evaluation is logged, and the tick's re-checks go on.
      await evaluateBatchRules(db, clock, c.var.host, { batch, ...result }).catch((err) =>
        console.error("rule evaluation failed", err),
      );
    }
    return c.json({
      batchId: result.batchId,
      accepted: true,
      duplicate: result.duplicate,
      stored: result.stored,
      config: result.config,
    });
  });
