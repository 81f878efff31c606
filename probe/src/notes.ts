import type { ProbeNote } from "@vigil/contract";

/**
 * Collectors never throw for a missing source: they return nothing and explain why here, so the server can
 * tell "no swap" from "could not read /proc/meminfo".
 */
export class NoteSink {
  readonly notes: ProbeNote[] = [];

  add(collector: string, message: string, dropped?: number): void {
    const note: ProbeNote = { collector, message: message.slice(0, 1024) };
    if (dropped !== undefined) note.dropped = dropped;
    this.notes.push(note);
  }

  /** Records a failed read, keeping only the error's code and first line (no stack traces on the wire). */
  failed(collector: string, what: string, error: unknown): void {
    this.add(collector, `${what}: ${describeError(error)}`);
  }
}

export function describeError(error: unknown): string {
  if (error && typeof error === "object") {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const firstLine = typeof message === "string" ? message.split("\n")[0] : String(error);
    return typeof code === "string" && !firstLine?.includes(code)
      ? `${code} ${firstLine}`
      : (firstLine ?? "");
  }
  return String(error);
}
