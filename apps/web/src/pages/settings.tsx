/** Settings: members and invitations, enrollment tokens and API keys of the current project. */
import type { ApiKey, EnrollmentToken, MemberDto } from "@vigil/contract";
import { useState } from "preact/hooks";
import { can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, CopyField, ErrorNote, Field, useAction, when } from "../ui.tsx";

export function SettingsPage() {
  const { role } = useProject();
  return (
    <>
      <h1>Settings</h1>
      <Members />
      {can(role, "admin") && <EnrollmentTokens />}
      {can(role, "admin") && <ApiKeys />}
    </>
  );
}

function Members() {
  const { orgId, role } = useProject();
  const members = useQuery<{ members: MemberDto[] }>(`/api/v1/orgs/${orgId}/members`, { pollMs: 30_000 });
  const [link, setLink] = useState<string | null>(null);
  const invite = useAction(async (form) => {
    const res = await post<{ acceptUrl: string }>(`/api/v1/orgs/${orgId}/invitations`, {
      email: String(form.get("email")),
      role: String(form.get("role")),
    });
    setLink(res.acceptUrl);
    await invalidate(`/api/v1/orgs/${orgId}/members`);
  });
  return (
    <section aria-labelledby="members">
      <h2 id="members">Members</h2>
      <ErrorNote error={members.error} />
      <ul>
        {members.data?.members.map((m) => (
          <li key={m.id}>
            {m.name} &lt;{m.email}&gt; — {m.role}
          </li>
        ))}
      </ul>
      {can(role, "admin") && (
        <form class="stack form-card" onSubmit={invite.onSubmit}>
          <Field label="Invite by email" name="email" type="email" required />
          <div class="field">
            <label for="f-role">Role</label>
            <select id="f-role" name="role">
              <option value="member">member</option>
              <option value="viewer">viewer</option>
              <option value="admin">admin</option>
            </select>
          </div>
          <ErrorNote error={invite.error} />
          <button type="submit" disabled={invite.busy}>
            Invite
          </button>
          {link && <CopyField label="Invitation link" value={link} />}
        </form>
      )}
    </section>
  );
}

function EnrollmentTokens() {
  const { projectId } = useProject();
  const path = projectPath(projectId, "/enrollment-tokens");
  const tokens = useQuery<{ enrollmentTokens: EnrollmentToken[] }>(path, { pollMs: 30_000 });
  const [fresh, setFresh] = useState<string | null>(null);
  const create = useAction(async (form) => {
    const t = await post<{ token: string }>(path, { name: String(form.get("name")) });
    setFresh(t.token);
    await invalidate(path);
  });
  return (
    <section aria-labelledby="tokens">
      <h2 id="tokens">Enrollment tokens</h2>
      <ul>
        {tokens.data?.enrollmentTokens.map((t) => (
          <li key={t.id}>
            {t.name} — created {ago(t.createdAt)}
          </li>
        ))}
      </ul>
      <form class="stack form-card" onSubmit={create.onSubmit}>
        <Field label="Token name" name="name" required placeholder="web servers" />
        <ErrorNote error={create.error} />
        <button type="submit" disabled={create.busy}>
          Create token
        </button>
        {fresh && (
          <CopyField
            label="Install line"
            value={`curl -fsSL ${location.origin}/install.sh | sudo sh -s -- --token ${fresh}`}
          />
        )}
      </form>
    </section>
  );
}

function ApiKeys() {
  const { projectId } = useProject();
  const path = projectPath(projectId, "/api-keys");
  const keys = useQuery<{ apiKeys: ApiKey[] }>(path, { pollMs: 30_000 });
  const list = keys.data?.apiKeys ?? [];
  return (
    <section aria-labelledby="keys">
      <h2 id="keys">API keys</h2>
      <ul>
        {list.map((k) => (
          <li key={k.id}>
            {k.name} ({k.scopes.join(", ")}) — created {when(k.createdAt)}
          </li>
        ))}
      </ul>
    </section>
  );
}
