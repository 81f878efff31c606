import type {
  CreatedEnrollmentToken,
  CreateEnrollmentTokenRequest,
  EnrollmentToken,
  EnrollRequest,
  EnrollResponse,
} from "@vigil/contract";
import {
  type Db,
  type EnrollmentTokenRow,
  enrollmentTokens,
  hosts,
  issueSecret,
  secretPrefix,
  verifySecret,
} from "@vigil/db";
import { and, eq, sql } from "drizzle-orm";
import type { Clock } from "./clock.ts";
import { ConflictError, NotFoundError, UnauthorizedError } from "./errors.ts";
import { authenticateHost, effectiveHostConfig } from "./hosts.ts";
import { getProjectSettings } from "./settings.ts";

function toEnrollmentToken(row: EnrollmentTokenRow): EnrollmentToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
    useCount: row.useCount,
  };
}

export async function createEnrollmentToken(
  db: Db,
  clock: Clock,
  projectId: string,
  input: CreateEnrollmentTokenRequest,
): Promise<CreatedEnrollmentToken> {
  const secret = await issueSecret("enr");
  const now = clock.now();
  const [row] = await db
    .insert(enrollmentTokens)
    .values({
      id: crypto.randomUUID(),
      projectId,
      name: input.name,
      prefix: secret.prefix,
      secretHash: secret.hash,
      createdAt: now,
      expiresAt: input.expiresInSec ? now + input.expiresInSec * 1000 : null,
    })
    .returning();
  if (!row) throw new Error("enrollment token insert returned nothing");
  return { ...toEnrollmentToken(row), token: secret.token };
}

export async function listEnrollmentTokens(db: Db, projectId: string): Promise<EnrollmentToken[]> {
  const rows = await db.query.enrollmentTokens.findMany({
    where: eq(enrollmentTokens.projectId, projectId),
    orderBy: (t, { asc }) => [asc(t.createdAt), asc(t.id)],
  });
  return rows.map(toEnrollmentToken);
}

/** Revoked tokens stay listed (who enrolled what, and when) but enroll nothing more. */
export async function revokeEnrollmentToken(
  db: Db,
  clock: Clock,
  projectId: string,
  id: string,
): Promise<void> {
  const done = await db
    .update(enrollmentTokens)
    .set({ revokedAt: clock.now() })
    .where(and(eq(enrollmentTokens.projectId, projectId), eq(enrollmentTokens.id, id)))
    .returning({ id: enrollmentTokens.id });
  if (done.length === 0) throw new NotFoundError("enrollment token");
}

/**
 * Turns an enrollment token into a host and a host token.
 * 1. The token must be well formed, known, unrevoked and unexpired (all answered alike: 401).
 * 2. A request carrying a host's current token (`hostToken`) re-enrolls that host of the same project: a
 *    fresh token replaces the old one, the facts are updated.
 * 3. Without it, a machine id this project already knows is refused (409) unless `forceNew` asks for
 *    another host: machine ids are readable with any read key, so naming one proves nothing, and handing
 *    the host over would let anyone holding an enrollment token take it and revoke the real probe.
 * 4. Otherwise a new host is made. Only the token's hash is stored.
 */
export async function enrollHost(
  db: Db,
  clock: Clock,
  input: EnrollRequest,
  /** `beforeCreate` runs before a new host is added (not when one re-enrolls); throws to refuse (caps) */
  options: { beforeCreate?: (projectId: string) => Promise<void> } = {},
): Promise<EnrollResponse & { created: boolean }> {
  const prefix = secretPrefix(input.token, "enr");
  const row = prefix
    ? await db.query.enrollmentTokens.findFirst({ where: eq(enrollmentTokens.prefix, prefix) })
    : null;
  const now = clock.now();
  if (
    !row ||
    !(await verifySecret(input.token, row.secretHash)) ||
    row.revokedAt !== null ||
    (row.expiresAt !== null && row.expiresAt <= now)
  ) {
    throw new UnauthorizedError("the enrollment token is not valid, revoked or expired");
  }
  const machineId = input.facts.machineId ?? null;
  const owned = input.hostToken && !input.forceNew ? await authenticateHost(db, input.hostToken) : null;
  const existing = owned?.projectId === row.projectId ? owned.row : undefined;
  if (!existing && machineId && !input.forceNew) {
    const known = await db.query.hosts.findFirst({
      where: and(eq(hosts.projectId, row.projectId), eq(hosts.machineId, machineId)),
      columns: { id: true },
    });
    if (known) {
      throw new ConflictError(
        "this machine is already enrolled: its probe re-enrolls with the host token it keeps (identity.json " +
          "in its state dir); to enroll it as another host use forceNew (install.sh --force-new), or delete " +
          "the old host first",
      );
    }
  }
  if (!existing) await options.beforeCreate?.(row.projectId);
  const hostToken = await issueSecret("hst");

  let host: typeof hosts.$inferSelect | undefined;
  if (existing) {
    [host] = await db
      .update(hosts)
      .set({ tokenPrefix: hostToken.prefix, tokenHash: hostToken.hash, facts: input.facts })
      .where(eq(hosts.id, existing.id))
      .returning();
  } else {
    [host] = await db
      .insert(hosts)
      .values({
        id: crypto.randomUUID(),
        projectId: row.projectId,
        name: input.facts.hostname,
        machineId,
        tokenPrefix: hostToken.prefix,
        tokenHash: hostToken.hash,
        facts: input.facts,
        createdAt: now,
      })
      .returning();
  }
  if (!host) throw new Error("host write returned nothing");
  await db
    .update(enrollmentTokens)
    .set({ lastUsedAt: now, useCount: sql`${enrollmentTokens.useCount} + 1` })
    .where(eq(enrollmentTokens.id, row.id));
  const settings = await getProjectSettings(db, row.projectId);
  return {
    hostId: host.id,
    hostToken: hostToken.token,
    config: effectiveHostConfig(settings, host.config),
    created: !existing,
  };
}
