import { z } from "zod";
import { projectSchema } from "./api.ts";
import { epochMs } from "./common.ts";

export const roles = ["owner", "admin", "member", "viewer"] as const;
export const roleSchema = z.enum(roles);
export type RoleName = z.infer<typeof roleSchema>;

/** `GET /api/v1/me`: who is signed in, their organisations with their role, and each one's projects. */
export const meSchema = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string(), emailVerified: z.boolean() }),
  organizations: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      slug: z.string(),
      role: roleSchema,
      projects: z.array(projectSchema),
    }),
  ),
});
export type Me = z.infer<typeof meSchema>;

/** Passwords: better-auth's limits as Vigil sets them (10–128 characters). */
export const passwordSchema = z.string().min(10).max(128);

/** The first owner, from the one-time setup link. */
export const setupRequestSchema = z.object({
  token: z.string().min(1).max(200),
  name: z.string().trim().min(1).max(100),
  email: z.email().max(254),
  password: passwordSchema,
  organizationName: z.string().trim().min(1).max(100).default("My organization"),
});
export type SetupRequest = z.infer<typeof setupRequestSchema>;

export const createProjectRequestSchema = z.object({
  organizationId: z.string().min(1).max(100),
  name: z.string().trim().min(1).max(100),
});
export type CreateProjectRequest = z.infer<typeof createProjectRequestSchema>;

export const updateProjectRequestSchema = z.object({ name: z.string().trim().min(1).max(100) });

export const createInvitationRequestSchema = z.object({
  email: z.email().max(254),
  /** owners are made by transfer, not by invitation */
  role: z.enum(["admin", "member", "viewer"]),
});
export type CreateInvitationRequest = z.infer<typeof createInvitationRequestSchema>;

export const transferOwnershipRequestSchema = z.object({ memberId: z.string().min(1).max(100) });

export const auditQuerySchema = z.object({
  before: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const auditEntrySchema = z.object({
  id: z.string(),
  at: epochMs,
  organizationId: z.string().nullable(),
  projectId: z.string().nullable(),
  actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable() }),
  action: z.string().describe("e.g. session.sign_in, api_key.create, member.role_change"),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  detail: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
});
export type AuditEntryDto = z.infer<typeof auditEntrySchema>;

export const memberSchema = z.object({
  id: z.string(),
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  createdAt: epochMs,
});
export type MemberDto = z.infer<typeof memberSchema>;
