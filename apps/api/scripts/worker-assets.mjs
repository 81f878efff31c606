// The Worker has one static assets directory (wrangler.toml [assets]): the dashboard's build (apps/web/dist)
// and the probe's installer and bundle (probe/dist/assets) merged into apps/api/dist/worker-assets.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "../../..");
const out = resolve(root, "apps/api/dist/worker-assets");
const sources = [
  [resolve(root, "apps/web/dist"), "npm run build -w @vigil/web"],
  [resolve(root, "probe/dist/assets"), "npm run build -w @vigil/probe"],
];
for (const [dir, build] of sources) {
  if (!existsSync(dir)) {
    console.error(`worker-assets: ${dir} is missing; run ${build} first`);
    process.exit(1);
  }
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const [dir] of sources) cpSync(dir, out, { recursive: true });
console.log(`worker-assets: ${out}`);
