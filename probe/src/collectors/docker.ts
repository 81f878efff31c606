import { request } from "node:http";
import type { Container } from "@vigil/contract";
import { PROBE_BATCH_LIMITS } from "../limits.ts";
import type { NoteSink } from "../notes.ts";

/** Kamal labels every container it runs with these; alerts name the app with them. */
const KEPT_LABELS = ["service", "role", "destination"];

interface DockerListItem {
  Id: string;
  Names?: string[];
  Image?: string;
  State?: string;
}

interface DockerInspect {
  RestartCount?: number;
  State?: { Status?: string; StartedAt?: string; Health?: { Status?: string } };
  Config?: { Labels?: Record<string, string> | null };
}

/** A GET against the Docker Engine API over its unix socket; the API version is left to the daemon. */
function dockerGet<T>(socketPath: string, path: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET", headers: { Host: "docker" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if ((res.statusCode ?? 0) >= 300)
          reject(new Error(`docker ${path}: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
        else {
          try {
            resolve(JSON.parse(body) as T);
          } catch (error) {
            reject(error);
          }
        }
      });
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`docker ${path}: timed out`)));
    req.on("error", reject);
    req.end();
  });
}

const HEALTH_VALUES = new Set(["healthy", "unhealthy", "starting"]);

export function toContainer(item: DockerListItem, inspect: DockerInspect | undefined): Container {
  const container: Container = {
    id: item.Id.slice(0, 128),
    name: (item.Names?.[0] ?? item.Id).replace(/^\//, "").slice(0, 256) || item.Id.slice(0, 12),
    image: (item.Image ?? "").slice(0, 512),
    state: (inspect?.State?.Status ?? item.State ?? "unknown").slice(0, 32),
  };
  const health = inspect?.State?.Health?.Status;
  container.health = health && HEALTH_VALUES.has(health) ? (health as Container["health"]) : "none";
  if (inspect?.RestartCount !== undefined) container.restartCount = inspect.RestartCount;
  // Docker reports "0001-01-01T00:00:00Z" for containers that never started.
  const startedAt = Date.parse(inspect?.State?.StartedAt ?? "");
  if (Number.isFinite(startedAt) && startedAt > 0) container.startedAt = startedAt;
  const labels: Record<string, string> = {};
  for (const key of KEPT_LABELS) {
    const value = inspect?.Config?.Labels?.[key];
    if (value) labels[key] = value.slice(0, 512);
  }
  if (Object.keys(labels).length > 0) container.labels = labels;
  return container;
}

/** All containers (running or not); a missing socket means no Docker here and is only a note. */
export async function collectContainers(
  socketPath: string,
  notes: NoteSink,
  timeoutMs = 10_000,
): Promise<Container[] | undefined> {
  let list: DockerListItem[];
  try {
    list = await dockerGet<DockerListItem[]>(socketPath, "/containers/json?all=1", timeoutMs);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") notes.add("docker", `no Docker socket at ${socketPath}`);
    else if (code === "EACCES")
      notes.add("docker", `no permission on ${socketPath} (add the probe user to the docker group)`);
    else notes.failed("docker", "list containers", error);
    return undefined;
  }
  const containers: Container[] = [];
  for (const item of list.slice(0, PROBE_BATCH_LIMITS.containers)) {
    let inspect: DockerInspect | undefined;
    try {
      inspect = await dockerGet<DockerInspect>(
        socketPath,
        `/containers/${encodeURIComponent(item.Id)}/json`,
        timeoutMs,
      );
    } catch (error) {
      // The container may have gone between list and inspect; keep what the list said.
      notes.failed("docker", `inspect ${item.Id.slice(0, 12)}`, error);
    }
    containers.push(toContainer(item, inspect));
  }
  return containers;
}
