// The log lines alerts quote: which lines, how many, and what is redacted, on a real libSQL database.
import { type Db, hosts, logEntries } from "@vigil/db";
import { createProject, createTestDb } from "@vigil/db/testing";
import { describe, expect, it } from "vitest";
import {
  boundExcerpt,
  hostLogExcerpt,
  MAX_EXCERPT_BYTES,
  MAX_LINE_CHARS,
  redactor,
} from "../src/alerts/log-excerpt.ts";
import { createEngineState, describeCheckSubject, recordPing, updateProjectSettings } from "../src/index.ts";
import { createTestCheck, manualClock } from "../src/testing.ts";

const T0 = Date.UTC(2026, 11, 2, 12);

async function withHost() {
  const db = await createTestDb();
  const project = await createProject(db);
  const hostId = crypto.randomUUID();
  await db.insert(hosts).values({
    id: hostId,
    projectId: project.id,
    name: "web-1",
    tokenPrefix: `vgl_hst_${hostId.slice(0, 12)}`,
    tokenHash: "x",
    createdAt: T0,
    lastSeenAt: T0,
  });
  const log = (ts: number, message: string, fields: Partial<typeof logEntries.$inferInsert> = {}) =>
    db.insert(logEntries).values({ projectId: project.id, hostId, ts, priority: 3, message, ...fields });
  return { db, projectId: project.id, hostId, log };
}

const messages = (excerpt: { lines: { message: string }[] } | null) => excerpt?.lines.map((l) => l.message);

describe("redaction of quoted log lines", () => {
  it("hides passwords, tokens, bearer credentials, URL passwords, Vigil keys, AWS keys and private keys", () => {
    const redact = redactor([]);
    expect(redact("login failed password=hunter2 user=app")).toBe(
      "login failed password=[redacted] user=app",
    );
    expect(redact('config: api_key: "abc def" loaded')).toBe("config: api_key: [redacted] loaded");
    expect(redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y")).toBe("Authorization: [redacted]");
    expect(redact("connecting to postgres://app:s3cret@db:5432/app")).toBe(
      "connecting to postgres://app:[redacted]@db:5432/app",
    );
    expect(redact(`key vgl_key_${"a".repeat(44)} used`)).toBe("key [redacted] used");
    expect(redact("AKIAIOSFODNN7EXAMPLE in env")).toBe("[redacted] in env");
    expect(redact("-----BEGIN RSA PRIVATE KEY-----")).toBe("[redacted]");
    expect(redact("nginx: worker process 42 exited on signal 9")).toBe(
      "nginx: worker process 42 exited on signal 9",
    );
  });

  it("also hides what the project's patterns match, case-insensitively, and skips a pattern that does not compile", () => {
    const redact = redactor(["customer-\\d+", "(unclosed", "internal\\.example"]);
    expect(redact("Customer-4711 on INTERNAL.example failed")).toBe("[redacted] on [redacted] failed");
  });
});

describe("the bounds of an excerpt", () => {
  const policy = { maxLines: 3, redact: (t: string) => t };
  const line = (i: number, message = `line ${i}`) => ({ ts: T0 + i, priority: 3, source: "app", message });

  it("keeps the newest lines up to the line limit, oldest first, and says lines were left out", () => {
    const newestFirst = [5, 4, 3, 2, 1].map((i) => line(i));
    const excerpt = boundExcerpt(newestFirst, policy, "t", null);
    expect(messages(excerpt)).toEqual(["line 3", "line 4", "line 5"]);
    expect(excerpt?.truncated).toBe(true);
    expect(boundExcerpt([line(1)], policy, "t", null)?.truncated).toBe(false);
    expect(boundExcerpt([], policy, "t", null)).toBeNull();
  });

  it("cuts a long line and stops before the byte limit", () => {
    const long = "x".repeat(MAX_LINE_CHARS * 3);
    const many = { ...policy, maxLines: 50 };
    const excerpt = boundExcerpt(
      Array.from({ length: 50 }, (_, i) => line(50 - i, long)),
      many,
      "t",
      null,
    );
    expect(excerpt?.lines[0]?.message).toBe(`${"x".repeat(MAX_LINE_CHARS)}…`);
    expect(MAX_EXCERPT_BYTES).toBe(4096);
    // a line is 500 "x", "…" (3 bytes in UTF-8) and its source "app": 506 bytes, so 8 fit in 4096
    expect(excerpt?.lines.length).toBe(8);
  });
});

describe("which lines an alert quotes", () => {
  it("quotes a unit's own lines and systemd's about it up to the moment, a container's by its name, and the host's warnings around the moment", async () => {
    const { db, projectId, hostId, log } = await withHost();
    await log(T0 - 5000, "nginx starting", { unit: "nginx.service", priority: 6 });
    await log(T0 - 4000, "bind() to 0.0.0.0:80 failed", { unit: "nginx.service", identifier: "nginx" });
    await log(T0 - 3500, "nginx.service: Failed with result 'exit-code'.", {
      unit: "init.scope",
      identifier: "systemd",
      fields: { UNIT: "nginx.service" },
    });
    await log(T0 - 3000, "cron ran", { unit: "cron.service" });
    await log(T0 - 2000, "panic: nil map", { identifier: "dockerd", fields: { CONTAINER_NAME: "web" } });
    await log(T0 - 1000, "just info", { unit: "app.service", priority: 6 });
    await log(T0 - 11 * 60_000, "long ago", { unit: "app.service" });
    await log(T0 + 5 * 60_000, "after the fact", { unit: "nginx.service" });
    const scope = { projectId, hostId, at: T0 };

    const unit = await hostLogExcerpt(db, scope, { kind: "unit", unit: "nginx.service" }, "u");
    expect(messages(unit)).toEqual([
      "nginx starting",
      "bind() to 0.0.0.0:80 failed",
      "nginx.service: Failed with result 'exit-code'.",
    ]);
    expect(unit?.lines[1]?.source).toBe("nginx");
    expect(unit?.path).toBe(`/p/${projectId}/logs?host=${hostId}&unit=nginx.service&at=${T0}`);

    const container = await hostLogExcerpt(db, scope, { kind: "container", name: "web" }, "c");
    expect(messages(container)).toEqual(["panic: nil map"]);

    const around = await hostLogExcerpt(db, scope, { kind: "host" }, "h");
    expect(messages(around)).toEqual([
      "bind() to 0.0.0.0:80 failed",
      "nginx.service: Failed with result 'exit-code'.",
      "cron ran",
      "panic: nil map",
    ]);
  });

  it("quotes nothing when the project set its log lines to 0, and another host's lines never", async () => {
    const { db, projectId, hostId, log } = await withHost();
    await log(T0 - 1000, "bind() failed", { unit: "nginx.service" });
    const other = await withHost();
    const scope = { projectId: other.projectId, hostId: other.hostId, at: T0 };
    expect(await hostLogExcerpt(other.db, scope, { kind: "unit", unit: "nginx.service" }, "u")).toBeNull();

    await updateProjectSettings(db, projectId, { alerts: { logLines: 0 } });
    expect(
      await hostLogExcerpt(db, { projectId, hostId, at: T0 }, { kind: "unit", unit: "nginx.service" }, "u"),
    ).toBeNull();
  });
});

describe("what a check's alert quotes", () => {
  async function failedJob(db: Db, projectId: string, body: string) {
    const clock = manualClock(T0);
    const check = await createTestCheck(db, clock, projectId, { name: "nightly", period: 60, grace: 60 });
    await recordPing(db, clock, createEngineState(), {
      target: { checkId: check.id },
      action: "fail",
      exitStatus: 1,
      rid: null,
      method: "POST",
      body,
      userAgent: null,
      remoteAddr: null,
    });
    return check.id;
  }

  it("quotes a failed run's last output lines instead of the ping body fact, with secrets redacted", async () => {
    const { db, projectId } = await withHost();
    const output = Array.from({ length: 30 }, (_, i) => `step ${i + 1}`)
      .concat(["Fatal: unable to open repository: password=letmein"])
      .join("\n");
    const id = await failedJob(db, projectId, `${output}\n`);
    const subject = await describeCheckSubject(db, projectId, id, T0);
    expect(subject?.logs?.lines).toHaveLength(20);
    expect(subject?.logs?.lines.at(-1)?.message).toBe(
      "Fatal: unable to open repository: password=[redacted]",
    );
    expect(subject?.logs?.lines[0]?.message).toBe("step 12");
    expect(subject?.logs?.truncated).toBe(true);
    expect(subject?.facts.map((f) => f.label)).toEqual(["Expected", "Last ping"]);

    // A recovery quotes nothing: the body stays a fact.
    const recovered = await describeCheckSubject(db, projectId, id);
    expect(recovered?.logs).toBeNull();
    expect(recovered?.facts.map((f) => f.label)).toEqual(["Expected", "Last ping", "Last ping body"]);
  });
});
