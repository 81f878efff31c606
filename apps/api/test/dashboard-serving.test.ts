/**
 * The dashboard's files as the self-hosted server serves them: the app at `/` and on any deep link,
 * hashed assets cached for a year, index.html revalidated, and the server's own paths keeping their 404s.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { webAssetsFrom } from "../src/platform/web-assets.ts";
import { testApp } from "./helpers.ts";

function builtWebApp(): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-web-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), '<!doctype html><div id="app"></div>');
  writeFileSync(join(dir, "assets", "index-abc123.js"), "console.log(1)");
  return dir;
}

async function appWithDashboard() {
  const webAssets = webAssetsFrom(builtWebApp());
  if (!webAssets) throw new Error("the built web app was not found");
  return (await testApp({ webAssets })).app;
}

describe("serving the dashboard", () => {
  it("serves index.html at / and on a deep link, revalidated every time", async () => {
    const app = await appWithDashboard();
    for (const path of ["/", "/p/123/hosts/abc", "/sign-in?next=%2F"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(await res.text()).toContain('<div id="app">');
    }
  });

  it("serves hashed assets with a year-long immutable cache", async () => {
    const res = await (await appWithDashboard()).request("/assets/index-abc123.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("javascript");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("answers a missing asset and a path outside the build with 404, never index.html", async () => {
    const app = await appWithDashboard();
    expect((await app.request("/assets/missing.js")).status).toBe(404);
    expect((await app.request("/..%2f..%2fetc/passwd.txt")).status).toBe(404);
  });

  it("keeps JSON 404s for unknown API paths and the server's own paths", async () => {
    const app = await appWithDashboard();
    for (const path of ["/api/v1/no-such-thing", "/api/nope", "/probe/nope", "/status/no-such-page"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toContain("application/json");
    }
  });

  it("answers only API paths when the web app is not built", async () => {
    expect(webAssetsFrom(mkdtempSync(join(tmpdir(), "vigil-empty-")))).toBeNull();
    const { app } = await testApp();
    expect((await app.request("/")).status).toBe(404);
  });
});
