import { createEnrollmentTokenRequestSchema } from "@vigil/contract";
import { createEnrollmentToken, listEnrollmentTokens, revokeEnrollmentToken } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";
import { idParam } from "./params.ts";

export const enrollmentTokenRoutes = new Hono<AppEnv>()
  .use(requireScope("admin"))
  .post("/", validate("json", createEnrollmentTokenRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    return c.json(
      await createEnrollmentToken(db, clock, c.var.principal.projectId, c.req.valid("json")),
      201,
    );
  })
  .get("/", async (c) => {
    return c.json({ enrollmentTokens: await listEnrollmentTokens(c.var.deps.db, c.var.principal.projectId) });
  })
  .delete("/:id", validate("param", idParam), async (c) => {
    const { db, clock } = c.var.deps;
    await revokeEnrollmentToken(db, clock, c.var.principal.projectId, c.req.valid("param").id);
    return c.body(null, 204);
  });
