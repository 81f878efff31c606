/**
 * A parser of the Prometheus text exposition format (0.0.4) and of OpenMetrics 1.0 text. The probe bundles
 * it into a file with zero runtime dependencies and the server uses it for the push API, so this module
 * imports nothing at all.
 *
 * 1. Pick the dialect: the caller's option, else OpenMetrics when the text ends with a `# EOF` line.
 * 2. Walk the text line by line (a label value can't hold a raw line feed, so a line is always whole), each
 *    line once, character by character with charCodeAt; no regex and no split.
 * 3. A `#` line is HELP, TYPE, UNIT (OpenMetrics), `# EOF` (OpenMetrics) or a comment; anything else is a
 *    sample `name{labels} value [timestamp] [# exemplar]`.
 * 4. A sample joins the family its name belongs to: the family named exactly like it, or the family whose
 *    name plus one of its type's suffixes (`_bucket`, `_total`, …) spells it. Otherwise it opens a family of
 *    its own, typed untyped (text) or unknown (OpenMetrics).
 * 5. The first malformed line throws ExpositionError naming the line, as Prometheus refuses a whole scrape
 *    over one bad line.
 *
 * Both dialects share the text format's tolerance: runs of blanks and tabs between tokens, blank lines and
 * `#` comments are accepted, also in OpenMetrics, where Prometheus is stricter; none of it changes what a line
 * means. Names must be the classic ones (`[a-zA-Z_:][a-zA-Z0-9_:]*`); the newer quoted UTF-8 names are refused.
 */

export type ExpositionType =
  | "counter"
  | "gauge"
  | "histogram"
  | "gaugehistogram"
  | "summary"
  | "info"
  | "stateset"
  | "unknown"
  | "untyped";

/** The kinds a stored series has (the contract's CustomMetricKind, spelled out here to stay import-free). */
export type StoredMetricKind = "counter" | "gauge" | "histogram" | "summary" | "untyped";

/**
 * gaugehistogram → gauge: its buckets are a distribution as it stands now (queue items by age) and go down as
 * well as up, so treated as counters their rates would be nonsense; as gauges they are charted as they are.
 * info and stateset are 0/1 markers, and unknown is unknown: untyped, stored as given.
 */
const STORED_KINDS: Record<ExpositionType, StoredMetricKind> = {
  counter: "counter",
  gauge: "gauge",
  histogram: "histogram",
  summary: "summary",
  gaugehistogram: "gauge",
  info: "untyped",
  stateset: "untyped",
  unknown: "untyped",
  untyped: "untyped",
};

/** How a family of a page is stored: the same for a scrape by the probe and a push to the API. */
export function storedKind(type: ExpositionType): StoredMetricKind {
  return STORED_KINDS[type] ?? "untyped";
}

export interface ExpositionSample {
  /** the sample's own name as exposed, e.g. `http_requests_total`, `latency_seconds_bucket` */
  name: string;
  labels: Record<string, string>;
  /** may be NaN, +Inf or -Inf as the format allows */
  value: number;
  /** the optional timestamp, converted to epoch ms (Prometheus text: ms integer; OpenMetrics: seconds, may be fractional) */
  timestampMs?: number;
}

export interface ExpositionFamily {
  /** family name: for a histogram `latency_seconds` (samples `_bucket`, `_sum`, `_count`, `_created`), for an OpenMetrics counter `x` (sample `x_total`) */
  name: string;
  /** "untyped" when no # TYPE line came (Prometheus text), "unknown" in OpenMetrics */
  type: ExpositionType;
  help?: string;
  unit?: string;
  samples: ExpositionSample[];
}

/** A malformed exposition; `line` is 1-based and the message starts with it (`line 12: …`). */
export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "ExpositionError";
  }
}

export interface ParseOptions {
  /** OpenMetrics instead of the Prometheus text format; when left out, the text decides (a final `# EOF` line) */
  openMetrics?: boolean;
  /** most samples before it throws ExpositionError naming the limit */
  maxSamples?: number;
}

/** Parses the whole text; throws ExpositionError at the first malformed line (Prometheus refuses a scrape with any error too). */
export function parseExposition(text: string, options?: ParseOptions): ExpositionFamily[] {
  const openMetrics = options?.openMetrics ?? endsWithEofLine(text);
  return new ExpositionParser(text, openMetrics, options?.maxSamples ?? Number.POSITIVE_INFINITY).parse();
}

/** True when a Content-Type header names OpenMetrics (application/openmetrics-text). */
export function isOpenMetricsContentType(contentType: string | null | undefined): boolean {
  if (!contentType) return false;
  const semicolon = contentType.indexOf(";");
  const mediaType = semicolon === -1 ? contentType : contentType.slice(0, semicolon);
  return mediaType.trim().toLowerCase() === "application/openmetrics-text";
}

/**
 * The sample name suffixes each type's family owns besides its own name. The text format knows five types
 * and writes a counter under its full name; OpenMetrics names the family and suffixes every sample.
 */
const TEXT_FORMAT_SUFFIXES: ReadonlyMap<string, readonly string[]> = new Map<ExpositionType, string[]>([
  ["counter", []],
  ["gauge", []],
  ["untyped", []],
  ["summary", ["_sum", "_count"]],
  ["histogram", ["_bucket", "_sum", "_count"]],
]);
const OPENMETRICS_SUFFIXES: ReadonlyMap<string, readonly string[]> = new Map<ExpositionType, string[]>([
  ["counter", ["_total", "_created"]],
  ["gauge", []],
  ["unknown", []],
  ["stateset", []],
  ["info", ["_info"]],
  ["summary", ["_sum", "_count", "_created"]],
  ["histogram", ["_bucket", "_sum", "_count", "_created"]],
  ["gaugehistogram", ["_bucket", "_gcount", "_gsum"]],
]);

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const COLON = 58;
const EQUALS = 61;
const UPPER_E = 69;
const BACKSLASH = 92;
const UNDERSCORE = 95;
const LOWER_E = 101;
const LOWER_N = 110;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** Bound of a Prometheus text timestamp, an int64 as Go's ParseInt reads it (to float64 precision). */
const INT64_LIMIT = 2 ** 63;

interface OpenFamily {
  family: ExpositionFamily;
  suffixes: readonly string[];
  typed: boolean;
  helpSeen: boolean;
  unitSeen: boolean;
}

class ExpositionParser {
  private readonly families: ExpositionFamily[] = [];
  private readonly byName = new Map<string, OpenFamily>();
  /** the family of the previous line: most samples follow their family's metadata or sibling samples */
  private current: OpenFamily | undefined;
  private readonly suffixesByType: ReadonlyMap<string, readonly string[]>;
  private sampleCount = 0;
  private lineNumber = 0;
  private sawEof = false;
  /** the decoded content of the last quoted string read, beside the index parseQuoted returns */
  private quoted = "";

  constructor(
    private readonly text: string,
    private readonly openMetrics: boolean,
    private readonly maxSamples: number,
  ) {
    this.suffixesByType = openMetrics ? OPENMETRICS_SUFFIXES : TEXT_FORMAT_SUFFIXES;
  }

  parse(): ExpositionFamily[] {
    const text = this.text;
    const length = text.length;
    let start = 0;
    while (start < length) {
      this.lineNumber++;
      let lineFeed = text.indexOf("\n", start);
      if (lineFeed === -1) lineFeed = length;
      if (this.sawEof) throw this.error('content after "# EOF"');
      this.parseLine(start, trimLineEnd(text, start, lineFeed));
      start = lineFeed + 1;
    }
    if (this.openMetrics && !this.sawEof) {
      throw new ExpositionError(this.lineNumber + 1, 'OpenMetrics text must end with a "# EOF" line');
    }
    return this.families;
  }

  private parseLine(start: number, end: number): void {
    const i = skipBlanks(this.text, start, end);
    if (i === end) return;
    if (this.text.charCodeAt(i) === HASH) this.parseHashLine(i + 1, end);
    else this.parseSample(i, end);
  }

  /** `# HELP name text`, `# TYPE name type`, `# UNIT name unit`, `# EOF`, or a comment. */
  private parseHashLine(afterHash: number, end: number): void {
    const text = this.text;
    const keywordStart = skipBlanks(text, afterHash, end);
    // `#HELP` is a comment, as in Prometheus's own scraper: the keyword must stand apart from the `#`.
    if (keywordStart === afterHash) return;
    const keywordEnd = skipToken(text, keywordStart, end);
    const keyword = keywordEnd - keywordStart <= 4 ? text.slice(keywordStart, keywordEnd) : "";
    if (keyword === "EOF" && this.openMetrics) {
      if (keywordEnd === end) this.sawEof = true;
      return;
    }
    if (keyword !== "HELP" && keyword !== "TYPE" && !(keyword === "UNIT" && this.openMetrics)) return;

    const nameStart = skipBlanks(text, keywordEnd, end);
    // A bare `# HELP` names nothing; both of Prometheus's parsers let it pass as a comment.
    if (nameStart === end) return;
    const nameEnd = scanMetricName(text, nameStart, end);
    if (nameEnd === nameStart || (nameEnd < end && !isBlank(text.charCodeAt(nameEnd)))) {
      throw this.error(
        `invalid metric name ${excerpt(text.slice(nameStart, skipToken(text, nameStart, end)))}`,
      );
    }
    const name = text.slice(nameStart, nameEnd);
    const restStart = skipBlanks(text, nameEnd, end);
    const open = this.byName.get(name) ?? this.openFamily(name);
    this.current = open;

    if (keyword === "HELP") {
      if (open.helpSeen) throw this.error(`second HELP line for "${name}"`);
      open.helpSeen = true;
      // An empty HELP leaves help unset; OpenMetrics says to read it as if there were none.
      if (restStart < end) open.family.help = this.unescapeHelp(restStart, end);
    } else if (keyword === "TYPE") {
      const type = text.slice(restStart, end);
      const suffixes = this.suffixesByType.get(type);
      if (suffixes === undefined) {
        const dialect = this.openMetrics ? "OpenMetrics" : "the Prometheus text format";
        throw this.error(
          type === ""
            ? `TYPE line for "${name}" without a type`
            : `unknown type ${excerpt(type)} in ${dialect}`,
        );
      }
      if (open.typed) throw this.error(`second TYPE line for "${name}"`);
      if (open.family.samples.length > 0) throw this.error(`TYPE line for "${name}" after its samples`);
      open.typed = true;
      open.suffixes = suffixes;
      open.family.type = type as ExpositionType;
    } else {
      if (open.unitSeen) throw this.error(`second UNIT line for "${name}"`);
      open.unitSeen = true;
      const unit = text.slice(restStart, end);
      if (unit === "") return;
      // The spec makes the unit the name's last word, so `# UNIT foo seconds` can't contradict the name.
      if (
        !(
          name.length > unit.length + 1 &&
          name.endsWith(unit) &&
          name.charCodeAt(name.length - unit.length - 1) === UNDERSCORE
        )
      ) {
        throw this.error(`unit ${excerpt(unit)} is not the suffix of metric name "${name}"`);
      }
      open.family.unit = unit;
    }
  }

  private parseSample(nameStart: number, end: number): void {
    const text = this.text;
    const nameEnd = scanMetricName(text, nameStart, end);
    if (nameEnd === nameStart && text.charCodeAt(nameStart) === OPEN_BRACE) {
      throw this.error("a sample must start with its metric name (quoted names in braces are not supported)");
    }
    const next = text.charCodeAt(nameEnd);
    if (nameEnd === nameStart || (nameEnd < end && !isBlank(next) && next !== OPEN_BRACE)) {
      throw this.error(
        `invalid metric name ${excerpt(text.slice(nameStart, skipName(text, nameStart, end)))}`,
      );
    }
    if (this.sampleCount >= this.maxSamples) {
      throw this.error(`more than ${this.maxSamples} samples (the most this exposition may hold)`);
    }
    const name = text.slice(nameStart, nameEnd);

    const labels: Record<string, string> = {};
    let i = skipBlanks(text, nameEnd, end);
    if (i < end && text.charCodeAt(i) === OPEN_BRACE) {
      i = skipBlanks(text, this.parseLabels(i + 1, end, labels), end);
    }

    if (i === end) throw this.error(`sample "${name}" has no value`);
    const valueEnd = skipToken(text, i, end);
    const value = parseFloatToken(text, i, valueEnd);
    if (value === undefined) throw this.error(`invalid value ${excerpt(text.slice(i, valueEnd))}`);
    i = skipBlanks(text, valueEnd, end);

    let timestampMs: number | undefined;
    if (i < end && text.charCodeAt(i) !== HASH) {
      const timestampEnd = skipToken(text, i, end);
      timestampMs = this.parseTimestamp(i, timestampEnd);
      i = skipBlanks(text, timestampEnd, end);
    }
    if (i < end) {
      if (text.charCodeAt(i) !== HASH) {
        throw this.error(`unexpected ${excerpt(text.slice(i, end))} after the timestamp`);
      }
      if (!this.openMetrics) throw this.error("exemplars (` # {…} value`) are OpenMetrics only");
      this.skipExemplar(i + 1, end);
    }

    const sample: ExpositionSample =
      timestampMs === undefined ? { name, labels, value } : { name, labels, value, timestampMs };
    this.sampleCount++;
    this.familyOf(name).family.samples.push(sample);
  }

  /** Reads `a="x", b="y"}` (a trailing comma allowed) into `labels`; returns the index after the `}`. */
  private parseLabels(start: number, end: number, labels: Record<string, string>): number {
    const text = this.text;
    let i = start;
    for (;;) {
      i = skipBlanks(text, i, end);
      if (i === end) throw this.error('label set is not closed with "}"');
      if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;

      const labelNameEnd = scanLabelName(text, i, end);
      if (labelNameEnd === i || (labelNameEnd < end && !endsLabelName(text.charCodeAt(labelNameEnd)))) {
        if (text.charCodeAt(i) === QUOTE) throw this.error("quoted label names are not supported");
        throw this.error(`invalid label name ${excerpt(text.slice(i, skipLabelNameToken(text, i, end)))}`);
      }
      const labelName = text.slice(i, labelNameEnd);
      // `__name__` and its kin are Prometheus's own; an exposition may not set them.
      if (labelName.charCodeAt(0) === UNDERSCORE && labelName.charCodeAt(1) === UNDERSCORE) {
        throw this.error(`label name "${labelName}" is reserved (names starting with "__" are)`);
      }
      if (Object.hasOwn(labels, labelName)) throw this.error(`duplicate label name "${labelName}"`);

      i = skipBlanks(text, labelNameEnd, end);
      if (i === end || text.charCodeAt(i) !== EQUALS) {
        throw this.error(`expected "=" after label name "${labelName}"`);
      }
      i = skipBlanks(text, i + 1, end);
      if (i === end || text.charCodeAt(i) !== QUOTE) {
        throw this.error(`expected a quoted value for label "${labelName}"`);
      }
      i = this.parseQuoted(i + 1, end, labelName);
      labels[labelName] = this.quoted;

      i = skipBlanks(text, i, end);
      if (i === end) throw this.error('label set is not closed with "}"');
      const separator = text.charCodeAt(i);
      if (separator === COMMA) i++;
      else if (separator === CLOSE_BRACE) return i + 1;
      else throw this.error(`expected "," or "}" after the value of label "${labelName}"`);
    }
  }

  /**
   * Reads a label value after its opening quote into `this.quoted`; returns the index after the closing quote.
   * `\\`, `\"` and `\n` are the escapes. Any other is an error in the text format; OpenMetrics allows
   * a backslash before any character and means the backslash itself.
   */
  private parseQuoted(start: number, end: number, labelName: string): number {
    const text = this.text;
    let decoded = "";
    let chunkStart = start;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.quoted = decoded + text.slice(chunkStart, i);
        return i + 1;
      }
      if (c !== BACKSLASH) continue;
      if (i + 1 === end) break;
      decoded += text.slice(chunkStart, i);
      const escaped = text.charCodeAt(i + 1);
      if (escaped === BACKSLASH) decoded += "\\";
      else if (escaped === QUOTE) decoded += '"';
      else if (escaped === LOWER_N) decoded += "\n";
      else if (this.openMetrics) decoded += text.slice(i, i + 2);
      else
        throw this.error(
          `invalid escape ${excerpt(text.slice(i, i + 2))} in the value of label "${labelName}"`,
        );
      i++;
      chunkStart = i + 1;
    }
    throw this.error(`unterminated quoted value of label "${labelName}"`);
  }

  /** HELP text escapes `\\` and `\n` (OpenMetrics also `\"`); a backslash before anything else stays as written. */
  private unescapeHelp(start: number, end: number): string {
    const text = this.text;
    const raw = text.slice(start, end);
    // Most HELP text has no backslash; a native search says so faster than a loop could.
    if (!raw.includes("\\")) return raw;
    let decoded = "";
    let chunkStart = start;
    for (let i = start; i + 1 < end; i++) {
      if (text.charCodeAt(i) !== BACKSLASH) continue;
      const escaped = text.charCodeAt(i + 1);
      let replacement: string | undefined;
      if (escaped === BACKSLASH) replacement = "\\";
      else if (escaped === LOWER_N) replacement = "\n";
      else if (escaped === QUOTE && this.openMetrics) replacement = '"';
      if (replacement !== undefined) {
        decoded += text.slice(chunkStart, i) + replacement;
        chunkStart = i + 2;
      }
      i++;
    }
    return decoded + text.slice(chunkStart, end);
  }

  /**
   * The text format's timestamp is an int64 of milliseconds (Go's ParseInt); OpenMetrics' is a number of
   * seconds, maybe fractional, rounded here to the nearest millisecond.
   */
  private parseTimestamp(start: number, end: number): number {
    const text = this.text;
    if (this.openMetrics) {
      const seconds = parseFloatToken(text, start, end);
      if (seconds === undefined || !Number.isFinite(seconds)) {
        throw this.error(`invalid timestamp ${excerpt(text.slice(start, end))}`);
      }
      return Math.round(seconds * 1000);
    }
    let i = start;
    const first = text.charCodeAt(i);
    if (first === PLUS || first === MINUS) i++;
    if (i === end) throw this.error(`invalid timestamp ${excerpt(text.slice(start, end))}`);
    for (; i < end; i++) {
      if (!isDigit(text.charCodeAt(i)))
        throw this.error(`invalid timestamp ${excerpt(text.slice(start, end))}`);
    }
    const ms = Number(text.slice(start, end));
    if (Math.abs(ms) > INT64_LIMIT)
      throw this.error(`timestamp ${excerpt(text.slice(start, end))} is out of range`);
    return ms;
  }

  /** Checks and drops an OpenMetrics exemplar: `# {labels} value [timestamp]` after the sample. */
  private skipExemplar(afterHash: number, end: number): void {
    const text = this.text;
    let i = skipBlanks(text, afterHash, end);
    if (i === end || text.charCodeAt(i) !== OPEN_BRACE) throw this.error('exemplar must start with "# {"');
    i = skipBlanks(text, this.parseLabels(i + 1, end, {}), end);
    if (i === end) throw this.error("exemplar has no value");
    const valueEnd = skipToken(text, i, end);
    if (parseFloatToken(text, i, valueEnd) === undefined) {
      throw this.error(`invalid exemplar value ${excerpt(text.slice(i, valueEnd))}`);
    }
    i = skipBlanks(text, valueEnd, end);
    if (i === end) return;
    const timestampEnd = skipToken(text, i, end);
    this.parseTimestamp(i, timestampEnd);
    i = skipBlanks(text, timestampEnd, end);
    if (i < end) throw this.error(`unexpected ${excerpt(text.slice(i, end))} after the exemplar`);
  }

  /** The family a sample of this name belongs to; see step 4 at the top. */
  private familyOf(name: string): OpenFamily {
    const current = this.current;
    if (current !== undefined && ownsSampleName(current, name)) return current;
    let open = this.byName.get(name);
    if (open === undefined) {
      // Every suffix is one `_word`, so the family name is all before the last underscore.
      const underscore = name.lastIndexOf("_");
      const base = underscore > 0 ? this.byName.get(name.slice(0, underscore)) : undefined;
      open = base?.suffixes.includes(name.slice(underscore)) ? base : this.openFamily(name);
    }
    this.current = open;
    return open;
  }

  private openFamily(name: string): OpenFamily {
    const family: ExpositionFamily = { name, type: this.openMetrics ? "unknown" : "untyped", samples: [] };
    const open: OpenFamily = { family, suffixes: [], typed: false, helpSeen: false, unitSeen: false };
    this.families.push(family);
    this.byName.set(name, open);
    return open;
  }

  private error(message: string): ExpositionError {
    return new ExpositionError(this.lineNumber, message);
  }
}

function ownsSampleName(open: OpenFamily, name: string): boolean {
  const familyName = open.family.name;
  if (name === familyName) return true;
  return (
    name.length > familyName.length &&
    name.charCodeAt(familyName.length) === UNDERSCORE &&
    name.startsWith(familyName) &&
    open.suffixes.includes(name.slice(familyName.length))
  );
}

/**
 * A number as Prometheus reads it (Go's ParseFloat without hex, `p` exponents or `_` separators): decimal
 * with optional sign, point and exponent; `Inf`/`Infinity` with optional sign and `NaN`, in any case. A
 * decimal beyond float64's range is refused like Go refuses it. Undefined when the token is none of these.
 */
function parseFloatToken(text: string, start: number, end: number): number | undefined {
  let i = start;
  const first = text.charCodeAt(i);
  if (first === PLUS || first === MINUS) i++;
  const letter = text.charCodeAt(i) | 0x20;
  if (letter === 0x69 /* i */ || letter === LOWER_N) {
    const word = text.slice(i, end).toLowerCase();
    if (word === "inf" || word === "infinity")
      return first === MINUS ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    if (word === "nan" && i === start) return Number.NaN;
    return undefined;
  }
  let digits = 0;
  while (i < end && isDigit(text.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < end && text.charCodeAt(i) === DOT) {
    i++;
    while (i < end && isDigit(text.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return undefined;
  const exponent = text.charCodeAt(i);
  if (i < end && (exponent === LOWER_E || exponent === UPPER_E)) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === PLUS || sign === MINUS) i++;
    const exponentStart = i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    if (i === exponentStart) return undefined;
  }
  if (i !== end) return undefined;
  const value = Number(text.slice(start, end));
  return Number.isFinite(value) ? value : undefined;
}

/** True when the text's last line is `# EOF`, which only OpenMetrics writes. */
function endsWithEofLine(text: string): boolean {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === LF) end--;
  end = trimLineEnd(text, 0, end);
  if (end < 5) return false;
  const lineStart = text.lastIndexOf("\n", end - 1) + 1;
  let i = skipBlanks(text, lineStart, end);
  if (text.charCodeAt(i) !== HASH) return false;
  i++;
  const keywordStart = skipBlanks(text, i, end);
  return keywordStart > i && end - keywordStart === 3 && text.startsWith("EOF", keywordStart);
}

/** The end of a line's content: before a carriage return (CRLF text) and trailing blanks. */
function trimLineEnd(text: string, start: number, end: number): number {
  let i = end;
  if (i > start && text.charCodeAt(i - 1) === CR) i--;
  while (i > start && isBlank(text.charCodeAt(i - 1))) i--;
  return i;
}

function skipBlanks(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  return i;
}

/** The end of a token: the next blank or the line's end. */
function skipToken(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && !isBlank(text.charCodeAt(i))) i++;
  return i;
}

/** The end of what was meant as a metric name, for error messages. */
function skipName(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && !isBlank(text.charCodeAt(i)) && text.charCodeAt(i) !== OPEN_BRACE) i++;
  return i;
}

/** True for the characters that may follow a label name: what comes next is then checked for itself. */
function endsLabelName(c: number): boolean {
  return isBlank(c) || c === EQUALS || c === COMMA || c === CLOSE_BRACE;
}

/** The end of what was meant as a label name, for error messages. */
function skipLabelNameToken(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && !endsLabelName(text.charCodeAt(i))) i++;
  return Math.max(i, start + 1);
}

/** `[a-zA-Z_:][a-zA-Z0-9_:]*` from start; returns its end (start when none). */
function scanMetricName(text: string, start: number, end: number): number {
  if (start === end) return start;
  const first = text.charCodeAt(start);
  if (!isLetter(first) && first !== UNDERSCORE && first !== COLON) return start;
  let i = start + 1;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isLetter(c) && !isDigit(c) && c !== UNDERSCORE && c !== COLON) break;
  }
  return i;
}

/** `[a-zA-Z_][a-zA-Z0-9_]*` from start; returns its end (start when none). */
function scanLabelName(text: string, start: number, end: number): number {
  if (start === end) return start;
  const first = text.charCodeAt(start);
  if (!isLetter(first) && first !== UNDERSCORE) return start;
  let i = start + 1;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isLetter(c) && !isDigit(c) && c !== UNDERSCORE) break;
  }
  return i;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isLetter(c: number): boolean {
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

/** A piece of the input quoted for an error message, cut short so one huge line can't flood a log. */
function excerpt(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}
