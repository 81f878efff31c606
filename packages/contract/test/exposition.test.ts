import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ExpositionError,
  type ExpositionFamily,
  isOpenMetricsContentType,
  type ParseOptions,
  parseExposition,
  storedKind,
} from "../src/exposition.ts";
import { customMetricKinds } from "../src/probe.ts";

/**
 * Fixtures: node-exporter.prom is Debian's prometheus-node-exporter 1.5 scraped over HTTP (it offers no
 * OpenMetrics); python-client.* is one registry of Debian's python3-prometheus-client 0.16 served over HTTP
 * in both formats; edge-cases.* are hand-written. Prometheus 2.42 scraped all five without an error, and
 * promtool accepts the three in the text format.
 */
function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
}

/** Lines joined as an exposition, each ended by a line feed. */
function exposition(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

function family(families: ExpositionFamily[], name: string): ExpositionFamily {
  const found = families.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no family ${name} among ${families.map((f) => f.name).join(", ")}`);
  return found;
}

function errorOf(text: string, options?: ParseOptions): ExpositionError {
  try {
    parseExposition(text, options);
  } catch (error) {
    if (error instanceof ExpositionError) return error;
    throw error;
  }
  throw new Error("parsed without an error");
}

describe("node_exporter's real output", () => {
  const text = fixture("node-exporter.prom");
  const lines = text.split("\n");
  const families = parseExposition(text);

  it("puts every sample line into a family, no more and no fewer", () => {
    const sampleLines = lines.filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
    const samples = families.flatMap((f) => f.samples);
    expect(samples.length).toBe(sampleLines.length);
    expect(samples.map((sample) => sample.name)).toEqual(sampleLines.map((line) => line.split(/[{ ]/)[0]));
  });

  it("types each family as its TYPE line says and keeps its HELP text", () => {
    const typeLines = lines.filter((line) => line.startsWith("# TYPE ")).map((line) => line.split(" "));
    expect(families.map((f) => [f.name, f.type])).toEqual(typeLines.map(([, , name, type]) => [name, type]));
    expect(family(families, "node_load1").help).toBe("1m load average.");
  });

  it("reads labels and values as exposed", () => {
    const size = family(families, "node_filesystem_size_bytes").samples[0];
    expect(size).toEqual({
      name: "node_filesystem_size_bytes",
      labels: { device: "/dev/vda", fstype: "ext4", mountpoint: "/" },
      value: 270_553_174_016,
    });
    const idle = family(families, "node_cpu_seconds_total").samples.find(
      (sample) => sample.labels.cpu === "0" && sample.labels.mode === "idle",
    );
    expect(idle?.value).toBe(12672.28);
    expect(family(families, "node_load1").samples).toEqual([{ name: "node_load1", labels: {}, value: 0.94 }]);
  });

  it("groups go_gc_duration_seconds as a summary of quantiles, _sum and _count", () => {
    const summary = family(families, "go_gc_duration_seconds");
    expect(summary.type).toBe("summary");
    expect(summary.samples.map((s) => s.name + JSON.stringify(s.labels))).toEqual([
      'go_gc_duration_seconds{"quantile":"0"}',
      'go_gc_duration_seconds{"quantile":"0.25"}',
      'go_gc_duration_seconds{"quantile":"0.5"}',
      'go_gc_duration_seconds{"quantile":"0.75"}',
      'go_gc_duration_seconds{"quantile":"1"}',
      "go_gc_duration_seconds_sum{}",
      "go_gc_duration_seconds_count{}",
    ]);
  });

  it("is read as the Prometheus text format, since it does not end with # EOF", () => {
    expect(families.some((f) => f.type === "unknown")).toBe(false);
    expect(families.filter((f) => f.type === "untyped").length).toBeGreaterThan(0);
  });
});

describe("the Prometheus text format", () => {
  const families = parseExposition(fixture("edge-cases.prom"));

  it("groups a histogram's _bucket, _sum and _count samples under the histogram's name", () => {
    const histogram = family(families, "fetch_duration_seconds");
    expect(histogram.type).toBe("histogram");
    expect(histogram.help).toBe("Time to fetch a page.");
    const buckets = histogram.samples.filter((s) => s.name === "fetch_duration_seconds_bucket");
    expect(buckets.map((s) => [s.labels.le, s.value])).toEqual([
      ["0.1", 3],
      ["0.5", 8],
      ["1", 9],
      ["+Inf", 10],
    ]);
    expect(histogram.samples.find((s) => s.name === "fetch_duration_seconds_count")).toEqual({
      name: "fetch_duration_seconds_count",
      labels: { site: "a" },
      value: 10,
    });
    expect(histogram.samples.find((s) => s.name === "fetch_duration_seconds_sum")?.value).toBe(4.25);
  });

  it("keeps a summary's NaN quantile as NaN", () => {
    const summary = family(families, "query_duration_seconds");
    expect(summary.samples.map((s) => [s.name, s.labels.quantile, s.value])).toEqual([
      ["query_duration_seconds", "0.5", 0.012],
      ["query_duration_seconds", "0.99", Number.NaN],
      ["query_duration_seconds_sum", undefined, 15],
      ["query_duration_seconds_count", undefined, 1200],
    ]);
  });

  it('decodes \\\\, \\" and \\n in label values and allows a trailing comma', () => {
    expect(family(families, "spool_path_info").samples[0]?.labels).toEqual({
      path: "C:\\ProgramData\\vigil\\spool",
      note: 'said "hi"\nthen left',
    });
  });

  it("decodes \\\\ and \\n in HELP text and keeps a backslash before anything else as written", () => {
    expect(family(families, "spool_path_info").help).toBe(
      "Where the probe spools; a backslash \\ and a line feed \n are escaped.",
    );
    const [help] = parseExposition(
      exposition('# HELP temp_dir Lives in C:\\temp, said \\"x\\".', "temp_dir 1"),
    );
    expect(help?.help).toBe('Lives in C:\\temp, said \\"x\\".');
  });

  it("reads NaN, +Inf, -Inf and exponent forms", () => {
    expect(family(families, "cron_last_exit_code").samples.map((s) => s.value)).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0.0015,
    ]);
    expect(family(families, "rack_temperature_celsius").samples[0]?.value).toBe(300);
  });

  it("reads timestamps as integer milliseconds", () => {
    const runs = family(families, "backup_runs_total");
    expect(runs.type).toBe("counter");
    expect(runs.samples.map((s) => [s.labels.outcome, s.value, s.timestampMs])).toEqual([
      ["ok", 412, 1_767_225_600_000],
      ["failed", 7, 1_767_225_600_000],
    ]);
    expect(family(families, "cron_last_exit_code").samples[0]).not.toHaveProperty("timestampMs");
  });

  it("takes a negative timestamp, as the format (though not Prometheus's scraper) allows", () => {
    const [weird] = parseExposition(exposition("before_epoch 1 -3982045"));
    expect(weird?.samples[0]?.timestampMs).toBe(-3_982_045);
  });

  it("gives a sample without a TYPE line a family of its own, typed untyped", () => {
    expect(family(families, "load_average_untyped")).toEqual({
      name: "load_average_untyped",
      type: "untyped",
      samples: [{ name: "load_average_untyped", labels: {}, value: 12.47 }],
    });
  });

  it("skips comments, blank lines and blanks or tabs between tokens", () => {
    expect(families.map((f) => f.name)).toEqual([
      "backup_runs_total",
      "spool_path_info",
      "cron_last_exit_code",
      "load_average_untyped",
      "rack_temperature_celsius",
      "fetch_duration_seconds",
      "query_duration_seconds",
    ]);
    expect(family(families, "rack_temperature_celsius").samples[0]?.labels).toEqual({ zone: "b", rack: "4" });
  });

  it("accepts leading and trailing blanks, CRLF line ends and a last line without a line feed", () => {
    const families = parseExposition('# TYPE up gauge\r\n   up{job="a"}   1   \r\n\tup{job="b"}\t0');
    expect(family(families, "up").samples.map((s) => [s.labels.job, s.value])).toEqual([
      ["a", 1],
      ["b", 0],
    ]);
  });

  it("reads numbers as Go's ParseFloat does, without hex or underscores", () => {
    const parsedValue = (token: string) => parseExposition(exposition(`x ${token}`))[0]?.samples[0]?.value;
    expect(parsedValue("1e3")).toBe(1000);
    expect(parsedValue("1E-3")).toBe(0.001);
    expect(parsedValue(".5")).toBe(0.5);
    expect(parsedValue("5.")).toBe(5);
    expect(parsedValue("+7")).toBe(7);
    expect(parsedValue("0042")).toBe(42);
    expect(parsedValue("Inf")).toBe(Number.POSITIVE_INFINITY);
    expect(parsedValue("-infinity")).toBe(Number.NEGATIVE_INFINITY);
    expect(parsedValue("nan")).toBeNaN();
    for (const garbage of [
      "0x10",
      "0x1p3",
      "1_000",
      "1e",
      "e5",
      ".",
      "+nan",
      "infinit",
      "1.2.3",
      "1e400",
      "abc",
    ]) {
      expect(errorOf(exposition(`x ${garbage}`)).message).toBe(
        `line 1: invalid value ${JSON.stringify(garbage)}`,
      );
    }
  });

  it("merges samples of one name into one family even when other families come between", () => {
    const families = parseExposition(exposition("# TYPE a gauge", "a 1", "b 2", 'a{x="y"} 3'));
    expect(families.map((f) => [f.name, f.samples.length])).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
  });

  it("keeps a family that has metadata but no samples", () => {
    expect(parseExposition(exposition("# HELP idle Nothing yet.", "# TYPE idle gauge"))).toEqual([
      { name: "idle", type: "gauge", help: "Nothing yet.", samples: [] },
    ]);
  });

  it("treats # EOF and # UNIT as comments", () => {
    const text = exposition("# UNIT x seconds", "x 1", "# EOF", "y 2");
    expect(parseExposition(text, { openMetrics: false }).map((f) => [f.name, f.unit])).toEqual([
      ["x", undefined],
      ["y", undefined],
    ]);
  });
});

describe("OpenMetrics", () => {
  const families = parseExposition(fixture("edge-cases.openmetrics.txt"));

  it("is detected by a final # EOF line", () => {
    expect(family(families, "mystery_value").type).toBe("unknown");
    expect(parseExposition("x 1\n# EOF")[0]?.type).toBe("unknown");
    expect(parseExposition("x 1\n# EOF\n\n")[0]?.type).toBe("untyped");
  });

  it("reads timestamps as seconds and converts them to milliseconds", () => {
    const runs = family(families, "backup_runs");
    expect(runs.samples[0]?.timestampMs).toBe(1_767_225_600_250);
    expect(family(families, "disk_temperature_celsius").samples[0]?.timestampMs).toBe(1_767_225_600_001);
    const text = exposition("x 1 1767225600", "# EOF");
    expect(parseExposition(text)[0]?.samples[0]?.timestampMs).toBe(1_767_225_600_000);
    expect(parseExposition(text, { openMetrics: false })[0]?.samples[0]?.timestampMs).toBe(1_767_225_600);
  });

  it("groups a counter's _total and _created samples under the family's name", () => {
    const runs = family(families, "backup_runs");
    expect(runs.type).toBe("counter");
    expect(runs.help).toBe("Backup runs by outcome.");
    expect(runs.samples.map((s) => [s.name, s.labels.outcome, s.value])).toEqual([
      ["backup_runs_total", "ok", 412],
      ["backup_runs_created", "ok", 1_767_139_200],
      ["backup_runs_total", "failed", 7],
      ["backup_runs_created", "failed", 1_767_139_200],
    ]);
  });

  it("drops exemplars and keeps the samples they follow", () => {
    const failed = family(families, "backup_runs").samples[2];
    expect(failed).toEqual({
      name: "backup_runs_total",
      labels: { job: "home", outcome: "failed" },
      value: 7,
    });
    const buckets = family(families, "fetch_duration_seconds").samples;
    expect(buckets[1]).toEqual({ name: "fetch_duration_seconds_bucket", labels: { le: "1.0" }, value: 9 });
  });

  it('reads UNIT lines and decodes \\" in HELP text', () => {
    const histogram = family(families, "fetch_duration_seconds");
    expect(histogram).toMatchObject({ type: "histogram", unit: "seconds" });
    expect(histogram.help).toBe('Time to fetch a page, "quoted" here.');
    expect(histogram.samples.map((s) => s.name)).toEqual([
      "fetch_duration_seconds_bucket",
      "fetch_duration_seconds_bucket",
      "fetch_duration_seconds_bucket",
      "fetch_duration_seconds_count",
      "fetch_duration_seconds_sum",
      "fetch_duration_seconds_created",
    ]);
  });

  it("reads info, stateset and gaugehistogram families with their suffixes", () => {
    expect(family(families, "probe_build")).toEqual({
      name: "probe_build",
      type: "info",
      samples: [{ name: "probe_build_info", labels: { version: "0.9.1" }, value: 1 }],
    });
    expect(family(families, "probe_mode").samples.map((s) => [s.labels.probe_mode, s.value])).toEqual([
      ["push", 1],
      ["pull", 0],
    ]);
    const waits = family(families, "spool_wait_seconds");
    expect(waits.type).toBe("gaugehistogram");
    expect(waits.samples.map((s) => [s.name, s.value])).toEqual([
      ["spool_wait_seconds_bucket", 2],
      ["spool_wait_seconds_bucket", 5],
      ["spool_wait_seconds_gcount", 5],
      ["spool_wait_seconds_gsum", 7.5],
    ]);
  });

  it("keeps a backslash before a character that needs no escape, as the OpenMetrics grammar allows", () => {
    const [escaped] = parseExposition(exposition('x{path="C:\\temp"} 1', "# EOF"));
    expect(escaped?.samples[0]?.labels.path).toBe("C:\\temp");
  });

  it("parses the Python client's real output in both formats", () => {
    const openMetrics = parseExposition(fixture("python-client.openmetrics.txt"));
    expect(openMetrics.map((f) => [f.name, f.type, f.unit, f.samples.length])).toEqual([
      ["shop_http_requests", "counter", undefined, 4],
      ["shop_request_duration_seconds", "histogram", "seconds", 8],
      ["shop_payload_bytes", "summary", "bytes", 3],
      ["shop_queue_depth", "gauge", undefined, 3],
      ["shop_build", "info", undefined, 1],
      ["shop_mode", "stateset", undefined, 3],
      ["shop_queue_wait_seconds", "gaugehistogram", "seconds", 5],
    ]);
    const requests = family(openMetrics, "shop_http_requests").samples;
    expect(requests[0]).toEqual({
      name: "shop_http_requests_total",
      labels: { code: "200", method: "GET" },
      value: 1027,
    });
    expect(requests[1]?.value).toBeCloseTo(1_796_247_408.814, 3);
    expect(family(openMetrics, "shop_queue_depth").samples[0]?.labels.path).toBe('C:\\spool\\"in"\nbox');

    // The text format has no _created or info: the same registry comes out as counters named _total and gauges.
    const text = parseExposition(fixture("python-client.prom"));
    expect(text.map((f) => [f.name, f.type]).slice(0, 3)).toEqual([
      ["shop_http_requests_total", "counter"],
      ["shop_http_requests_created", "gauge"],
      ["shop_request_duration_seconds", "histogram"],
    ]);
    expect(family(text, "shop_queue_depth").help).toBe(
      'Items waiting; path C:\\queue, "quoted"\nsecond line.',
    );
  });

  it("refuses text without # EOF when told it is OpenMetrics, naming the line after the last", () => {
    const error = errorOf(exposition("# TYPE x gauge", "x 1"), { openMetrics: true });
    expect(error.line).toBe(3);
    expect(error.message).toBe('line 3: OpenMetrics text must end with a "# EOF" line');
    expect(errorOf("", { openMetrics: true }).line).toBe(1);
  });

  it("refuses anything after # EOF", () => {
    expect(errorOf(exposition("x 1", "# EOF", "y 2"), { openMetrics: true }).message).toBe(
      'line 3: content after "# EOF"',
    );
    expect(errorOf("x 1\n# EOF\n\n", { openMetrics: true }).line).toBe(3);
  });

  it("refuses a unit that is not the last word of the family's name", () => {
    expect(errorOf(exposition("# TYPE foo counter", "# UNIT foo seconds", "# EOF")).message).toBe(
      'line 2: unit "seconds" is not the suffix of metric name "foo"',
    );
  });

  it("refuses an exemplar that is not a label set and a value", () => {
    expect(errorOf(exposition("x_total 1 # trace 1", "# EOF")).message).toBe(
      'line 1: exemplar must start with "# {"',
    );
    expect(errorOf(exposition('x_total 1 # {a="b"}', "# EOF")).message).toBe("line 1: exemplar has no value");
  });
});

describe("malformed expositions", () => {
  const cases: [string, string, ParseOptions | undefined, number, string][] = [
    ["an invalid metric name", "ok 1\n1abc 2\n", undefined, 2, 'invalid metric name "1abc"'],
    ["a dash in a metric name", "http-requests 2\n", undefined, 1, 'invalid metric name "http-requests"'],
    ["an invalid metric name in TYPE", "# TYPE 9lives gauge\n", undefined, 1, 'invalid metric name "9lives"'],
    ["an invalid label name", 'x{1a="b"} 1\n', undefined, 1, 'invalid label name "1a"'],
    ["a label name with a dash", 'x{a-b="c"} 1\n', undefined, 1, 'invalid label name "a-b"'],
    ["a reserved label name", 'x{__name__="y"} 1\n', undefined, 1, 'label name "__name__" is reserved'],
    ["a duplicate label name", 'x{a="1",b="2",a="3"} 1\n', undefined, 1, 'duplicate label name "a"'],
    ["an unterminated quote", 'x{a="1} 1\n', undefined, 1, 'unterminated quoted value of label "a"'],
    [
      "a backslash at the end of a line",
      'x{a="1\\\n',
      undefined,
      1,
      'unterminated quoted value of label "a"',
    ],
    ["an unknown escape", 'x{a="\\t"} 1\n', undefined, 1, 'invalid escape "\\\\t" in the value of label "a"'],
    ["a label without a value", "x{a} 1\n", undefined, 1, 'expected "=" after label name "a"'],
    ["an unquoted label value", "x{a=b} 1\n", undefined, 1, 'expected a quoted value for label "a"'],
    ["two commas", 'x{a="1",,b="2"} 1\n', undefined, 1, 'invalid label name ","'],
    [
      "labels run together",
      'x{a="1" b="2"} 1\n',
      undefined,
      1,
      'expected "," or "}" after the value of label "a"',
    ],
    ["an unclosed label set", 'x{a="1"\n', undefined, 1, 'label set is not closed with "}"'],
    ["a quoted metric name", '{"my.metric"} 1\n', undefined, 1, "a sample must start with its metric name"],
    ["a missing value", 'x{a="1"}\n', undefined, 1, 'sample "x" has no value'],
    ["a bad value", "x one\n", undefined, 1, 'invalid value "one"'],
    ["a fractional ms timestamp", "x 1 1.5\n", undefined, 1, 'invalid timestamp "1.5"'],
    [
      "a timestamp beyond int64",
      "x 1 99999999999999999999\n",
      undefined,
      1,
      'timestamp "99999999999999999999" is out of range',
    ],
    ["an NaN OpenMetrics timestamp", "x 1 NaN\n# EOF\n", undefined, 1, 'invalid timestamp "NaN"'],
    ["text after the timestamp", "x 1 2 3\n", undefined, 1, 'unexpected "3" after the timestamp'],
    ["an exemplar in the text format", 'x 1 # {a="b"} 1\n', undefined, 1, "exemplars"],
    ["TYPE after samples", "x 1\n# TYPE x gauge\n", undefined, 2, 'TYPE line for "x" after its samples'],
    ["TYPE twice", "# TYPE x gauge\n# TYPE x counter\n", undefined, 2, 'second TYPE line for "x"'],
    ["HELP twice", "# HELP x a\n# HELP x b\n", undefined, 2, 'second HELP line for "x"'],
    [
      "an unknown type",
      "# TYPE x gauges\n",
      undefined,
      1,
      'unknown type "gauges" in the Prometheus text format',
    ],
    ["an OpenMetrics type in the text format", "# TYPE x info\n", undefined, 1, 'unknown type "info"'],
    [
      "untyped in OpenMetrics",
      "# TYPE x untyped\n# EOF\n",
      undefined,
      1,
      'unknown type "untyped" in OpenMetrics',
    ],
    ["a TYPE without a type", "# TYPE x\n", undefined, 1, 'TYPE line for "x" without a type'],
  ];

  for (const [what, text, options, line, message] of cases) {
    it(`refuses ${what} on line ${line}`, () => {
      const error = errorOf(text, options);
      expect(error).toBeInstanceOf(ExpositionError);
      expect(error.name).toBe("ExpositionError");
      expect(error.line).toBe(line);
      expect(error.message).toContain(`line ${line}: ${message}`);
    });
  }

  it("counts blank lines and comments when naming the line", () => {
    const text = exposition(
      "# a comment",
      "",
      "# HELP x X.",
      "# TYPE x gauge",
      "x 1",
      "",
      'x{a="1",a="2"} 2',
    );
    expect(errorOf(text).line).toBe(7);
  });

  it("cuts a long piece of input short in the message", () => {
    const error = errorOf(`x ${"9".repeat(500)}z\n`);
    expect(error.message.length).toBeLessThan(100);
  });
});

describe("maxSamples", () => {
  const text = exposition("# TYPE x gauge", 'x{n="1"} 1', 'x{n="2"} 2', 'x{n="3"} 3');

  it("accepts exactly as many samples as allowed", () => {
    expect(parseExposition(text, { maxSamples: 3 })[0]?.samples).toHaveLength(3);
  });

  it("refuses the first sample beyond the limit and names the limit", () => {
    const error = errorOf(text, { maxSamples: 2 });
    expect(error.line).toBe(4);
    expect(error.message).toBe("line 4: more than 2 samples (the most this exposition may hold)");
  });

  it("does not count comments or metadata as samples", () => {
    expect(parseExposition(fixture("node-exporter.prom"), { maxSamples: 505 })).toHaveLength(282);
    expect(() => parseExposition(fixture("node-exporter.prom"), { maxSamples: 504 })).toThrow(
      ExpositionError,
    );
  });
});

describe("isOpenMetricsContentType", () => {
  it("names OpenMetrics with or without parameters, in any case", () => {
    expect(isOpenMetricsContentType("application/openmetrics-text; version=1.0.0; charset=utf-8")).toBe(true);
    expect(isOpenMetricsContentType("application/openmetrics-text")).toBe(true);
    expect(isOpenMetricsContentType(" Application/OpenMetrics-Text ;version=0.0.1")).toBe(true);
  });

  it("says no to the text format, other types and a missing header", () => {
    expect(isOpenMetricsContentType("text/plain; version=0.0.4; charset=utf-8")).toBe(false);
    expect(isOpenMetricsContentType("application/openmetrics-protobuf")).toBe(false);
    expect(isOpenMetricsContentType("")).toBe(false);
    expect(isOpenMetricsContentType(null)).toBe(false);
    expect(isOpenMetricsContentType(undefined)).toBe(false);
  });
});

describe("storedKind", () => {
  it("stores the four Prometheus types as they are, a gauge histogram as gauges and the rest untyped", () => {
    const page = readFileSync(new URL("./fixtures/python-client.openmetrics.txt", import.meta.url), "utf8");
    const kinds = Object.fromEntries(parseExposition(page).map((f) => [f.type, storedKind(f.type)]));
    expect(kinds).toMatchObject({
      counter: "counter",
      gauge: "gauge",
      histogram: "histogram",
      gaugehistogram: "gauge",
    });
    for (const type of ["info", "stateset", "unknown", "untyped"] as const)
      expect(storedKind(type)).toBe("untyped");
  });

  it("names only kinds the contract accepts for a stored series", () => {
    const types = [
      "counter",
      "gauge",
      "histogram",
      "gaugehistogram",
      "summary",
      "info",
      "stateset",
      "unknown",
      "untyped",
    ] as const;
    for (const type of types) expect(customMetricKinds).toContain(storedKind(type));
  });
});

describe("the exposition module", () => {
  it("imports nothing, so the probe bundles it with zero runtime dependencies", () => {
    const source = readFileSync(new URL("../src/exposition.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/^\s*import\b|\brequire\(|\bimport\(/m);
  });
});
