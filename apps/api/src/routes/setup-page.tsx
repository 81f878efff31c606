/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The page the one-time setup link opens: a form for the first owner's name, email, password and
 * organisation. It posts to `POST /api/v1/setup`, which signs the new owner in, then goes to the dashboard.
 * Server-rendered so the link works before (and without) the dashboard's own scripts.
 */
import { setupTokenValid } from "@vigil/engine";
import { Hono } from "hono";
import { raw } from "hono/html";
import type { AppEnv } from "../env.ts";

const CSS = `:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#57606a;--line:#8c959f;--accent:#0969da;--bad:#cf222e}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#6e7681;--accent:#58a6ff;--bad:#f85149}}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,sans-serif}
main{max-width:26rem;margin:3rem auto;padding:0 1rem}h1{font-size:1.5rem}p{color:var(--muted)}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid var(--line);border-radius:.375rem;background:var(--bg);color:var(--fg)}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;font-weight:600;border:0;border-radius:.375rem;background:var(--accent);color:#fff;cursor:pointer}
#error{color:var(--bad);font-weight:600}`;

// Plain DOM, no framework: it reads the form, posts JSON and follows the answer.
const SCRIPT = `document.getElementById("setup").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target), error = document.getElementById("error");
  error.textContent = "";
  const res = await fetch("/api/v1/setup", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify(Object.fromEntries(form)) });
  if (res.ok) { location.href = "/"; return; }
  const body = await res.json().catch(() => null);
  error.textContent = body?.error?.message ?? "setup failed (" + res.status + ")";
});`;

function Page(props: { title: string; children: unknown }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <style>{raw(CSS)}</style>
      </head>
      <body>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

export const setupPageRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const token = c.req.query("token") ?? "";
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  if (!(await setupTokenValid(c.var.deps.db, token))) {
    return c.html(
      <Page title="Setup link not valid · Vigil">
        <h1>This setup link is not valid</h1>
        <p>
          It was used already, or a newer one replaced it. Sign in with the account it created; on a fresh
          server the link printed by the last start works.
        </p>
      </Page>,
      404,
    );
  }
  return c.html(
    <Page title="Set up Vigil">
      <h1>Set up Vigil</h1>
      <p>Create the first account. It owns this Vigil and can invite everyone else.</p>
      <form id="setup">
        <input type="hidden" name="token" value={token} />
        <label for="name">Your name</label>
        <input id="name" name="name" autocomplete="name" required />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="email" required />
        <label for="password">Password (at least 10 characters)</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="new-password"
          minlength={10}
          required
        />
        <label for="organizationName">Organisation</label>
        <input id="organizationName" name="organizationName" value="My organization" required />
        <p id="error" role="alert" />
        <button type="submit">Create account</button>
      </form>
      <script>{raw(SCRIPT)}</script>
    </Page>,
  );
});
