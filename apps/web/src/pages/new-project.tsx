/**
 * A new project in one of the person's organisations (owners and admins may create them): its own hosts,
 * checks, channels, keys and ping key. Opens the new project's overview, which teaches the install line.
 */
import type { Me, Project } from "@vigil/contract";
import { useLocation } from "wouter-preact";
import { post } from "../api.ts";
import { invalidate } from "../query.ts";
import { ErrorNote, Field, useAction } from "../ui.tsx";

export function NewProject({ me }: { me: Me }) {
  const [, navigate] = useLocation();
  const orgs = me.organizations.filter((o) => o.role === "owner" || o.role === "admin");
  const create = useAction(async (form) => {
    const project = await post<Project>("/api/v1/projects", {
      organizationId: String(form.get("organizationId")),
      name: String(form.get("name") ?? "").trim(),
    });
    await invalidate("/api/v1/me");
    navigate(`~/p/${project.id}`);
  });
  return (
    <main id="main" class="narrow">
      <h1>New project</h1>
      {orgs.length === 0 ? (
        <p>Creating projects needs the owner or admin role in an organisation; you are neither anywhere.</p>
      ) : (
        <form class="form-card" onSubmit={create.onSubmit}>
          <div class="field">
            <label for="f-organizationId">Organisation</label>
            <select id="f-organizationId" name="organizationId">
              {orgs.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </div>
          <Field label="Project name" name="name" required placeholder="e.g. production" />
          <ErrorNote error={create.error} />
          <button type="submit" disabled={create.busy}>
            Create project
          </button>
        </form>
      )}
      <p>
        <a href="/">Back</a>
      </p>
    </main>
  );
}
