/**
 * `npm run bench`: runs every benchmark in bench/ and rewrites the generated part of bench/RESULTS.md
 * (between the markers), leaving the analysis around it as written. Each benchmark compares against a
 * baseline measured in the same run, so read the ratios, not the absolute figures.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { runChecksBench } from "./checks.ts";
import { runCustomMetricsBench } from "./custom-metrics.ts";
import { runDashboardBench } from "./dashboard.ts";
import { runDashboardApiBench } from "./dashboard-api.ts";
import { runEdgeBench } from "./edge.ts";
import { benchIngest } from "./ingest.ts";
import { runLocationsBench } from "./locations.ts";
import { benchRules } from "./rules.ts";
import { runStartBench } from "./start.ts";
import { runStatusBench } from "./status.ts";
import { runTwoProcessesBench } from "./two-processes.ts";

const BEGIN = "<!-- bench:begin (written by npm run bench) -->";
const END = "<!-- bench:end -->";
const resultsFile = join(import.meta.dirname, "RESULTS.md");

/**
 * The probe vs node_exporter comparison needs Debian's prometheus-node-exporter. Its printed table is this
 * run's figures; bench/probe/RESULTS.md explains the method and what moved the numbers.
 */
function probeSection(): string {
  const script = join(import.meta.dirname, "probe", "compare-node-exporter.mjs");
  const hasExporter = spawnSync("sh", ["-c", "command -v prometheus-node-exporter"]).status === 0;
  if (!hasExporter) {
    return "## Probe vs node_exporter (issue 3)\n\nNot run: `apt-get install prometheus-node-exporter` first. Last figures and method: `bench/probe/RESULTS.md`.\n";
  }
  const printed = execFileSync(process.execPath, [script, "--cycles", "60"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return [
    "## Probe vs node_exporter (issue 3)",
    "",
    "Command: `node bench/probe/compare-node-exporter.mjs --cycles 60` (method: `bench/probe/RESULTS.md`).",
    "",
    "```",
    printed.trim(),
    "```",
    "",
  ].join("\n");
}

const sections = [
  `_Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}._\n`,
  `## Checks (issue 5)\n\nCommand: \`npx tsx bench/checks.ts\`.\n\n${await runChecksBench()}\n`,
  `${await benchIngest()}\nCommand: \`npx tsx bench/ingest.ts\`.\n`,
  `## Status page (issue 8)\n\nCommand: \`npx tsx bench/status.ts\`.\n\n${await runStatusBench()}\n`,
  `${await benchRules()}\nCommand: \`npx tsx bench/rules.ts\`.\n`,
  `## Dashboard (issue 13)\n\nCommand: \`npx tsx bench/dashboard.ts\` (needs \`npm run build -w @vigil/web\`).\n\n${await runDashboardBench()}\n\nThe API behind each screen, self-hosted. Command: \`npx tsx bench/dashboard-api.ts\`.\n\n${await runDashboardApiBench()}\n`,
  `## Two processes on one database (issue 14)\n\nCommand: \`npx tsx bench/two-processes.ts\`.\n\n${(await runTwoProcessesBench()).table}\n`,
  `## Edge beside self-hosted (issue 16)\n\nCommand: \`npx tsx bench/edge.ts\` (\`--quick\` for 1 s rounds and 10,000 checks).\n\n${await runEdgeBench()}\n`,
  `## npm start (issue 20)\n\nCommand: \`npx tsx bench/start.ts\`.\n\n${await runStartBench()}\n`,
  `## Custom metrics (issue 22)\n\nCommand: \`npx tsx bench/custom-metrics.ts\` (needs \`npm run build -w probe\`).\n\n${await runCustomMetricsBench()}\n`,
  `## Checks from locations (issue 17)\n\nCommand: \`npx tsx bench/locations.ts\`.\n\n${await runLocationsBench()}\n`,
  probeSection(),
];
const generated = `${BEGIN}\n\n${sections.join("\n")}\n${END}`;
const current = readFileSync(resultsFile, "utf8");
const next =
  current.includes(BEGIN) && current.includes(END)
    ? current.slice(0, current.indexOf(BEGIN)) + generated + current.slice(current.indexOf(END) + END.length)
    : `${current.trimEnd()}\n\n${generated}\n`;
writeFileSync(resultsFile, next);
console.log(generated);
