import { parseArgs as parseFlags } from "node:util";
import type { Flags } from "./config.ts";

export interface ParsedArgs {
  command: string | undefined;
  flags: Flags;
  positionals: string[];
  /** everything after a bare "--": the command to wrap, passed on untouched */
  rest: string[];
}

/**
 * Every flag any command reads. Strict parsing: a mistyped flag (`--servr`) is an error, not a setting
 * silently left at its default.
 */
const OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  // settings (config.ts)
  config: { type: "string" },
  server: { type: "string" },
  token: { type: "string" },
  "state-dir": { type: "string" },
  "ping-key": { type: "string" },
  interval: { type: "string" },
  root: { type: "string" },
  scrape: { type: "string", multiple: true },
  location: { type: "string" },
  "no-checks": { type: "boolean" },
  "enable-runbooks": { type: "boolean" },
  // runner
  "runner-config": { type: "string" },
  // enroll
  "force-new": { type: "boolean" },
  // once
  print: { type: "boolean" },
  pretty: { type: "boolean" },
  // exec
  check: { type: "string" },
  create: { type: "boolean" },
  // backup, backup-report
  name: { type: "string" },
  status: { type: "string" },
  tool: { type: "string" },
  backend: { type: "string" },
  "exit-code": { type: "string" },
  "started-at": { type: "string" },
  "ended-at": { type: "string" },
  snapshot: { type: "string" },
  error: { type: "string" },
  // backup-check, backup-drill
  "read-data-subset": { type: "string" },
  kind: { type: "string" },
  site: { type: "string" },
  retention: { type: "string" },
  "timeout-min": { type: "string" },
  files: { type: "string" },
  canary: { type: "string" },
  "tmp-dir": { type: "string" },
} as const;

/** A one-line message for node:util's parse errors, naming the flag. */
function usageMessage(error: Error & { code?: string }): string {
  const flag = error.message.match(/'(-[^' ]+)/)?.[1] ?? "";
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown flag ${flag}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return error.message.includes("argument missing") || error.message.includes("ambiguous")
        ? `${flag} needs a value`
        : `${flag} takes no value`;
    default:
      return error.message.split("\n")[0] ?? "bad arguments";
  }
}

export function parseArgs(argv: string[]): ParsedArgs {
  // Split at the first "--" ourselves: what follows is another program's command line, kept as is.
  const separator = argv.indexOf("--");
  const own = separator >= 0 ? argv.slice(0, separator) : argv;
  const rest = separator >= 0 ? argv.slice(separator + 1) : [];
  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseFlags({ args: own, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(usageMessage(error as Error & { code?: string }));
  }
  const [command, ...positionals] = parsed.positionals;
  return { command, flags: { ...parsed.values }, positionals, rest };
}

export class UsageError extends Error {}
