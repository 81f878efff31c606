/**
 * Helpers for the tests that run the self-hosted server as child processes (two on one database, kill -9):
 * a heartbeat check and an enrolled host made over the API, and concurrent traffic that records what
 * each request was answered.
 */
import { gzipSync } from "node:zlib";

export interface Answer {
  status: number;
  body: string;
}

/** POST with a JSON body; a connection error is answered as status 0 (the caller decides what that means). */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

export async function createHeartbeats(url: string, key: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await post(
      `${url}/api/v1/checks`,
      { kind: "heartbeat", name: `job ${i}`, period: 3600 },
      {
        authorization: `Bearer ${key}`,
      },
    );
    if (res.status !== 201) throw new Error(`creating a check answered ${res.status}: ${res.body}`);
    ids.push((JSON.parse(res.body) as { id: string }).id);
  }
  return ids;
}

/** Enrolls a host as install.sh would and answers its host token. */
export async function enrolledHost(url: string, key: string, hostname = "web-1"): Promise<string> {
  const token = await post(
    `${url}/api/v1/enrollment-tokens`,
    { name: hostname },
    { authorization: `Bearer ${key}` },
  );
  const enrolled = await post(`${url}/api/v1/probe/enroll`, {
    token: (JSON.parse(token.body) as { token: string }).token,
    facts: { hostname, machineId: crypto.randomUUID() },
  });
  if (enrolled.status !== 201) throw new Error(`enroll answered ${enrolled.status}: ${enrolled.body}`);
  return (JSON.parse(enrolled.body) as { hostToken: string }).hostToken;
}

/** A probe batch with a few samples and log lines, its id given. */
export function probeBatch(batchId: string, now: number) {
  return {
    v: 1,
    batchId,
    sentAt: now,
    facts: { hostname: "web-1", cpuCount: 2 },
    samples: [{ ts: now, cpu: { userPct: 3, systemPct: 2, idlePct: 95 }, load1: 0.2 }],
    logs: Array.from({ length: 20 }, (_, i) => ({
      ts: now - i,
      priority: 6,
      message: `${batchId} line ${i}`,
      unit: "app.service",
    })),
  };
}

/** Sends a batch as the probe does (gzip JSON); status 0 when the connection failed. */
export async function sendProbeBatch(url: string, hostToken: string, body: unknown): Promise<Answer> {
  try {
    const res = await fetch(`${url}/api/v1/probe/batches`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${hostToken}`,
        "content-type": "application/json",
        "content-encoding": "gzip",
      },
      body: gzipSync(JSON.stringify(body)),
    });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

/** Runs `work(i)` for i in [0, total) with at most `concurrency` in flight. */
export async function pool<T>(
  total: number,
  concurrency: number,
  work: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        results[i] = await work(i);
      }
    }),
  );
  return results;
}
