// The probe ships as one file with zero runtime dependencies: from the contract it may take types (erased
// when bundled), the zod-free limits, exposition parser and runbook allow-list rule, nothing else. Biome's import rule cannot tell a type import from a
// value import, so this reads the sources.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const srcDir = join(import.meta.dirname, "../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every import or re-export of a bare module specifier, with whether it is type-only. */
function importsOf(code: string): { from: string; typeOnly: boolean }[] {
  const found: { from: string; typeOnly: boolean }[] = [];
  for (const m of code.matchAll(/^(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^".][^"]*)"/gms)) {
    found.push({ from: m[3] as string, typeOnly: m[2] !== undefined });
  }
  return found;
}

describe("what the probe imports", () => {
  it("finds the imports it checks, type-only ones told apart", () => {
    expect(importsOf('import type { A } from "x";\nimport { b } from "y";\nexport { c } from "z";')).toEqual([
      { from: "x", typeOnly: true },
      { from: "y", typeOnly: false },
      { from: "z", typeOnly: false },
    ]);
  });

  it("takes only types and the zod-free modules from the contract, and nothing from another package", () => {
    const offending: string[] = [];
    for (const file of sources(srcDir)) {
      for (const { from, typeOnly } of importsOf(readFileSync(file, "utf8"))) {
        const allowed =
          from.startsWith("node:") ||
          from === "@vigil/contract/limits" ||
          from === "@vigil/contract/exposition" ||
          from === "@vigil/contract/runbook-rules" ||
          (from === "@vigil/contract" && typeOnly);
        if (!allowed) offending.push(`${relative(srcDir, file)}: ${typeOnly ? "type " : ""}${from}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
