import type { HostFacts } from "@vigil/contract";
import type { Flags, ProbeConfig } from "../config.ts";
import { type LocationSettings, loadLocationSettings, locationKinds } from "./config.ts";
import { pingUsable } from "./icmp.ts";
import type { RunContext } from "./observation.ts";

/** This probe as a location: its settings, and when on, what the facts announce and runners need. */
export type ProbeLocation =
  | { enabled: false; why: string }
  | (Extract<LocationSettings, { enabled: true }> & {
      facts: NonNullable<HostFacts["location"]>;
      ping: { usable: boolean; detail: string };
      context: RunContext;
    });

/**
 * Reads the location settings and, when checks are on, tries `ping` once (icmp is offered only when it
 * works). `ping` may be overridden: tests pass a verdict instead of running the program.
 */
export async function prepareLocation(
  config: Pick<ProbeConfig, "checks" | "rootDir">,
  flags: Flags,
  env: NodeJS.ProcessEnv,
  ping?: { usable: boolean; detail: string },
): Promise<ProbeLocation> {
  const settings = await loadLocationSettings(config, flags, env);
  if (!settings.enabled) return settings;
  const pingVerdict = ping ?? (await pingUsable());
  const kinds = locationKinds(pingVerdict.usable);
  return {
    ...settings,
    facts: { name: settings.name, kinds },
    ping: pingVerdict,
    context: { rules: settings.rules, location: settings.name, pingUsable: pingVerdict.usable },
  };
}
