import type { BackupRun } from "@vigil/contract";

/**
 * Fields of restic's `backup --json` summary line (restic 0.14; later versions add backup_start/backup_end):
 * {"message_type":"summary","files_new":2,…,"data_added":301041,"total_bytes_processed":300006,
 *  "total_duration":0.22,"snapshot_id":"cbe48975"}
 */
export interface ResticSummary {
  files_new?: number;
  files_changed?: number;
  files_unmodified?: number;
  data_added?: number;
  total_bytes_processed?: number;
  total_duration?: number;
  snapshot_id?: string;
}

/** Cuts a stream of output into whole lines as chunks arrive; `finish()` hands over a last unterminated one. */
export abstract class LineSplitter {
  private partial = "";

  push(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString("utf8")).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  finish(): void {
    if (this.partial) this.line(this.partial);
    this.partial = "";
  }

  protected abstract line(line: string): void;
}

/** Watches restic's JSON lines as they stream by; keeps the summary and the last error messages. */
export class ResticOutputWatcher extends LineSplitter {
  summary: ResticSummary | undefined;
  readonly errors: string[] = [];

  protected line(line: string): void {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{") || !trimmed.includes("message_type")) return;
    try {
      const message = JSON.parse(trimmed) as {
        message_type?: string;
        error?: { message?: string };
        item?: string;
      };
      if (message.message_type === "summary") this.summary = message as ResticSummary;
      else if (message.message_type === "error") {
        this.errors.push(`${message.item ?? ""}: ${message.error?.message ?? "error"}`.slice(0, 500));
        if (this.errors.length > 20) this.errors.shift();
      }
    } catch {
      // a partial or non-JSON line: restic mixes plain text in on some errors
    }
  }
}

export function summaryToRunFields(summary: ResticSummary): Partial<BackupRun> {
  const fields: Partial<BackupRun> = {};
  const count = (value: unknown) =>
    typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof summary.snapshot_id === "string") fields.snapshotId = summary.snapshot_id.slice(0, 128);
  const filesNew = count(summary.files_new);
  if (filesNew !== undefined) fields.filesNew = filesNew;
  const filesChanged = count(summary.files_changed);
  if (filesChanged !== undefined) fields.filesChanged = filesChanged;
  const filesUnmodified = count(summary.files_unmodified);
  if (filesUnmodified !== undefined) fields.filesUnmodified = filesUnmodified;
  if (typeof summary.data_added === "number" && summary.data_added >= 0)
    fields.bytesAdded = summary.data_added;
  if (typeof summary.total_bytes_processed === "number" && summary.total_bytes_processed >= 0) {
    fields.bytesProcessed = summary.total_bytes_processed;
  }
  return fields;
}
