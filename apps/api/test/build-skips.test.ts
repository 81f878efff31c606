// `npm start` skips the server and probe builds while nothing they read changed (scripts/up-to-date.mjs):
// checked here on real files in a temporary directory, with their times set explicitly.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build helper without type declarations
import { remember, upToDate } from "../../../scripts/up-to-date.mjs";

function files() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-up-to-date-"));
  const path = (name: string) => join(dir, name);
  const at = (name: string, seconds: number) => {
    writeFileSync(path(name), name);
    utimesSync(path(name), seconds, seconds);
  };
  return { dir, path, at };
}

describe("skipping a build whose inputs did not change", () => {
  it("skips while every output is newer than every recorded input, and builds when one changes", () => {
    const { dir, path, at } = files();
    at("src.ts", 1_000);
    at("extra.json", 1_000);
    at("out.js", 2_000);
    const record = path("inputs.json");
    remember(record, { inputs: { "src.ts": {} } }, dir, [path("extra.json")]);
    expect(upToDate(record, [path("out.js")])).toBe(true);
    utimesSync(path("extra.json"), 3_000, 3_000);
    expect(upToDate(record, [path("out.js")])).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it("builds when an output is missing, an input is gone, or nothing was recorded", () => {
    const { dir, path, at } = files();
    at("src.ts", 1_000);
    at("out.js", 2_000);
    const record = path("inputs.json");
    expect(upToDate(record, [path("out.js")])).toBe(false);
    remember(record, { inputs: { "src.ts": {} } }, dir);
    expect(upToDate(record, [path("out.js"), path("missing.bin")])).toBe(false);
    rmSync(path("src.ts"));
    expect(upToDate(record, [path("out.js")])).toBe(false);
    rmSync(dir, { recursive: true });
  });
});
