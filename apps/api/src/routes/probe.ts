import {
  enrollRequestSchema,
  PROBE_BATCH_LIMITS,
  type ProbeRemoteConfig,
  probeBatchV1Schema,
} from "@vigil/contract";
import {
  checkAssignments,
  commandsForHost,
  enrollHost,
  evaluateBatchRules,
  hostLocation,
  ingestBatch,
  recordCheckResults,
  recordCommandResults,
} from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { queueBatch } from "../ingest-queue.ts";
import { enforceCap, enforceRate, limitedAddress, seriesCaps } from "../limits.ts";
import { freshHost, requireHost } from "../middleware/auth.ts";
import { readBatchBody } from "../middleware/batch-body.ts";
import { parseInput, validate } from "../middleware/validate.ts";
import { runbookEnv } from "./runbooks.ts";

/** What probes call. Enrollment authenticates with the token in the body; batches with the host token. */
export const probeRoutes = new Hono<AppEnv>()
  .post("/enroll", validate("json", enrollRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const input = c.req.valid("json");
    // Counted before the token is checked, so guessing tokens is limited too (per address; per token by
    // its visible prefix "vgl_enr_" + 12 characters, which is all an unverified token can be keyed by).
    const address = limitedAddress(c);
    if (address) await enforceRate(c, "enrollPerAddress", address, { exact: true });
    await enforceRate(c, "enrollPerToken", input.token.slice(0, 20), { exact: true });
    const { created, ...enrolled } = await enrollHost(db, clock, input, {
      beforeCreate: (projectId) => enforceCap(c, "maxHosts", projectId),
    });
    return c.json(enrolled, created ? 201 : 200);
  })
  .post("/batches", requireHost, async (c) => {
    const batch = parseInput(probeBatchV1Schema, await readBatchBody(c), "body");
    const { db, clock, runtime, ingestQueue, config } = c.var.deps;
    // Check results are weighed before the rest is stored or queued, so a location's verdict is prompt;
    // they are keyed by check, location and start, so doing it again for a batch sent again is harmless.
    const location = hostLocation(c.var.host.row.facts, batch.facts);
    if (location && batch.checkResults.length > 0) {
      await recordCheckResults(
        db,
        runtime.engine,
        c.var.host.projectId,
        location.name,
        batch.checkResults,
        clock.now(),
      );
    }
    const assignments = await checkAssignments(
      db,
      c.var.host.projectId,
      location,
      PROBE_BATCH_LIMITS.checkAssignments,
    );
    // Runbook commands: what the probe ran is stored (after the batch's state, where there is one, so the
    // next step shows the host as it is now), then what it should run next is handed out.
    const runbooks = runbookEnv(c);
    const withChecks = async <T extends { config: ProbeRemoteConfig }>(answer: T): Promise<T> => {
      await recordCommandResults(runbooks, c.var.host, batch.commandResults);
      const commands = await commandsForHost(runbooks, c.var.host, batch.facts ?? c.var.host.row.facts);
      return {
        ...answer,
        config: {
          ...answer.config,
          ...(assignments ? { checks: assignments } : {}),
          ...(commands ? { commands } : {}),
        },
      };
    };
    const queued = ingestQueue ? await queueBatch(ingestQueue, clock.now(), c.var.host, batch) : null;
    if (queued) {
      runtime.metrics.count("vigil_probe_batches_total", { result: "queued" });
      return c.json(await withChecks(queued), 202);
    }
    const host = await freshHost(c);
    const result = await ingestBatch(db, clock, host, batch, runtime.engine, seriesCaps(config.limits));
    runtime.metrics.count("vigil_probe_batches_total", {
      result: result.duplicate ? "duplicate" : "stored",
    });
    if (!result.duplicate) {
      // The batch is durable already: a failing rule evaluation is logged, and the tick's re-checks go on.
      await evaluateBatchRules(db, clock, runtime.engine, host, { batch, ...result }).catch((err) =>
        console.error("rule evaluation failed", err),
      );
    }
    return c.json(
      await withChecks({
        batchId: result.batchId,
        accepted: true,
        duplicate: result.duplicate,
        stored: result.stored,
        config: result.config,
        ...(result.refused.length > 0 ? { refused: result.refused.slice(0, 20) } : {}),
      }),
    );
  });
