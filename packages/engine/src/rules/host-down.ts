/**
 * The "host down" rule does not raise alerts of its own: host liveness already is a check (kind `host`), with
 * its flips, incidents and uptime. The rule provisions that check instead: when a host in its scope reports
 * and has no liveness check yet, one is made (tagged `host-down-rule`, the rule's `periodSec` as the probe
 * interval). Switching the rule off pauses the checks it made; on, resumes them; a new period reaches them
 * too (rules.ts). A liveness check made by hand is left alone, and the rule never makes a second one for the
 * same host. A check deleted by hand comes back from a process that has not seen its host yet: to leave a
 * host without one, narrow the rule's scope.
 */
import { createCheckRequestSchema } from "@vigil/contract";
import { checks, type Db } from "@vigil/db";
import { and, eq } from "drizzle-orm";
import { createCheck } from "../checks/checks.ts";
import type { Clock } from "../clock.ts";

export const HOST_DOWN_TAG = "host-down-rule";

/** Hosts this process knows to have a liveness check, so the common case costs no read. */
const provisioned = new WeakMap<Db["$client"], Set<string>>();

export async function ensureHostCheck(
  db: Db,
  clock: Clock,
  host: { projectId: string; hostId: string; name: string },
  periodSec: number,
): Promise<void> {
  let known = provisioned.get(db.$client);
  if (!known) {
    known = new Set();
    provisioned.set(db.$client, known);
  }
  if (known.has(host.hostId)) return;
  const existing = await db.query.checks.findFirst({
    where: and(eq(checks.hostId, host.hostId), eq(checks.kind, "host")),
    columns: { id: true },
  });
  if (!existing) {
    await createCheck(
      db,
      clock,
      host.projectId,
      createCheckRequestSchema.parse({
        kind: "host",
        // Named as the host, so its notices read "DOWN: web-1".
        name: host.name,
        hostId: host.hostId,
        period: periodSec,
        tags: [HOST_DOWN_TAG],
        description: 'Made by the "host down" rule: the probe on this host reports.',
      }),
    );
  }
  if (known.size > 100_000) known.clear();
  known.add(host.hostId);
}
