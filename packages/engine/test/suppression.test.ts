import type { NotificationSubject } from "@vigil/contract";
import { describe, expect, it } from "vitest";
import {
  createMaintenanceWindow,
  createSilence,
  describeAlertSubject,
  expireSilence,
  suppressionFor,
  tick,
} from "../src/index.ts";
import { createTestCheck } from "../src/testing.ts";
import { healthy, MIN, ruleFixture } from "./rules-fixture.ts";

/** A project whose host has a firing "disk /" alert (and a liveness check made by the host-down rule). */
async function firingDisk(tags: string[] = ["prod"]) {
  const f = await ruleFixture({ only: ["fs-full", "host-down"], tags });
  const r = await f.tune("fs-full", { forSec: 300, runbookUrl: "https://runbooks.example/disk" });
  for (let i = 0; i <= 5; i++) {
    await f.disk(93);
    f.clock.advance(MIN);
  }
  const [alert] = await f.alertsOf("fs-full");
  if (!alert) throw new Error("no alert");
  const subject = await describeAlertSubject(f.db, f.project.id, alert.id);
  if (!subject) throw new Error("no subject");
  return { ...f, alert, subject, ruleId: r.id };
}

const silence = (
  minutes: number,
  matchers: { hostId?: string; tag?: string; ruleId?: string; checkId?: string },
) => ({
  ...matchers,
  durationMinutes: minutes,
  comment: "kamal deploy",
  author: "ci",
});

describe("describeAlertSubject", () => {
  it("names the host, the target, the value and the threshold, with the host's tags and the rule's runbook", async () => {
    const f = await firingDisk();
    expect(f.subject).toMatchObject({
      type: "alert",
      id: f.alert.id,
      name: "web-1 disk /",
      summary: "web-1 disk / 93%",
      tags: ["prod"],
      checkId: null,
      ruleId: f.ruleId,
      hostId: f.hostId,
      hostName: "web-1",
      runbookUrl: "https://runbooks.example/disk",
      path: `/p/${f.project.id}/hosts/${f.hostId}`,
    });
    const facts = Object.fromEntries(f.subject.facts.map((x) => [x.label, x.value]));
    expect(facts).toMatchObject({
      Rule: "Filesystem above 90%",
      Value: "93%",
      Threshold: "> 90%",
      For: "5 min",
    });
  });

  it("answers null for an alert of another project or one that does not exist", async () => {
    const f = await firingDisk();
    expect(await describeAlertSubject(f.db, crypto.randomUUID(), f.alert.id)).toBeNull();
    expect(await describeAlertSubject(f.db, f.project.id, crypto.randomUUID())).toBeNull();
  });
});

describe("suppressionFor", () => {
  it("returns nothing for an alert nobody silenced on a host that is up", async () => {
    const f = await firingDisk();
    expect(await suppressionFor(f.db, f.project.id, f.subject, f.clock.now())).toBeNull();
  });

  it("suppresses while a silence on the host, tag or rule is active, and not before or after", async () => {
    const f = await firingDisk();
    for (const matchers of [{ hostId: f.hostId }, { tag: "prod" }, { ruleId: f.ruleId }]) {
      const row = await createSilence(f.db, f.clock, f.project.id, silence(10, matchers));
      const found = await suppressionFor(f.db, f.project.id, f.subject, f.clock.now());
      expect(found?.kind).toBe("silence");
      expect(found?.reason).toContain("kamal deploy");
      expect(await suppressionFor(f.db, f.project.id, f.subject, f.clock.now() + 10 * MIN)).toBeNull();
      await expireSilence(f.db, f.clock, f.project.id, row.id);
      expect(await suppressionFor(f.db, f.project.id, f.subject, f.clock.now())).toBeNull();
    }
    await createSilence(f.db, f.clock, f.project.id, {
      ...silence(10, { hostId: f.hostId }),
      startsAt: f.clock.now() + MIN,
    });
    expect(await suppressionFor(f.db, f.project.id, f.subject, f.clock.now())).toBeNull();
  });

  it("does not suppress when one of a silence's matchers differs", async () => {
    const f = await firingDisk();
    await createSilence(f.db, f.clock, f.project.id, silence(10, { hostId: f.hostId, tag: "staging" }));
    expect(await suppressionFor(f.db, f.project.id, f.subject, f.clock.now())).toBeNull();
  });

  it("keeps the history while silenced: flips are still written", async () => {
    const f = await firingDisk();
    await createSilence(f.db, f.clock, f.project.id, silence(60, { hostId: f.hostId }));
    await f.send(healthy(f.clock.now()));
    expect(await f.flipsOf(f.alert.id)).toEqual(["inactive→pending", "pending→firing", "firing→inactive"]);
    expect((await suppressionFor(f.db, f.project.id, f.subject, f.clock.now()))?.kind).toBe("silence");
  });

  it("silences checks too, by check id or tag", async () => {
    const f = await firingDisk();
    const check = await createTestCheck(f.db, f.clock, f.project.id, { tags: ["nightly"] });
    const subject: NotificationSubject = {
      ...f.subject,
      type: "check",
      id: check.id,
      checkId: check.id,
      ruleId: null,
      hostId: null,
      hostName: null,
      tags: ["nightly"],
    };
    expect(await suppressionFor(f.db, f.project.id, subject, f.clock.now())).toBeNull();
    await createSilence(f.db, f.clock, f.project.id, silence(5, { checkId: check.id }));
    expect((await suppressionFor(f.db, f.project.id, subject, f.clock.now()))?.kind).toBe("silence");
    const other = await firingDisk();
    await createSilence(other.db, other.clock, other.project.id, silence(5, { tag: "nightly" }));
    expect((await suppressionFor(other.db, other.project.id, subject, other.clock.now()))?.kind).toBe(
      "silence",
    );
  });

  it("suppresses inside a weekly maintenance window in its time zone, and not outside it", async () => {
    const f = await firingDisk();
    // Sundays 03:00–04:00 in Tallinn (UTC+2 in January) are 01:00–02:00 UTC.
    await createMaintenanceWindow(f.db, f.clock, f.project.id, {
      name: "Sunday patching",
      hostId: f.hostId,
      days: [0],
      start: "03:00",
      tz: "Europe/Tallinn",
      durationMinutes: 60,
      enabled: true,
      comment: "",
    });
    const sunday = Date.UTC(2026, 0, 18);
    const at = (h: number, m = 0) =>
      suppressionFor(f.db, f.project.id, f.subject, sunday + h * 3_600_000 + m * MIN);
    expect(await at(0, 59)).toBeNull();
    expect(await at(1)).toEqual({ kind: "maintenance", reason: 'maintenance window "Sunday patching"' });
    expect((await at(1, 59))?.kind).toBe("maintenance");
    expect(await at(2)).toBeNull();
    expect(await suppressionFor(f.db, f.project.id, f.subject, sunday + 86_400_000 + 3_600_000)).toBeNull();
  });

  it("suppresses inside a cron-like maintenance window", async () => {
    const f = await firingDisk();
    await createMaintenanceWindow(f.db, f.clock, f.project.id, {
      name: "nightly vacuum",
      tag: "prod",
      schedule: "30 2 * * *",
      tz: "UTC",
      durationMinutes: 20,
      enabled: true,
      comment: "",
    });
    const day = Date.UTC(2026, 0, 20);
    expect((await suppressionFor(f.db, f.project.id, f.subject, day + 150 * MIN + 5 * MIN))?.kind).toBe(
      "maintenance",
    );
    expect(await suppressionFor(f.db, f.project.id, f.subject, day + 150 * MIN + 20 * MIN)).toBeNull();
  });

  it("inhibits a down host's alerts and checks in favour of its host-down notice", async () => {
    const f = await firingDisk();
    const hostCheck = await f.hostCheck();
    if (!hostCheck) throw new Error("no host check");
    f.clock.advance(3 * MIN);
    await tick({ db: f.db, clock: f.clock, state: f.engine });
    expect((await f.hostCheck())?.status).toBe("down");

    expect(await suppressionFor(f.db, f.project.id, f.subject, f.clock.now())).toEqual({
      kind: "inhibited",
      reason: "host web-1 is down",
      inhibitedBy: { type: "check", id: hostCheck.id },
    });
    const hostSubject: NotificationSubject = {
      ...f.subject,
      type: "check",
      id: hostCheck.id,
      checkId: hostCheck.id,
      ruleId: null,
    };
    expect(await suppressionFor(f.db, f.project.id, hostSubject, f.clock.now())).toBeNull();

    await f.send();
    await tick({ db: f.db, clock: f.clock, state: f.engine });
    expect(await suppressionFor(f.db, f.project.id, f.subject, f.clock.now())).toBeNull();
  });
});
