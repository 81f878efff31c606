import type { HttpProbeRequest, HttpProbeResponse } from "./probes.ts";

/** Keyword checks read at most this much of a body. */
const MAX_BODY_BYTES = 1024 * 1024;

async function readCapped(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel().catch(() => {});
  return text + decoder.decode();
}

/**
 * One HTTP exchange over the runtime's `fetch` (Node and Workers alike), redirects not followed: the
 * engine follows them itself so every hop's address is vetted.
 */
export async function fetchHttpProbe(
  req: HttpProbeRequest,
  doFetch: typeof fetch = fetch,
): Promise<HttpProbeResponse> {
  const started = performance.now();
  // The signal also bounds reading the body, so a target that trickles cannot hold a run open.
  const res = await doFetch(req.url, {
    method: req.method,
    headers: { "user-agent": "Vigil uptime check", ...req.headers },
    body: req.body,
    redirect: "manual",
    signal: AbortSignal.timeout(Math.ceil(req.timeoutMs)),
  });
  const text = req.readBody ? await readCapped(res, MAX_BODY_BYTES) : null;
  if (!req.readBody) await res.body?.cancel().catch(() => {});
  return { status: res.status, location: res.headers.get("location"), text, ms: performance.now() - started };
}
