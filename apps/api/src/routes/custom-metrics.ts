import {
  CUSTOM_METRIC_LIMITS,
  customQuerySchema,
  customSeriesListQuerySchema,
  metricsPushQuerySchema,
  metricsPushSchema,
} from "@vigil/contract";
import { ExpositionError, parseExposition, storedKind } from "@vigil/contract/exposition";
import { listCustomSeries, pushCustomMetrics, queryCustomMetric } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { seriesCaps } from "../limits.ts";
import { requireScope } from "../middleware/auth.ts";
import { parseJsonBody, readTextBody } from "../middleware/batch-body.ts";
import { RequestValidationError } from "../middleware/errors.ts";
import { parseInput, validate } from "../middleware/validate.ts";

/**
 * The text format's media types, and what `curl --data-binary @file` sends without a Content-Type (form
 * encoding, or none): the Pushgateway takes those as the text format too, and scripts written for it do.
 */
const TEXT_TYPES = ["text/plain", "application/openmetrics-text", "application/x-www-form-urlencoded", ""];

/**
 * The Prometheus text format (or OpenMetrics) as push input. A malformed line refuses the whole push with
 * its line number; NaN and ±Inf values are counted and left out (JSON answers cannot carry them, and a
 * summary with no observations exposes NaN quantiles as a matter of course).
 */
function samplesFromText(text: string, openMetrics: boolean) {
  let families: ReturnType<typeof parseExposition>;
  try {
    families = parseExposition(text, { openMetrics, maxSamples: CUSTOM_METRIC_LIMITS.pushSamples });
  } catch (err) {
    if (err instanceof ExpositionError)
      throw new RequestValidationError([{ path: "body", message: err.message }]);
    throw err;
  }
  const samples: unknown[] = [];
  let skipped = 0;
  for (const family of families) {
    const kind = storedKind(family.type);
    for (const s of family.samples) {
      if (!Number.isFinite(s.value)) {
        skipped++;
        continue;
      }
      samples.push({ name: s.name, labels: s.labels, value: s.value, ts: s.timestampMs, kind });
    }
  }
  return { samples, skipped };
}

/**
 * Custom metrics. `POST /` takes pushes (an ingest key; the Prometheus text format or JSON, gzip allowed,
 * at most 1 MiB inflated and 10,000 samples); `GET /` lists the project's series; `GET /query` reads one
 * metric over time as values, rates or quantiles.
 */
export const customMetricRoutes = new Hono<AppEnv>()
  .post("/", requireScope("ingest"), validate("query", metricsPushQuerySchema), async (c) => {
    const { db, clock, runtime, config } = c.var.deps;
    const { type, text } = await readTextBody(
      c,
      ["application/json", ...TEXT_TYPES],
      CUSTOM_METRIC_LIMITS.pushBodyBytes,
    );
    const query = c.req.valid("query");
    let push: { host?: string; job?: string; samples: unknown[] };
    let skipped = 0;
    if (type === "application/json") {
      push = parseJsonBody(text) as typeof push;
    } else {
      const parsed = samplesFromText(text, type === "application/openmetrics-text");
      push = { samples: parsed.samples };
      skipped = parsed.skipped;
      if (push.samples.length === 0) return c.json({ stored: 0, series: 0, created: 0, skipped });
    }
    const input = parseInput(metricsPushSchema, { ...push, ...query }, "body");
    const result = await pushCustomMetrics(
      db,
      clock,
      runtime.engine,
      c.var.principal.projectId,
      input,
      seriesCaps(config.limits),
    );
    return c.json({ ...result, skipped: result.skipped + skipped });
  })
  .get("/", requireScope("read"), validate("query", customSeriesListQuerySchema), async (c) => {
    return c.json(await listCustomSeries(c.var.deps.db, c.var.principal.projectId, c.req.valid("query")));
  })
  .get("/query", requireScope("read"), validate("query", customQuerySchema), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(await queryCustomMetric(db, clock, c.var.principal.projectId, c.req.valid("query")));
  });
