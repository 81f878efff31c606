import { readHostFacts } from "../collectors/host-facts.ts";
import {
  type Identity,
  loadConfig,
  loadIdentity,
  type ProbeConfig,
  saveIdentity,
  saveRemoteConfig,
} from "../config.ts";
import { NoteSink } from "../notes.ts";
import { enroll, validRemoteConfig } from "../transport.ts";
import type { CommandContext } from "./context.ts";

/**
 * Enrolls when there is no identity yet; an existing one is kept unless --force-new asks for a new host.
 * An identity for another server address is enrolled again with its host token, which the server needs
 * to hand the same host back (a known machine without it is refused).
 */
export async function ensureEnrolled(
  config: ProbeConfig,
  ctx: Pick<CommandContext, "fetch" | "err">,
  forceNew = false,
): Promise<Identity> {
  const existing = await loadIdentity(config.stateDir);
  if (existing && !forceNew && (!config.server || existing.server === config.server)) return existing;
  if (!config.server) throw new Error("no server: pass --server URL or set VIGIL_SERVER");
  if (!config.token)
    throw new Error("not enrolled and no enrollment token: pass --token T or set VIGIL_TOKEN");
  const facts = await readHostFacts(config.rootDir, new NoteSink(), config.rootDir === "/");
  const answer = await enroll({
    server: config.server,
    token: config.token,
    facts,
    forceNew,
    ...(existing && !forceNew ? { hostToken: existing.hostToken } : {}),
    fetch: ctx.fetch,
  });
  const identity: Identity = { server: config.server, hostId: answer.hostId, hostToken: answer.hostToken };
  await saveIdentity(config.stateDir, identity);
  const remote = validRemoteConfig(answer.config);
  if (remote) await saveRemoteConfig(config.stateDir, remote);
  return identity;
}

export async function enrollCommand(ctx: CommandContext): Promise<number> {
  const { config } = await loadConfig(ctx.flags, ctx.env);
  const before = await loadIdentity(config.stateDir);
  const identity = await ensureEnrolled(config, ctx, ctx.flags["force-new"] === true);
  if (before && before.hostId === identity.hostId)
    ctx.out(`already enrolled as host ${identity.hostId} at ${identity.server}\n`);
  else ctx.out(`enrolled as host ${identity.hostId} at ${identity.server}\n`);
  return 0;
}
