import { z } from "zod";
import { epochMs } from "./common.ts";

/**
 * What an API key (or a member's role) may do. `admin` implies everything; `write` implies `read` and
 * `ingest` (checks, rules, channels, status pages, silences); `read` and `ingest` are independent. Keys,
 * enrollment tokens, project settings and members stay `admin`.
 */
export const apiKeyScopes = ["admin", "write", "read", "ingest"] as const;
export const apiKeyScopeSchema = z.enum(apiKeyScopes);
export type ApiKeyScope = z.infer<typeof apiKeyScopeSchema>;

export const createApiKeyRequestSchema = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(apiKeyScopeSchema).min(1).max(apiKeyScopes.length),
});
export type CreateApiKeyRequest = z.infer<typeof createApiKeyRequestSchema>;

/** An API key as listed: never the secret, only its visible prefix. */
export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe("the first characters of the key, for recognising it"),
  scopes: z.array(apiKeyScopeSchema),
  createdAt: epochMs,
  lastUsedAt: epochMs.nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

/** Answer to a key creation: the only time the secret is shown. */
export const createdApiKeySchema = apiKeySchema.extend({ key: z.string() });
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;

export const projectSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  pingKey: z.string().describe("the key in slug-form ping URLs: /ping/<pingKey>/<slug>"),
  organizationId: z.string().nullable().describe("null for a project made before accounts, until adopted"),
  createdAt: epochMs,
});
export type Project = z.infer<typeof projectSchema>;

export const healthSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  db: z.enum(["ok", "unreachable"]),
  version: z.string(),
  time: epochMs,
});
export type Health = z.infer<typeof healthSchema>;
