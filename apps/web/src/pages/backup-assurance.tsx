/**
 * Backup assurance on the backups screen: each backed-up source graded against 3-2-1 ("3 copies, 2 media,
 * 1 off site, last drill restored 20 files identical 2 days ago"), then the repositories the probes check
 * with their newest check and restore drill. A writer can say what a repository is (kind, on or off site)
 * where the probe's declaration or the location's guess is wrong. The host page shows its own share.
 */
import type { BackupRepositoryOut, BackupSourceGrade } from "@vigil/contract";
import { Link } from "wouter-preact";
import { api, can, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { Select, useForm } from "../form.tsx";
import { invalidate, useQuery } from "../query.ts";
import { ago, Badge, bytes, ErrorNote, when } from "../ui.tsx";

const KIND_LABELS: Record<string, string> = {
  local: "local disk",
  host: "another host",
  object: "object storage",
  other: "other",
};

/** 3-2-1 met is ok; short of it (too few copies, media or none off site) a warning; no backup copy that counts bad. */
function gradeTone(g: BackupSourceGrade): "ok" | "warn" | "bad" {
  if (g.copies < 2) return "bad";
  if (g.copies >= 3 && g.media >= 2 && g.offsite >= 1) return "ok";
  return "warn";
}

const GRADE_WORDS = { ok: "3-2-1 met", warn: "short of 3-2-1", bad: "no backup copy" } as const;

function checkTone(status: string | undefined): "ok" | "warn" | "bad" | "muted" {
  if (status === undefined) return "muted";
  return status === "ok" ? "ok" : "bad";
}

export function BackupCopies() {
  const { projectId } = useProject();
  const sources = useQuery<{ sources: BackupSourceGrade[] }>(projectPath(projectId, "/backups/sources"), {
    pollMs: 60_000,
  });
  const list = sources.data?.sources ?? [];
  if (sources.data && list.length === 0) return null;
  return (
    <section aria-labelledby="copies-heading">
      <h2 id="copies-heading">Copies (3-2-1)</h2>
      <ErrorNote error={sources.error} />
      <ul class="cards" aria-busy={sources.loading}>
        {list.map((g) => (
          <li key={`${g.hostname}:${g.paths.join(",")}`} class="card">
            <h3>
              {g.hostId ? <Link href={`/hosts/${g.hostId}`}>{g.hostname}</Link> : g.hostname}{" "}
              <span class="muted">{g.paths.join(", ")}</span>
            </h3>
            <p>
              <Badge tone={gradeTone(g)}>{GRADE_WORDS[gradeTone(g)]}</Badge> {g.summary}
            </p>
            <ul>
              {g.repositories.map((r) => (
                <li key={r.id}>
                  {r.name} <span class="muted location">({r.location})</span>: {r.snapshots} snapshots, newest{" "}
                  <span title={when(r.newestAt)}>{ago(r.newestAt)}</span>
                  {r.site === "offsite" && " · off site"}
                  {!r.counts && (
                    <>
                      {" "}
                      <Badge tone="bad">not counted: damaged</Badge>
                    </>
                  )}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RepositoryEditor({ repo }: { repo: BackupRepositoryOut }) {
  const { projectId } = useProject();
  const form = useForm(async (f) => {
    const value = (name: string) => {
      const v = f.get(name);
      return v === "" || v === null ? null : String(v);
    };
    await api(projectPath(projectId, `/backups/repositories/${repo.id}`), {
      method: "PATCH",
      body: { kind: value("kind"), site: value("site") },
    });
    await invalidate(projectPath(projectId, "/backups"));
  });
  const formId = `repo-${repo.id}`;
  return (
    <form onSubmit={form.onSubmit} aria-label={`What ${repo.name} is`}>
      <Select
        form={formId}
        label="Kind"
        name="kind"
        value={repo.kindSource === "set" ? (repo.kind ?? "") : ""}
        options={[["", "as declared or guessed"], ...Object.entries(KIND_LABELS)]}
        error={form.errorFor("kind")}
      />
      <Select
        form={formId}
        label="Site"
        name="site"
        value={repo.siteSource === "set" ? (repo.site ?? "") : ""}
        options={[
          ["", "as declared or guessed"],
          ["onsite", "on site"],
          ["offsite", "off site"],
        ]}
        error={form.errorFor("site")}
      />
      <button type="submit" disabled={form.busy}>
        Save
      </button>
      <ErrorNote error={form.formError(["kind", "site"])} />
    </form>
  );
}

export function BackupRepositories() {
  const { projectId, role } = useProject();
  const repositories = useQuery<{ repositories: BackupRepositoryOut[] }>(
    projectPath(projectId, "/backups/repositories"),
    { pollMs: 60_000 },
  );
  const list = repositories.data?.repositories ?? [];
  if (repositories.data && list.length === 0) return null;
  const writer = can(role, "write");
  return (
    <section aria-labelledby="repositories-heading">
      <h2 id="repositories-heading">Repositories</h2>
      <ErrorNote error={repositories.error} />
      <div class="table-wrap">
        <table aria-busy={repositories.loading}>
          <caption class="visually-hidden">Backup repositories checked by the probes</caption>
          <thead>
            <tr>
              <th scope="col">Repository</th>
              <th scope="col">Checked by</th>
              <th scope="col">Kind and site</th>
              <th scope="col">Last check</th>
              <th scope="col">Size</th>
              <th scope="col">Snapshots</th>
              <th scope="col">Last restore drill</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.id}>
                <th scope="row">
                  {r.name} <span class="muted location">{r.location}</span>
                </th>
                <td>
                  <Link href={`/hosts/${r.hostId}`}>{r.hostName}</Link>
                </td>
                <td>
                  {r.kind ? KIND_LABELS[r.kind] : "unknown"}, {r.site === "offsite" ? "off site" : "on site"}{" "}
                  <span class="muted">({r.kindSource ?? "unknown"})</span>
                  {r.kindConflict && <p class="error">{r.kindConflict}</p>}
                  {writer && (
                    <details>
                      <summary>Change</summary>
                      <RepositoryEditor repo={r} />
                    </details>
                  )}
                </td>
                <td>
                  {r.lastCheck ? (
                    <>
                      <Badge tone={checkTone(r.lastCheck.status)}>{r.lastCheck.status}</Badge>{" "}
                      <span title={when(r.lastCheck.at)}>{ago(r.lastCheck.at)}</span>
                      {r.lastCheck.status !== "ok" && r.lastCheck.output && (
                        <code class="body error-tail">{r.lastCheck.output.slice(-300)}</code>
                      )}
                    </>
                  ) : (
                    "never"
                  )}
                </td>
                <td>
                  {r.sizeBytes === null ? "—" : bytes(r.sizeBytes)}
                  {r.sizeChangeBytes !== null && (
                    <span class="muted" title="since the good check before">
                      {" "}
                      ({r.sizeChangeBytes >= 0 ? "+" : "−"}
                      {bytes(Math.abs(r.sizeChangeBytes))})
                    </span>
                  )}
                </td>
                <td>
                  {r.snapshotCount ?? "—"}
                  {r.newestSnapshotAt !== null && (
                    <span class="muted"> · newest {ago(r.newestSnapshotAt)}</span>
                  )}
                </td>
                <td>
                  {r.lastDrill ? (
                    <>
                      <Badge tone={checkTone(r.lastDrill.status)}>{r.lastDrill.status}</Badge>{" "}
                      {r.lastDrill.files} files, {bytes(r.lastDrill.bytes)},{" "}
                      <span title={when(r.lastDrill.at)}>{ago(r.lastDrill.at)}</span>
                      {r.lastDrill.status !== "ok" && r.lastDrill.output && (
                        <code class="body error-tail">{r.lastDrill.output.slice(-300)}</code>
                      )}
                    </>
                  ) : (
                    "never"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The host page's share: its data's grades and the repositories it checks, one line each. */
export function HostBackups({ hostId }: { hostId: string }) {
  const { projectId } = useProject();
  const backups = useQuery<{ sources: BackupSourceGrade[]; repositories: BackupRepositoryOut[] }>(
    projectPath(projectId, `/hosts/${hostId}/backups`),
    { pollMs: 60_000 },
  );
  const sources = backups.data?.sources ?? [];
  const repositories = backups.data?.repositories ?? [];
  if (sources.length === 0 && repositories.length === 0) return null;
  return (
    <section aria-labelledby="host-backups">
      <h2 id="host-backups">Backup copies</h2>
      <ul>
        {sources.map((g) => (
          <li key={g.paths.join(",")}>
            <Badge tone={gradeTone(g)}>{GRADE_WORDS[gradeTone(g)]}</Badge> {g.paths.join(", ")}: {g.summary}
          </li>
        ))}
        {repositories.map((r) => (
          <li key={r.id}>
            Repository {r.name} <span class="muted location">({r.location})</span>: checked{" "}
            {r.lastCheck ? `${ago(r.lastCheck.at)}, ${r.lastCheck.status}` : "never"}; drilled{" "}
            {r.lastDrill ? `${ago(r.lastDrill.at)}, ${r.lastDrill.status}` : "never"}
          </li>
        ))}
      </ul>
      <p>
        <Link href="/backups">All backups</Link>
      </p>
    </section>
  );
}
