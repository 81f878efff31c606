/**
 * Does sqld keep answering under concurrent writes? Rounds of `--clients` concurrent clients, each writing
 * a two-statement batch (an insert and a counter update, as a ping does) to one of 20 rows, on a fresh
 * sqld; `--writers` caps the writes in flight with the same gate as the Worker (@vigil/db writers.ts),
 * 0 sends them all at once. A round that has not finished after `--stall-s` seconds counts as a stall and
 * ends the run (sqld does not recover from one).
 *
 *   npx tsx bench/sqld-writers.ts --writers 0 --rounds 300      # the stall, most runs
 *   npx tsx bench/sqld-writers.ts --writers 4 --rounds 300      # no stall seen
 *
 * Not part of `npm run bench`: a stalled run takes its full budget, and the answer is a yes/no, not a ratio.
 */
import { parseArgs } from "node:util";
import { createClient } from "@libsql/client/web";
import { startSqld } from "@vigil/api/scripts/sqld.ts";
import { retryOnBusy, WriterGate } from "@vigil/db";

const { values } = parseArgs({
  options: {
    writers: { type: "string", default: "4" },
    clients: { type: "string", default: "60" },
    rounds: { type: "string", default: "300" },
    "stall-s": { type: "string", default: "30" },
  },
});
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const gate = new WriterGate({ max: Number(values.writers) });

const sqld = await startSqld();
process.on("exit", () => sqld.process.kill("SIGKILL"));
const setup = createClient({ url: sqld.url });
await setup.execute("create table runs (id integer primary key, job text, body text)");
await setup.execute("create table jobs (id text primary key, runs integer)");
for (let i = 0; i < 20; i++)
  await setup.execute({ sql: "insert into jobs values (?, 0)", args: [`job${i}`] });

async function oneClient(i: number): Promise<void> {
  const client = createClient({ url: sqld.url });
  const job = `job${i % 20}`;
  await client.execute({ sql: "select * from jobs where id = ?", args: [job] });
  await retryOnBusy(() =>
    gate.run(() =>
      client.batch(
        [
          { sql: "insert into runs (job, body) values (?, ?)", args: [job, "x".repeat(200)] },
          { sql: "update jobs set runs = runs + 1 where id = ?", args: [job] },
        ],
        "write",
      ),
    ),
  );
  client.close();
}

const started = Date.now();
let slowest = 0;
for (let round = 0; round < rounds; round++) {
  const t0 = Date.now();
  const stall = new Promise<"stall">((done) =>
    setTimeout(done, Number(values["stall-s"]) * 1000, "stall").unref(),
  );
  const outcome = await Promise.race([
    Promise.all(Array.from({ length: clients }, (_, i) => oneClient(i))),
    stall,
  ]);
  if (outcome === "stall") {
    console.log(`writers ${gate.max || "uncapped"}: STALL in round ${round + 1} of ${rounds}`);
    process.exit(1);
  }
  slowest = Math.max(slowest, Date.now() - t0);
}
console.log(
  `writers ${gate.max || "uncapped"}: ${rounds} rounds of ${clients} writes in ${Date.now() - started} ms, slowest round ${slowest} ms`,
);
process.exit(0);
