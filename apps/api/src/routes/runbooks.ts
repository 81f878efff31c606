import {
  completeStepRequestSchema,
  createRunbookRequestSchema,
  fromTemplateRequestSchema,
  historyQuerySchema,
  putSecretRequestSchema,
  secretNameSchema,
  startRunRequestSchema,
  updateRunbookRequestSchema,
} from "@vigil/contract";
import {
  cancelRun,
  createRunbook,
  createRunbookFromTemplate,
  deleteRunbook,
  deleteSecret,
  findRunbookRow,
  findRunRow,
  finishStep,
  listRunbookRows,
  listRunRows,
  listSecrets,
  putSecret,
  type RunbookEnv,
  runbookTemplates,
  startRun,
  toRunbook,
  toRunbookRuns,
  updateRunbook,
} from "@vigil/engine";
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";
import { runbookEnvOf } from "../runbook-env.ts";

const idParam = z.object({ id: z.uuid() });
const stepParam = z.object({ id: z.uuid(), index: z.coerce.number().int().min(0).max(1000) });

/** What runs need of this request's deps. */
export function runbookEnv(c: Context<AppEnv>): RunbookEnv {
  return runbookEnvOf(c.var.deps);
}

/** Who did it, as a run records it: a person's email, or the API key's name. */
function who(c: Context<AppEnv>): string {
  const { actor } = c.var.principal;
  const label = actor.label ?? actor.id ?? "unknown";
  return actor.type === "user" ? label : `API key "${label}"`;
}

const oneRun = async (c: Context<AppEnv>, row: Parameters<typeof toRunbookRuns>[1][number]) =>
  (await toRunbookRuns(c.var.deps.db, [row]))[0];

/** Marks the run's current step done or skipped, and answers the run as it then is. */
async function finish(
  c: Context<AppEnv>,
  how: "done" | "skipped",
  step: { id: string; index: number },
  input: { note?: string | undefined; confirmed?: string[] | undefined },
) {
  const env = runbookEnv(c);
  const { projectId } = c.var.principal;
  const row = await finishStep(env, projectId, step.id, step.index, how, who(c), input.note, input.confirmed);
  return oneRun(c, row);
}

/** The project's sealed secrets: names only, ever. */
export const secretRoutes = new Hono<AppEnv>()
  .get("/", requireScope("read"), async (c) => {
    return c.json({ secrets: await listSecrets(c.var.deps.db, c.var.principal.projectId) });
  })
  .put(
    "/:name",
    requireScope("admin"),
    validate("param", z.object({ name: secretNameSchema })),
    validate("json", putSecretRequestSchema),
    async (c) => {
      const { db, clock, config } = c.var.deps;
      const { name } = c.req.valid("param");
      await putSecret(
        db,
        clock,
        c.var.principal.projectId,
        name,
        c.req.valid("json").value,
        config.secretKey,
      );
      return c.body(null, 204);
    },
  )
  .delete(
    "/:name",
    requireScope("admin"),
    validate("param", z.object({ name: secretNameSchema })),
    async (c) => {
      await deleteSecret(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").name);
      return c.body(null, 204);
    },
  );

/** The built-in runbooks to start from. */
export const runbookTemplateRoutes = new Hono<AppEnv>().get("/", requireScope("read"), (c) =>
  c.json({ templates: runbookTemplates() }),
);

/** Runbooks and starting runs of them. */
export const runbookRoutes = new Hono<AppEnv>()
  .post("/from-template", requireScope("write"), validate("json", fromTemplateRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const row = await createRunbookFromTemplate(db, clock, c.var.principal.projectId, c.req.valid("json"));
    return c.json(toRunbook(row), 201);
  })
  .post("/", requireScope("write"), validate("json", createRunbookRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(
      toRunbook(await createRunbook(db, clock, c.var.principal.projectId, c.req.valid("json"))),
      201,
    );
  })
  .get("/", requireScope("read"), async (c) => {
    const rows = await listRunbookRows(c.var.deps.db, c.var.principal.projectId);
    return c.json({ runbooks: rows.map(toRunbook) });
  })
  .get("/:id", requireScope("read"), validate("param", idParam), async (c) => {
    return c.json(
      toRunbook(await findRunbookRow(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id)),
    );
  })
  .patch(
    "/:id",
    requireScope("write"),
    validate("param", idParam),
    validate("json", updateRunbookRequestSchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const row = await updateRunbook(
        db,
        clock,
        c.var.principal.projectId,
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return c.json(toRunbook(row));
    },
  )
  .delete("/:id", requireScope("write"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    await deleteRunbook(db, clock, c.var.principal.projectId, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .post(
    "/:id/runs",
    requireScope("write"),
    validate("param", idParam),
    validate("json", startRunRequestSchema),
    async (c) => {
      const { hostIds, note } = c.req.valid("json");
      const row = await startRun(runbookEnv(c), c.var.principal.projectId, c.req.valid("param").id, who(c), {
        hostIds,
        note,
      });
      return c.json(await oneRun(c, row), 201);
    },
  )
  .get(
    "/:id/runs",
    requireScope("read"),
    validate("param", idParam),
    validate("query", historyQuerySchema),
    async (c) => {
      const { db } = c.var.deps;
      const { projectId } = c.var.principal;
      const { id } = c.req.valid("param");
      await findRunbookRow(db, projectId, id);
      const rows = await listRunRows(db, projectId, id, c.req.valid("query").limit);
      return c.json({ runs: await toRunbookRuns(db, rows) });
    },
  );

/** Runs: the record, and moving one along. */
export const runbookRunRoutes = new Hono<AppEnv>()
  .get("/", requireScope("read"), validate("query", historyQuerySchema), async (c) => {
    const { db } = c.var.deps;
    const rows = await listRunRows(db, c.var.principal.projectId, undefined, c.req.valid("query").limit);
    return c.json({ runs: await toRunbookRuns(db, rows) });
  })
  .get("/:id", requireScope("read"), validate("param", idParam), async (c) => {
    return c.json(
      await oneRun(c, await findRunRow(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id)),
    );
  })
  .post(
    "/:id/steps/:index/complete",
    requireScope("write"),
    validate("param", stepParam),
    validate("json", completeStepRequestSchema),
    async (c) => c.json(await finish(c, "done", c.req.valid("param"), c.req.valid("json"))),
  )
  .post(
    "/:id/steps/:index/skip",
    requireScope("write"),
    validate("param", stepParam),
    validate("json", completeStepRequestSchema),
    async (c) => c.json(await finish(c, "skipped", c.req.valid("param"), c.req.valid("json"))),
  )
  .post("/:id/cancel", requireScope("write"), validate("param", idParam), async (c) => {
    const row = await cancelRun(runbookEnv(c), c.var.principal.projectId, c.req.valid("param").id, who(c));
    return c.json(await oneRun(c, row));
  });
