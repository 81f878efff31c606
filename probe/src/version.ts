/** Replaced at bundle time by scripts/build.mjs from probe/package.json; "dev" when run from source. */
declare const __VIGIL_PROBE_VERSION__: string | undefined;

export const PROBE_VERSION: string =
  typeof __VIGIL_PROBE_VERSION__ === "string" ? __VIGIL_PROBE_VERSION__ : "0.1.0-dev";

/** "node 20.20.2" or "bun 1.4.5": the server shows it so operators know what each host runs. */
export function runtimeDescription(): string {
  const bunVersion = (process.versions as Record<string, string | undefined>).bun;
  return bunVersion ? `bun ${bunVersion}` : `node ${process.versions.node}`;
}
