/**
 * Per-project caps: how many checks, hosts, channels and rules one project may hold, so one tenant (or one
 * leaked key, or a loop of `?create=1` pings) cannot fill the database. Counted before each insert; two
 * creations racing may pass one over the cap, which a cap (unlike a quota) can live with.
 */
import type { Db } from "@vigil/db";
import { CapReachedError } from "../errors.ts";

export type CappedResource = "checks" | "hosts" | "channels" | "rules" | "subscribers";

/** Built-in rules come with every project and do not count: the cap is on rules people add. */
const countSql: Record<CappedResource, string> = {
  checks: "select count(*) as n from checks where project_id = ?",
  hosts: "select count(*) as n from hosts where project_id = ?",
  channels: "select count(*) as n from channels where project_id = ?",
  rules: "select count(*) as n from rules where project_id = ? and builtin is null",
  subscribers: "select count(*) as n from status_subscribers where project_id = ?",
};

const names: Record<CappedResource, string> = {
  checks: "checks",
  hosts: "hosts",
  channels: "channels",
  rules: "custom rules",
  subscribers: "status page subscribers",
};

export interface Cap {
  /** at most this many; 0 means no cap */
  max: number;
  /** the setting that raises it, named in the refusal */
  setting: string;
}

/** Throws `CapReachedError` when the project already holds `cap.max` of `resource`. */
export async function assertBelowCap(
  db: Db,
  projectId: string,
  resource: CappedResource,
  cap: Cap,
): Promise<void> {
  if (cap.max <= 0) return;
  const { rows } = await db.$client.execute({ sql: countSql[resource], args: [projectId] });
  if (Number(rows[0]?.n ?? 0) >= cap.max) throw new CapReachedError(names[resource], cap.max, cap.setting);
}
