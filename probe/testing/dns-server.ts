/**
 * A small real DNS server for tests: answers UDP queries on 127.0.0.1 from a table, NXDOMAIN for names it
 * does not hold, an empty answer (NODATA) for a type a name lacks. Enough for the record types DNS checks
 * ask for (A, AAAA, CNAME, MX, TXT, NS). Shared by the probe's tests and the server's
 * (`@vigil/probe/testing/dns-server`).
 */
import { createSocket } from "node:dgram";
import type { AddressInfo } from "node:net";
import * as dnsPacket from "dns-packet";

export interface DnsRecords {
  A?: string[];
  AAAA?: string[];
  /** one target; A/AAAA/MX/TXT/NS queries for the name also get the target's records of that type */
  CNAME?: string;
  /** exchange names (preference 10 each), or with their preference */
  MX?: (string | { preference: number; exchange: string })[];
  /** one record per entry; an array is one record of several strings */
  TXT?: (string | string[])[];
  NS?: string[];
}

/** Names (case does not matter, no trailing dot) to their records. */
export type DnsTable = Record<string, DnsRecords>;

export interface DnsTestServer {
  /** "127.0.0.1:PORT", as a DNS check's `server` takes it */
  server: string;
  host: string;
  port: number;
  /** the table it answers from; tests may change it between queries */
  table: DnsTable;
  /** what it was asked, in order */
  queries: { name: string; type: string }[];
  /** stop answering (a resolver that does not respond), or answer again */
  silent: boolean;
  close(): Promise<void>;
}

const normal = (name: string) => name.toLowerCase().replace(/\.$/, "");
const NXDOMAIN = 3;

function lookupTable(table: DnsTable, name: string): DnsRecords | undefined {
  const wanted = normal(name);
  for (const [key, records] of Object.entries(table)) if (normal(key) === wanted) return records;
  return undefined;
}

function answersFor(table: DnsTable, name: string, type: string, depth = 0): dnsPacket.Answer[] | undefined {
  const records = lookupTable(table, name);
  if (!records) return undefined;
  const ttl = 60;
  const answers: dnsPacket.Answer[] = [];
  switch (type) {
    case "A":
    case "AAAA":
    case "NS":
      for (const data of records[type] ?? []) answers.push({ type, name, ttl, data });
      break;
    case "CNAME":
      if (records.CNAME) answers.push({ type: "CNAME", name, ttl, data: records.CNAME });
      return answers;
    case "MX":
      for (const entry of records.MX ?? []) {
        const data = typeof entry === "string" ? { preference: 10, exchange: entry } : entry;
        answers.push({ type: "MX", name, ttl, data });
      }
      break;
    case "TXT":
      for (const entry of records.TXT ?? []) answers.push({ type: "TXT", name, ttl, data: entry });
      break;
  }
  // As a recursive resolver does: an alias answers with itself and what its target holds.
  if (answers.length === 0 && records.CNAME && depth < 8) {
    answers.push({ type: "CNAME", name, ttl, data: records.CNAME });
    answers.push(...(answersFor(table, records.CNAME, type, depth + 1) ?? []));
  }
  return answers;
}

/** Starts a server on 127.0.0.1 (a free port unless `port` is given) answering from `table`. */
export async function startDnsServer(
  table: DnsTable,
  options: { port?: number } = {},
): Promise<DnsTestServer> {
  const socket = createSocket("udp4");
  const state: DnsTestServer = {
    server: "",
    host: "127.0.0.1",
    port: 0,
    table,
    queries: [],
    silent: false,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on("message", (message, remote) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    state.queries.push({ name: question.name, type: question.type });
    if (state.silent) return;
    const answers = answersFor(state.table, question.name, question.type);
    const response = dnsPacket.encode({
      type: "response",
      id: query.id ?? 0,
      flags:
        dnsPacket.AUTHORITATIVE_ANSWER |
        dnsPacket.RECURSION_AVAILABLE |
        (answers === undefined ? NXDOMAIN : 0),
      questions: [question],
      answers: answers ?? [],
    });
    socket.send(response, remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  state.port = (socket.address() as AddressInfo).port;
  state.server = `127.0.0.1:${state.port}`;
  return state;
}
