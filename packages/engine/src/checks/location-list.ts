/** Where a project's checks can run from: `edge` and every probe that declared itself a location. */
import { type CheckLocationSource, EDGE, type HostFacts } from "@vigil/contract";
import { checks, type Db, hosts } from "@vigil/db";
import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import { effectiveHostConfig, isOnline } from "../hosts.ts";
import { getProjectSettings } from "../settings.ts";
import { checkLocations } from "./locations.ts";

export async function listCheckLocations(
  db: Db,
  clock: Clock,
  projectId: string,
  edgeKinds: readonly string[],
): Promise<CheckLocationSource[]> {
  const [hostRows, checkRows, settings] = await Promise.all([
    db.query.hosts.findMany({
      where: and(eq(hosts.projectId, projectId), isNotNull(sql`json_extract(${hosts.facts}, '$.location')`)),
      columns: { id: true, name: true, facts: true, lastSeenAt: true, config: true },
    }),
    db.query.checks.findMany({
      where: eq(checks.projectId, projectId),
      columns: { kind: true, locations: true },
    }),
    getProjectSettings(db, projectId),
  ]);
  const counts = new Map<string, number>();
  for (const check of checkRows) {
    if (check.kind === "heartbeat" || check.kind === "host") continue;
    for (const name of checkLocations(check)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const now = clock.now();
  const probes = new Map<string, CheckLocationSource>();
  for (const host of hostRows) {
    const location = (host.facts as HostFacts).location;
    if (!location) continue;
    const entry = probes.get(location.name) ?? {
      name: location.name,
      type: "probe" as const,
      kinds: [],
      hosts: [],
      checks: counts.get(location.name) ?? 0,
    };
    entry.kinds = [...new Set([...entry.kinds, ...location.kinds])];
    const interval = effectiveHostConfig(settings, host.config).intervalSec;
    entry.hosts.push({
      id: host.id,
      name: host.name,
      online: isOnline(host.lastSeenAt, interval, now),
      lastSeenAt: host.lastSeenAt,
    });
    probes.set(location.name, entry);
  }
  const edge: CheckLocationSource = {
    name: EDGE,
    type: "edge",
    kinds: [...edgeKinds],
    hosts: [],
    checks: counts.get(EDGE) ?? 0,
  };
  return [edge, ...[...probes.values()].sort((a, b) => a.name.localeCompare(b.name))];
}
