/**
 * Status pages on the wire (issue 8): what operators send to publish a page, incidents and maintenance,
 * and the public page data (`GET /api/v1/status/<slug>`), which the HTML page renders from too.
 */
import { z } from "zod";
import { epochMs, httpUrl, timezoneSchema, wireTime } from "./common.ts";

export const statusSlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and -, up to 63 characters");

const domainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "a host name like status.example.com",
  );

export const statusSubjectRefSchema = z.object({
  type: z.enum(["check", "host"]),
  id: z.string().min(1).max(64),
});
export type StatusSubjectRefInput = z.infer<typeof statusSubjectRefSchema>;

export const statusComponentInputSchema = statusSubjectRefSchema.extend({
  /** shown instead of the check's or host's own name */
  name: z.string().trim().min(1).max(100),
  /** components with the same heading, one after another, are grouped under it */
  heading: z.string().trim().min(1).max(100).nullable().default(null),
});

const pageFields = {
  slug: statusSlugSchema,
  title: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(""),
  logoUrl: httpUrl.nullable().default(null),
  timezone: timezoneSchema.default("UTC"),
  customDomain: domainSchema.nullable().default(null),
  /** in display order; only public checks and hosts of the key's project */
  components: z.array(statusComponentInputSchema).max(200).default([]),
};

export const createStatusPageSchema = z.object(pageFields);
export type CreateStatusPage = z.infer<typeof createStatusPageSchema>;

export const updateStatusPageSchema = z.object({
  slug: pageFields.slug.optional(),
  title: pageFields.title.optional(),
  description: z.string().max(2000).optional(),
  logoUrl: pageFields.logoUrl.optional(),
  timezone: timezoneSchema.optional(),
  customDomain: domainSchema.nullable().optional(),
  /** replaces the whole list */
  components: z.array(statusComponentInputSchema).max(200).optional(),
});
export type UpdateStatusPage = z.infer<typeof updateStatusPageSchema>;

export const statusComponentSchema = z.object({
  id: z.string(),
  type: z.enum(["check", "host"]),
  subjectId: z.string(),
  name: z.string(),
  heading: z.string().nullable(),
});

export const statusPageSchema = z.object({
  id: z.string(),
  slug: z.string(),
  title: z.string(),
  description: z.string(),
  logoUrl: z.string().nullable(),
  timezone: z.string(),
  customDomain: z.string().nullable(),
  components: z.array(statusComponentSchema),
  createdAt: epochMs,
  updatedAt: epochMs,
});
export type StatusPage = z.infer<typeof statusPageSchema>;

export const incidentImpactSchema = z.enum(["none", "minor", "major", "critical"]);
export type IncidentImpactName = z.infer<typeof incidentImpactSchema>;
export const incidentProgressSchema = z.enum(["investigating", "identified", "monitoring", "resolved"]);
export type IncidentProgressName = z.infer<typeof incidentProgressSchema>;

export const createStatusIncidentSchema = z.object({
  title: z.string().trim().min(1).max(200),
  impact: incidentImpactSchema.default("minor"),
  status: incidentProgressSchema.default("investigating"),
  message: z.string().trim().min(1).max(5000),
  /** public checks and hosts it affects; empty: the whole project */
  affects: z.array(statusSubjectRefSchema).max(200).default([]),
  /** when it began; now when left out */
  startedAt: wireTime.optional(),
  /** tell the page's subscribers (false for a correction nobody needs to hear of) */
  notifySubscribers: z.boolean().default(true),
});
export type CreateStatusIncident = z.infer<typeof createStatusIncidentSchema>;

/** Edits a hand-written incident, or what the page says of an automatic one. */
export const updateStatusIncidentSchema = z.object({
  title: z.string().trim().min(1).max(200).optional(),
  impact: incidentImpactSchema.optional(),
  affects: z.array(statusSubjectRefSchema).max(200).optional(),
});
export type UpdateStatusIncident = z.infer<typeof updateStatusIncidentSchema>;

export const incidentUpdateInputSchema = z.object({
  status: incidentProgressSchema,
  message: z.string().trim().min(1).max(5000),
  /** tell the page's subscribers */
  notifySubscribers: z.boolean().default(true),
});
export type IncidentUpdateInput = z.infer<typeof incidentUpdateInputSchema>;

export const incidentUpdateSchema = z.object({
  status: incidentProgressSchema,
  message: z.string(),
  at: epochMs,
});

/** An incident as the admin API shows it; `automatic` ones open and resolve with their check. */
export const statusIncidentSchema = z.object({
  id: z.string(),
  automatic: z.boolean(),
  title: z.string(),
  impact: incidentImpactSchema,
  status: incidentProgressSchema,
  affects: z.array(statusSubjectRefSchema),
  startedAt: epochMs,
  resolvedAt: epochMs.nullable(),
  updates: z.array(incidentUpdateSchema),
});
export type StatusIncident = z.infer<typeof statusIncidentSchema>;

const maintenanceFields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().max(5000).default(""),
  startsAt: wireTime,
  endsAt: wireTime,
  affects: z.array(statusSubjectRefSchema).max(200).default([]),
};
const notifySubscribers = { notifySubscribers: z.boolean().default(true) };
const endsAfterStart = (m: { startsAt?: number; endsAt?: number }) =>
  m.startsAt === undefined || m.endsAt === undefined || m.endsAt > m.startsAt;

export const createMaintenanceSchema = z
  .object({ ...maintenanceFields, ...notifySubscribers })
  .refine(endsAfterStart, { message: "endsAt must be after startsAt", path: ["endsAt"] });
export type CreateMaintenance = z.infer<typeof createMaintenanceSchema>;

export const updateMaintenanceSchema = z
  .object({
    title: maintenanceFields.title.optional(),
    description: z.string().max(5000).optional(),
    startsAt: wireTime.optional(),
    endsAt: wireTime.optional(),
    affects: maintenanceFields.affects.optional(),
  })
  .refine(endsAfterStart, { message: "endsAt must be after startsAt", path: ["endsAt"] });
export type UpdateMaintenance = z.infer<typeof updateMaintenanceSchema>;

export const maintenanceSchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  startsAt: epochMs,
  endsAt: epochMs,
  affects: z.array(statusSubjectRefSchema),
});
export type Maintenance = z.infer<typeof maintenanceSchema>;

// --- the public page data -------------------------------------------------------------------------------

export const overallStatuses = [
  "operational",
  "degraded",
  "partial_outage",
  "major_outage",
  "maintenance",
] as const;
export const overallStatusSchema = z.enum(overallStatuses);
export type OverallStatus = z.infer<typeof overallStatusSchema>;

export const componentStates = ["operational", "degraded", "outage", "maintenance", "unknown"] as const;
export const componentStateSchema = z.enum(componentStates);
export type ComponentState = z.infer<typeof componentStateSchema>;

/** One calendar day in the page's time zone; `uptime` null when nothing was measured that day. */
export const statusDaySchema = z.object({
  date: z.string().describe("YYYY-MM-DD in the page's time zone"),
  upMs: z.number().int().nonnegative(),
  degradedMs: z.number().int().nonnegative(),
  downMs: z.number().int().nonnegative(),
  uptime: z.number().min(0).max(1).nullable(),
  /** ids of incidents that touched this component on this day */
  incidents: z.array(z.string()),
});
export type StatusDay = z.infer<typeof statusDaySchema>;

export const publicComponentSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(["check", "host"]),
  state: componentStateSchema,
  /** (up + degraded) / measured time over the days shown; null when nothing was measured */
  uptime: z.number().min(0).max(1).nullable(),
  days: z.array(statusDaySchema),
  /** mean response time per UTC day, oldest first (HTTP checks only) */
  responseMs: z.array(z.number().nullable()).nullable(),
  /** a check run from several locations: each location's mean response time per UTC day, oldest first */
  responseByLocation: z
    .array(z.object({ location: z.string(), responseMs: z.array(z.number().nullable()) }))
    .optional(),
});
export type PublicComponent = z.infer<typeof publicComponentSchema>;

export const publicIncidentSchema = z.object({
  id: z.string(),
  title: z.string(),
  impact: incidentImpactSchema,
  status: incidentProgressSchema,
  automatic: z.boolean(),
  startedAt: epochMs,
  resolvedAt: epochMs.nullable(),
  /** component ids of this page */
  components: z.array(z.string()),
  updates: z.array(incidentUpdateSchema),
});
export type PublicIncident = z.infer<typeof publicIncidentSchema>;

export const publicMaintenanceSchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  startsAt: epochMs,
  endsAt: epochMs,
  components: z.array(z.string()),
});
export type PublicMaintenance = z.infer<typeof publicMaintenanceSchema>;

export const statusPageDataSchema = z.object({
  page: z.object({
    slug: z.string(),
    title: z.string(),
    description: z.string(),
    logoUrl: z.string().nullable(),
    timezone: z.string(),
  }),
  generatedAt: epochMs,
  status: overallStatusSchema,
  groups: z.array(z.object({ heading: z.string().nullable(), components: z.array(publicComponentSchema) })),
  activeIncidents: z.array(publicIncidentSchema),
  activeMaintenance: z.array(publicMaintenanceSchema),
  upcomingMaintenance: z.array(publicMaintenanceSchema),
  /** resolved within the days shown, newest first */
  pastIncidents: z.array(publicIncidentSchema),
});
export type StatusPageData = z.infer<typeof statusPageDataSchema>;

// ---- Subscribers ---------------------------------------------------------------------------------------

/**
 * A visitor subscribing to a page: an email address (confirmed by a link mailed to it) or a webhook URL
 * (http(s); private addresses refused unless the server allows them), for all the page's components or some.
 */
export const subscribeRequestSchema = z
  .object({
    email: z.email().max(254).optional(),
    webhook: httpUrl.optional(),
    /** component ids of the page; empty or left out: everything the page shows */
    components: z.array(z.uuid()).max(200).default([]),
  })
  .refine((r) => (r.email === undefined) !== (r.webhook === undefined), {
    message: "give either email or webhook",
    path: ["email"],
  });
export type SubscribeRequest = z.infer<typeof subscribeRequestSchema>;

export const statusSubscriberSchema = z.object({
  id: z.string(),
  kind: z.enum(["email", "webhook"]),
  address: z.string(),
  components: z.array(z.string()),
  /** null while an email subscriber has not opened the confirmation link */
  confirmedAt: epochMs.nullable(),
  createdAt: epochMs,
});
export type StatusSubscriber = z.infer<typeof statusSubscriberSchema>;

/** What a webhook subscriber receives (POST, JSON). Receivers ignore fields they do not know. */
export const statusNoticePayloadV1 = z.object({
  version: z.literal(1),
  /** unique per notice; the same on every retry */
  id: z.string(),
  type: z.enum(["incident", "maintenance"]),
  page: z.object({ slug: z.string(), title: z.string(), url: z.string() }),
  /** "Database is slow — Identified" */
  title: z.string(),
  incident: z
    .object({
      id: z.string(),
      title: z.string(),
      impact: incidentImpactSchema,
      status: incidentProgressSchema,
      message: z.string(),
      startedAt: epochMs,
      resolvedAt: epochMs.nullable(),
    })
    .nullable(),
  maintenance: z
    .object({
      id: z.string(),
      title: z.string(),
      description: z.string(),
      startsAt: epochMs,
      endsAt: epochMs,
    })
    .nullable(),
  /** the components of the page it concerns, by name; empty: the whole page */
  components: z.array(z.string()),
  /** POST here (or open it) to stop these notices */
  unsubscribeUrl: z.string(),
  sentAt: epochMs,
});
export type StatusNoticePayloadV1 = z.infer<typeof statusNoticePayloadV1>;
