import { createApiKeyRequestSchema } from "@vigil/contract";
import { createApiKey, deleteApiKey, listApiKeys } from "@vigil/engine";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireScope } from "../middleware/auth.ts";
import { validate } from "../middleware/validate.ts";
import { idParam } from "./params.ts";

/** Managing keys is an admin act, listing included: key names and prefixes tell who has access. */
export const apiKeyRoutes = new Hono<AppEnv>()
  .use(requireScope("admin"))
  .post("/", validate("json", createApiKeyRequestSchema), async (c) => {
    const { db, clock } = c.var.deps;
    const created = await createApiKey(db, clock, c.var.principal.projectId, c.req.valid("json"));
    return c.json(created, 201);
  })
  .get("/", async (c) => {
    return c.json({ apiKeys: await listApiKeys(c.var.deps.db, c.var.principal.projectId) });
  })
  .delete("/:id", validate("param", idParam), async (c) => {
    await deleteApiKey(c.var.deps.db, c.var.principal.projectId, c.req.valid("param").id);
    return c.body(null, 204);
  });
