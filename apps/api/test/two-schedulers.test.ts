// Two schedulers on one database, as two server processes (or Worker isolates) run them. Each scheduler
// here has its own libSQL client on one database file, in this process: what is under test is how their
// awaits interleave (leases, claims, compare-and-set), which two clients show as well as two processes do,
// and one process lets the test hold a manual clock and "kill" a scheduler at a chosen step.
// (Lock contention between processes is two-processes.test.ts.)

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDb, createDb, type Db } from "@vigil/db";
import { migrateDb } from "@vigil/db/migrate";
import { createApiKey, createProject } from "@vigil/db/testing";
import {
  claimFlips,
  composeDeliveries,
  dispatch,
  queueFlipNotifications,
  sendDueDeliveries,
  takeLease,
} from "@vigil/engine";
import { manualClock } from "@vigil/engine/testing";
import { startWebhookReceiver, type WebhookReceiver } from "@vigil/notify/testing";
import { afterEach, describe, expect, it } from "vitest";
import { alertDeps } from "../src/alert-deps.ts";
import { createApp, defaultConfig } from "../src/app.ts";
import type { AppDeps } from "../src/deps.ts";
import { JOB_LEASE_MS, runScheduledJobs, scheduledJobs } from "../src/scheduler.ts";
import { jsonRequest } from "./helpers.ts";

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const TICK_MS = 5_000;

/** One database file, two clients on it (scheduler A and B), a project with webhook channels and heartbeats. */
async function twoSchedulers(options: { channels: number; checks: number }) {
  const receiver = await startWebhookReceiver();
  closers.push(receiver.close);
  const url = `file:${join(mkdtempSync(join(tmpdir(), "vigil-sched-")), "vigil.db")}`;
  const clients: Db[] = [createDb({ url }), createDb({ url })];
  for (const db of clients) closers.push(() => closeDb(db));
  await migrateDb(clients[0] as Db);
  const clock = manualClock(Date.UTC(2026, 10, 27, 12));
  const config = { ...defaultConfig, allowPrivateTargets: true, secretKey: "two-schedulers-secret-key-0123" };
  const [a, b] = clients.map((db): AppDeps => ({ db, clock, config }));
  if (!a || !b) throw new Error("two clients expected");
  const app = createApp(a);
  const project = await createProject(a.db);
  const { key } = await createApiKey(a.db, project.id, ["admin"]);
  for (let i = 0; i < options.channels; i++) {
    const res = await app.request(
      "/api/v1/channels",
      jsonRequest(
        "POST",
        { kind: "webhook", name: `hook ${i}`, url: `${receiver.url}/hook/${i}`, isDefault: true },
        key,
      ),
    );
    expect(res.status).toBe(201);
  }
  const checks: string[] = [];
  for (let i = 0; i < options.checks; i++) {
    const res = await app.request(
      "/api/v1/checks",
      jsonRequest("POST", { kind: "heartbeat", name: `job ${i}`, period: 60, grace: 60 }, key),
    );
    const { id } = (await res.json()) as { id: string };
    await app.request(`/ping/${id}`);
    checks.push(id);
  }
  return { a, b, clock, receiver, checks };
}

/** Delivery ids the receiver accepted, with how often each arrived. */
function arrivals(receiver: WebhookReceiver): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of receiver.accepted) {
    const id = String(r.headers["vigil-delivery"]);
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

async function deliveryStates(db: Db) {
  const { rows } = await db.$client.execute("select id, state from deliveries order by id");
  return rows.map((r) => ({ id: String(r.id), state: String(r.state) }));
}

describe("two schedulers on one database", () => {
  it("send each due notice exactly once, retries included, while both tick at the same moments", {
    timeout: 60_000,
  }, async () => {
    const { a, b, clock, receiver } = await twoSchedulers({ channels: 4, checks: 12 });
    // A few receivers fail first, so deliveries also go back to pending and are claimed again later.
    receiver.answers.push(503, 503, 503);
    clock.advance(121_000); // every heartbeat is past its grace: down
    for (let round = 0; round < 12; round++) {
      await Promise.all([runScheduledJobs(a, scheduledJobs), runScheduledJobs(b, scheduledJobs)]);
      clock.advance(31_000);
    }
    const states = await deliveryStates(a.db);
    expect(states.length).toBeGreaterThanOrEqual(4);
    expect(states.every((d) => d.state === "sent")).toBe(true);
    const seen = arrivals(receiver);
    expect([...seen.keys()].sort()).toEqual(states.map((d) => d.id).sort());
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    // Every channel heard of every check going down, once.
    const notices = receiver.accepted.flatMap((r) =>
      (JSON.parse(r.body) as { changes: { subject: { id: string } }[] }).changes.map(
        (c) => `${r.path} ${c.subject.id}`,
      ),
    );
    expect(notices).toHaveLength(4 * 12);
    expect(new Set(notices).size).toBe(4 * 12);
  });

  it("fired for the same moment, run each job once between them, and only one of them retention in ten minutes", {
    timeout: 60_000,
  }, async () => {
    const { a, b, clock } = await twoSchedulers({ channels: 1, checks: 2 });
    const ran: string[] = [];
    const counting = scheduledJobs.map((job) => ({
      ...job,
      run: async (deps: Parameters<typeof job.run>[0]) => {
        ran.push(job.name);
        return job.run(deps);
      },
    }));
    const firedAt = clock.now();
    await Promise.all([
      runScheduledJobs(a, counting, { firedAt }),
      runScheduledJobs(b, counting, { firedAt }),
    ]);
    expect(ran.sort()).toEqual(scheduledJobs.map((job) => job.name).sort());

    ran.length = 0;
    for (let tick = 1; tick * TICK_MS < 10 * 60_000; tick++) {
      clock.advance(TICK_MS);
      await Promise.all([runScheduledJobs(a, counting), runScheduledJobs(b, counting)]);
    }
    expect(ran.filter((job) => job === "retention")).toEqual([]);
    expect(ran.filter((job) => job === "forecasts")).toHaveLength(1);
    clock.advance(TICK_MS);
    await Promise.all([runScheduledJobs(a, counting), runScheduledJobs(b, counting)]);
    expect(ran.filter((job) => job === "retention")).toHaveLength(1);
  });

  it("racing dispatchers without the job lease still never send a delivery twice", {
    timeout: 60_000,
  }, async () => {
    const { a, b, clock, receiver } = await twoSchedulers({ channels: 6, checks: 6 });
    receiver.answers.push(503, 503, 503, 503);
    clock.advance(121_000);
    await runScheduledJobs(
      a,
      scheduledJobs.filter((j) => j.name === "checks"),
    );
    for (let round = 0; round < 10; round++) {
      await Promise.all([dispatch(alertDeps(a)), dispatch(alertDeps(b)), dispatch(alertDeps(a))]);
      clock.advance(31_000);
    }
    const states = await deliveryStates(a.db);
    expect(states.every((d) => d.state === "sent")).toBe(true);
    const seen = arrivals(receiver);
    expect(seen.size).toBe(states.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it("does not send a delivery again at once when another dispatcher tried it and put it back for a retry", {
    timeout: 60_000,
  }, async () => {
    const { a, b, clock, receiver } = await twoSchedulers({ channels: 1, checks: 1 });
    receiver.answers.push(503); // A's try fails: the delivery goes back to pending, retry in 30 s
    clock.advance(121_000);
    await runScheduledJobs(
      a,
      scheduledJobs.filter((j) => j.name === "checks"),
    );
    await queueFlipNotifications(alertDeps(a));
    clock.advance(60_000); // past the channel's grouping window
    await composeDeliveries(alertDeps(a));
    // B reads the due delivery, then is held just before its claim until A has claimed, tried and put it
    // back: the row then looks as B read it (pending, unclaimed) except for its attempt count.
    let aDone: () => void = () => {};
    const aFinished = new Promise<void>((done) => {
      aDone = done;
    });
    const batch = b.db.$client.batch.bind(b.db.$client);
    Object.assign(b.db.$client, {
      batch: async (...args: Parameters<typeof batch>) => {
        if (JSON.stringify(args[0]).includes("set state = 'sending'")) await aFinished;
        return batch(...args);
      },
    });
    const bRun = sendDueDeliveries(alertDeps(b));
    await sendDueDeliveries(alertDeps(a));
    aDone();
    await bRun;
    expect(receiver.requests).toHaveLength(1);
    const [row] = await deliveryStates(a.db);
    expect(row?.state).toBe("pending");
  });

  it("a scheduler that dies holding the notify job and its flips delays a notice by one lease, not minutes", {
    timeout: 60_000,
  }, async () => {
    const { a, b, clock, receiver } = await twoSchedulers({ channels: 1, checks: 1 });
    clock.advance(121_000);
    // A runs the checks job (the heartbeat goes down), takes the notify lease, claims the flip, and dies.
    await runScheduledJobs(
      a,
      scheduledJobs.filter((j) => j.name === "checks"),
    );
    const wentDown = clock.now();
    expect(await takeLease(a.db, { job: "notify", owner: "scheduler-a" }, clock.now(), JOB_LEASE_MS)).toBe(
      true,
    );
    expect((await claimFlips(a.db, clock.now())).map((f) => f.toStatus)).toContain("down");
    closeDb(a.db);

    // B ticks on: while A's lease holds, B never runs notify (one dispatcher at a time) ...
    while (receiver.accepted.length === 0 && clock.now() - wentDown <= 10 * 60_000) {
      clock.advance(TICK_MS);
      await runScheduledJobs(b, scheduledJobs);
      if (clock.now() - wentDown < JOB_LEASE_MS) expect(receiver.requests).toHaveLength(0);
    }
    // ... and once it lapses, B takes the job and A's flip, and the notice goes out on that tick.
    expect(receiver.accepted).toHaveLength(1);
    expect(clock.now() - wentDown).toBeLessThanOrEqual(JOB_LEASE_MS + TICK_MS);
  });
});
