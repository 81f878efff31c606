/**
 * Flips and incidents: what a state change of a check (checks/state.ts) or of a rule's alert
 * (rules/evaluate.ts) records, in the same batch as the state write and guarded by its compare-and-set
 * token, so a transition is recorded exactly once. Flips are the alert pipeline's outbox (outbox.ts).
 */
import type { SubjectType } from "@vigil/db";
import type { Statement } from "../statement.ts";

/** A state change of a check or an alert, to record only if the state write it belongs to wins. */
export interface Transition {
  subjectType: SubjectType;
  projectId: string;
  subjectId: string;
  from: string;
  to: string;
  cause?: string | undefined;
  /** the status an incident is open for: "down" for checks, "firing" for alerts */
  incidentStatus: string;
  now: number;
  /** SQL that is true only when the subject carries the writer's new compare-and-set token */
  guard: string;
  guardArgs: (string | number)[];
}

/** The flip, and the incident opened or resolved, of one transition, each guarded by the write's token. */
export function transitionStatements(t: Transition): Statement[] {
  const { subjectType, projectId, subjectId, from, to, now, guard, guardArgs } = t;
  const statements: Statement[] = [
    {
      sql: `insert into flips (project_id, subject_type, subject_id, from_status, to_status, cause, at)
            select ?, ?, ?, ?, ?, ?, ? where ${guard}`,
      args: [projectId, subjectType, subjectId, from, to, t.cause ?? "changed", now, ...guardArgs],
    },
  ];
  if (to === t.incidentStatus) {
    // The partial unique index keeps one open incident per subject; OR IGNORE makes re-opening a no-op.
    statements.push({
      sql: `insert or ignore into incidents (id, project_id, subject_type, subject_id, cause, opened_at)
            select ?, ?, ?, ?, ?, ? where ${guard}`,
      args: [crypto.randomUUID(), projectId, subjectType, subjectId, t.cause ?? to, now, ...guardArgs],
    });
  }
  if (from === t.incidentStatus) {
    statements.push({
      sql: `update incidents set resolved_at = ?, resolution = ?
            where project_id = ? and subject_type = ? and subject_id = ? and resolved_at is null
            and ${guard}`,
      args: [now, t.cause ?? to, projectId, subjectType, subjectId, ...guardArgs],
    });
  }
  return statements;
}
