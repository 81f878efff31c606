import { type Db, issueSecret, secretPrefix, setupTokens, user, verifySecret } from "@vigil/db";
import { and, eq, isNull } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { recordAudit } from "./audit.ts";
import type { Auth } from "./auth.ts";
import { createOrganization } from "./organizations.ts";
import { adoptUnownedProjects, createOrganizationProject } from "./projects.ts";

/** True once anyone has an account: from then on the setup link is spent for good. */
export async function hasAnyUser(db: Db): Promise<boolean> {
  return !!(await db.query.user.findFirst({ columns: { id: true } }));
}

/**
 * The one-time setup link's token, while nobody has an account yet; null afterwards. Each call replaces an
 * unused earlier token, so only the link printed last works (a restart prints a fresh one).
 */
export async function issueSetupToken(db: Db, clock: Clock): Promise<string | null> {
  if (await hasAnyUser(db)) return null;
  const secret = await issueSecret("set");
  await db.batch([
    db.delete(setupTokens).where(isNull(setupTokens.usedAt)),
    db.insert(setupTokens).values({
      id: crypto.randomUUID(),
      prefix: secret.prefix,
      secretHash: secret.hash,
      createdAt: clock.now(),
    }),
  ]);
  return secret.token;
}

export function setupUrl(baseUrl: string, token: string): string {
  return `${baseUrl}/setup?token=${token}`;
}

/** Whether a setup token would be accepted now (the page asks before showing its form). */
export async function setupTokenValid(db: Db, token: string): Promise<boolean> {
  const prefix = secretPrefix(token, "set");
  if (!prefix) return false;
  const row = await db.query.setupTokens.findFirst({ where: eq(setupTokens.prefix, prefix) });
  return (
    !!row && row.usedAt === null && (await verifySecret(token, row.secretHash)) && !(await hasAnyUser(db))
  );
}

export interface SetupInput {
  token: string;
  name: string;
  email: string;
  password: string;
  organizationName: string;
}

/**
 * Creates the first owner from the setup link.
 * 1. Spend the token with compare-and-set: of two concurrent submissions only one gets past this line.
 * 2. Create the person through better-auth (its password hash), their email counted as verified: the
 *    operator who holds the link vouches for it.
 * 3. Create their organisation and hand it the projects made before accounts (project `default`), or
 *    a first project when there are none.
 */
export async function completeSetup(
  db: Db,
  clock: Clock,
  auth: Auth,
  input: SetupInput,
): Promise<{ userId: string; organizationId: string }> {
  const prefix = secretPrefix(input.token, "set");
  const row = prefix
    ? await db.query.setupTokens.findFirst({ where: eq(setupTokens.prefix, prefix) })
    : undefined;
  if (!row || !(await verifySecret(input.token, row.secretHash))) {
    throw new NotFoundError("setup link");
  }
  const spent = await db
    .update(setupTokens)
    .set({ usedAt: clock.now() })
    .where(and(eq(setupTokens.id, row.id), isNull(setupTokens.usedAt)))
    .returning({ id: setupTokens.id });
  if (spent.length === 0 || (await hasAnyUser(db))) {
    throw new ConflictError("this setup link was used already; sign in instead");
  }
  const ctx = await auth.$context;
  const created = await ctx.internalAdapter.createUser(
    {
      email: input.email.toLowerCase(),
      name: input.name,
      emailVerified: true,
    },
    { method: "email-password" },
  );
  await ctx.internalAdapter.linkAccount({
    userId: created.id,
    providerId: "credential",
    accountId: created.id,
    password: await ctx.password.hash(input.password),
  });
  const org = await createOrganization(db, clock, created.id, input.organizationName);
  const adopted = await adoptUnownedProjects(db, org.id);
  // A fresh deployment (Workers) has no project yet: the owner starts with one.
  if (adopted === 0) await createOrganizationProject(db, clock, org.id, "default");
  await recordAudit(db, clock, {
    action: "setup.complete",
    actor: { type: "user", id: created.id, label: created.email },
    organizationId: org.id,
    detail: { adoptedProjects: adopted },
  });
  return { userId: created.id, organizationId: org.id };
}

/** Only the email column is read: used to tell "no such person" apart in server-side flows. */
export async function userByEmail(db: Db, email: string) {
  return db.query.user.findFirst({ where: eq(user.email, email.toLowerCase()) });
}
