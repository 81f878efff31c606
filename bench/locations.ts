/**
 * Checks from locations (issue 17): what a probe location's results cost the server, against a run from
 * edge of the same checks, in one run.
 *
 * On a migrated libSQL file (the self-hosted setup), 100 HTTP checks listing `edge` and two probe
 * locations. Per round:
 * 1. baseline: a tick runs every check from edge (due read, claim, run, state write with its run row and
 *    daily response time) through a runner that answers at once, so the network part is left out;
 * 2. the same 100 checks' results from one probe location, as one batch's `checkResults`
 *    (`recordCheckResults`: read the checks, judge, weigh, write each).
 * Also: the gzip'd bytes of such a batch, and what one more result adds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { tuneEmbeddedDb } from "@vigil/api/server";
import { createCheckRequestSchema } from "@vigil/contract";
import { closeDb, createDb } from "@vigil/db";
import { migrateDb, migrationsFolder } from "@vigil/db/migrate";
import { createProject } from "@vigil/db/testing";
import {
  assignmentRev,
  createCheck,
  createEngineState,
  findCheckRow,
  type ProbeRunner,
  recordCheckResults,
  tick,
} from "@vigil/engine";
import { manualClock } from "@vigil/engine/testing";

const CHECKS = 100;
const ROUNDS = 30;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export async function runLocationsBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-locations-"));
  const url = `file:${join(dir, "bench.db")}`;
  const db = createDb({ url });
  await tuneEmbeddedDb(db, url);
  await migrateDb(db, migrationsFolder);
  const clock = manualClock(Date.UTC(2026, 11, 1));
  const state = createEngineState();
  const project = await createProject(db);
  const ids: string[] = [];
  for (let i = 0; i < CHECKS; i++) {
    const input = createCheckRequestSchema.parse({
      kind: "http",
      name: `site ${i}`,
      url: `https://site-${i}.example/`,
      locations: ["edge", "fra-1", "home-lab"],
      quorum: 2,
    });
    ids.push((await createCheck(db, clock, project.id, input)).id);
  }
  const revs = new Map<string, string>();
  for (const id of ids) revs.set(id, await assignmentRev(await findCheckRow(db, project.id, id)));

  // Answers every request at once: what is measured is the server's side of a run.
  const instant: ProbeRunner = {
    http: async () => ({ status: 200, location: null, text: null, ms: 40 }),
    tcp: async () => ({ ms: 1 }),
  };
  const edge: number[] = [];
  const probe: number[] = [];
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    clock.advance(60_000);
    const now = clock.now();
    let t0 = performance.now();
    await tick({ db, clock, state, probes: instant, allowPrivateTargets: true }, now);
    edge.push((performance.now() - t0) / CHECKS);

    const results = ids.map((checkId) => ({
      checkId,
      rev: revs.get(checkId) ?? "",
      at: now + 500,
      ms: 50 + (round % 5),
      httpStatus: 200,
    }));
    bytes = gzipSync(
      JSON.stringify({ v: 1, batchId: `b-${round}`, sentAt: now, checkResults: results }),
    ).length;
    t0 = performance.now();
    await recordCheckResults(db, state, project.id, "fra-1", results, now + 1000);
    probe.push((performance.now() - t0) / CHECKS);
  }
  closeDb(db);
  rmSync(dir, { recursive: true, force: true });
  const edgeMs = median(edge.slice(3));
  const probeMs = median(probe.slice(3));
  return [
    `${CHECKS} HTTP checks from edge, fra-1 and home-lab (quorum 2) on a libSQL file, ${ROUNDS} rounds (first 3 dropped), medians:`,
    "",
    "| per check and round | ms | ratio |",
    "|---|---|---|",
    `| an edge run through the tick, network left out (baseline) | ${edgeMs.toFixed(3)} | 1.00× |`,
    `| a probe location's result, ${CHECKS} in one batch | ${probeMs.toFixed(3)} | ${(probeMs / edgeMs).toFixed(2)}× |`,
    "",
    `A batch of ${CHECKS} results is ${bytes} bytes gzip'd (${(bytes / CHECKS).toFixed(1)} B a result).`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await runLocationsBench());
