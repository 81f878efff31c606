import type { CheckAssignment } from "@vigil/contract";
import { runDns } from "./dns.ts";
import { runHttp } from "./http.ts";
import { runIcmp } from "./icmp.ts";
import { failureOf, type Observation, type RunContext } from "./observation.ts";
import { runTcp } from "./tcp.ts";
import { runTls } from "./tls.ts";

/** One run of an assigned check; never throws: what went wrong is the observation's `error`. */
export async function runAssignment(assignment: CheckAssignment, ctx: RunContext): Promise<Observation> {
  const { timeoutMs, target } = assignment;
  try {
    switch (assignment.kind) {
      case "http":
        if (!assignment.http) return { error: "the assignment has no http settings" };
        return await runHttp(assignment.http, timeoutMs, ctx);
      case "tcp":
        if (!target?.port) return { error: "the assignment has no target host and port" };
        return await runTcp(target.host, target.port, timeoutMs, ctx);
      case "tls":
        if (!target) return { error: "the assignment has no target host" };
        return await runTls(target.host, target.port ?? 443, timeoutMs, ctx);
      case "dns":
        if (!assignment.dns) return { error: "the assignment has no dns settings" };
        return await runDns(assignment.dns, timeoutMs, ctx);
      case "icmp":
        if (!target) return { error: "the assignment has no target host" };
        return await runIcmp(target.host, timeoutMs, ctx);
      default:
        return { error: `this probe cannot run ${String((assignment as { kind: unknown }).kind)} checks` };
    }
  } catch (error) {
    // The runners turn failures into observations; this only guards the scheduler against a bug.
    return failureOf(error);
  }
}
