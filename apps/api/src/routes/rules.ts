import { createRuleRequestSchema, updateRuleRequestSchema } from "@vigil/contract";
import { createRule, deleteRule, findRuleRow, listRuleRows, toRule, updateRule } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { enforceCap } from "../limits.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";
import { idParam } from "./params.ts";

/** Alert rules of the key's project: admin scope to write, read scope to read. */
export const ruleRoutes = new Hono<AppEnv>()
  .post("/", requireScope("write"), validate("json", createRuleRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    await enforceCap(c, "maxRules", c.var.principal.projectId);
    return c.json(
      toRule(
        await createRule(
          db,
          clock,
          c.var.deps.runtime.engine,
          c.var.principal.projectId,
          c.req.valid("json"),
        ),
      ),
      201,
    );
  })
  .get("/", requireScope("read"), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json({ rules: (await listRuleRows(db, clock, c.var.principal.projectId)).map(toRule) });
  })
  .get("/:id", requireScope("read"), validate("param", idParam), async (c) => {
    return c.json(
      toRule(await findRuleRow(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id)),
    );
  })
  .patch(
    "/:id",
    requireScope("write"),
    validate("param", idParam),
    validate("json", updateRuleRequestSchema),
    async (c) => {
      const { db, clock } = c.var.deps;
      const { projectId } = c.var.principal;
      return c.json(
        toRule(
          await updateRule(
            db,
            clock,
            c.var.deps.runtime.engine,
            projectId,
            c.req.valid("param").id,
            c.req.valid("json"),
          ),
        ),
      );
    },
  )
  .delete("/:id", requireScope("write"), validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    await deleteRule(
      db,
      c.var.deps.runtime.engine,
      c.var.principal.projectId,
      c.req.valid("param").id,
      clock.now(),
    );
    return c.body(null, 204);
  });
