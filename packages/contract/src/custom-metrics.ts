/**
 * Custom metrics on the REST API: pushing them (`POST /api/v1/metrics`, the Prometheus text format or this
 * JSON form), listing what a project holds, and querying a series as values, rates or quantiles.
 */
import { z } from "zod";
import { epochMs, timeQueryParam, wireTime } from "./common.ts";
import { CUSTOM_METRIC_LIMITS } from "./limits.ts";
import { customLabelsSchema, customMetricKinds, customMetricNameSchema } from "./probe.ts";

const hostRefParam = z
  .string()
  .min(1)
  .max(253)
  .describe("a host's id or name in the project; absent: the series belong to the project alone");
const jobParam = z
  .string()
  .min(1)
  .max(CUSTOM_METRIC_LIMITS.labelValue)
  .describe("added to every sample as the label job, as a Pushgateway grouping key would be");

/** `?host=…&job=…` on a push; a JSON body may carry the same fields (the query string wins). */
export const metricsPushQuerySchema = z.object({ host: hostRefParam.optional(), job: jobParam.optional() });
export type MetricsPushQuery = z.infer<typeof metricsPushQuerySchema>;

export const metricsPushSchema = z.object({
  host: hostRefParam.optional(),
  job: jobParam.optional(),
  samples: z
    .array(
      z.object({
        name: customMetricNameSchema,
        labels: customLabelsSchema.default({}),
        value: z.number().describe("finite; JSON has no NaN or Inf"),
        ts: wireTime.optional().describe("when it was measured; absent: when the push arrived"),
        kind: z.enum(customMetricKinds).default("gauge"),
      }),
    )
    .min(1)
    .max(CUSTOM_METRIC_LIMITS.pushSamples),
});
export type MetricsPush = z.infer<typeof metricsPushSchema>;

export const metricsPushResponseSchema = z.object({
  stored: z.number().int().describe("samples stored"),
  series: z.number().int().describe("distinct series they belong to"),
  created: z.number().int().describe("series seen for the first time"),
  skipped: z.number().int().describe("samples with a NaN or infinite value, which are not stored"),
});
export type MetricsPushResponse = z.infer<typeof metricsPushResponseSchema>;

/** `GET /api/v1/metrics`: the project's custom series, newest value each. */
export const customSeriesListQuerySchema = z.object({
  host: hostRefParam.optional(),
  /** only series whose name starts with this */
  prefix: z.string().max(CUSTOM_METRIC_LIMITS.name).optional(),
  limit: z.coerce.number().int().min(1).max(5_000).default(1_000),
});
export type CustomSeriesListQuery = z.infer<typeof customSeriesListQuerySchema>;

export const customSeriesSchema = z.object({
  name: z.string(),
  kind: z.enum(customMetricKinds),
  labels: z.record(z.string(), z.string()),
  hostId: z.string().nullable(),
  lastTs: epochMs.nullable(),
  lastValue: z.number().nullable(),
});
export type CustomSeries = z.infer<typeof customSeriesSchema>;
export const customSeriesListSchema = z.object({
  series: z.array(customSeriesSchema),
  /** true when there are more than `limit` */
  truncated: z.boolean(),
});
export type CustomSeriesList = z.infer<typeof customSeriesListSchema>;

/** A span in a query string, in whole seconds up to 30 days (a step, a rate's window). */
const seconds30Days = z.coerce
  .number()
  .int()
  .min(1)
  .max(86_400 * 30);

export const customQueryFunctions = ["value", "rate", "increase", "quantile"] as const;

/**
 * `GET /api/v1/metrics/query`: one metric over time.
 * - `value`: the stored values (avg/min/max per step), any kind;
 * - `rate` / `increase`: a counter per second / per step, counter restarts handled as Prometheus does;
 * - `quantile`: `q` of a histogram (name the family, e.g. `latency_seconds`; its `_bucket` series are read).
 * `match` keeps series whose labels equal the given ones: `match=job:app,route:/checkout`.
 */
export const customQuerySchema = z.object({
  name: customMetricNameSchema,
  host: hostRefParam.optional(),
  match: z
    .string()
    .max(2_000)
    .optional()
    .transform((raw, ctx) => {
      if (!raw) return {};
      const out: Record<string, string> = {};
      for (const pair of raw.split(",")) {
        const at = pair.indexOf(":");
        if (at <= 0) {
          ctx.addIssue({ code: "custom", message: `expected label:value pairs, got "${pair}"` });
          return z.NEVER;
        }
        out[pair.slice(0, at)] = pair.slice(at + 1);
      }
      return out;
    }),
  fn: z.enum(customQueryFunctions).default("value"),
  q: z.coerce.number().min(0).max(1).optional(),
  /** seconds each rate (and quantile) looks back, as in `rate(x[5m])`; default the larger of 5 min and the step */
  window: seconds30Days.optional(),
  from: timeQueryParam.optional(),
  to: timeQueryParam.optional(),
  step: seconds30Days.optional(),
});
export type CustomQuery = z.infer<typeof customQuerySchema>;

export const customQueryResponseSchema = z.object({
  name: z.string(),
  fn: z.enum(customQueryFunctions),
  from: epochMs,
  to: epochMs,
  stepSec: z.number().int(),
  resolution: z.enum(["raw", "hour", "day"]),
  series: z.array(
    z.object({
      labels: z.record(z.string(), z.string()),
      hostId: z.string().nullable(),
      /** `value` gives avg/min/max per step; the others one `value` per step (null where undefined) */
      points: z.array(
        z.object({
          ts: epochMs,
          value: z.number().nullable(),
          min: z.number().optional(),
          max: z.number().optional(),
        }),
      ),
    }),
  ),
});
export type CustomQueryResponse = z.infer<typeof customQueryResponseSchema>;
