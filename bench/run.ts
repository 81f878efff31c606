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
import { benchIngest } from "./ingest.ts";

const BEGIN = "<!-- bench:begin (written by npm run bench) -->";
const END = "<!-- bench:end -->";
const resultsFile = join(import.meta.dirname, "RESULTS.md");

/** The probe vs node_exporter comparison needs Debian's prometheus-node-exporter; it writes its own file. */
function probeSection(): string {
  const script = join(import.meta.dirname, "probe", "compare-node-exporter.mjs");
  const hasExporter = spawnSync("sh", ["-c", "command -v prometheus-node-exporter"]).status === 0;
  if (hasExporter) execFileSync(process.execPath, [script, "--cycles", "60"], { stdio: "inherit" });
  const note = hasExporter
    ? "Re-run in this run; the full write-up is in `bench/probe/RESULTS.md`."
    : "Not re-run here (prometheus-node-exporter is not installed); figures from `bench/probe/RESULTS.md`.";
  const body = readFileSync(join(import.meta.dirname, "probe", "RESULTS.md"), "utf8")
    .replace(/^# .*\n/, "")
    .trim();
  return `## Probe vs node_exporter (issue 3)\n\n${note}\n\n${body}\n`;
}

const sections = [
  `_Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}._\n`,
  `## Checks (issue 5)\n\nCommand: \`npx tsx bench/checks.ts\`.\n\n${await runChecksBench()}\n`,
  `${await benchIngest()}\nCommand: \`npx tsx bench/ingest.ts\`.\n`,
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
