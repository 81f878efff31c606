import { incidents, rules } from "@vigil/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { DAY, fs, HOUR, healthy, MIN, ruleFixture, T0 } from "./rules-fixture.ts";

describe("the alert lifecycle", () => {
  it("holds a breach pending until the for-duration, and fires exactly at it", async () => {
    const f = await ruleFixture({ only: ["fs-full"] });
    await f.disk(93);
    expect(await f.stateOf("fs-full")).toBe("pending");
    f.clock.advance(5 * MIN - 1);
    await f.disk(93);
    expect(await f.stateOf("fs-full")).toBe("pending");
    f.clock.advance(1);
    await f.disk(93);
    expect(await f.stateOf("fs-full")).toBe("firing");
    const [alert] = await f.alertsOf("fs-full");
    expect(alert?.cause).toBe("disk / at 93% > 90% for 5 min");
    expect(await f.flipsOf()).toEqual(["inactive→pending", "pending→firing"]);
  });

  it("turns pending into firing from the scheduler when no batch comes at the deadline", async () => {
    const f = await ruleFixture({ only: ["fs-full"] });
    await f.disk(95);
    f.clock.advance(5 * MIN - 1);
    await f.due();
    expect(await f.stateOf("fs-full")).toBe("pending");
    f.clock.advance(1);
    await f.due();
    expect(await f.stateOf("fs-full")).toBe("firing");
  });

  it("drops a pending alert whose condition clears before the for-duration, without firing", async () => {
    const f = await ruleFixture({ only: ["fs-full"] });
    await f.disk(95);
    f.clock.advance(2 * MIN);
    await f.disk(50);
    expect(await f.stateOf("fs-full")).toBe("inactive");
    expect(await f.flipsOf()).toEqual(["inactive→pending", "pending→inactive"]);
  });

  it("holds a firing alert at the threshold with a clear value, and resolves only past it", async () => {
    const f = await ruleFixture({ only: ["fs-full"] });
    await f.tune("fs-full", { forSec: 0, params: { clearValue: 85 } });
    const at = f.disk;
    await at(93);
    expect(await f.stateOf("fs-full")).toBe("firing");
    for (const pct of [90, 87, 85]) {
      f.clock.advance(MIN);
      await at(pct);
      expect(await f.stateOf("fs-full")).toBe("firing");
    }
    f.clock.advance(MIN);
    await at(84.9);
    expect(await f.stateOf("fs-full")).toBe("inactive");
    expect(await f.flipsOf()).toEqual(["inactive→firing", "firing→inactive"]);
  });

  it("without a clear value, resolves as soon as the value is back at the threshold", async () => {
    const f = await ruleFixture({ only: ["fs-full"] });
    await f.tune("fs-full", { forSec: 0 });
    await f.disk(93);
    f.clock.advance(MIN);
    await f.disk(90);
    expect(await f.stateOf("fs-full")).toBe("inactive");
  });

  it("keeps firing for keep-firing-for after the condition clears, and a relapse continues the same firing", async () => {
    const f = await ruleFixture({ only: ["fs-full"] });
    await f.tune("fs-full", { forSec: 0, keepFiringForSec: 600 });
    const at = f.disk;
    await at(95);
    f.clock.advance(MIN);
    await at(50);
    expect(await f.stateOf("fs-full")).toBe("firing");
    f.clock.advance(5 * MIN);
    await at(95); // flaps back within keep-firing-for: no new flip
    f.clock.advance(MIN);
    await at(50);
    f.clock.advance(10 * MIN - 1);
    await f.due();
    expect(await f.stateOf("fs-full")).toBe("firing");
    f.clock.advance(1);
    await f.due();
    expect(await f.stateOf("fs-full")).toBe("inactive");
    expect(await f.flipsOf()).toEqual(["inactive→firing", "firing→inactive"]);
  });

  it("opens an incident when an alert fires and resolves it when the alert stops firing", async () => {
    const f = await ruleFixture({ only: ["fs-full"] });
    await f.tune("fs-full", { forSec: 0 });
    await f.disk(99);
    const [alert] = await f.alertsOf("fs-full");
    const open = await f.db
      .select()
      .from(incidents)
      .where(eq(incidents.subjectId, alert?.id ?? ""));
    expect(open.map((i) => [i.subjectType, i.resolvedAt])).toEqual([["alert", null]]);
    f.clock.advance(MIN);
    await f.send(healthy(f.clock.now()));
    const closed = await f.db
      .select()
      .from(incidents)
      .where(eq(incidents.subjectId, alert?.id ?? ""));
    expect(closed[0]?.resolvedAt).toBe(f.clock.now());
  });

  it("writes a transition's flip exactly once when two evaluators race on the same deadline", async () => {
    const f = await ruleFixture({ only: ["fs-full"] });
    await f.disk(95);
    f.clock.advance(5 * MIN);
    const reports = await Promise.all([f.due(), f.due(), f.due()]);
    expect(reports.reduce((n, r) => n + r.flips, 0)).toBe(1);
    expect(await f.flipsOf()).toEqual(["inactive→pending", "pending→firing"]);
  });

  it("resolves the alerts of a rule that is switched off", async () => {
    const f = await ruleFixture({ only: ["failed-units"] });
    await f.send(
      healthy(f.clock.now(), { state: { collectedAt: f.clock.now(), failedUnits: ["nginx.service"] } }),
    );
    expect(await f.stateOf("failed-units")).toBe("firing");
    const { updateRule } = await import("../src/index.ts");
    await updateRule(f.db, f.clock, f.engine, f.project.id, (await f.rule("failed-units")).id, {
      enabled: false,
    });
    await f.due();
    expect(await f.stateOf("failed-units")).toBe("inactive");
  });
  it("resolves a host's alerts once the rule's scope no longer covers the host", async () => {
    const f = await ruleFixture({ only: ["failed-units"] });
    const failed = () =>
      f.send(
        healthy(f.clock.now(), { state: { collectedAt: f.clock.now(), failedUnits: ["nginx.service"] } }),
      );
    await failed();
    expect(await f.stateOf("failed-units")).toBe("firing");
    await f.tune("failed-units", { scope: "tag", tag: "db" });
    f.clock.advance(MIN);
    await failed();
    expect(await f.stateOf("failed-units")).toBe("inactive");
    expect(await f.flipsOf()).toEqual(["inactive→firing", "firing→inactive"]);
  });
});

describe("the disk-full forecast", () => {
  /** `hours` of samples every 5 minutes, filling from `startPct` by `perHour` points an hour. */
  async function fill(
    f: Awaited<ReturnType<typeof ruleFixture>>,
    hours: number,
    startPct: number,
    perHour: number,
  ) {
    const start = f.clock.now();
    for (let t = 0; t <= hours * HOUR; t += 5 * MIN) {
      f.clock.set(start + t);
      await f.send(
        healthy(f.clock.now(), {
          filesystems: [fs(f.clock.now(), "/data", startPct + (perHour * t) / HOUR)],
        }),
      );
    }
  }

  it("predicts a linear fill that reaches full within 24 hours", async () => {
    const f = await ruleFixture({ only: ["disk-forecast"] });
    await fill(f, 6, 40, 3); // 58% after 6 h, +3 points an hour: full in 14 h
    await f.forecasts();
    const [alert] = await f.alertsOf("disk-forecast");
    expect(alert?.state).toBe("firing");
    expect(alert?.lastValue).toBeCloseTo(14, 1);
    expect(alert?.cause).toBe("disk /data full in ~14 h at the trend of the last 6 h (limit 24 h)");
  });

  it("stays quiet on a fill that needs longer than the horizon, and on a flat disk", async () => {
    const f = await ruleFixture({ only: ["disk-forecast"] });
    await fill(f, 6, 40, 1); // full in 54 h
    await f.forecasts();
    expect(await f.stateOf("disk-forecast")).toBe("none");
    const flat = await ruleFixture({ only: ["disk-forecast"] });
    await fill(flat, 6, 70, 0);
    await flat.forecasts();
    expect(await flat.stateOf("disk-forecast")).toBe("none");
  });

  it("does not forecast from less than half the lookback", async () => {
    const f = await ruleFixture({ only: ["disk-forecast"] });
    await fill(f, 2, 40, 20);
    await f.forecasts();
    expect(await f.stateOf("disk-forecast")).toBe("none");
  });
});

describe("the built-in rule pack", () => {
  type Fixture = Awaited<ReturnType<typeof ruleFixture>>;
  /** For each built-in rule: what makes it fire on a host, from a healthy start. */
  const fixtures: Record<string, (f: Fixture) => Promise<void>> = {
    "fs-full": async (f) => {
      for (let i = 0; i <= 5; i++) {
        await f.disk(95);
        f.clock.advance(MIN);
      }
    },
    "memory-low": async (f) => {
      for (let i = 0; i <= 5; i++) {
        const s = healthy(f.clock.now());
        await f.send({
          ...s,
          samples: [{ ts: f.clock.now(), memory: { totalBytes: 4e9, availableBytes: 1e8 } }],
        });
        f.clock.advance(MIN);
      }
    },
    "load-high": async (f) => {
      for (let i = 0; i <= 15; i++) {
        await f.send({ ...healthy(f.clock.now()), samples: [{ ts: f.clock.now(), load1: 4.5 }] });
        f.clock.advance(MIN);
      }
    },
    "iowait-high": async (f) => {
      for (let i = 0; i <= 10; i++) {
        const cpu = { userPct: 5, systemPct: 5, iowaitPct: 45, idlePct: 45 };
        await f.send({ ...healthy(f.clock.now()), samples: [{ ts: f.clock.now(), cpu }] });
        f.clock.advance(MIN);
      }
    },
    "backup-stale": async (f) => {
      const done = f.clock.now();
      await f.send(
        healthy(done, {
          backups: [{ name: "db", tool: "restic", status: "success", startedAt: done - MIN, endedAt: done }],
        }),
      );
      f.clock.advance(26 * HOUR + 1);
      await f.due();
    },
    "security-updates": async (f) => {
      const state = () => ({
        collectedAt: f.clock.now(),
        updates: { manager: "apt" as const, pending: 5, security: 2 },
      });
      await f.send(healthy(f.clock.now(), { state: state() }));
      f.clock.advance(7 * DAY + 1);
      await f.due();
    },
    "reboot-required": async (f) => {
      const since = f.clock.now();
      await f.send(healthy(since, { state: { collectedAt: since, reboot: { required: true, since } } }));
      f.clock.advance(7 * DAY + MIN);
      await f.send(
        healthy(f.clock.now(), { state: { collectedAt: f.clock.now(), reboot: { required: true, since } } }),
      );
    },
    "failed-units": async (f) => {
      await f.send(
        healthy(f.clock.now(), { state: { collectedAt: f.clock.now(), failedUnits: ["backup.service"] } }),
      );
    },
    "container-restart-loop": async (f) => {
      for (let restarts = 0; restarts <= 4; restarts++) {
        const c = { id: "c1", name: "web", image: "app:1", state: "running", restartCount: restarts };
        await f.send(healthy(f.clock.now(), { state: { collectedAt: f.clock.now(), containers: [c] } }));
        f.clock.advance(2 * MIN);
      }
    },
    "oom-kill": async (f) => {
      const message = "Out of memory: Killed process 4242 (node) total-vm:2048000kB, anon-rss:1024000kB";
      await f.send(
        healthy(f.clock.now(), { logs: [{ ts: f.clock.now(), priority: 3, identifier: "kernel", message }] }),
      );
    },
    "disk-forecast": async (f) => {
      const start = f.clock.now();
      for (let t = 0; t <= 6 * HOUR; t += 10 * MIN) {
        f.clock.set(start + t);
        await f.send(healthy(f.clock.now(), { filesystems: [fs(f.clock.now(), "/", 50 + (4 * t) / HOUR)] }));
      }
      await f.forecasts();
    },
  };

  /** A day of a healthy host: readings every 10 minutes, a backup every 6 hours, state every 30 minutes. */
  async function healthyDay(f: Fixture) {
    const c = {
      id: "c1",
      name: "web",
      image: "app:1",
      state: "running",
      restartCount: 1,
      health: "healthy" as const,
    };
    for (let t = 0; t < DAY; t += 10 * MIN) {
      const now = f.clock.now();
      const stateNow = t % (30 * MIN) === 0;
      await f.send(
        healthy(now, {
          ...(stateNow
            ? {
                state: {
                  collectedAt: now,
                  updates: { manager: "apt", pending: 2, security: 0 },
                  reboot: { required: false },
                  failedUnits: [],
                  containers: [c],
                  sshKeys: [{ user: "deploy", fingerprints: ["SHA256:abc"] }],
                },
              }
            : {}),
          ...(t % (6 * HOUR) === 0
            ? {
                backups: [
                  { name: "db", tool: "restic", status: "success", startedAt: now - MIN, endedAt: now },
                ],
              }
            : {}),
          logs: [{ ts: now, priority: 6, identifier: "kernel", message: "eth0: link up" }],
        }),
      );
      f.clock.advance(10 * MIN);
      await f.due();
      if (t % HOUR === 0) await f.forecasts();
    }
  }

  for (const [key, provoke] of Object.entries(fixtures)) {
    it(`${key} fires on its fixture`, async () => {
      const f = await ruleFixture({ only: [key] });
      await provoke(f);
      const states = (await f.alertsOf(key)).map((a) => a.state);
      expect(states).toContain("firing");
    });
  }

  it("host-down makes the host a liveness check that goes down when the probe falls silent", async () => {
    const f = await ruleFixture({ only: ["host-down"] });
    await f.send();
    const check = await f.hostCheck();
    expect(check?.tags).toEqual(["host-down-rule"]);
    const { tick } = await import("../src/index.ts");
    await tick({ db: f.db, clock: f.clock, state: f.engine });
    expect((await f.hostCheck())?.status).toBe("up");
    f.clock.advance(3 * MIN);
    await tick({ db: f.db, clock: f.clock, state: f.engine });
    expect((await f.hostCheck())?.status).toBe("down");
  });

  it("host-down pauses its liveness checks when switched off, resumes them when on, and passes on its period", async () => {
    const f = await ruleFixture({ only: ["host-down"] });
    await f.send();
    await f.tune("host-down", { params: { periodSec: 60 } });
    expect((await f.hostCheck())?.periodSec).toBe(60);
    await f.tune("host-down", { enabled: false });
    expect((await f.hostCheck())?.status).toBe("paused");
    await f.tune("host-down", { enabled: true });
    expect((await f.hostCheck())?.status).toBe("new");
  });

  it("every built-in rule stays quiet through a day of a healthy host", async () => {
    const f = await ruleFixture();
    await healthyDay(f);
    const noisy = (await f.alertsOf()).filter((a) => a.state !== "inactive");
    expect(noisy.map((a) => `${a.label}: ${a.cause}`)).toEqual([]);
    expect(await f.flipsOf()).toEqual([]);
    await f.send();
    const { tick } = await import("../src/index.ts");
    await tick({ db: f.db, clock: f.clock, state: f.engine });
    expect((await f.hostCheck())?.status).toBe("up");
  }, 60_000);

  it("is there on a new project, sixteen rules, and adding it again changes nothing", async () => {
    const f = await ruleFixture();
    const { ensureBuiltinRules, BUILTIN_RULES } = await import("../src/index.ts");
    await ensureBuiltinRules(f.db, f.project.id, T0);
    const rows = await f.db.select().from(rules).where(eq(rules.projectId, f.project.id));
    expect(rows.map((r) => r.builtin).sort()).toEqual(BUILTIN_RULES.map((r) => r.key).sort());
    expect(rows).toHaveLength(16);
  });
});
