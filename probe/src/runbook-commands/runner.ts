import type { ProbeCommandResult } from "@vigil/contract";
import type { Clock } from "../clock.ts";
import { describeError } from "../notes.ts";
import type { HandedCommand } from "./commands.ts";
import { type RunbookSettings, refusalOf } from "./config.ts";
import { CommandLedger } from "./ledger.ts";
import { runThroughRunner } from "./root-runner.ts";
import { type CommandOutcome, runShellCommand } from "./run-command.ts";

/** Runs one command; `signal` fires when the probe stops. Resolves with what became of it, never throws. */
export type CommandExecutor = (command: HandedCommand, signal: AbortSignal) => Promise<CommandOutcome>;

export interface RunbookCommandsOptions {
  settings: RunbookSettings;
  stateDir: string;
  clock: Clock;
  /** the commands' environment (the probe's, less its VIGIL_* settings) */
  env: NodeJS.ProcessEnv;
  /** tests: run commands another way (or watch them run) */
  run?: CommandExecutor;
  /** called when a result lands and none were waiting: the daemon wakes up to send it */
  onResult?: () => void;
  log?: (message: string) => void;
}

/**
 * The runbook commands the server hands this host, each run at most once.
 * 1. `update(commands)` takes the list from each batch answer. An id the ledger (state dir) knows is not run
 *    again: the server repeats a command until it has stored the result, and after a lost answer.
 * 2. A command that may not run here (runbooks off, outside the allow-list) gets a `refused` result at once;
 *    the others wait in a queue and run one at a time, in the server's order, in the background. A queued
 *    command the server no longer hands out is dropped unrun.
 * 3. Before a command starts, its id goes to the ledger on disk; if that fails, it does not start.
 * 4. Results wait until `take()`; once the daemon has spooled them it calls `reported()`. An id the ledger
 *    says started but never reported (the probe died while it ran) gets a `failed` result saying so.
 */
export class RunbookCommands {
  private readonly ledger: CommandLedger;
  private queue: HandedCommand[] = [];
  /** ids queued, running, or with a result not yet reported (spooled): a repeat of them changes nothing */
  private readonly active = new Set<string>();
  private results: ProbeCommandResult[] = [];
  private firstWaitingAt = Number.POSITIVE_INFINITY;
  private current: Promise<void> | undefined;
  private readonly stopper = new AbortController();

  constructor(private readonly options: RunbookCommandsOptions) {
    this.ledger = CommandLedger.load(options.stateDir);
    if (this.ledger.problem)
      options.log?.(`runbook commands: ${this.ledger.problem}; running none until it is fixed or removed`);
  }

  /** Commands waiting to start, and the one running. */
  get pending(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** When the oldest waiting result landed (+Infinity when none waits). */
  pendingSince(): number {
    return this.firstWaitingAt;
  }

  update(commands: HandedCommand[]): void {
    const handed = new Set(commands.map((command) => command.id));
    // Withdrawn before it started (the run was cancelled): forget it, it may come back.
    for (const command of this.queue) if (!handed.has(command.id)) this.active.delete(command.id);
    this.queue = this.queue.filter((command) => handed.has(command.id));
    for (const command of commands) {
      if (this.active.has(command.id)) continue;
      const state = this.ledger.stateOf(command.id);
      if (state === "reported") continue;
      this.active.add(command.id);
      if (state === "started") {
        this.land(command.id, {
          status: "failed",
          output: "the probe stopped while this command ran (or before it reported it); it was not run again",
        });
        continue;
      }
      const refusal = this.ledger.problem
        ? `${this.ledger.problem}: without it the probe cannot tell a repeat, so it runs no command`
        : refusalOf(this.options.settings, command.command);
      if (refusal) {
        this.refuse(command, refusal);
        continue;
      }
      this.queue.push(command);
    }
    this.startNext();
  }

  private refuse(command: HandedCommand, why: string): void {
    // Recorded too, so a repeat of the same id is not answered again.
    try {
      this.ledger.started(command.id, this.options.clock());
    } catch (error) {
      this.options.log?.(`runbook commands: could not record ${command.id}: ${describeError(error)}`);
    }
    this.options.log?.(`runbook command ${command.id} refused: ${why}`);
    this.land(command.id, { status: "refused", output: why });
  }

  private startNext(): void {
    if (this.current || this.stopper.signal.aborted) return;
    const command = this.queue.shift();
    if (!command) return;
    try {
      this.ledger.started(command.id, this.options.clock());
    } catch (error) {
      this.land(command.id, {
        status: "failed",
        output: `not run: the probe could not record it in its state dir (${describeError(error)})`,
      });
      this.startNext();
      return;
    }
    this.current = this.execute(command).finally(() => {
      this.current = undefined;
      this.startNext();
    });
  }

  private async execute(command: HandedCommand): Promise<void> {
    const startedAt = this.options.clock();
    this.options.log?.(`runbook command ${command.id}: running ${JSON.stringify(command.command)}`);
    const { settings } = this.options;
    const runner = settings.enabled ? settings.runner : undefined;
    const run =
      this.options.run ??
      ((handed: HandedCommand, signal: AbortSignal) =>
        runner
          ? runThroughRunner(runner, handed.command, { timeoutMs: handed.timeoutSec * 1000, signal })
          : runShellCommand(handed.command, {
              timeoutMs: handed.timeoutSec * 1000,
              env: this.options.env,
              signal,
            }));
    let outcome: CommandOutcome;
    try {
      outcome = await run(command, this.stopper.signal);
    } catch (error) {
      outcome = { status: "failed", output: `the probe could not run it: ${describeError(error)}` };
    }
    const exit = outcome.exitCode !== undefined ? `, exit ${outcome.exitCode}` : "";
    this.options.log?.(`runbook command ${command.id}: ${outcome.status}${exit}`);
    this.land(command.id, outcome, startedAt);
  }

  private land(id: string, outcome: CommandOutcome, startedAt?: number): void {
    const result: ProbeCommandResult = {
      id,
      status: outcome.status,
      output: outcome.output,
      ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}),
      ...(startedAt !== undefined ? { startedAt } : {}),
      endedAt: this.options.clock(),
    };
    this.results.push(result);
    if (this.results.length === 1) {
      this.firstWaitingAt = this.options.clock();
      this.options.onResult?.();
    }
  }

  /** The results landed since the last take, oldest first. */
  take(): ProbeCommandResult[] {
    const taken = this.results;
    this.results = [];
    this.firstWaitingAt = Number.POSITIVE_INFINITY;
    return taken;
  }

  /** The results of `ids` are in the spool: a repeat of them is ignored from now on, also after a restart. */
  reported(ids: string[]): void {
    for (const id of ids) this.active.delete(id);
    try {
      this.ledger.reported(ids, this.options.clock());
    } catch (error) {
      // Harmless but for a restart: the ids stay `started`, and a repeat is answered as interrupted.
      this.options.log?.(`runbook commands: could not record results as sent: ${describeError(error)}`);
    }
  }

  /** Ends the command under way (its result says so) and starts no more. */
  stop(): void {
    this.stopper.abort();
  }

  /** Resolves once the command under way, if any, has ended. */
  async settled(): Promise<void> {
    while (this.current) await this.current;
  }
}
