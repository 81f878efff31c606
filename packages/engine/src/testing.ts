import { type CreateCheckRequestInput, createCheckRequestSchema } from "@vigil/contract";
import type { Db } from "@vigil/db";
import { createCheck } from "./checks/checks.ts";
import type { Clock } from "./clock.ts";

/** A clock that only moves when a test moves it. */
export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let current = start;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

/**
 * A check with the defaults the API would fill in; pass only what the test is about. Targets on 127.0.0.1
 * are allowed here: tests serve them locally, and what runs may reach is the tick's policy to judge.
 */
export async function createTestCheck(
  db: Db,
  clock: Clock,
  projectId: string,
  input: Partial<CreateCheckRequestInput> & { kind?: CreateCheckRequestInput["kind"] } = {},
) {
  const parsed = createCheckRequestSchema.parse({ kind: "heartbeat", name: "nightly backup", ...input });
  return createCheck(db, clock, projectId, parsed, { allowPrivateTargets: true });
}
