// Bundles the self-hosted server into dist/node.js. Workspace packages (TypeScript sources) are bundled
// in; libSQL stays external because it loads a native binding at run time.
import { build } from "esbuild";

await build({
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
  logLevel: "warning",
});
