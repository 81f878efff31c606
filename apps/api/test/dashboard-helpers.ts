/**
 * What the dashboard's browser suites share: the real self-hosted server on a fresh data dir with its
 * one-time setup link, and `inspect`, which checks a screen with axe-core in light and dark (no serious or
 * critical violations), refuses sideways scrolling, and photographs it at desktop and phone widths into
 * apps/web/test-artifacts.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { migrationsFolder } from "@vigil/db/migrate";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { type RunningServer, settingsFromEnv, startServer } from "../src/server.ts";

const root = resolve(import.meta.dirname, "../../..");
const artifacts = join(root, "apps/web/test-artifacts");
const axePath = createRequire(import.meta.url).resolve("axe-core");

export const widths = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };
export const owner = { name: "Olive Owner", email: "olive@example.test", password: "correct horse battery" };

export interface DashboardServer {
  server: RunningServer;
  /** the one-time link that creates the first owner */
  setupLink: string;
  dataDir: string;
  close(): Promise<void>;
}

/** The self-hosted server as `npm start` runs it (web and probe from the repo), ticking every 250 ms. */
export async function startDashboardServer(
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<DashboardServer> {
  mkdirSync(artifacts, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), `vigil-${name}-`));
  const lines: string[] = [];
  const server = await startServer(
    settingsFromEnv({ VIGIL_DATA_DIR: dataDir, VIGIL_PORT: "0", VIGIL_TICK_MS: "250", ...env }),
    {
      migrationsFolder,
      probeDir: join(root, "probe"),
      webDir: join(root, "apps/web/dist"),
      log: (line) => lines.push(line),
    },
  );
  const setupLink = lines.join("\n").match(/http:\/\/\S+\/setup\?token=\S+/)?.[0];
  if (!setupLink) throw new Error(`no setup link in the server's output:\n${lines.join("\n")}`);
  return {
    server,
    setupLink,
    dataDir,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

/** axe-core on the page as it is now, frames included (a status page's preview): serious and critical. */
export async function seriousViolations(page: Page): Promise<string[]> {
  for (const frame of page.frames()) await frame.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Checks a screen with axe in light and dark, and saves it at desktop and phone widths. */
export async function inspect(page: Page, name: string) {
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    expect(await seriousViolations(page), `${name} in ${colorScheme}`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: "light" });
  for (const [label, size] of Object.entries(widths)) {
    await page.setViewportSize(size);
    // Layout and ResizeObservers (the charts) settle within two frames of a resize.
    await page.evaluate(
      () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
    );
    // The elements reaching past the right edge, named so a failure says what to fix.
    const overflow = await page.evaluate(() =>
      document.documentElement.scrollWidth <= window.innerWidth
        ? []
        : Array.from(document.querySelectorAll("body *"))
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(-5)
            .map(
              (e) =>
                `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)}px)`,
            ),
    );
    expect(overflow, `${name} scrolls sideways at ${label} width`).toEqual([]);
    await page.screenshot({ path: join(artifacts, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(widths.desktop);
}

/**
 * The owner made through the setup link and signed in (a sign-in page first when the server asks for
 * one); answers the project the dashboard opened on.
 */
export async function setUpOwner(page: Page, setupLink: string): Promise<string> {
  await page.goto(setupLink);
  await page.fill("#name", owner.name);
  await page.fill("#email", owner.email);
  await page.fill("#password", owner.password);
  await page.click("button[type=submit]");
  await page.waitForURL((url) => !url.pathname.startsWith("/setup"));
  if (new URL(page.url()).pathname === "/sign-in") {
    await page.getByLabel("Email").fill(owner.email);
    await page.getByLabel("Password").fill(owner.password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await page.waitForURL(/\/p\/[^/]+\/?$/);
  return new URL(page.url()).pathname.split("/")[2] ?? "";
}

/** An admin key for the script side of a test, made with the page's session as the settings screen would. */
export function scriptKey(page: Page, projectId: string): Promise<string> {
  return page.evaluate(async (id) => {
    const res = await fetch(`/api/v1/projects/${id}/api-keys`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "test script", scopes: ["admin"] }),
    });
    return ((await res.json()) as { key: string }).key;
  }, projectId);
}

/**
 * One batch from a host, as its probe would send it (plain JSON, a fresh batch id, sent now); resolves with
 * the server's answer (its config carries the host's checks and commands).
 */
export async function sendProbeBatch<T = unknown>(
  baseUrl: string,
  hostToken: string,
  fields: Record<string, unknown>,
): Promise<T> {
  const res = await fetch(`${baseUrl}/api/v1/probe/batches`, {
    method: "POST",
    headers: { authorization: `Bearer ${hostToken}`, "content-type": "application/json" },
    body: JSON.stringify({ v: 1, batchId: crypto.randomUUID(), sentAt: Date.now(), ...fields }),
  });
  if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * A colleague taking an invitation link in a browser of their own: creates their account (no mail server
 * in these suites, so no confirmation to wait for), signs in and accepts. Leaves them in the project.
 */
export async function acceptAsNewAccount(
  theirs: Page,
  link: string,
  person = { name: "Vic Viewer", email: "vic@example.test", password: "vic's long password" },
) {
  await theirs.goto(link);
  await theirs.getByRole("link", { name: "Create an account" }).click();
  await theirs.getByLabel("Name").fill(person.name);
  await theirs.getByLabel("Email").fill(person.email);
  await theirs.getByLabel("Password").fill(person.password);
  await theirs.getByRole("button", { name: "Create account" }).click();
  await theirs.getByRole("heading", { name: "Account created" }).waitFor();
  await theirs.goto(link);
  await theirs.getByRole("button", { name: "Accept invitation" }).click();
  await theirs.getByLabel("Email").fill(person.email);
  await theirs.getByLabel("Password").fill(person.password);
  await theirs.getByRole("button", { name: "Sign in" }).click();
  await theirs.getByRole("button", { name: "Accept invitation" }).click();
  await theirs.getByRole("navigation", { name: "Project" }).waitFor();
}

export { callApi } from "./helpers.ts";
