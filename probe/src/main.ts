import { main } from "./cli.ts";

// The bundle's entry: exit with the command's code once its work (and output) is done.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vigil-probe: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
