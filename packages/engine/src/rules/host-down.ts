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
import type { KnownIds } from "../engine-state.ts";

export const HOST_DOWN_TAG = "host-down-rule";

/**
 * Makes the host's liveness check unless it has one. `known` holds the hosts this process or isolate knows
 * to have one (EngineState.hostChecks), so the common case costs no read.
 */
export async function ensureHostCheck(
  db: Db,
  clock: Clock,
  known: KnownIds,
  host: { projectId: string; hostId: string; name: string },
  periodSec: number,
): Promise<void> {
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
  known.add(host.hostId);
}
