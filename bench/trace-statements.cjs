/**
 * Preload for a bench server (`node --require ./bench/trace-statements.cjs …`): times every statement the
 * embedded libSQL driver prepares and runs, and prints the largest totals (and the spread of COMMIT, which
 * holds the fsync) to stderr when the process gets SIGTERM. `npx tsx bench/checks.ts --trace`
 * runs the ping bench's server with it. Diagnostics only: it wraps the driver's methods in place.
 */
const { join } = require("node:path");

// The driver @libsql/client uses (run from the repository root, as the benches are).
const clientDir = join(__dirname, "..", "node_modules", "@libsql", "client");
const Database = require(require.resolve("libsql", { paths: [clientDir] }));
const totals = new Map();
const commits = [];

function add(key, ns) {
  const entry = totals.get(key) ?? { count: 0, ns: 0n };
  entry.count++;
  entry.ns += ns;
  totals.set(key, entry);
  if (key === "run COMMIT") commits.push(Number(ns) / 1000);
}

const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (sql) {
  const started = process.hrtime.bigint();
  const statement = prepare.call(this, sql);
  add("prepare (any statement)", process.hrtime.bigint() - started);
  const text = sql.replace(/\s+/g, " ").trim().slice(0, 60);
  for (const method of ["run", "all", "get", "raw", "iterate"]) {
    const original = statement[method];
    if (typeof original !== "function") continue;
    statement[method] = function (...args) {
      const t0 = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        add(`${method} ${text}`, process.hrtime.bigint() - t0);
      }
    };
  }
  return statement;
};

process.on("SIGTERM", () => {
  const rows = [...totals].sort((a, b) => Number(b[1].ns - a[1].ns)).slice(0, 12);
  const lines = ["statement time in the driver (total ms, count, µs each):"];
  for (const [key, { count, ns }] of rows)
    lines.push(
      `${(Number(ns) / 1e6).toFixed(0).padStart(7)} ${String(count).padStart(8)} ${(Number(ns) / 1e3 / count).toFixed(1).padStart(8)}  ${key}`,
    );
  const sorted = commits.sort((a, b) => a - b);
  const at = (q) => sorted[Math.floor(q * (sorted.length - 1))]?.toFixed(0) ?? "-";
  lines.push(`COMMIT µs: p50 ${at(0.5)}, p90 ${at(0.9)}, p99 ${at(0.99)}, max ${at(1)}`);
  process.stderr.write(`${lines.join("\n")}\n`);
  process.exit(0);
});
