import { readFileSync, statSync } from "node:fs";
import { createConnection } from "node:net";
import { commandAllowed } from "@vigil/contract/runbook-rules";
import { describeError } from "../notes.ts";
import { allowList } from "./config.ts";
import { type CommandOutcome, runShellCommand } from "./run-command.ts";

/**
 * The root runner: how a probe that runs as its own unprivileged user, in a read-only sandbox, has an
 * allow-listed command (`apt-get -y upgrade`) run as root.
 *
 * The installer's --runbooks-as-root sets up `vigil-probe-runner.socket`, a Unix socket that only root and
 * the probe's group may open, with `Accept=yes`: systemd starts one `vigil-probe runner` per connection, as
 * root and outside the probe's sandbox, with the connection as its stdin and stdout. Nothing listens on a
 * network port, and no root process stays running between commands. The runner answers one request and
 * exits:
 *
 *   probe → runner   {"command": "apt-get -y upgrade", "timeoutSec": 1800}\n      run it (or refuse it)
 *   runner → probe   {"status": "done", "exitCode": 0, "output": "…"}\n
 *   probe → runner   {"hello": true}\n                                            doctor: who answers, what it allows
 *   runner → probe   {"uid": 0, "allow": ["apt-get"]}\n
 *
 * The runner trusts nothing the probe says about what may run: it checks each command against its own
 * allow-list in /etc/vigil/runner.json, a file only root may write, and runs nothing without one. When the
 * probe closes its side (it is stopping), the runner ends the command and still answers with what it saw.
 */

export const RUNNER_SOCKET = "/run/vigil-probe-runner.sock";
export const RUNNER_CONFIG = "/etc/vigil/runner.json";

/** A request is one short JSON line; anything longer is not from a probe. */
const MAX_REQUEST_BYTES = 16 * 1024;
/** The answer carries at most 64 KiB of output, which JSON escaping can grow several times over. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** How long past the command's own timeout (and the runner's kill grace) the probe waits for an answer. */
const ANSWER_GRACE_MS = 15_000;
/** After the probe has asked the runner to stop, how long it waits for the answer before hanging up. */
const STOP_GRACE_MS = 10_000;
const STATUSES = new Set<CommandOutcome["status"]>(["done", "failed", "timed-out", "refused"]);

export interface RunnerHello {
  uid: number;
  allow: string[];
  /** why the runner would refuse every command (no allow-list, a config others may write) */
  problem?: string;
}

// --- the runner (root) -------------------------------------------------------------------------------

interface RunnerPolicy {
  allow: string[];
  problem?: string;
}

/**
 * Reads runner.json. Its allow-list is the only one the runner obeys, so a file the probe's user could
 * have written (not root's, or writable by group or others) is refused as a whole, as is an empty list:
 * as root the runner runs only what its operator listed.
 */
export function loadRunnerPolicy(path: string, runnerUid: number | undefined): RunnerPolicy {
  let text: string;
  try {
    if (runnerUid === 0) {
      const stat = statSync(path);
      if (stat.uid !== 0 || (stat.mode & 0o022) !== 0)
        return { allow: [], problem: `${path} must belong to root and be writable by root alone` };
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    return { allow: [], problem: `cannot read ${path}: ${describeError(error)}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { allow: [], problem: `${path} is not valid JSON (${describeError(error)})` };
  }
  try {
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      return { allow: [], problem: `${path} must hold a JSON object` };
    const allow = allowList((parsed as { allow?: unknown }).allow);
    if (allow.length === 0)
      return {
        allow,
        problem: `${path} lists no command prefixes in "allow"; as root only listed commands run`,
      };
    return { allow };
  } catch (error) {
    return { allow: [], problem: `${path}: ${describeError(error)}` };
  }
}

export interface ServeOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  configPath: string;
  /** the commands' environment (systemd gives the runner a clean one) */
  env: NodeJS.ProcessEnv;
  uid: number | undefined;
  log?: (message: string) => void;
}

/** Serves one request from `input` and answers on `output`. Never throws. */
export async function serveRunnerRequest(options: ServeOptions): Promise<void> {
  const reader = lineReader(options.input, MAX_REQUEST_BYTES);
  const line = await reader.line;
  if (line === undefined) return; // the probe hung up without asking (or asked too much)
  const answer = await answerRequest(line, reader.ended, options);
  await new Promise<void>((resolve) => {
    options.output.on("error", () => resolve()); // the probe is gone; nothing left to tell it
    options.output.end(`${JSON.stringify(answer)}\n`, () => resolve());
  });
}

async function answerRequest(
  line: string,
  ended: Promise<void>,
  options: ServeOptions,
): Promise<CommandOutcome | RunnerHello> {
  const policy = loadRunnerPolicy(options.configPath, options.uid);
  let request: { hello?: unknown; command?: unknown; timeoutSec?: unknown };
  try {
    request = JSON.parse(line) as typeof request;
    if (typeof request !== "object" || request === null) throw new Error("not an object");
  } catch {
    return { status: "refused", output: "the root runner got a malformed request" };
  }
  if (request.hello === true)
    return {
      uid: options.uid ?? -1,
      allow: policy.allow,
      ...(policy.problem ? { problem: policy.problem } : {}),
    };
  const { command, timeoutSec } = request;
  if (
    typeof command !== "string" ||
    command.length > 4096 ||
    typeof timeoutSec !== "number" ||
    !Number.isInteger(timeoutSec) ||
    timeoutSec < 1 ||
    timeoutSec > 3600
  )
    return { status: "refused", output: "the root runner got a malformed request" };
  if (policy.problem) return { status: "refused", output: `the root runner runs nothing: ${policy.problem}` };
  if (!commandAllowed(command, policy.allow))
    return {
      status: "refused",
      output: `the command is outside the root runner's allow list in ${options.configPath} (${policy.allow.join(", ")})`,
    };
  const stop = new AbortController();
  void ended.then(() => stop.abort());
  options.log?.(`running ${JSON.stringify(command)} as uid ${options.uid ?? "?"}`);
  const outcome = await runShellCommand(command, {
    timeoutMs: timeoutSec * 1000,
    env: options.env,
    signal: stop.signal,
  });
  options.log?.(`${JSON.stringify(command)}: ${outcome.status}`);
  return outcome;
}

/**
 * The first line of a stream (undefined when it ends first or the line exceeds `maxBytes`), and a promise
 * that settles when the stream ends or fails afterwards: the probe hanging up.
 */
function lineReader(input: NodeJS.ReadableStream, maxBytes: number) {
  let buffered = "";
  let resolveLine: (line: string | undefined) => void = () => {};
  let resolveEnded: () => void = () => {};
  const line = new Promise<string | undefined>((resolve) => {
    resolveLine = resolve;
  });
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const onData = (chunk: Buffer | string) => {
    buffered += chunk.toString();
    const newline = buffered.indexOf("\n");
    if (newline >= 0) resolveLine(buffered.slice(0, newline));
    else if (buffered.length > maxBytes) resolveLine(undefined);
  };
  const onEnd = () => {
    resolveLine(undefined);
    resolveEnded();
  };
  input.on("data", onData);
  input.on("end", onEnd);
  input.on("close", onEnd);
  input.on("error", onEnd);
  return { line, ended };
}

// --- the probe's side ----------------------------------------------------------------------------------

/**
 * Has the root runner at `socketPath` run `command`, the way runShellCommand would run it here. `signal`
 * (the probe stopping) closes the probe's side, which ends the command; the runner's answer still says
 * what it printed. Never throws: an unreachable runner is a `failed` outcome saying how to set one up.
 */
export async function runThroughRunner(
  socketPath: string,
  command: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<CommandOutcome> {
  const reply = await askRunner(
    socketPath,
    { command, timeoutSec: Math.ceil(options.timeoutMs / 1000) },
    options.timeoutMs + ANSWER_GRACE_MS,
    options.signal,
  );
  if ("error" in reply) return { status: "failed", output: reply.error };
  const answer = reply.answer as Partial<CommandOutcome>;
  if (!answer.status || !STATUSES.has(answer.status) || typeof answer.output !== "string")
    return { status: "failed", output: "the root runner gave an answer the probe does not understand" };
  return {
    status: answer.status,
    output: answer.output.slice(-65_536),
    ...(Number.isInteger(answer.exitCode) ? { exitCode: answer.exitCode as number } : {}),
  };
}

/** Who answers at `socketPath` and what it allows (doctor), or why it could not be asked. */
export async function helloRunner(
  socketPath: string,
  timeoutMs = 5_000,
): Promise<RunnerHello | { error: string }> {
  const reply = await askRunner(socketPath, { hello: true }, timeoutMs);
  if ("error" in reply) return reply;
  const hello = reply.answer as Partial<RunnerHello>;
  if (typeof hello.uid !== "number" || !Array.isArray(hello.allow))
    return { error: "the root runner gave an answer the probe does not understand" };
  return {
    uid: hello.uid,
    allow: hello.allow.filter((entry): entry is string => typeof entry === "string"),
    ...(typeof hello.problem === "string" ? { problem: hello.problem } : {}),
  };
}

/** One request, one JSON answer line. */
function askRunner(
  socketPath: string,
  request: object,
  answerWithinMs: number,
  signal?: AbortSignal,
): Promise<{ answer: Record<string, unknown> } | { error: string }> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    let received = "";
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (result: { answer: Record<string, unknown> } | { error: string }) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result);
    };
    // Half-close: the runner sees the end of its input and stops the command, and can still answer.
    const onAbort = () => {
      socket.end();
      timers.push(
        setTimeout(
          () => finish({ error: "[killed: the probe stopped while the command ran]" }),
          STOP_GRACE_MS,
        ),
      );
    };
    timers.push(
      setTimeout(
        () =>
          finish({
            error: `the root runner at ${socketPath} did not answer within ${answerWithinMs / 1000} s`,
          }),
        answerWithinMs,
      ),
    );
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    socket.on("connect", () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on("data", (chunk) => {
      received += chunk.toString();
      if (received.length > MAX_ANSWER_BYTES) finish({ error: "the root runner's answer was too long" });
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      finish({
        error:
          error.code === "ENOENT" || error.code === "ECONNREFUSED"
            ? `no root runner at ${socketPath} (install.sh --runbooks-as-root sets up vigil-probe-runner.socket): ${error.code}`
            : `could not reach the root runner at ${socketPath}: ${describeError(error)}`,
      }),
    );
    socket.on("close", () => {
      const line = received.split("\n", 1)[0] ?? "";
      try {
        const answer = JSON.parse(line) as unknown;
        if (typeof answer !== "object" || answer === null || Array.isArray(answer))
          throw new Error("not an object");
        finish({ answer: answer as Record<string, unknown> });
      } catch {
        finish({
          error: "the root runner hung up without an answer (see journalctl -u 'vigil-probe-runner@*')",
        });
      }
    });
  });
}
