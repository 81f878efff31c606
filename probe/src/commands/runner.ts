import { RUNNER_CONFIG, serveRunnerRequest } from "../runbook-commands/root-runner.ts";
import type { CommandContext } from "./context.ts";

/**
 * `vigil-probe runner`: answers one request of the probe on stdin/stdout, as systemd's
 * vigil-probe-runner@.service starts it (as root) for each connection to vigil-probe-runner.socket.
 */
export async function runnerCommand(
  ctx: CommandContext,
  streams: { input: NodeJS.ReadableStream & { destroy?: () => void }; output: NodeJS.WritableStream } = {
    input: process.stdin,
    output: process.stdout,
  },
): Promise<number> {
  const configPath =
    typeof ctx.flags["runner-config"] === "string" ? ctx.flags["runner-config"] : RUNNER_CONFIG;
  await serveRunnerRequest({
    ...streams,
    configPath,
    env: ctx.env,
    uid: process.getuid?.(),
    log: (message) => ctx.err(`vigil-probe runner: ${message}\n`),
  });
  // The connection is both stdin and stdout: let go of it, or the process waits for the probe to hang up.
  streams.input.destroy?.();
  return 0;
}
