import type { MemberDto, PendingInvitationDto, RoleName } from "@vigil/contract";
import { type Db, invitation, member, organization, projects, user } from "@vigil/db";
import { and, desc, eq, gt, isNull, notInArray } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { createOrganizationProject, uniqueSlug } from "./projects.ts";

/** An organisation with `owner` as its owner; the rows better-auth's organisation plugin reads. */
export async function createOrganization(
  db: Db,
  clock: Clock,
  ownerId: string,
  name: string,
): Promise<{ id: string; name: string; slug: string }> {
  const now = new Date(clock.now());
  const id = crypto.randomUUID();
  const slug = uniqueSlug(name, "org");
  await db.batch([
    db.insert(organization).values({ id, name, slug, createdAt: now }),
    db.insert(member).values({
      id: crypto.randomUUID(),
      organizationId: id,
      userId: ownerId,
      role: "owner",
      createdAt: now,
    }),
  ]);
  return { id, name, slug };
}

/** What open sign-up gives a new person: an organisation of their own with one project to start in. */
export async function createPersonalOrganization(
  db: Db,
  clock: Clock,
  person: { id: string; name: string; email: string },
): Promise<{ organizationId: string; projectId: string }> {
  const org = await createOrganization(
    db,
    clock,
    person.id,
    `${person.name || person.email.split("@")[0]}'s organization`,
  );
  const project = await createOrganizationProject(db, clock, org.id, "default");
  return { organizationId: org.id, projectId: project.id };
}

/**
 * Hands ownership to another member: they become owner, the current owner becomes admin. One batch, so an
 * organisation never has two owners or none in between.
 */
export async function transferOwnership(
  db: Db,
  organizationId: string,
  fromUserId: string,
  toMemberId: string,
): Promise<void> {
  const members = await db.query.member.findMany({ where: eq(member.organizationId, organizationId) });
  const from = members.find((m) => m.userId === fromUserId && m.role === "owner");
  if (!from) throw new NotFoundError("organization");
  const to = members.find((m) => m.id === toMemberId);
  if (!to) throw new NotFoundError("member");
  if (to.id === from.id) throw new ConflictError("that member already owns the organisation");
  await db.batch([
    db.update(member).set({ role: "owner" }).where(eq(member.id, to.id)),
    db.update(member).set({ role: "admin" }).where(eq(member.id, from.id)),
  ]);
}

/**
 * Deletes an organisation: its projects are marked for the bounded purge, its members and invitations go
 * now, and the organisation row goes with the last project (see `purgeDeletedProjects`).
 */
export async function deleteOrganization(db: Db, clock: Clock, organizationId: string): Promise<void> {
  const now = clock.now();
  await db.batch([
    db
      .update(projects)
      .set({ deletingAt: now })
      .where(and(eq(projects.organizationId, organizationId), isNull(projects.deletingAt))),
    db.delete(member).where(eq(member.organizationId, organizationId)),
    db.delete(invitation).where(eq(invitation.organizationId, organizationId)),
  ]);
}

/** Organisations left with neither members nor projects (deleted ones, once their purge is done). */
export async function removeEmptyOrganizations(db: Db): Promise<void> {
  const withMembers = db.select({ id: member.organizationId }).from(member);
  const withProjects = db
    .select({ id: projects.organizationId })
    .from(projects)
    .where(eq(projects.organizationId, projects.organizationId));
  await db
    .delete(organization)
    .where(and(notInArray(organization.id, withMembers), notInArray(organization.id, withProjects)));
}

/** An organisation's members with their names and emails, owners first. */
export async function listMembers(db: Db, organizationId: string): Promise<MemberDto[]> {
  const rows = await db
    .select({ m: member, email: user.email, name: user.name })
    .from(member)
    .innerJoin(user, eq(user.id, member.userId))
    .where(eq(member.organizationId, organizationId));
  const order = ["owner", "admin", "member", "viewer"];
  return rows
    .map((r) => ({
      id: r.m.id,
      userId: r.m.userId,
      email: r.email,
      name: r.name,
      role: r.m.role as RoleName,
      createdAt: r.m.createdAt.getTime(),
    }))
    .sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role) || a.email.localeCompare(b.email));
}

/**
 * Invitations waiting for this email address: pending and not expired, newest first, with the organisation's
 * name and who invited, so a signed-in person can accept or decline them without the emailed link.
 */
export async function listPendingInvitations(
  db: Db,
  email: string,
  now: number,
): Promise<PendingInvitationDto[]> {
  const rows = await db
    .select({ i: invitation, organizationName: organization.name, inviterEmail: user.email })
    .from(invitation)
    .innerJoin(organization, eq(organization.id, invitation.organizationId))
    .leftJoin(user, eq(user.id, invitation.inviterId))
    .where(
      and(
        eq(invitation.email, email.trim().toLowerCase()),
        eq(invitation.status, "pending"),
        gt(invitation.expiresAt, new Date(now)),
      ),
    )
    .orderBy(desc(invitation.createdAt));
  return rows.map((r) => ({
    id: r.i.id,
    organizationId: r.i.organizationId,
    organizationName: r.organizationName,
    role: (r.i.role ?? "member") as PendingInvitationDto["role"],
    inviterEmail: r.inviterEmail ?? null,
    expiresAt: r.i.expiresAt.getTime(),
  }));
}
