import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validAssignments } from "../src/location-checks/assignments.ts";
import {
  LocationConfigError,
  type LocationSettings,
  loadLocationSettings,
  locationNameFromHost,
} from "../src/location-checks/config.ts";
import { RefusedTargetError, TargetRules } from "../src/location-checks/target-rules.ts";
import { validRemoteConfig } from "../src/transport.ts";
import { temporaryDirectory } from "./helpers.ts";

/** A root dir whose kernel host name is `name`. */
async function rootNamed(name: string): Promise<string> {
  const root = await temporaryDirectory();
  await mkdir(join(root, "proc/sys/kernel"), { recursive: true });
  await writeFile(join(root, "proc/sys/kernel/hostname"), `${name}\n`);
  return root;
}

function nameOf(settings: LocationSettings): string | undefined {
  return settings.enabled ? settings.name : undefined;
}

describe("allow and deny rules", () => {
  it("match host names by glob: * covers any run of characters, the bare parent is not covered", () => {
    const rules = new TargetRules([], ["*.example.com", "db.internal"]);
    expect(rules.refusal("api.example.com", [])).toBe('checks.deny "*.example.com" matches api.example.com');
    expect(rules.refusal("a.b.example.com", [])).toBeDefined();
    expect(rules.refusal("API.Example.COM.", [])).toBeDefined();
    expect(rules.refusal("example.com", [])).toBeUndefined();
    expect(rules.refusal("db.internal", [])).toBe('checks.deny "db.internal" matches db.internal');
    expect(rules.refusal("db2.internal", [])).toBeUndefined();
  });

  it("match addresses and CIDR ranges, IPv4 and IPv6, IPv4-mapped addresses included", () => {
    const rules = new TargetRules([], ["10.0.0.0/8", "fd00::/8", "127.0.0.1"]);
    expect(rules.refusal("10.1.2.3", ["10.1.2.3"])).toBe("checks.deny covers 10.1.2.3");
    expect(rules.refusal("fd12::1", ["fd12::1"])).toBe("checks.deny covers fd12::1");
    expect(rules.refusal("[fd12::1]", ["fd12::1"])).toBe("checks.deny covers fd12::1");
    expect(rules.refusal("127.0.0.1", ["127.0.0.1"])).toBeDefined();
    expect(rules.refusal("::ffff:10.0.0.1", ["::ffff:10.0.0.1"])).toBeDefined();
    expect(rules.refusal("127.0.0.2", ["127.0.0.2"])).toBeUndefined();
    expect(rules.refusal("192.168.1.1", ["192.168.1.1"])).toBeUndefined();
  });

  it("let deny win over allow", () => {
    const rules = new TargetRules(["*.internal", "10.0.0.0/8"], ["vault.internal", "10.0.0.1"]);
    expect(rules.refusal("db.internal", ["10.0.0.5"])).toBeUndefined();
    expect(rules.refusal("vault.internal", ["10.0.0.9"])).toBe(
      'checks.deny "vault.internal" matches vault.internal',
    );
    expect(rules.refusal("10.0.0.1", ["10.0.0.1"])).toBe("checks.deny covers 10.0.0.1");
  });

  it("judge a name by every address it resolves to: deny catches any, allow needs all unless the name is allowed", () => {
    const rules = new TargetRules(["10.0.0.0/8", "*.lab"], ["10.9.0.0/16"]);
    expect(rules.refusal("app.corp", ["10.1.0.1", "10.2.0.1"])).toBeUndefined();
    expect(rules.refusal("app.corp", ["10.1.0.1", "192.0.2.1"])).toBe(
      "app.corp (192.0.2.1) matches nothing in checks.allow",
    );
    expect(rules.refusal("printer.lab", ["192.0.2.1"])).toBeUndefined();
    // A name allowed by its glob that resolves into a denied range (DNS rebinding) is still refused.
    expect(rules.refusal("printer.lab", ["10.9.1.1"])).toBe("checks.deny covers printer.lab (10.9.1.1)");
  });

  it("allow private addresses unless the operator's rules say otherwise", () => {
    const rules = new TargetRules();
    for (const address of ["127.0.0.1", "10.0.0.1", "192.168.1.1", "fd00::1", "169.254.169.254"])
      expect(rules.refusal(address, [address])).toBeUndefined();
  });

  it("refuse, at connect time, a name whose addresses the rules deny", async () => {
    const rules = new TargetRules([], ["127.0.0.0/8", "::1"]);
    const error = await new Promise<Error | null>((resolve) =>
      rules.lookup("localhost", { all: false }, (err) => resolve(err)),
    );
    expect(error).toBeInstanceOf(RefusedTargetError);
    expect(error?.message).toMatch(/^checks\.deny covers localhost \(/);
    const allowed = await new Promise<string>((resolve) =>
      new TargetRules().lookup("localhost", { all: false }, (_err, address) => resolve(String(address))),
    );
    expect(["127.0.0.1", "::1"]).toContain(allowed);
  });

  it("name the entry and the setting when one is not a name, address or range", () => {
    expect(() => new TargetRules(["10.0.0.0/33"])).toThrow(
      'checks.allow: "10.0.0.0/33" has a prefix length outside 0-32',
    );
    expect(() => new TargetRules([], ["fd00::/129"])).toThrow("outside 0-128");
    expect(() => new TargetRules([], ["300.1.2.3/8"])).toThrow("is not a CIDR range");
    expect(() => new TargetRules([], ["http://example.com"])).toThrow(
      'checks.deny: "http://example.com" is a URL: give its host name only',
    );
    expect(() => new TargetRules([], ["db internal"])).toThrow('"db internal" is neither an IP address');
    expect(() => new TargetRules("10.0.0.0/8")).toThrow("checks.allow must be a list");
  });
});

describe("the location settings", () => {
  it("name the location after the host, lower-cased, other characters made '-'", async () => {
    expect(locationNameFromHost("Web_01.Example.COM")).toBe("web_01.example.com");
    expect(locationNameFromHost("my host!")).toBe("my-host-");
    const settings = await loadLocationSettings({ rootDir: await rootNamed("Lab Box") }, {}, {});
    expect(settings).toMatchObject({ enabled: true, name: "lab-box", nameFrom: "host name" });
  });

  it("take the name from --location over VIGIL_LOCATION over probe.json", async () => {
    const rootDir = await rootNamed("vm");
    const config = { rootDir, checks: { location: "from-file" } };
    expect(nameOf(await loadLocationSettings(config, {}, {}))).toBe("from-file");
    expect(nameOf(await loadLocationSettings(config, {}, { VIGIL_LOCATION: "from-env" }))).toBe("from-env");
    expect(
      nameOf(await loadLocationSettings(config, { location: "from-flag" }, { VIGIL_LOCATION: "x" })),
    ).toBe("from-flag");
  });

  it("stop the start with a clear message for a bad or reserved name", async () => {
    const rootDir = await rootNamed("vm");
    await expect(loadLocationSettings({ rootDir }, { location: "Fra 1" }, {})).rejects.toThrow(
      '--location "Fra 1": a location name must be lower-case letters',
    );
    await expect(loadLocationSettings({ rootDir }, { location: "edge" }, {})).rejects.toThrow(
      '"edge" is the server\'s own location',
    );
    await expect(
      loadLocationSettings({ rootDir, checks: { location: "x".repeat(64) } }, {}, {}),
    ).rejects.toThrow(LocationConfigError);
    await expect(
      loadLocationSettings({ rootDir, checks: { deny: ["10.0.0.0/40"] } }, {}, {}),
    ).rejects.toThrow("checks.deny");
    await expect(loadLocationSettings({ rootDir, checks: { allowed: [] } as never }, {}, {})).rejects.toThrow(
      'checks: unknown setting "allowed"',
    );
  });

  it("turn checks off by --no-checks, VIGIL_CHECKS=0 or checks.enabled false", async () => {
    const rootDir = await rootNamed("vm");
    expect(await loadLocationSettings({ rootDir }, { "no-checks": true }, {})).toEqual({
      enabled: false,
      why: "--no-checks",
    });
    expect(await loadLocationSettings({ rootDir }, {}, { VIGIL_CHECKS: "0" })).toEqual({
      enabled: false,
      why: "VIGIL_CHECKS=0",
    });
    expect((await loadLocationSettings({ rootDir, checks: { enabled: false } }, {}, {})).enabled).toBe(false);
    expect(
      (await loadLocationSettings({ rootDir, checks: { enabled: false } }, {}, { VIGIL_CHECKS: "1" }))
        .enabled,
    ).toBe(true);
    await expect(loadLocationSettings({ rootDir }, {}, { VIGIL_CHECKS: "maybe" })).rejects.toThrow(
      'VIGIL_CHECKS must be 0 or 1, got "maybe"',
    );
  });

  it("turn checks off, saying why, when the host name makes no location name", async () => {
    const settings = await loadLocationSettings({ rootDir: await rootNamed("EDGE") }, {}, {});
    expect(settings).toEqual({
      enabled: false,
      why: 'the host name "EDGE" makes no location name ("edge" is the server\'s own location); set one with --location or checks.location',
    });
    expect(
      nameOf(await loadLocationSettings({ rootDir: await rootNamed("EDGE") }, { location: "edge-1" }, {})),
    ).toBe("edge-1");
  });
});

describe("check assignments from the server", () => {
  const http = {
    id: "chk_1",
    rev: "r1",
    kind: "http",
    intervalSec: 60,
    timeoutMs: 5_000,
    http: {
      url: "https://a.test/",
      method: "GET",
      headers: {},
      body: null,
      followRedirects: true,
      keyword: null,
    },
  };

  it("keep the well-formed ones and leave out, one by one, what this probe cannot run", () => {
    const assignments = validAssignments([
      http,
      { ...http, id: "chk_2", kind: "tcp", http: undefined, target: { host: "db.lab", port: 5432 } },
      { ...http, id: "chk_3", kind: "tcp", http: undefined, target: { host: "db.lab" } },
      { ...http, id: "chk_4", kind: "smtp" },
      { ...http, id: "chk_5", intervalSec: 5 },
      { ...http, id: "chk_1", rev: "again" },
      {
        id: "chk_6",
        rev: "r",
        kind: "dns",
        intervalSec: 60,
        timeoutMs: 1_000,
        dns: { name: "a.test", type: "MX" },
      },
      "nonsense",
    ]);
    expect(assignments.map((a) => a.id)).toEqual(["chk_1", "chk_2", "chk_6"]);
    expect(assignments[0]?.rev).toBe("r1");
  });

  it("travel with the server's config, which keeps the rest when checks are absent", () => {
    const base = { intervalSec: 30, journal: { minPriority: 4, units: [] } };
    expect(validRemoteConfig({ ...base, checks: [http, { bad: true }] })?.checks).toEqual([http]);
    expect(validRemoteConfig(base)).toEqual(base);
  });
});
