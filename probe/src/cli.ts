import { parseArgs, UsageError } from "./args.ts";
import { realSleep, systemClock } from "./clock.ts";
import { backupCommand } from "./commands/backup.ts";
import { backupCheckCommand } from "./commands/backup-check.ts";
import { backupDrillCommand } from "./commands/backup-drill.ts";
import { backupReportCommand } from "./commands/backup-report.ts";
import type { CommandContext } from "./commands/context.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { enrollCommand } from "./commands/enroll.ts";
import { execCommand } from "./commands/exec.ts";
import { onceCommand } from "./commands/once.ts";
import { runDaemon } from "./commands/run.ts";
import { runnerCommand } from "./commands/runner.ts";
import { scrapeTestCommand } from "./commands/scrape-test.ts";
import { Stopper } from "./stopper.ts";
import { PROBE_VERSION } from "./version.ts";

const USAGE = `vigil-probe ${PROBE_VERSION}: pushes host health, logs, backups and state to Vigil

usage:
  vigil-probe enroll --server URL --token T [--force-new]   enroll this host (keeps an existing enrollment)
  vigil-probe run                                            the daemon (interval 30 s unless the server says otherwise)
  vigil-probe once --print [--pretty]                        one full sample as JSON on stdout, no network
  vigil-probe exec --check SLUG|UUID [--create] -- cmd …     run cmd with start/success/failure heartbeats
  vigil-probe backup --name NAME -- restic backup … --json   run a backup and report it
  vigil-probe backup-report --status success|failure …       report a backup run (autorestic hooks)
  vigil-probe backup-check --name NAME -- restic -r REPO …   check a repository (restic check) and report it
      [--read-data-subset 5%] [--kind local|host|object|other] [--site onsite|offsite]
      [--retention="--keep-daily 7 …"] [--timeout-min 120]; or -- autorestic -c FILE exec -b BACKEND --
  vigil-probe backup-drill --name NAME -- restic -r REPO …   restore a sample of the newest snapshot, compare, report
      [--files 20] [--canary PATH] [--tmp-dir DIR] [--timeout-min 60]
  vigil-probe doctor                                         check config, server, journal, Docker, scrapes, backups, checks
  vigil-probe scrape-test [--scrape NAME=URL] [--print]      scrape once and show what would be sent
  vigil-probe runner [--runner-config FILE]                  root runner: one runbook command from stdin (systemd socket)
  vigil-probe version

settings: --config FILE (VIGIL_CONFIG, default /etc/vigil/probe.json), --server (VIGIL_SERVER),
  --token (VIGIL_TOKEN), --state-dir (VIGIL_STATE_DIR, default /var/lib/vigil-probe),
  --ping-key (VIGIL_PING_KEY), --interval SECONDS (VIGIL_INTERVAL),
  --scrape NAME=URL, repeatable (VIGIL_SCRAPE="app=URL,db=URL"): Prometheus endpoints to scrape
  backupChecks in the config file: repositories the daemon checks and drills on a schedule
  --location NAME (VIGIL_LOCATION): the location this probe runs the server's checks as (default: the
  host name); --no-checks (VIGIL_CHECKS=0): run none. checks.allow / checks.deny in the config file:
  host-name globs, IP addresses and CIDR ranges the checks may (not) reach
  --enable-runbooks (VIGIL_RUNBOOKS=1, runbooks.enabled in the config file): run the commands of runbooks
  the server hands this host, each at most once; off by default. runbooks.allow in the config file:
  command prefixes they must start with (empty: any command); runbooks.runner: the root runner's socket
  (install.sh --runbooks-as-root), which runs them as root if /etc/vigil/runner.json (root's) allows them
`;

export async function main(argv: string[], overrides: Partial<CommandContext> = {}): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  const err = overrides.err ?? ((text: string) => void process.stderr.write(text));
  const out = overrides.out ?? ((text: string) => void process.stdout.write(text));
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    // One line, so a typo in a cron line or unit file reads plainly in its log.
    err(`vigil-probe: ${(error as Error).message} (vigil-probe --help lists the flags)\n`);
    return 2;
  }
  const ctx: CommandContext = {
    flags: parsed.flags,
    rest: parsed.rest,
    env: process.env,
    clock: systemClock,
    sleep: realSleep,
    out,
    err,
    fetch: globalThis.fetch,
    ...overrides,
  };
  if (parsed.flags.version === true || parsed.command === "version") {
    out(`${PROBE_VERSION}\n`);
    return 0;
  }
  if (parsed.flags.help === true || !parsed.command || parsed.command === "help") {
    out(USAGE);
    return parsed.command || parsed.flags.help === true ? 0 : 2;
  }
  try {
    switch (parsed.command) {
      case "enroll":
        return await enrollCommand(ctx);
      case "run": {
        const stopper = new Stopper();
        process.once("SIGTERM", () => stopper.stop());
        process.once("SIGINT", () => stopper.stop());
        return await runDaemon(ctx, { stopper });
      }
      case "once":
        return await onceCommand(ctx);
      case "exec":
        return await execCommand(ctx);
      case "backup":
        return await backupCommand(ctx);
      case "backup-report":
        return await backupReportCommand(ctx);
      case "backup-check":
        return await backupCheckCommand(ctx);
      case "backup-drill":
        return await backupDrillCommand(ctx);
      case "doctor":
        return await doctorCommand(ctx);
      case "scrape-test":
        return await scrapeTestCommand(ctx);
      case "runner":
        return await runnerCommand(ctx);
      default:
        err(`unknown command: ${parsed.command}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    err(`vigil-probe ${parsed.command}: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
