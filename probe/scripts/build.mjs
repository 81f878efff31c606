#!/usr/bin/env node
// Builds the probe for servers:
// 1. dist/vigil-probe.mjs: one ESM file for Node ≥ 20 (and Bun), no dependencies, with a shebang;
// 2. dist/assets/: install.sh and the bundle again, the Worker's static assets (wrangler.toml [assets]);
// 3. dist/vigil-probe: a standalone executable via `bun build --compile`, when bun is installed
//    (node_modules/.bin/bun, from the npm package "bun"); otherwise we say so and skip it. It stays out of
//    the Worker's assets (over 100 MB; Workers take 25 MiB a file).
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { remember, upToDate } from "../../scripts/up-to-date.mjs";

const probeDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(join(probeDir, "package.json"), "utf8"));
const outfile = join(probeDir, "dist", "vigil-probe.mjs");
const entry = join(probeDir, "src", "main.ts");
const assetsDir = join(probeDir, "dist", "assets");
const binary = join(probeDir, "dist", "vigil-probe");

const bunCandidates = [
  join(probeDir, "node_modules", ".bin", "bun"),
  join(probeDir, "..", "node_modules", ".bin", "bun"),
];
const bun = bunCandidates.find((candidate) => existsSync(candidate));

// `npm start` runs this on every start; the executable alone takes seconds, so nothing is redone while
// nothing the last build read has changed.
const record = join(probeDir, "dist", "inputs.json");
const outputs = [
  outfile,
  join(assetsDir, "vigil-probe.mjs"),
  join(assetsDir, "install.sh"),
  ...(bun ? [binary] : []),
];
if (upToDate(record, outputs)) {
  console.log("the probe is up to date");
  process.exit(0);
}

const { build } = await import("esbuild");
const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minifySyntax: true,
  legalComments: "none",
  banner: { js: "#!/usr/bin/env node" },
  define: { __VIGIL_PROBE_VERSION__: JSON.stringify(version) },
  metafile: true,
  logLevel: "warning",
});
chmodSync(outfile, 0o755);

// The probe imports only types from @vigil/contract; any runtime import (zod above all) would land here.
const bundledPackages = Object.keys(result.metafile.inputs).filter((input) => input.includes("node_modules"));
if (bundledPackages.length > 0) {
  console.error(`the bundle must have no dependencies, but it includes:\n  ${bundledPackages.join("\n  ")}`);
  process.exit(1);
}
console.log(`built ${outfile} (${statSync(outfile).size} bytes, version ${version})`);

mkdirSync(assetsDir, { recursive: true });
copyFileSync(outfile, join(assetsDir, "vigil-probe.mjs"));
copyFileSync(join(probeDir, "install.sh"), join(assetsDir, "install.sh"));

if (!bun) {
  console.log(
    "bun not found (node_modules/.bin/bun): skipped the standalone executable; `npm install -D bun` at the root enables it",
  );
} else {
  const compiled = spawnSync(bun, ["build", "--compile", "--minify", outfile, "--outfile", binary], {
    stdio: "inherit",
  });
  if (compiled.status !== 0) process.exit(compiled.status ?? 1);
  console.log(`built ${binary} (${statSync(binary).size} bytes) with ${bun}`);
}
remember(record, result.metafile, process.cwd(), [
  fileURLToPath(import.meta.url),
  join(probeDir, "package.json"),
  join(probeDir, "install.sh"),
]);
