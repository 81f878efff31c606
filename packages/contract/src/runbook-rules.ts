/**
 * The rule a host's runbook allow-list applies, shared by the server (which refuses at once what a probe
 * would refuse) and the probe (which has the last word). A module of its own, free of zod, so the probe can
 * import it and still bundle to one file with no dependencies.
 */

/**
 * Shell syntax that would let an allowed prefix carry another command (`apt-get -y upgrade; rm -rf /srv`,
 * `$(…)`, pipes, redirections, subshells, a second line): with an allow-list, a command holding any is refused.
 */
const SHELL_SYNTAX = /[;&|`$<>()\n\r]/;

/**
 * The allow-list's verdict: with entries, the trimmed command must equal one or start with one followed by
 * whitespace, so `apt-get` allows `apt-get -y upgrade` but not `apt-get-evil`, and hold no shell syntax;
 * an empty list allows any command.
 */
export function commandAllowed(command: string, allow: readonly string[]): boolean {
  if (allow.length === 0) return true;
  const trimmed = command.trim();
  if (SHELL_SYNTAX.test(trimmed)) return false;
  return allow.some(
    (entry) => trimmed === entry || (trimmed.startsWith(entry) && /\s/.test(trimmed[entry.length] ?? "")),
  );
}
