// Bundles the self-hosted server into dist/node.js. Workspace packages (TypeScript sources) are bundled
// in; libSQL stays external because it loads a native binding at run time. Skipped while nothing it read
// changed since the last build (`npm start` runs this on every start).
import { fileURLToPath } from "node:url";
import { remember, upToDate } from "../../../scripts/up-to-date.mjs";

// Paths below are the package's own, wherever this is run from (`npm start` runs it from the root).
process.chdir(fileURLToPath(new URL("..", import.meta.url)));
const record = "dist/node.inputs.json";
if (upToDate(record, ["dist/node.js"])) {
  console.log("dist/node.js is up to date");
  process.exit(0);
}

// Imported only when there is work: loading esbuild alone costs a start a tenth of a second.
const { build } = await import("esbuild");
const result = await build({
  // esbuild takes its working directory when imported, before the chdir above.
  absWorkingDir: process.cwd(),
  entryPoints: ["src/node.ts"],
  outfile: "dist/node.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  external: ["@libsql/client", "libsql", "@libsql/*"],
  // Some bundled CommonJS code calls require(); give the ES module one.
  banner: {
    js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);",
  },
  metafile: true,
  logLevel: "warning",
});
remember(record, result.metafile, process.cwd(), [fileURLToPath(import.meta.url), "package.json"]);
