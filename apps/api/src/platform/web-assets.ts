/**
 * The dashboard's build on disk (Node): a file under the build directory for its path, index.html for a
 * client-side route. Null when the directory holds no index.html (the web app was not built).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import type { WebAssets } from "../deps.ts";

const types: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

export function webAssetsFrom(dir: string): WebAssets | null {
  const root = normalize(dir) + sep;
  if (!existsSync(join(root, "index.html"))) return null;
  const file = async (path: string, status = 200) => {
    const body = await readFile(path);
    const type = types[extname(path)] ?? "application/octet-stream";
    return new Response(body, { status, headers: { "content-type": type } });
  };
  return {
    async fetch(request) {
      let path: string;
      try {
        path = decodeURIComponent(new URL(request.url).pathname);
      } catch {
        return new Response("bad path", { status: 400 });
      }
      // A dotted last segment asks for a file; anything else is a route of the app.
      if (extname(path)) {
        const target = normalize(join(root, path));
        if (!target.startsWith(root)) return new Response("not found", { status: 404 });
        return file(target).catch(() => new Response("not found", { status: 404 }));
      }
      return file(join(root, "index.html"));
    },
  };
}
