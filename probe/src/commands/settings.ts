import type { ProbeRemoteConfig } from "@vigil/contract";
import type { CollectSettings } from "../collect.ts";
import type { ProbeConfig } from "../config.ts";

/** The collectors' settings from the local config, with the server's journal filters on top when known. */
export function collectSettingsFrom(config: ProbeConfig, remote?: ProbeRemoteConfig): CollectSettings {
  const settings: CollectSettings = {
    rootDir: config.rootDir,
    stateDir: config.stateDir,
    disabled: config.disabledCollectors,
    journal: { ...(remote?.journal ?? config.journal) },
  };
  if (config.journalDirectory) settings.journal.directory = config.journalDirectory;
  if (config.dockerSocket) settings.dockerSocket = config.dockerSocket;
  return settings;
}
