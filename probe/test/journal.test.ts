import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { logEntrySchema } from "@vigil/contract";
import { describe, expect, it } from "vitest";
import {
  collectJournal,
  type JournalOptions,
  loadJournalCursor,
  saveJournalCursor,
} from "../src/collectors/journal.ts";
import { JournalFollower } from "../src/collectors/journal-follower.ts";
import { NoteSink } from "../src/notes.ts";
import { BASE_US, BOOT_ID, buildJournal } from "../testing/journal.ts";
import { defined, temporaryDirectory } from "./helpers.ts";

const run = promisify(execFile);

async function options(directory: string, overrides: Partial<JournalOptions> = {}): Promise<JournalOptions> {
  return {
    minPriority: 4,
    units: [],
    maxEntries: 100,
    stateDir: await temporaryDirectory("vigil-state-"),
    directory,
    firstRunLookbackMs: 3_600_000,
    ...overrides,
  };
}

/** Just after the fixture entries, so the first-run look-back covers them. */
const NOW = BASE_US / 1000 + 60_000;

describe("journal collector", () => {
  it("keeps warnings and worse, with unit, identifier, pid and boot id", async () => {
    const dir = await buildJournal([
      { message: "disk almost full", priority: 3, unit: "backup.service", identifier: "backup" },
      { message: "just chatting", priority: 6, unit: "web.service" },
      { message: "slow response", priority: 4, unit: "web.service", extra: { CONTAINER_NAME: "web-1" } },
    ]);
    const notes = new NoteSink();
    const { logs, cursor } = await collectJournal(await options(dir), NOW, notes);
    expect(logs).toEqual([
      {
        ts: BASE_US / 1000,
        priority: 3,
        message: "disk almost full",
        unit: "backup.service",
        identifier: "backup",
        pid: 4000,
        bootId: BOOT_ID,
      },
      expect.objectContaining({
        priority: 4,
        message: "slow response",
        fields: expect.objectContaining({ CONTAINER_NAME: "web-1" }),
      }),
    ]);
    expect(cursor).toMatch(/^s=/);
    for (const entry of logs) expect(logEntrySchema.safeParse(entry).error).toBeUndefined();
    expect(notes.notes).toEqual([]);
  });

  it("filters by unit when units are configured", async () => {
    const dir = await buildJournal([
      { message: "from web", priority: 3, unit: "web.service" },
      { message: "from worker", priority: 3, unit: "worker.service" },
    ]);
    const { logs } = await collectJournal(
      await options(dir, { units: ["worker.service"] }),
      NOW,
      new NoteSink(),
    );
    expect(logs.map((l) => l.message)).toEqual(["from worker"]);
  });

  it("decodes messages with invalid UTF-8 that journalctl prints as byte arrays", async () => {
    const dir = await buildJournal([
      { message: Buffer.from([98, 97, 100, 0xff, 0x01, 32, 98, 121, 116, 101, 115]), priority: 2 },
    ]);
    const { logs } = await collectJournal(await options(dir), NOW, new NoteSink());
    expect(logs[0]?.message).toBe("bad\uFFFD bytes");
  });

  it("keeps a message over 4 KiB whole instead of the null journalctl prints by default", async () => {
    const big = `start ${"x".repeat(6000)} end`;
    const dir = await buildJournal([
      { message: big, priority: 3, extra: { CONTAINER_NAME: "c".repeat(5000) } },
    ]);
    const { logs } = await collectJournal(await options(dir), NOW, new NoteSink());
    expect(logs[0]?.message).toBe(big);
    expect(logs[0]?.fields?.CONTAINER_NAME).toHaveLength(4096);
    expect(logEntrySchema.safeParse(logs[0]).error).toBeUndefined();
  });

  it("resumes after the saved cursor and reads nothing twice", async () => {
    const dir = await buildJournal([
      { message: "first", priority: 3 },
      { message: "second", priority: 3 },
    ]);
    const opts = await options(dir);
    const first = await collectJournal(opts, NOW, new NoteSink());
    expect(first.logs.map((l) => l.message)).toEqual(["first", "second"]);
    await saveJournalCursor(opts.stateDir, defined(first.cursor));
    expect(await loadJournalCursor(opts.stateDir)).toBe(first.cursor);

    const again = await collectJournal(opts, NOW, new NoteSink());
    expect(again.logs).toEqual([]);
    expect(again.cursor).toBeUndefined();
  });

  it("caps a burst and reports how many entries it left out", async () => {
    const burst = Array.from({ length: 25 }, (_, i) => ({ message: `error ${i}`, priority: 3 }));
    const dir = await buildJournal(burst);
    const notes = new NoteSink();
    const opts = await options(dir, { maxEntries: 10 });
    const { logs, cursor } = await collectJournal(opts, NOW, notes);
    expect(logs).toHaveLength(10);
    expect(logs.at(-1)?.message).toBe("error 9");
    expect(notes.notes).toEqual([
      { collector: "journal", message: expect.stringMatching(/left out 15/), dropped: 15 },
    ]);
    // The cursor points past the whole burst, so the next cycle does not replay what it left out.
    await saveJournalCursor(opts.stateDir, defined(cursor));
    const next = await collectJournal(opts, NOW, new NoteSink());
    expect(next.logs).toEqual([]);
  });

  it("only reads the recent past on the first run instead of the whole journal", async () => {
    const dir = await buildJournal([{ message: "old news", priority: 3 }]);
    const { logs } = await collectJournal(
      await options(dir, { firstRunLookbackMs: 10_000 }),
      NOW,
      new NoteSink(),
    );
    expect(logs).toEqual([]);
  });

  it("notes a missing journalctl instead of failing", async () => {
    const notes = new NoteSink();
    const { logs } = await collectJournal(
      await options("/nonexistent", { journalctl: "/nonexistent/journalctl" }),
      NOW,
      notes,
    );
    expect(logs).toEqual([]);
    expect(notes.notes[0]).toMatchObject({ collector: "journal", message: expect.stringMatching(/ENOENT/) });
  });
});

describe("journal fixtures", () => {
  it("builds real journal files that journalctl reads", async () => {
    const dir = await buildJournal([{ message: "hello", priority: 3 }]);
    const { stdout } = await run("journalctl", [`--directory=${dir}`, "-o", "json", "--no-pager"]);
    expect(JSON.parse(stdout.trim()).MESSAGE).toBe("hello");
    expect((await readFile(join(dir, "export-0.txt"))).length).toBeGreaterThan(0);
  });
});

describe("journal follower (the daemon's reader)", () => {
  it("hands over entries as they are written, caps bursts per interval, and resumes at the cursor", async () => {
    const dir = await buildJournal([
      { message: "one", priority: 3 },
      { message: "two", priority: 3 },
    ]);
    const opts = await options(dir, { maxEntries: 3 });
    const follower = new JournalFollower(opts);
    try {
      await follower.ensureRunning(NOW, new NoteSink());
      await follower.whenLinesRead(2);
      const first = follower.take(new NoteSink());
      expect(first.logs.map((l) => l.message)).toEqual(["one", "two"]);
      await saveJournalCursor(opts.stateDir, defined(first.cursor));

      // A burst of five arrives in one interval: three kept, two counted.
      const burst = Array.from({ length: 5 }, (_, i) => ({ message: `burst ${i}`, priority: 2 }));
      await buildJournal(burst, { startIndex: 10, intoDir: dir });
      await follower.whenLinesRead(7);
      const notes = new NoteSink();
      const second = follower.take(notes);
      expect(second.logs.map((l) => l.message)).toEqual(["burst 0", "burst 1", "burst 2"]);
      expect(notes.notes).toEqual([
        { collector: "journal", message: expect.stringMatching(/left out 2/), dropped: 2 },
      ]);
      await saveJournalCursor(opts.stateDir, defined(second.cursor));
    } finally {
      follower.stop();
    }

    // A restarted probe starts after the saved cursor: nothing is read twice.
    const restarted = new JournalFollower(opts);
    try {
      await restarted.ensureRunning(NOW, new NoteSink());
      await buildJournal([{ message: "after restart", priority: 3 }], { startIndex: 20, intoDir: dir });
      await restarted.whenLinesRead(1);
      expect(restarted.take(new NoteSink()).logs.map((l) => l.message)).toEqual(["after restart"]);
    } finally {
      restarted.stop();
    }
  }, 20_000);
});
