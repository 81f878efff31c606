import { access, constants, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { loadBackupChecks } from "../backup-checks.ts";
import { collectContainers } from "../collectors/docker.ts";
import { collectJournal } from "../collectors/journal.ts";
import { scrapeTarget } from "../collectors/scrape.ts";
import { loadConfig, loadIdentity, loadRemoteConfig, spoolDir } from "../config.ts";
import { validAssignments } from "../location-checks/assignments.ts";
import { prepareLocation } from "../location-checks/location.ts";
import { NoteSink } from "../notes.ts";
import { describeBaseCommand, findJson, isRepositoryConfig } from "../restic-repository.ts";
import { loadRunbookSettings } from "../runbook-commands/config.ts";
import { CommandLedger, LEDGER_FILE } from "../runbook-commands/ledger.ts";
import { helloRunner } from "../runbook-commands/root-runner.ts";
import { loadScrapeTargets, shownUrl } from "../scrape-targets.ts";
import { Spool } from "../spool.ts";
import { apiUrl } from "../transport.ts";
import { PROBE_VERSION, runtimeDescription } from "../version.ts";
import { failureReason, resticReason, resticRunner } from "./backup-check.ts";
import type { CommandContext } from "./context.ts";

const DOCTOR_RESTIC_TIMEOUT_MS = 60_000;

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** a warning is worth reading but does not make doctor fail */
  warning?: boolean;
}

/**
 * `doctor`: checks config, enrollment, server, journal, Docker, the spool, scrape targets, backup
 * repositories, the probe as a location (its name, rules and assignments, and `ping`), and runbook
 * commands (on or off, the allow-list), one line each.
 */
export async function doctorCommand(ctx: CommandContext): Promise<number> {
  const checks: Check[] = [];
  const add = (check: Check) => {
    checks.push(check);
    const mark = check.ok ? "ok  " : check.warning ? "warn" : "FAIL";
    ctx.out(`[${mark}] ${check.name}: ${check.detail}\n`);
  };
  ctx.out(`vigil-probe ${PROBE_VERSION} on ${runtimeDescription()}\n`);

  const { config, path, found } = await loadConfig(ctx.flags, ctx.env);
  if (!found)
    add({
      name: "config",
      ok: false,
      warning: true,
      detail: `${path} not found (flags and environment only)`,
    });
  else {
    const mode = (await stat(path)).mode & 0o777;
    add({
      name: "config",
      ok: (mode & 0o077) === 0,
      detail:
        (mode & 0o077) === 0
          ? `${path} (mode ${mode.toString(8)})`
          : `${path} is mode ${mode.toString(8)}; it holds secrets, make it 600`,
    });
  }

  const identity = await loadIdentity(config.stateDir);
  add(
    identity
      ? { name: "enrollment", ok: true, detail: `host ${identity.hostId} at ${identity.server}` }
      : { name: "enrollment", ok: false, detail: `not enrolled (no identity in ${config.stateDir})` },
  );

  const server = identity?.server ?? config.server;
  if (!server) add({ name: "server", ok: false, detail: "no server configured" });
  else {
    try {
      const response = await ctx.fetch(apiUrl(server, "/healthz"), { signal: AbortSignal.timeout(10_000) });
      await response.body?.cancel();
      add({ name: "server", ok: response.ok, detail: `${server}/healthz answered HTTP ${response.status}` });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      add({
        name: "server",
        ok: false,
        detail: `${server} unreachable: ${cause?.code ?? (error as Error).message}`,
      });
    }
  }

  try {
    await access(config.stateDir, constants.W_OK);
    const entries = await new Spool({ dir: spoolDir(config.stateDir), clock: ctx.clock }).list();
    const bytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    add({
      name: "state dir",
      ok: true,
      detail: `${config.stateDir} writable; ${entries.length} batches (${bytes} bytes) waiting`,
    });
  } catch (error) {
    add({ name: "state dir", ok: false, detail: `${config.stateDir}: ${(error as Error).message}` });
  }

  const journalNotes = new NoteSink();
  const journal = {
    minPriority: 7,
    units: [],
    maxEntries: 1,
    stateDir: "/nonexistent",
    firstRunLookbackMs: 86_400_000,
  };
  await collectJournal(
    config.journalDirectory ? { ...journal, directory: config.journalDirectory } : journal,
    ctx.clock(),
    journalNotes,
  );
  add(
    journalNotes.notes.length === 0
      ? { name: "journal", ok: true, detail: "readable" }
      : {
          name: "journal",
          ok: false,
          warning: true,
          detail: journalNotes.notes.map((n) => n.message).join("; "),
        },
  );

  const dockerNotes = new NoteSink();
  const socket = config.dockerSocket ?? "/var/run/docker.sock";
  const containers = await collectContainers(socket, dockerNotes, 5_000);
  add(
    containers
      ? { name: "docker", ok: true, detail: `${containers.length} containers via ${socket}` }
      : {
          name: "docker",
          ok: false,
          warning: true,
          detail: dockerNotes.notes.map((n) => n.message).join("; "),
        },
  );

  // A target that does not answer may simply be down right now: worth a warning, not a failed doctor.
  try {
    for (const target of loadScrapeTargets(config, ctx.flags, ctx.env)) {
      const notes = new NoteSink();
      const outcome = await scrapeTarget(target, ctx.clock(), notes);
      add(
        outcome.up
          ? {
              name: `scrape ${target.name}`,
              ok: true,
              detail: `${outcome.samples.length - 3} series from ${shownUrl(target.url)}`,
            }
          : {
              name: `scrape ${target.name}`,
              ok: false,
              warning: true,
              detail: notes.notes.map((n) => n.message).join("; "),
            },
      );
    }
  } catch (error) {
    add({ name: "scrape", ok: false, detail: (error as Error).message });
  }

  // A repository may be offline for a moment (a NAS asleep): a warning, not a failed doctor.
  try {
    for (const { target } of loadBackupChecks(config, ctx.env)) {
      const location = describeBaseCommand(target.command, target.env).location;
      const run = await resticRunner(
        { ...target, timeoutMs: DOCTOR_RESTIC_TIMEOUT_MS },
        { clock: ctx.clock },
      ).run(["cat", "config"]);
      const id = run.exitCode === 0 ? findJson(run.stdout, isRepositoryConfig)?.id : undefined;
      const why = failureReason(run, DOCTOR_RESTIC_TIMEOUT_MS, "restic cat config") ?? resticReason(run.tail);
      add(
        id
          ? {
              name: `backup ${target.name}`,
              ok: true,
              detail: `${location} answers (repository ${id.slice(0, 10)})`,
            }
          : {
              name: `backup ${target.name}`,
              ok: false,
              warning: true,
              detail: `${location}: restic cat config did not answer: ${why || `exit ${run.exitCode}`}`,
            },
      );
    }
  } catch (error) {
    add({ name: "backup checks", ok: false, detail: (error as Error).message });
  }

  try {
    const location = await prepareLocation(config, ctx.flags, ctx.env);
    if (!location.enabled) {
      // Turned off on purpose is fine; a host name that makes no location name is worth a word.
      const onPurpose = !location.why.startsWith("the host name");
      add({ name: "location", ok: onPurpose, warning: !onPurpose, detail: `checks off: ${location.why}` });
    } else {
      const held = validAssignments((await loadRemoteConfig(config.stateDir))?.checks);
      const byKind = new Map<string, number>();
      for (const assignment of held) byKind.set(assignment.kind, (byKind.get(assignment.kind) ?? 0) + 1);
      const kinds = [...byKind].map(([kind, count]) => `${count} ${kind}`).join(", ");
      add({
        name: "location",
        ok: true,
        detail: `${location.name} (from the ${location.nameFrom === "config" ? "settings" : "host name"}), runs ${location.facts.kinds.join(", ")}; ${location.rules.describe()}; ${held.length} checks assigned${kinds ? ` (${kinds})` : ""}`,
      });
      const user = userInfo().username;
      add(
        location.ping.usable
          ? { name: "ping", ok: true, detail: `${location.ping.detail} (as ${user}): icmp checks offered` }
          : {
              name: "ping",
              ok: false,
              warning: true,
              detail: `${location.ping.detail} (as ${user}): icmp checks not offered`,
            },
      );
    }
  } catch (error) {
    add({ name: "location", ok: false, detail: (error as Error).message });
  }

  // Off is the default and fine; on for any command is allowed but worth a second look.
  try {
    const runbooks = loadRunbookSettings(config, ctx.flags, ctx.env);
    const ledger = CommandLedger.load(config.stateDir);
    if (!runbooks.enabled) add({ name: "runbooks", ok: true, detail: `off (${runbooks.why})` });
    else if (ledger.problem)
      add({ name: "runbooks", ok: false, detail: `on, but no command can run: ${ledger.problem}` });
    else {
      const ran = `${ledger.size} command${ledger.size === 1 ? "" : "s"} on record (${LEDGER_FILE})`;
      add(
        runbooks.allow.length === 0
          ? {
              name: "runbooks",
              ok: false,
              warning: true,
              detail: `on for any command (no runbooks.allow list); ${ran}`,
            }
          : {
              name: "runbooks",
              ok: true,
              detail: `on, allowed: ${runbooks.allow.join(", ")}; ${ran}`,
            },
      );
      if (runbooks.runner) add(await runnerCheck(runbooks.runner));
    }
  } catch (error) {
    add({ name: "runbooks", ok: false, detail: (error as Error).message });
  }

  return checks.every((check) => check.ok || check.warning) ? 0 : 1;
}

/** Whether the root runner answers at `socket`, as whom, and whether it would run anything. */
async function runnerCheck(socket: string): Promise<Check> {
  const hello = await helloRunner(socket);
  if ("error" in hello) return { name: "root runner", ok: false, detail: hello.error };
  if (hello.problem)
    return {
      name: "root runner",
      ok: false,
      detail: `answers as uid ${hello.uid} but runs nothing: ${hello.problem}`,
    };
  return {
    name: "root runner",
    ok: true,
    ...(hello.uid !== 0 ? { warning: true } : {}),
    detail: `${socket} answers as ${hello.uid === 0 ? "root" : `uid ${hello.uid}, not root`}, allowed: ${hello.allow.join(", ")}`,
  };
}
