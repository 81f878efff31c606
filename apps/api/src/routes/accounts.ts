import {
  auditQuerySchema,
  createInvitationRequestSchema,
  type Me,
  setupRequestSchema,
  transferOwnershipRequestSchema,
} from "@vigil/contract";
import {
  completeSetup,
  deleteOrganization,
  ForbiddenError,
  invitationUrl,
  listMembers,
  listMemberships,
  listOrganizationAudit,
  NotFoundError,
  organizationRole,
  type Role,
  recordAudit,
  toAuditEntry,
  transferOwnership,
} from "@vigil/engine";
import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import { accountsBaseUrl } from "../accounts.ts";
import type { AppEnv } from "../env.ts";
import { requireSession } from "../middleware/auth.ts";
import { clientAddress } from "../middleware/client.ts";
import { setCookiesOf } from "../middleware/cookies.ts";
import { validate } from "../middleware/validate.ts";

const origin = (c: Context<AppEnv>) => ({
  ip: clientAddress(c),
  userAgent: c.req.header("user-agent") ?? null,
});

/** The person's role in the organisation named in the path, at least `least`; else 404 (not a member) or 403. */
async function requireOrgRole(c: Context<AppEnv>, least: Role): Promise<Role> {
  const role = await organizationRole(c.var.deps.db, c.var.user.id, c.req.param("orgId") ?? "");
  if (!role) throw new NotFoundError("organization");
  const rank: Record<Role, number> = { owner: 3, admin: 2, member: 1, viewer: 0 };
  if (rank[role] < rank[least]) throw new ForbiddenError(`this needs the ${least} role; yours is ${role}`);
  return role;
}

/** The signed-in person, their organisations with roles, and each organisation's projects. */
export const meRoutes = new Hono<AppEnv>().use(requireSession).get("/", async (c) => {
  const u = c.var.user;
  const me: Me = {
    user: { id: u.id, email: u.email, name: u.name, emailVerified: u.emailVerified },
    organizations: await listMemberships(c.var.deps.db, u.id),
  };
  return c.json(me);
});

/**
 * Organisation acts Vigil adds to better-auth's own (`/api/auth/organization/*` lists, updates roles,
 * removes members, accepts and cancels invitations): invitations that answer their link, ownership
 * transfer, deletion with everything in it, members and the audit log.
 */
export const orgRoutes = new Hono<AppEnv>()
  .use(requireSession)
  .get("/:orgId/members", async (c) => {
    await requireOrgRole(c, "viewer");
    return c.json({ members: await listMembers(c.var.deps.db, c.req.param("orgId")) });
  })
  .post("/:orgId/invitations", validate("json", createInvitationRequestSchema), async (c) => {
    await requireOrgRole(c, "admin");
    const auth = await c.var.auth();
    const { email, role } = c.req.valid("json");
    // Through better-auth, so its checks apply (already a member, re-invite cancels the older one) and
    // its invitation email goes out when a mailer is configured.
    const invitation = await auth.api.createInvitation({
      headers: c.req.raw.headers,
      body: { email, role, organizationId: c.req.param("orgId") },
    });
    const acceptUrl = invitationUrl(accountsBaseUrl(c.var.deps, c.req.raw), invitation.id);
    return c.json(
      {
        invitation: { ...invitation, expiresAt: new Date(invitation.expiresAt).getTime() },
        acceptUrl,
        emailed: !!c.var.deps.mailer,
      },
      201,
    );
  })
  .post("/:orgId/transfer-ownership", validate("json", transferOwnershipRequestSchema), async (c) => {
    await requireOrgRole(c, "owner");
    const { db, clock } = c.var.deps;
    const orgId = c.req.param("orgId");
    await transferOwnership(db, orgId, c.var.user.id, c.req.valid("json").memberId);
    await recordAudit(db, clock, {
      action: "organization.transfer_ownership",
      actor: { type: "user", id: c.var.user.id, label: c.var.user.email },
      organizationId: orgId,
      target: { type: "member", id: c.req.valid("json").memberId },
      origin: origin(c),
    });
    return c.json({ members: await listMembers(db, orgId) });
  })
  .delete("/:orgId", async (c) => {
    await requireOrgRole(c, "owner");
    const { db, clock } = c.var.deps;
    const orgId = c.req.param("orgId");
    await recordAudit(db, clock, {
      action: "organization.delete",
      actor: { type: "user", id: c.var.user.id, label: c.var.user.email },
      organizationId: orgId,
      target: { type: "organization", id: orgId },
      origin: origin(c),
    });
    await deleteOrganization(db, clock, orgId);
    return c.json({ deleting: true }, 202);
  })
  .get("/:orgId/audit-log", validate("query", auditQuerySchema), async (c) => {
    await requireOrgRole(c, "admin");
    const page = await listOrganizationAudit(c.var.deps.db, c.req.param("orgId"), c.req.valid("query"));
    return c.json({ entries: page.entries.map(toAuditEntry), nextBefore: page.nextBefore });
  });

/**
 * The first owner, from the setup link: creates the person and their organisation, then signs them in
 * (the answer carries the session cookie).
 */
export const setupRoutes = new Hono<AppEnv>().post("/", validate("json", setupRequestSchema), async (c) => {
  const { db, clock } = c.var.deps;
  const input = c.req.valid("json");
  const auth = await c.var.auth();
  const done = await completeSetup(db, clock, auth, input);
  const signIn = await auth.api.signInEmail({
    body: { email: input.email, password: input.password },
    headers: c.req.raw.headers,
    returnHeaders: true,
  });
  for (const cookie of setCookiesOf(signIn.headers)) c.header("Set-Cookie", cookie, { append: true });
  return c.json({ ...done, organizations: await listMemberships(db, done.userId) }, 201);
});

export const tokenQuery = z.object({ token: z.string().max(200).default("") });
