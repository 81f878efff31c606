/**
 * What the Node HTTP server needs beyond the Hono adaptor, kept out of server.ts:
 * - header limits: Node's own 431 is a bare status line; ours answers in the one error shape;
 * - bodies the app leaves unread (a 413 over the limit, a 401 before reading): a small rest is drained so
 *   the keep-alive connection serves the next request, a large or unknown one ends the connection cleanly
 *   (`Connection: close` in the answer) instead of a reset that loses the next request;
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { type ErrorBody, ErrorCode } from "@vigil/contract";

/** Request headers up to this size are read (Node's default is 16 KiB; Cloudflare takes 32 KiB). */
export const MAX_HEADER_BYTES = 32 * 1024;

/** An unread rest of a request body up to this size is read and dropped to keep the connection. */
export const DRAIN_LIMIT_BYTES = 1024 * 1024;

function errorJson(code: ErrorCode, message: string): string {
  const body: ErrorBody = { error: { code, message, requestId: crypto.randomUUID() } };
  return JSON.stringify(body);
}

/**
 * Answers what Node's parser refuses before any request exists (headers too large, malformed HTTP) in the
 * error shape, then closes: the parser cannot go on after such an error.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
  const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
  const body = tooLarge
    ? errorJson(ErrorCode.headersTooLarge, `request headers over ${MAX_HEADER_BYTES} bytes`)
    : errorJson(ErrorCode.badRequest, "malformed HTTP request");
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}

/** How long a connection closed under an unread body keeps reading (and dropping) before it is cut. */
const LINGER_MS = 2000;

/**
 * Node closes a `Connection: close` socket as soon as the answer is written; with the client's body still
 * arriving, the kernel then sends a reset that can wipe the answer before the client reads it (the client
 * sees EPIPE instead of our 413). So our side is shut and what still comes is read and dropped for a
 * moment first, as other servers do (lingering close).
 */
function lingerBeforeClosing(req: IncomingMessage): void {
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
    req.removeAllListeners("data");
    req.resume();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  };
}

/** Decides, as the answer's headers go out, whether the connection can outlive an unread request body. */
function keepAliveOnlyIfDrainable(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === "GET" || req.method === "HEAD") return;
  const declared = Number(req.headers["content-length"]);
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    if (!req.complete && !(declared <= DRAIN_LIMIT_BYTES)) {
      res.shouldKeepAlive = false;
      lingerBeforeClosing(req);
    }
    return writeHead.apply(this, args);
  } as typeof writeHead;
  res.once("finish", () => {
    if (req.complete || !res.shouldKeepAlive) return;
    // Read and drop the small rest; Node then parses the next request on this connection. The adaptor's
    // stream over the body would pause it again once its queue is full, and nobody reads that any more.
    req.removeAllListeners("data");
    req.resume();
  });
}

/** `http.createServer` for the Hono adaptor, with the header limit and the unread-body rule above. */
export const createNodeServer = ((
  options: Parameters<typeof createServer>[0],
  listener: (req: IncomingMessage, res: ServerResponse) => void,
) => {
  const server = createServer({ ...options, maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    keepAliveOnlyIfDrainable(req, res);
    listener(req, res);
  });
  server.on("clientError", answerClientError);
  return server;
}) as typeof createServer;
