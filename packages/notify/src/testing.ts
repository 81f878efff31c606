/**
 * Real receivers on 127.0.0.1 for tests and benchmarks: an SMTP server that parses every message it is
 * given, and an HTTP receiver that records each request and answers as the test tells it to (2xx, 500,
 * 4xx, or never). Node only.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { type AddressInfo, connect as netConnect, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { SocketConnect, StreamSocket } from "./smtp-socket.ts";

export interface SmtpSink {
  url: string;
  messages: ParsedMail[];
  /** resolves once `count` messages have arrived */
  waitFor(count: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

/** Waits for a condition that arrives by I/O, checking whenever `notify` fires (no polling sleeps). */
function waiter<T>(current: () => T[]) {
  const pending: { count: number; done: (items: T[]) => void }[] = [];
  return {
    wait: (count: number) =>
      new Promise<T[]>((done) => {
        if (current().length >= count) done(current());
        else pending.push({ count, done });
      }),
    notify: () => {
      for (const p of pending.splice(0)) {
        if (current().length >= p.count) p.done(current());
        else pending.push(p);
      }
    },
  };
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const arrivals = waiter(() => messages);
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          arrivals.notify();
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}?starttls=off`,
    messages,
    waitFor: arrivals.wait,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the receiver answers one request: a status, or "hang" (never answer: the sender times out). */
export type Answer = number | "hang";

export interface WebhookReceiver {
  url: string;
  /** every request, answered or not */
  requests: ReceivedRequest[];
  /** requests answered 2xx */
  accepted: ReceivedRequest[];
  /** the answers to give, in order; once used up, every request gets 200 */
  answers: Answer[];
  waitFor(count: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  judge?: (req: ReceivedRequest) => Promise<number | null> | number | null,
): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const accepted: ReceivedRequest[] = [];
  const answers: Answer[] = [];
  const arrivals = waiter(() => requests);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const received = {
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(received);
      const answer = answers.shift() ?? (await judge?.(received)) ?? 200;
      arrivals.notify();
      if (answer === "hang") return;
      if (answer >= 200 && answer < 300) accepted.push(received);
      res.writeHead(answer, { "content-type": "text/plain" }).end(answer < 300 ? "ok" : "no");
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted,
    answers,
    waitFor: arrivals.wait,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export { verifyWebhookSignature } from "./signature.ts";

/**
 * `cloudflare:sockets`' shape over node:net and node:tls, so the Workers SMTP client can be tested on Node
 * against the same sink. `ca` trusts a test certificate for STARTTLS.
 */
export function nodeSocketConnect(ca?: string): SocketConnect {
  const wrap = (socket: Socket | TLSSocket, host: string): StreamSocket => {
    const web = Duplex.toWeb(socket) as unknown as Pick<StreamSocket, "readable" | "writable">;
    return {
      readable: web.readable,
      writable: web.writable,
      startTls: () => wrap(tlsConnect({ socket, servername: host, ...(ca ? { ca } : {}) }), host),
      close: async () => {
        socket.destroy();
      },
    };
  };
  return (host, port, tls) =>
    wrap(
      tls === "on"
        ? tlsConnect({ host, port, servername: host, ...(ca ? { ca } : {}) })
        : netConnect({ host, port }),
      host,
    );
}
