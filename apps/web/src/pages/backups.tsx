/**
 * Backups: one row per backup name and host with its last success and failure, the last run's size and
 * duration, and its age against the interval the backup rules expect (stale when past it); below, what
 * the repository checks and restore drills found (backup-assurance.tsx).
 */
import type { BackupOverview } from "@vigil/contract";
import { Link } from "wouter-preact";
import { projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { useQuery } from "../query.ts";
import { ago, Badge, bytes, CopyField, duration, Empty, ErrorNote, when } from "../ui.tsx";
import { BackupCopies, BackupRepositories } from "./backup-assurance.tsx";
import { logsAround } from "./logs.tsx";

function status(b: BackupOverview): { tone: "ok" | "warn" | "bad"; label: string } {
  if (b.lastStatus === "failure") return { tone: "bad", label: "failed" };
  if (b.stale) return { tone: "warn", label: "stale" };
  return { tone: "ok", label: "ok" };
}

export function BackupsPage() {
  const { projectId } = useProject();
  const backups = useQuery<{ backups: BackupOverview[] }>(projectPath(projectId, "/backups"));
  const list = backups.data?.backups ?? [];
  return (
    <>
      <h1>Backups</h1>
      <ErrorNote error={backups.error} />
      {backups.data && list.length === 0 ? (
        <Empty title="No backups reported yet">
          <p>
            Run your restic backups through the probe: it passes restic's output through, reads its JSON
            summary, and reports the run (success or failure, size, duration) with the next batch.
          </p>
          <CopyField
            label="Backup command"
            value="vigil-probe backup --name files -- restic backup /srv --json"
          />
          <p>
            With autorestic, report from its hooks instead:{" "}
            <code>vigil-probe backup-report --name files --status success</code> (or{" "}
            <code>--status failure</code>). The built-in rule alerts when a backup's last success is older
            than 26 hours or its last run failed; change it under Alerts → Rules.
          </p>
          <p>
            To prove a repository is sound and restores, schedule <code>vigil-probe backup-check</code> and{" "}
            <code>vigil-probe backup-drill</code> in the probe's configuration: their results show here as
            copies graded against 3-2-1.
          </p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table aria-busy={backups.loading}>
            <caption class="visually-hidden">Backups by host and name</caption>
            <thead>
              <tr>
                <th scope="col">Backup</th>
                <th scope="col">Host</th>
                <th scope="col">Status</th>
                <th scope="col">Last success</th>
                <th scope="col">Last failure</th>
                <th scope="col">Size</th>
                <th scope="col">Duration</th>
                <th scope="col">Expected within</th>
              </tr>
            </thead>
            <tbody>
              {list.map((b) => {
                const s = status(b);
                return (
                  <tr key={`${b.hostId}/${b.name}`}>
                    <th scope="row">
                      {b.name} <span class="muted">({b.tool})</span>
                    </th>
                    <td>
                      <Link href={`/hosts/${b.hostId}`}>{b.hostName}</Link>
                    </td>
                    <td>
                      <Badge tone={s.tone}>{s.label}</Badge>
                    </td>
                    <td title={when(b.lastSuccessAt)}>{ago(b.lastSuccessAt)}</td>
                    <td>
                      {b.lastFailureAt ? (
                        <>
                          <Link href={logsAround(b.lastFailureAt, b.hostId)}>{ago(b.lastFailureAt)}</Link>
                          {b.lastStatus === "failure" && b.lastRun.error && (
                            <code class="body error-tail">{b.lastRun.error.slice(-300)}</code>
                          )}
                        </>
                      ) : (
                        "never"
                      )}
                    </td>
                    <td>
                      {b.lastRun.bytesAdded === null ? "—" : `${bytes(b.lastRun.bytesAdded)} added`}
                      {b.lastRun.bytesProcessed !== null && (
                        <span class="muted"> of {bytes(b.lastRun.bytesProcessed)}</span>
                      )}
                    </td>
                    <td>{duration(Math.round(b.lastRun.durationMs / 1000))}</td>
                    <td>
                      {b.maxAgeHours === null ? (
                        <span class="muted">no rule</span>
                      ) : (
                        <>
                          {b.maxAgeHours} h{b.stale && <span class="muted"> (overdue)</span>}
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <BackupCopies />
      <BackupRepositories />
    </>
  );
}
