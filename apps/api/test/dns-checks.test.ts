// DNS checks from edge on the self-hosted server, against a real DNS server on 127.0.0.1.
import { createEngineState, tick } from "@vigil/engine";
import { nodeProbes } from "@vigil/engine/node";
import { type DnsTestServer, startDnsServer } from "@vigil/probe/testing/dns-server";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/app.ts";
import { bearer, jsonRequest, testApp } from "./helpers.ts";

const servers: DnsTestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(allowPrivateTargets = true) {
  const dns = await startDnsServer({
    "www.example.test": { A: ["192.0.2.10"] },
    "example.test": { MX: ["mail.example.test"], TXT: ["v=spf1 -all"] },
  });
  servers.push(dns);
  const probes = nodeProbes({ allowPrivate: allowPrivateTargets });
  const env = await testApp({
    probes,
    config: { ...defaultConfig, secretKey: "test-secret-key-0123456789abcdef", allowPrivateTargets },
  });
  const state = createEngineState();
  const run = () => tick({ db: env.db, clock: env.clock, state, probes, allowPrivateTargets });
  const create = async (body: Record<string, unknown>) =>
    env.app.request(
      "/api/v1/checks",
      jsonRequest(
        "POST",
        { kind: "dns", name: "dns", server: dns.server, failuresToDown: 1, ...body },
        env.adminKey,
      ),
    );
  const read = async (id: string) =>
    (await (await env.app.request(`/api/v1/checks/${id}`, { headers: bearer(env.adminKey) })).json()) as {
      status: string;
      lastError: string | null;
      locationResults: { name: string; responseMs: number | null }[];
    };
  return { ...env, dns, run, create, read };
}

describe("DNS checks from edge", () => {
  it("are up while the name resolves to the expected address, and down naming what it resolved to", async () => {
    const t = await setup();
    const res = await t.create({
      host: "www.example.test",
      recordType: "A",
      expected: "192.0.2.10",
      period: 60,
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await t.run();
    const up = await t.read(id);
    expect(up.status).toBe("up");
    expect(up.locationResults[0]?.responseMs).toEqual(expect.any(Number));
    expect(t.dns.queries).toContainEqual({ name: "www.example.test", type: "A" });

    t.dns.table["www.example.test"] = { A: ["192.0.2.99"] };
    t.clock.advance(60_000);
    await t.run();
    const moved = await t.read(id);
    expect(moved.status).toBe("down");
    expect(moved.lastError).toBe("A www.example.test is 192.0.2.99, expected 192.0.2.10");
  });

  it("read MX exchanges and TXT records, and go down when the name does not exist", async () => {
    const t = await setup();
    const mx = (await (
      await t.create({ host: "example.test", recordType: "MX", expected: "mail.example.test." })
    ).json()) as { id: string };
    const txt = (await (
      await t.create({ host: "example.test", recordType: "TXT", expected: "v=spf1 -all" })
    ).json()) as {
      id: string;
    };
    const gone = (await (await t.create({ host: "nowhere.example.test", recordType: "A" })).json()) as {
      id: string;
    };
    await t.run();
    expect((await t.read(mx.id)).status).toBe("up");
    expect((await t.read(txt.id)).status).toBe("up");
    const missing = await t.read(gone.id);
    expect(missing.status).toBe("down");
    expect(missing.lastError).toMatch(/ENOTFOUND/);
  });

  it("time out against a resolver that does not answer", async () => {
    const t = await setup();
    t.dns.silent = true;
    const { id } = (await (await t.create({ host: "www.example.test", timeoutMs: 500 })).json()) as {
      id: string;
    };
    await t.run();
    const row = await t.read(id);
    expect(row.status).toBe("down");
    expect(row.lastError).toMatch(/ETIMEOUT/);
  });

  it("refuse a private resolver from edge unless the operator allows private targets", async () => {
    const t = await setup(false);
    const res = await t.create({ host: "www.example.test" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("body.server");
    const fromProbe = await t.create({ host: "www.example.test", locations: ["home-lab"] });
    expect(fromProbe.status).toBe(201);
  });
});
