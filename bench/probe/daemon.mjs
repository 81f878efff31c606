// The probe daemon under measurement: a fresh state dir, collecting every second, delivering to a local
// sink that accepts every batch and keeps it (`batches`: its gzip'd size and the batch).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

/** Starts `command … run` (e.g. [node, bundle] or [executable]); `stop()` ends it and cleans up. */
export async function startProbeDaemon(command) {
  const stateDir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  const batches = [];
  const sink = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const batch = JSON.parse(gunzipSync(body).toString());
      batches.push({ bytes: body.length, batch });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ batchId: batch.batchId, accepted: true, duplicate: false }));
    });
  });
  await new Promise((resolve) => sink.listen(0, "127.0.0.1", resolve));
  const server = `http://127.0.0.1:${sink.address().port}`;
  writeFileSync(join(stateDir, "identity.json"), JSON.stringify({ server, hostId: "bench", hostToken: "t" }));
  writeFileSync(join(stateDir, "probe.json"), JSON.stringify({ stateDir, intervalSec: 1 }));
  const child = spawn(command[0], [...command.slice(1), "run", "--config", join(stateDir, "probe.json")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return {
    child,
    batches,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      sink.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
