/**
 * A small, safe Markdown reader for runbook steps: paragraphs, bullet and numbered lists, `code`, **bold**,
 * *emphasis* and [links](https://…). It builds Preact elements from text (which Preact escapes), never
 * HTML strings, so a step's text cannot inject markup; links go to http(s) only.
 */
import type { ComponentChildren } from "preact";

type Block =
  | { type: "p"; lines: string[] }
  | { type: "ul" | "ol"; items: string[] }
  | { type: "pre"; text: string };

const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const FENCE = /^\s*```/;

function blocks(source: string): Block[] {
  const out: Block[] = [];
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.trim() === "") {
      i++;
      continue;
    }
    if (FENCE.test(line)) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !FENCE.test(lines[i] ?? "")) body.push(lines[i++] ?? "");
      i++;
      out.push({ type: "pre", text: body.join("\n") });
      continue;
    }
    const list = BULLET.test(line) ? "ul" : NUMBERED.test(line) ? "ol" : null;
    if (list) {
      const pattern = list === "ul" ? BULLET : NUMBERED;
      const items: string[] = [];
      while (i < lines.length && (lines[i] ?? "").trim() !== "") {
        const current = lines[i] ?? "";
        const item = current.match(pattern);
        if (item) items.push(item[1] ?? "");
        // A line that is not a new item continues the last one.
        else if (items.length > 0) items[items.length - 1] += ` ${current.trim()}`;
        i++;
      }
      out.push({ type: list, items });
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      (lines[i] ?? "").trim() !== "" &&
      !BULLET.test(lines[i] ?? "") &&
      !NUMBERED.test(lines[i] ?? "") &&
      !FENCE.test(lines[i] ?? "")
    ) {
      // Headings read as bold lines: a step's text sits under the step's own heading.
      para.push((lines[i] ?? "").replace(/^\s*#{1,6}\s+(.*)$/, "**$1**").trim());
      i++;
    }
    out.push({ type: "p", lines: para });
  }
  return out;
}

const INLINE =
  /`([^`]+)`|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g;

/** One line's inline marks as elements; everything else stays text. */
export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const key = out.length;
    if (m[1] !== undefined) out.push(<code key={key}>{m[1]}</code>);
    else if (m[2] !== undefined || m[3] !== undefined)
      out.push(<strong key={key}>{inline(m[2] ?? m[3] ?? "")}</strong>);
    else if (m[4] !== undefined || m[5] !== undefined) out.push(<em key={key}>{m[4] ?? m[5]}</em>);
    else if (m[6] !== undefined && m[7] !== undefined)
      out.push(
        <a key={key} href={m[7]} rel="noopener noreferrer" target="_blank">
          {m[6]}
        </a>,
      );
    last = at + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Markdown({ text }: { text: string }) {
  const parts = blocks(text);
  if (parts.length === 0) return null;
  return (
    <div class="md">
      {parts.map((b, i) => {
        if (b.type === "pre") return <pre key={i}>{b.text}</pre>;
        if (b.type === "p")
          return (
            <p key={i}>
              {b.lines.flatMap((line, j) =>
                j === 0 ? inline(line) : [<br key={`br${j}`} />, ...inline(line)],
              )}
            </p>
          );
        const items = b.items.map((item, j) => <li key={j}>{inline(item)}</li>);
        return b.type === "ul" ? <ul key={i}>{items}</ul> : <ol key={i}>{items}</ol>;
      })}
    </div>
  );
}
