/** Self-hosted entry: `npm start` runs the bundled form of this file. All logic lives in server.ts. */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningServer, StartupError, settingsFromEnv, startServer } from "./server.ts";

// src/node.ts and dist/node.js sit at the same depth, so the repository root is three levels up from either.
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const migrationsFolder = process.env.VIGIL_MIGRATIONS_DIR ?? resolve(root, "migrations");
const probeDir = resolve(root, "probe");
const webDir = resolve(root, "apps/web/dist");

let server: RunningServer | undefined;

// Registered before startup, so a signal that arrives while the server starts is not lost.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.log(`${signal} received, shutting down`);
    (server?.close() ?? Promise.resolve()).then(
      () => process.exit(0),
      (err) => {
        console.error("shutdown failed", err);
        process.exit(1);
      },
    );
  });
}

try {
  server = await startServer(settingsFromEnv(process.env), { migrationsFolder, probeDir, webDir });
} catch (err) {
  if (err instanceof StartupError) {
    console.error(`vigil: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
