/**
 * The corpus of address spellings: every way of writing a loopback, private or special-purpose address
 * that the URL parser, Node's resolver or a socket accepts must be refused; public unicast must not be.
 */
import { describe, expect, it } from "vitest";
import { addressRange, isIpLiteral, isPrivateAddress, refusedLiteral, refusedTarget } from "../src/index.ts";

/** [spelling, the range it is judged by] — all refused. */
const refused: [string, string][] = [
  // IPv4 loopback in every form inet_aton and the URL parser accept
  ["127.0.0.1", "loopback"],
  ["127.1", "loopback"],
  ["127.0.1", "loopback"],
  ["2130706433", "loopback"],
  ["0x7f000001", "loopback"],
  ["0x7f.1", "loopback"],
  ["0177.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  // IPv6 loopback, however the zeros are written
  ["::1", "loopback"],
  ["[::1]", "loopback"],
  ["0::1", "loopback"],
  ["::0:1", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["0000:0000:0000:0000:0000:0000:0000:0001", "loopback"],
  // IPv4-mapped IPv6, judged as the IPv4 address (the URL parser writes the hex form)
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["[::ffff:7f00:1]", "loopback"],
  ["0:0:0:0:0:ffff:7f00:1", "loopback"],
  ["::ffff:a9fe:a9fe", "linkLocal"],
  ["::ffff:169.254.169.254", "linkLocal"],
  ["::ffff:a00:1", "private"],
  // unspecified ("this host")
  ["0.0.0.0", "unspecified"],
  ["0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["::", "unspecified"],
  // RFC 1918, CGNAT, link-local (cloud metadata)
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["100.64.0.1", "carrierGradeNat"],
  ["169.254.169.254", "linkLocal"],
  ["2852039166", "linkLocal"],
  // IANA special-purpose: TEST-NETs, benchmarking, IETF protocol assignments, 6to4 relay, class E, broadcast
  ["192.0.2.1", "reserved"],
  ["198.51.100.1", "reserved"],
  ["203.0.113.1", "reserved"],
  ["198.18.0.1", "reserved"],
  ["192.0.0.1", "reserved"],
  ["192.88.99.1", "reserved"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "broadcast"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  // IPv6 special-purpose
  ["fe80::1", "linkLocal"],
  ["fe80::1%eth0", "linkLocal"],
  ["fc00::1", "uniqueLocal"],
  ["fd12:3456::1", "uniqueLocal"],
  ["ff02::1", "multicast"],
  ["2001:db8::1", "reserved"],
  ["2001::1", "teredo"],
  ["100::1", "discard"],
  ["::ffff:0:7f00:1", "rfc6145"],
  // IPv4-compatible (deprecated): ipaddr calls the hex form unicast and reads the dotted one as mapped
  ["::7f00:1", "ipv4Compatible"],
  ["::127.0.0.1", "loopback"],
  ["::808:808", "ipv4Compatible"],
  // NAT64 (well-known prefix) and 6to4 embedding a private IPv4: judged as that IPv4
  ["64:ff9b::7f00:1", "loopback"],
  ["64:ff9b::127.0.0.1", "loopback"],
  ["64:ff9b::a9fe:a9fe", "linkLocal"],
  ["64:ff9b::a00:1", "private"],
  ["2002:7f00:1::1", "loopback"],
  ["2002:a9fe:a9fe::", "linkLocal"],
  ["2002:c0a8:101::1", "private"],
  // local-use NAT64 (RFC 8215): where it leads is the network's own business
  ["64:ff9b:1::1", "rfc6052"],
];

const allowed = [
  "93.184.215.14",
  "1.1.1.1",
  "8.8.8.8",
  "172.32.0.1",
  "100.128.0.1",
  "2606:4700::1111",
  "[2606:4700::1111]",
  "::ffff:808:808",
  "64:ff9b::808:808",
  "2002:808:808::1",
];

describe("address spellings", () => {
  it.each(refused)("refuses %s as %s", (spelling, range) => {
    expect(isIpLiteral(spelling)).toBe(true);
    expect(addressRange(spelling)).toBe(range);
    expect(isPrivateAddress(spelling)).toBe(true);
    expect(refusedLiteral(spelling, false)).toMatch(/^refused: .* VIGIL_ALLOW_PRIVATE_TARGETS=1/);
    expect(refusedLiteral(spelling, true)).toBeNull();
  });

  it.each(allowed)("allows public unicast %s", (spelling) => {
    expect(addressRange(spelling)).toBe("unicast");
    expect(isPrivateAddress(spelling)).toBe(false);
    expect(refusedLiteral(spelling, false)).toBeNull();
  });

  it.each(["localhost", "example.com", "127.0.0.1.nip.io", ""])(
    "treats the name %j as no address (it is resolved, not parsed)",
    (name) => {
      expect(isIpLiteral(name)).toBe(false);
      expect(addressRange(name)).toBeNull();
      expect(isPrivateAddress(name)).toBe(false);
    },
  );

  it("refuses the URL parser's own spelling of each host, as a check or webhook URL arrives", async () => {
    const noDns = {};
    for (const url of [
      "http://[::ffff:127.0.0.1]/",
      "http://[0::1]:8080/",
      "http://[::0:1]/",
      "http://[0:0:0:0:0:0:0:1]/",
      "http://[::ffff:a9fe:a9fe]/latest/meta-data",
      "http://127.1/",
      "http://2130706433/",
      "http://0x7f.1/",
      "http://[64:ff9b::7f00:1]/",
      "http://[2002:7f00:1::1]/",
      "http://localhost./",
      "http://app.localhost/",
    ]) {
      const { hostname } = new URL(url);
      expect(await refusedTarget(hostname, noDns, false), url).toMatch(/^refused/);
      expect(await refusedTarget(hostname, noDns, true), url).toBeNull();
    }
  });
});
