// `npm start` builds the dashboard only when a source is newer than the last build (dist/index.html).
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const web = resolve(import.meta.dirname, "..");
const built = (() => {
  try {
    return statSync(join(web, "dist/index.html")).mtimeMs;
  } catch {
    return 0;
  }
})();

function newest(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const inputs = ["src", "index.html", "vite.config.ts", "package.json", "../../packages/contract/src"];
if (Math.max(...inputs.map((p) => newest(join(web, p)))) > built) {
  const result = spawnSync("npm", ["run", "build"], { cwd: web, stdio: "inherit" });
  process.exit(result.status ?? 1);
}
