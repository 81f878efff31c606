// Rules on the application's own metrics: a threshold with a for-duration and a clear value on a scraped
// gauge, a counter's rate, a pushed value, and a series that stops reporting — all with an injected clock.
import { createRuleRequestSchema } from "@vigil/contract";
import { alerts } from "@vigil/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createRule, evaluateAbsentSeries, pushCustomMetrics } from "../src/index.ts";
import { healthy, MIN, ruleFixture } from "./rules-fixture.ts";

async function fixtureWithRule(rule: Record<string, unknown>) {
  const f = await ruleFixture({ only: [] });
  const row = await createRule(
    f.db,
    f.clock,
    f.engine,
    f.project.id,
    createRuleRequestSchema.parse({ name: "custom", ...rule }),
  );
  const alertsOfRule = () => f.db.select().from(alerts).where(eq(alerts.ruleId, row.id));
  const state = async () => (await alertsOfRule())[0]?.state ?? "none";
  /** a probe batch at the clock's time carrying the app's scraped metrics */
  const scrape = (
    metrics: { name: string; value: number; kind?: string; labels?: Record<string, string> }[],
  ) =>
    f.send(
      healthy(f.clock.now(), {
        customMetrics: metrics.map((m) => ({
          ts: f.clock.now(),
          kind: "gauge",
          ...m,
          labels: { job: "app", ...m.labels },
        })) as never,
      }),
    );
  return { ...f, row, alertsOfRule, state, scrape };
}

describe("a threshold rule on a scraped gauge", () => {
  it("fires once the queue stays deep for its for-duration, and holds until it drains past the clear value", async () => {
    const f = await fixtureWithRule({
      kind: "metric",
      forSec: 300,
      params: { metric: "queue_depth", labels: { queue: "mail" }, op: ">", value: 100, clearValue: 50 },
    });
    await f.scrape([{ name: "queue_depth", value: 150, labels: { queue: "mail" } }]);
    expect(await f.state()).toBe("pending");
    f.clock.advance(5 * MIN);
    await f.scrape([{ name: "queue_depth", value: 180, labels: { queue: "mail" } }]);
    expect(await f.state()).toBe("firing");
    const [alert] = await f.alertsOfRule();
    expect(alert?.cause).toBe('queue_depth{job="app",queue="mail"} at 180 > 100 for 5 min');
    f.clock.advance(MIN);
    await f.scrape([{ name: "queue_depth", value: 80, labels: { queue: "mail" } }]);
    expect(await f.state()).toBe("firing");
    f.clock.advance(MIN);
    await f.scrape([{ name: "queue_depth", value: 40, labels: { queue: "mail" } }]);
    expect(await f.state()).toBe("inactive");
  });

  it("ignores series of the same name whose labels differ from the rule's", async () => {
    const f = await fixtureWithRule({
      kind: "metric",
      params: { metric: "queue_depth", labels: { queue: "mail" }, op: ">", value: 100 },
    });
    await f.scrape([{ name: "queue_depth", value: 500, labels: { queue: "reports" } }]);
    expect(await f.state()).toBe("none");
  });
});

describe("a rate rule on a counter", () => {
  it("fires when errors per second over the window pass the threshold, across a counter restart", async () => {
    const f = await fixtureWithRule({
      kind: "metric",
      params: { metric: "http_errors_total", op: ">", value: 1, aggregation: "rate", windowSec: 300 },
    });
    // 30 errors a minute (0.5/s), then the app restarts and the counter starts from 0 at 120 a minute (2/s).
    const values = [0, 30, 60, 90, 120, 150, 120, 240, 360, 480, 600];
    const states: string[] = [];
    for (const value of values) {
      await f.scrape([{ name: "http_errors_total", value, kind: "counter" }]);
      states.push(await f.state());
      f.clock.advance(MIN);
    }
    // Minute 7's window (minutes 3–7) holds the restart: 60 before it and 240 after, 1.25/s extrapolated
    // as Prometheus does; a reset read as a drop would have given under 0.5/s and no alert.
    expect(states).toEqual([...Array(7).fill("none"), "firing", "firing", "firing", "firing"]);
    const [alert] = await f.alertsOfRule();
    expect(alert?.observed).toBe('http_errors_total{job="app"} at 1.25 per second (rate over 5 min)');
  });
});

describe("a rule on pushed values", () => {
  it("looks at a push to a host as it does at a probe batch", async () => {
    const f = await fixtureWithRule({
      kind: "metric",
      params: { metric: "backlog_rows", op: ">=", value: 1000 },
    });
    await pushCustomMetrics(f.db, f.clock, f.engine, f.project.id, {
      host: "web-1",
      samples: [{ name: "backlog_rows", labels: {}, value: 1200, kind: "gauge" }],
    });
    expect(await f.state()).toBe("firing");
  });
});

describe("an absent-series rule", () => {
  it("fires when a series that reported goes silent past its minutes while the host keeps reporting, and resolves when it is back", async () => {
    const f = await fixtureWithRule({ kind: "metric_absent", params: { metric: "up", minutes: 10 } });
    await f.scrape([{ name: "up", value: 1, kind: "untyped" }]);
    await evaluateAbsentSeries(f.db, f.clock.now());
    expect(await f.state()).toBe("none");
    for (let i = 0; i < 10; i++) {
      f.clock.advance(MIN);
      await f.send();
      await evaluateAbsentSeries(f.db, f.clock.now());
    }
    // Exactly ten minutes of silence is not over ten.
    expect(await f.state()).toBe("none");
    f.clock.advance(MIN);
    await evaluateAbsentSeries(f.db, f.clock.now());
    expect(await f.state()).toBe("firing");
    const [alert] = await f.alertsOfRule();
    expect(alert?.cause).toContain('up{job="app"} last reported 11 min ago');
    await f.scrape([{ name: "up", value: 1, kind: "untyped" }]);
    await evaluateAbsentSeries(f.db, f.clock.now());
    expect(await f.state()).toBe("inactive");
  });

  it("never fires for a host that never reported the series", async () => {
    const f = await fixtureWithRule({ kind: "metric_absent", params: { metric: "up", minutes: 1 } });
    await f.send();
    f.clock.advance(60 * MIN);
    await evaluateAbsentSeries(f.db, f.clock.now());
    expect(await f.alertsOfRule()).toEqual([]);
  });
});
