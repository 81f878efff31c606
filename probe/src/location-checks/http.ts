import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { CheckAssignment } from "@vigil/contract";
import { abortReason, deadline, failureOf, type Observation, type RunContext } from "./observation.ts";
import type { TargetRules } from "./target-rules.ts";

export type HttpSettings = NonNullable<CheckAssignment["http"]>;

const MAX_REDIRECTS = 5;
/** Keyword checks read at most this much of a body (after decompression). */
const MAX_BODY_BYTES = 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Not sent on to another origin after a redirect, as browsers do. */
const CREDENTIAL_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/**
 * One HTTP check over node:http(s), not fetch: only a socket's `lookup` hook lets every address be judged
 * as the connection is made.
 * 1. Judge the URL's host by name (IP literals by address: Node does not look those up), then connect; the
 *    lookup hook judges every address the name resolves to. No kept-alive sockets, so every request looks up.
 * 2. Redirects are not followed by the client: up to 5 hops are followed here, each judged again. 303 (and
 *    301/302 after a POST) continue as GET without a body; credentials stay behind when the origin changes.
 * 3. One deadline covers connecting, headers and body. The body is read (at most 1 MiB) only for a keyword.
 */
export async function runHttp(
  settings: HttpSettings,
  timeoutMs: number,
  ctx: RunContext,
): Promise<Observation> {
  const started = performance.now();
  const { signal, done } = deadline(timeoutMs, ctx.signal);
  try {
    let url: URL;
    try {
      url = new URL(settings.url);
    } catch {
      return { error: `not a URL: ${settings.url}`.slice(0, 1024) };
    }
    let method = (settings.method || "GET").toUpperCase();
    let body = settings.body;
    let headers: Record<string, string> = { ...settings.headers };
    if (!hasHeader(headers, "user-agent"))
      headers["User-Agent"] = `Vigil uptime check (location ${ctx.location})`;
    for (let hop = 0; ; hop++) {
      if (url.protocol !== "http:" && url.protocol !== "https:")
        return { error: `cannot check a ${url.protocol} URL` };
      const verdict = ctx.rules.judgeName(url.hostname);
      if ("refused" in verdict) return { refused: verdict.refused };
      const sentBody = method === "GET" || method === "HEAD" ? null : body;
      const res = await exchange(url, method, headers, sentBody, ctx.rules, signal);
      const httpStatus = res.statusCode ?? 0;
      if (httpStatus < 100 || httpStatus > 599) {
        res.destroy();
        return { error: `invalid HTTP status ${httpStatus}` };
      }
      const location = res.headers.location;
      if (settings.followRedirects && REDIRECTS.has(httpStatus) && location) {
        res.destroy();
        if (hop >= MAX_REDIRECTS)
          return {
            error: `more than ${MAX_REDIRECTS} redirects`,
            httpStatus,
            ms: performance.now() - started,
          };
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          return { error: `redirect to an invalid URL: ${location}`.slice(0, 1024), httpStatus };
        }
        if (next.origin !== url.origin)
          headers = Object.fromEntries(
            Object.entries(headers).filter(([key]) => !CREDENTIAL_HEADERS.has(key.toLowerCase())),
          );
        if (
          (httpStatus === 303 && method !== "HEAD") ||
          ((httpStatus === 301 || httpStatus === 302) && method === "POST")
        ) {
          method = "GET";
          body = null;
        }
        url = next;
        continue;
      }
      if (settings.keyword === null) {
        res.destroy();
        return { ms: performance.now() - started, httpStatus };
      }
      try {
        const text = await readCapped(res, signal);
        return { ms: performance.now() - started, httpStatus, keywordFound: text.includes(settings.keyword) };
      } catch (error) {
        return { ...failureOf(error), httpStatus };
      }
    }
  } catch (error) {
    return failureOf(error);
  } finally {
    done();
  }
}

/** One request, resolved with the response's head; the deadline's signal destroys it. */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | null,
  rules: TargetRules,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal));
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const payload = body === null ? undefined : Buffer.from(body);
    const sent = { ...headers };
    if (payload && !hasHeader(sent, "content-length")) sent["Content-Length"] = String(payload.length);
    let req: ClientRequest;
    try {
      req = send(url, { method, headers: sent, agent: false, lookup: rules.lookup });
    } catch (error) {
      // an invalid header name or value, refused before anything is sent
      return reject(error);
    }
    const onAbort = () => req.destroy(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    req.once("response", (res) => {
      // The body is read (or dropped) by the caller; from here the abort destroys the response instead.
      signal.removeEventListener("abort", onAbort);
      resolve(res);
    });
    req.once("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(signal.aborted ? abortReason(signal) : error);
    });
    req.end(payload);
  });
}

/** Up to MAX_BODY_BYTES of the body as text, decompressed as Content-Encoding says. */
function readCapped(res: IncomingMessage, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const encoding = String(res.headers["content-encoding"] ?? "")
      .trim()
      .toLowerCase();
    const decoder =
      encoding === "gzip" || encoding === "x-gzip"
        ? createGunzip()
        : encoding === "deflate"
          ? createInflate()
          : encoding === "br"
            ? createBrotliDecompress()
            : undefined;
    const stream: Readable = decoder ? res.pipe(decoder) : res;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const cleanUp = () => {
      signal.removeEventListener("abort", onAbort);
      res.destroy();
      decoder?.destroy();
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      cleanUp();
      resolve(Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString("utf8"));
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      cleanUp();
      reject(signal.aborted ? abortReason(signal) : error);
    };
    const onAbort = () => fail(abortReason(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_BODY_BYTES) finish();
    });
    stream.on("end", finish);
    stream.on("error", fail);
    res.on("error", fail);
    res.on("aborted", () => fail(new Error("the connection closed before the body ended")));
  });
}
