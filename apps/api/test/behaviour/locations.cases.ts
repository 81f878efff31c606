import { statusPageDataSchema } from "@vigil/contract";
import { expect } from "vitest";
import { area } from "./case.ts";
import {
  createCheck,
  enrollHost,
  expectError,
  getCheck,
  ingest,
  jsonRequest,
  read,
  write,
} from "./client.ts";
import { batch } from "./probe.ts";
import type { Target } from "./target.ts";

interface Assignment {
  id: string;
  rev: string;
  kind: string;
  intervalSec: number;
}

interface LocationResult {
  name: string;
  status: string;
  responseMs: number | null;
  error: string | null;
}

/**
 * A probe enrolled as the location `name`: `report` sends one batch with check results, as the probe
 * sends them after each run, and answers the assignments the server handed back.
 */
async function probeLocation(t: Target, name: string, kinds = ["http", "tcp", "tls", "dns", "icmp"]) {
  const facts = { hostname: `${name}-host`, location: { name, kinds } };
  const host = await enrollHost(t, t.adminKey, facts);
  const send = async (checkResults: Record<string, unknown>[] = []) => {
    const answer = await ingest(t, host.hostToken, batch({ facts, checkResults }));
    return ((answer.config as { checks?: Assignment[] }).checks ?? []) as Assignment[];
  };
  const assignments = () => send();
  const report = async (checkId: string, seen: Record<string, unknown>) => {
    const rev = (await assignments()).find((a) => a.id === checkId)?.rev;
    expect(rev, `no assignment of ${checkId} for ${name}`).toEqual(expect.any(String));
    await send([{ checkId, rev, at: t.clock.now(), ...seen }]);
  };
  return { host, assignments, report };
}

const locationsOf = async (t: Target, id: string) =>
  (await getCheck(t, id)).locationResults as unknown as LocationResult[];

export const locationsCases = [
  area("checks from locations", [
    {
      name: "a check from edge and a probe location with a quorum of two alerts once, naming both, only when both fail",
      run: async (t) => {
        await write(
          t,
          "POST",
          "/api/v1/channels",
          {
            kind: "email",
            name: "mail",
            to: [t.outside.email()],
            isDefault: true,
          },
          201,
        );
        const lab = await probeLocation(t, "home-lab");
        const check = await createCheck(t, {
          kind: "http",
          name: "shop",
          url: t.outside.url("shop"),
          period: 60,
          locations: ["edge", "home-lab"],
          quorum: 2,
          failuresToDown: 1,
        });
        const handed = await lab.assignments();
        expect(handed.map((a) => [a.id, a.kind, a.intervalSec])).toEqual([[check.id, "http", 60]]);

        await t.tick();
        await lab.report(check.id, { ms: 12, httpStatus: 200 });
        expect((await getCheck(t, check.id)).status).toBe("up");
        expect((await locationsOf(t, check.id)).map((l) => [l.name, l.status])).toEqual([
          ["edge", "up"],
          ["home-lab", "up"],
        ]);

        // Only the probe's location fails: no alert.
        t.clock.advance(60_000);
        await lab.report(check.id, { ms: 9, httpStatus: 503 });
        await t.tick();
        expect((await getCheck(t, check.id)).status).toBe("up");
        expect(await t.outside.mails()).toHaveLength(0);

        // Edge fails too: down, one mail naming both locations.
        t.clock.advance(60_000);
        await t.outside.answer([503, 503, 503]);
        await t.tick();
        await t.tick();
        const down = await getCheck(t, check.id);
        expect(down.status).toBe("down");
        const mails = await t.outside.mails();
        expect(mails.map((m) => m.subject)).toEqual(["DOWN: shop"]);
        expect(mails[0]?.text).toContain(
          "down from edge (HTTP 503, expected 200-299) and home-lab (HTTP 503, expected 200-299)",
        );

        const runs = await read<{ runs: { location: string }[] }>(
          t,
          `/api/v1/checks/${check.id}/runs?location=home-lab`,
        );
        expect(runs.runs.map((r) => r.location)).toEqual(["home-lab", "home-lab"]);
      },
    },
    {
      name: "TLS expiry works on every runtime: a probe location reports the certificate where edge cannot see it",
      differs: { worker: "Workers expose no peer certificates: a TLS check from edge is refused with 400" },
      run: async (t) => {
        const fromEdge = await t.request(
          "/api/v1/checks",
          jsonRequest(
            "POST",
            { kind: "tls", name: "cert", host: "shop.example", locations: ["edge"] },
            t.adminKey,
          ),
        );
        if (t.runtime === "worker") {
          const error = await expectError(fromEdge, 400, "VALIDATION_FAILED");
          expect(error.message).toContain("body.locations");
        } else {
          expect(fromEdge.status).toBe(201);
        }
        const lab = await probeLocation(t, "home-lab");
        const check = await createCheck(t, {
          kind: "tls",
          name: "shop certificate",
          host: "shop.example",
          warnDays: 14,
          failuresToDown: 1,
          locations: ["home-lab"],
        });
        await lab.report(check.id, {
          ms: 40,
          tls: { validTo: t.clock.now() + 5 * 86_400_000, authorized: true },
        });
        const seen = await getCheck(t, check.id);
        expect(seen.status).toBe("degraded");
        expect(seen.lastError).toBe("the certificate expires in 5 days");
        const runs = await read<{ runs: { tlsDaysLeft: number; location: string }[] }>(
          t,
          `/api/v1/checks/${check.id}/runs`,
        );
        expect(runs.runs[0]).toMatchObject({ tlsDaysLeft: 5, location: "home-lab" });
      },
    },
    {
      name: "lists edge with the kinds this runtime runs, and each probe location with its host",
      differs: { worker: "Workers run HTTP and TCP from edge; TLS and DNS need a probe location" },
      run: async (t) => {
        const lab = await probeLocation(t, "home-lab", ["http", "icmp"]);
        await lab.assignments();
        const { locations } = await read<{
          locations: {
            name: string;
            type: string;
            kinds: string[];
            hosts: { id: string; online: boolean }[];
          }[];
        }>(t, "/api/v1/locations");
        expect(locations[0]).toMatchObject({
          name: "edge",
          type: "edge",
          kinds: t.runtime === "worker" ? ["http", "tcp"] : ["http", "tcp", "tls", "dns"],
        });
        expect(locations[1]).toMatchObject({
          name: "home-lab",
          type: "probe",
          kinds: ["http", "icmp"],
          hosts: [{ id: lab.host.hostId, online: true }],
        });
      },
    },
    {
      name: "the status page draws the mean over all locations and one line per location",
      run: async (t) => {
        const lab = await probeLocation(t, "home-lab");
        const check = await createCheck(t, {
          kind: "http",
          name: "site",
          url: t.outside.url("site"),
          period: 60,
          public: true,
          locations: ["edge", "home-lab"],
        });
        await write(t, "POST", "/api/v1/status-pages", {
          slug: "acme",
          title: "Acme",
          components: [{ type: "check", id: check.id, name: "Website" }],
        });
        await t.tick();
        await lab.report(check.id, { ms: 300, httpStatus: 200 });
        t.clock.advance(60_000);
        await lab.report(check.id, { ms: 500, httpStatus: 200 });
        const [edgeRun] = (
          await read<{ runs: { responseMs: number }[] }>(t, `/api/v1/checks/${check.id}/runs?location=edge`)
        ).runs;
        const data = statusPageDataSchema.parse(await (await t.request("/api/v1/status/acme")).json());
        const component = data.groups.flatMap((g) => g.components)[0];
        const edgeMs = edgeRun?.responseMs ?? 0;
        expect(component?.responseMs?.at(-1)).toBe(Math.round((edgeMs + 300 + 500) / 3));
        expect(component?.responseByLocation?.map((l) => [l.location, l.responseMs.at(-1)])).toEqual([
          ["edge", edgeMs],
          ["home-lab", 400],
        ]);
        const html = await (await t.request("/status/acme")).text();
        expect(html).toContain("Response time by location");
        expect(html).toContain("Mean response time per day from home-lab");
      },
    },
    {
      name: "refuses a quorum above the number of locations and ICMP from edge, naming the field",
      run: async (t) => {
        const post = (body: Record<string, unknown>) =>
          t.request("/api/v1/checks", jsonRequest("POST", { name: "x", ...body }, t.adminKey));
        const quorum = await expectError(
          await post({ kind: "http", url: "https://example.com/", locations: ["edge"], quorum: 2 }),
          400,
          "VALIDATION_FAILED",
        );
        expect(quorum.message).toContain("body.quorum");
        const icmp = await expectError(
          await post({ kind: "icmp", host: "example.com", locations: ["edge"] }),
          400,
        );
        expect(icmp.message).toContain("body.locations");
        const twice = await expectError(
          await post({ kind: "tcp", host: "example.com", port: 22, locations: ["lab", "lab"] }),
          400,
        );
        expect(twice.message).toContain("locations");
      },
    },
    {
      name: "a probe that stops declaring its location gets no more assignments, and its results are ignored",
      run: async (t) => {
        const lab = await probeLocation(t, "home-lab");
        const check = await createCheck(t, {
          kind: "tcp",
          name: "db",
          host: "db.internal",
          port: 5432,
          locations: ["home-lab"],
        });
        expect(await lab.assignments()).toHaveLength(1);
        const answer = await ingest(t, lab.host.hostToken, batch({ facts: { hostname: "home-lab-host" } }));
        expect((answer.config as { checks?: unknown }).checks).toBeUndefined();
        await ingest(
          t,
          lab.host.hostToken,
          batch({ checkResults: [{ checkId: check.id, rev: "x", at: t.clock.now(), ms: 3 }] }),
        );
        expect((await read<{ runs: unknown[] }>(t, `/api/v1/checks/${check.id}/runs`)).runs).toHaveLength(0);
      },
    },
  ]),
];
