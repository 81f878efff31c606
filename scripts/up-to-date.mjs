// "Build what changed" for the esbuild scripts that `npm start` runs (apps/api, probe): a build records the
// files it read (esbuild's metafile, plus what the script names, such as itself and package.json), and the
// next build is skipped while every output exists and no recorded input is newer than the oldest output.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
};

/** True when `outputs` all exist and are newer than every input recorded in `record` by `remember`. */
export function upToDate(record, outputs) {
  if (!existsSync(record) || outputs.some((o) => !existsSync(o))) return false;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(record, "utf8")).inputs;
  } catch {
    return false;
  }
  const built = Math.min(...outputs.map((o) => statSync(o).mtimeMs));
  // A deleted input reads as infinitely new: the next build finds out what replaced it.
  return Array.isArray(inputs) && inputs.every((input) => mtime(input) <= built);
}

/** Records what a build read: esbuild's metafile inputs (relative to `cwd`) and `extra` paths. */
export function remember(record, metafile, cwd, extra = []) {
  const inputs = [
    ...Object.keys(metafile.inputs).map((i) => resolve(cwd, i)),
    ...extra.map((e) => resolve(e)),
  ];
  writeFileSync(record, JSON.stringify({ inputs }));
}
