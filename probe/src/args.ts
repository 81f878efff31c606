import type { Flags } from "./config.ts";

export interface ParsedArgs {
  command: string | undefined;
  flags: Flags;
  positionals: string[];
  /** everything after a bare "--": the command to wrap, passed on untouched */
  rest: string[];
}

/** Flags that take no value; every other --flag takes the next argument (or =value). */
const BOOLEAN_FLAGS = new Set(["print", "help", "force-new", "create", "json", "version", "quiet", "pretty"]);

export function parseArgs(argv: string[]): ParsedArgs {
  const separator = argv.indexOf("--");
  const own = separator >= 0 ? argv.slice(0, separator) : argv;
  const rest = separator >= 0 ? argv.slice(separator + 1) : [];
  const flags: Flags = {};
  const positionals: string[] = [];
  for (let i = 0; i < own.length; i++) {
    const arg = own[i] ?? "";
    if (arg === "-h") {
      flags.help = true;
    } else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (eq > 0) flags[name] = arg.slice(eq + 1);
      else if (BOOLEAN_FLAGS.has(name)) flags[name] = true;
      else {
        const value = own[i + 1];
        if (value === undefined || value.startsWith("--")) throw new UsageError(`--${name} needs a value`);
        flags[name] = value;
        i++;
      }
    } else positionals.push(arg);
  }
  const [command, ...others] = positionals;
  return { command, flags, positionals: others, rest };
}

export class UsageError extends Error {}
