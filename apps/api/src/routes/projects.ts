import {
  auditQuerySchema,
  createProjectRequestSchema,
  updateProjectRequestSchema,
  updateProjectSettingsSchema,
} from "@vigil/contract";
import {
  createOrganizationProject,
  ForbiddenError,
  getProject,
  getProjectSettings,
  InvalidInputError,
  listMemberships,
  listOrganizationAudit,
  markProjectDeleted,
  NotFoundError,
  organizationRole,
  recordProjectAudit,
  renameProject,
  toAuditEntry,
  UnauthorizedError,
  updateProjectSettings,
} from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { authenticate, requireScope, requireSession } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";

/**
 * Projects. `:projectId` is a project's id, or `current` for an API key's own project. Listing and
 * creating are for people (a key belongs to one project); the rest takes a key or a session alike.
 */
export const projectRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    // A key sees its own project; a person every project of every organisation they belong to.
    if (c.req.header("authorization")) {
      await authenticate(c, "read");
      return c.json({ projects: [await getProject(c.var.deps.db, c.var.principal.projectId)] });
    }
    const session = await c.var.session();
    if (!session) throw new UnauthorizedError("sign in, or send an API key: Authorization: Bearer <key>");
    const orgs = await listMemberships(c.var.deps.db, session.user.id);
    return c.json({ projects: orgs.flatMap((o) => o.projects.map((p) => ({ ...p, role: o.role }))) });
  })
  .post("/", requireSession, validate("json", createProjectRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const { organizationId, name } = c.req.valid("json");
    const role = await organizationRole(db, c.var.user.id, organizationId);
    if (!role) throw new NotFoundError("organization");
    if (role !== "owner" && role !== "admin")
      throw new ForbiddenError("creating projects needs the admin role");
    const project = await createOrganizationProject(db, clock, organizationId, name);
    await recordProjectAudit(db, clock, project.id, {
      action: "project.create",
      actor: { type: "user", id: c.var.user.id, label: c.var.user.email },
      target: { type: "project", id: project.id },
      detail: { name },
    });
    return c.json(project, 201);
  })
  .get("/:projectId", requireScope("read"), async (c) => {
    return c.json(await getProject(c.var.deps.db, c.var.principal.projectId));
  })
  .patch("/:projectId", requireScope("admin"), validate("json", updateProjectRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const project = await renameProject(db, c.var.principal.projectId, c.req.valid("json").name);
    await recordProjectAudit(db, clock, project.id, {
      action: "project.rename",
      actor: c.var.principal.actor,
      target: { type: "project", id: project.id },
      detail: { name: project.name },
    });
    return c.json(project);
  })
  .delete("/:projectId", requireScope("admin"), async (c) => {
    // A key could otherwise delete the project it belongs to, and with it itself; only people delete projects.
    if (c.var.principal.actor.type !== "user")
      throw new ForbiddenError("projects are deleted by a signed-in admin");
    const { db, clock } = c.var.deps;
    const projectId = c.var.principal.projectId;
    await recordProjectAudit(db, clock, projectId, {
      action: "project.delete",
      actor: c.var.principal.actor,
      target: { type: "project", id: projectId },
    });
    await markProjectDeleted(db, clock, projectId);
    return c.json({ deleting: true }, 202);
  })
  .get("/:projectId/settings", requireScope("read"), async (c) => {
    return c.json(await getProjectSettings(c.var.deps.db, c.var.principal.projectId));
  })
  .patch(
    "/:projectId/settings",
    requireScope("admin"),
    validate("json", updateProjectSettingsSchema),
    async (c) => {
      const patch = c.req.valid("json");
      if (patch.reports?.weekly && !c.var.deps.mailer) {
        throw new InvalidInputError("body.reports.weekly", "this server sends no email (VIGIL_SMTP_URL)");
      }
      return c.json(await updateProjectSettings(c.var.deps.db, c.var.principal.projectId, patch));
    },
  )
  .get("/:projectId/audit-log", requireScope("admin"), validate("query", auditQuerySchema), async (c) => {
    const { db } = c.var.deps;
    const project = await getProject(db, c.var.principal.projectId);
    if (!project.organizationId) return c.json({ entries: [], nextBefore: null });
    const page = await listOrganizationAudit(db, project.organizationId, {
      ...c.req.valid("query"),
      projectId: project.id,
    });
    return c.json({ entries: page.entries.map(toAuditEntry), nextBefore: page.nextBefore });
  });
