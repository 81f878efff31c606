/** Rules as the API manages them. Every query is scoped by project. */
import {
  type CreateRuleRequest,
  type Rule,
  type RuleKindName,
  ruleParamsSchemas,
  type UpdateRuleRequest,
} from "@vigil/contract";
import { alerts, checks, type Db, type RuleRow, rules } from "@vigil/db";
import { and, asc, eq } from "drizzle-orm";
import { pauseCheck, resumeCheck, updateCheck } from "../checks/checks.ts";
import type { Clock } from "../clock.ts";
import type { EngineState } from "../engine-state.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { assertScopeHost } from "../hosts.ts";
import { ensureBuiltinRules } from "./builtin.ts";
import { forgetRules } from "./evaluate.ts";
import { HOST_DOWN_TAG } from "./host-down.ts";

export function toRule(r: RuleRow): Rule {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    builtin: r.builtin,
    enabled: r.enabled,
    scope: r.scope,
    tag: r.scopeTag,
    hostId: r.scopeHostId,
    params: r.params,
    forSec: r.forSec,
    keepFiringForSec: r.keepFiringForSec,
    description: r.description,
    runbookUrl: r.runbookUrl,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** Checks kind-specific parameters, naming the field (`body.params.op`). */
export function parseRuleParams(kind: RuleKindName, params: unknown): Record<string, unknown> {
  const result = ruleParamsSchemas[kind].safeParse(params);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new InvalidInputError(
      ["body", "params", ...(issue?.path ?? []).map(String)].join("."),
      issue?.message ?? "invalid",
    );
  }
  return result.data;
}

/** `state` is this process's engine state: its cache of the project's rules is dropped, so the change applies at once. */
export async function createRule(
  db: Db,
  clock: Clock,
  state: EngineState,
  projectId: string,
  input: CreateRuleRequest,
): Promise<RuleRow> {
  const params = parseRuleParams(input.kind, input.params);
  const scopeHostId = input.scope === "host" ? input.hostId : null;
  await assertScopeHost(db, projectId, scopeHostId);
  const now = clock.now();
  const [row] = await db
    .insert(rules)
    .values({
      id: crypto.randomUUID(),
      projectId,
      name: input.name,
      kind: input.kind,
      enabled: input.enabled,
      scope: input.scope,
      scopeTag: input.scope === "tag" ? input.tag : null,
      scopeHostId,
      params,
      forSec: input.forSec,
      keepFiringForSec: input.keepFiringForSec,
      description: input.description,
      runbookUrl: input.runbookUrl,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!row) throw new Error("rule insert returned nothing");
  forgetRules(state, projectId);
  return row;
}

export async function listRuleRows(db: Db, clock: Clock, projectId: string): Promise<RuleRow[]> {
  await ensureBuiltinRules(db, projectId, clock.now());
  return db.query.rules.findMany({
    where: eq(rules.projectId, projectId),
    orderBy: [asc(rules.createdAt), asc(rules.name)],
  });
}

export async function findRuleRow(db: Db, projectId: string, ruleId: string): Promise<RuleRow> {
  const row = await db.query.rules.findFirst({
    where: and(eq(rules.projectId, projectId), eq(rules.id, ruleId)),
  });
  if (!row) throw new NotFoundError("rule");
  return row;
}

export async function updateRule(
  db: Db,
  clock: Clock,
  state: EngineState,
  projectId: string,
  ruleId: string,
  input: UpdateRuleRequest,
): Promise<RuleRow> {
  const row = await findRuleRow(db, projectId, ruleId);
  const scope = input.scope ?? row.scope;
  const tag = input.tag !== undefined ? input.tag : row.scopeTag;
  const hostId = input.hostId !== undefined ? input.hostId : row.scopeHostId;
  if (scope === "tag" && !tag) throw new InvalidInputError("body.tag", "scope tag needs a tag");
  if (scope === "host" && !hostId) throw new InvalidInputError("body.hostId", "scope host needs a hostId");
  if (scope === "host") await assertScopeHost(db, projectId, hostId);
  const params = input.params ? parseRuleParams(row.kind, { ...row.params, ...input.params }) : row.params;
  const [updated] = await db
    .update(rules)
    .set({
      name: input.name ?? row.name,
      params,
      scope,
      scopeTag: scope === "tag" ? tag : null,
      scopeHostId: scope === "host" ? hostId : null,
      forSec: input.forSec ?? row.forSec,
      keepFiringForSec: input.keepFiringForSec ?? row.keepFiringForSec,
      description: input.description ?? row.description,
      runbookUrl: input.runbookUrl !== undefined ? input.runbookUrl : row.runbookUrl,
      enabled: input.enabled ?? row.enabled,
      updatedAt: clock.now(),
    })
    .where(and(eq(rules.projectId, projectId), eq(rules.id, ruleId)))
    .returning();
  if (!updated) throw new NotFoundError("rule");
  forgetRules(state, projectId);
  const scopeChanged = updated.scopeTag !== row.scopeTag || updated.scopeHostId !== row.scopeHostId;
  if ((!updated.enabled && row.enabled) || scopeChanged) {
    // The scheduler resolves the alerts of a switched-off rule (or of hosts it no longer covers) next tick.
    await db.update(alerts).set({ dueAt: clock.now() }).where(eq(alerts.ruleId, ruleId));
  }
  if (updated.kind === "host_down") await syncHostChecks(db, clock, projectId, row, updated);
  return updated;
}

/**
 * The liveness checks the host-down rule made follow it: switched off, they pause; on, they resume; a new
 * `periodSec` becomes their period.
 */
async function syncHostChecks(db: Db, clock: Clock, projectId: string, before: RuleRow, after: RuleRow) {
  const made = (
    await db.query.checks.findMany({
      where: and(eq(checks.projectId, projectId), eq(checks.kind, "host")),
      columns: { id: true, tags: true },
    })
  ).filter((c) => c.tags.includes(HOST_DOWN_TAG));
  const period = Number(after.params.periodSec);
  for (const check of made) {
    if (period !== Number(before.params.periodSec)) {
      await updateCheck(db, clock, projectId, check.id, { period });
    }
    if (after.enabled !== before.enabled) {
      await (after.enabled ? resumeCheck : pauseCheck)(db, clock, projectId, check.id);
    }
  }
}

export async function deleteRule(
  db: Db,
  state: EngineState,
  projectId: string,
  ruleId: string,
  now: number,
): Promise<void> {
  const row = await findRuleRow(db, projectId, ruleId);
  if (row.builtin) {
    throw new ConflictError('a built-in rule cannot be deleted; switch it off with {"enabled": false}');
  }
  // Its alerts go with it; their open incidents are closed rather than left open forever.
  await db.$client.execute({
    sql: `update incidents set resolved_at = ?, resolution = 'rule deleted'
          where subject_type = 'alert' and resolved_at is null
          and subject_id in (select id from alerts where rule_id = ? and project_id = ?)`,
    args: [now, ruleId, projectId],
  });
  await db.delete(rules).where(and(eq(rules.projectId, projectId), eq(rules.id, ruleId)));
  forgetRules(state, projectId);
}
