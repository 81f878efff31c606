import { chown, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import type { ProbeBatchV1Input, ProbeNote } from "@vigil/contract";
import { newBatchId } from "./batch-id.ts";
import type { Clock } from "./clock.ts";
import type { Collection } from "./collect.ts";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const DEFAULT_SPOOL_BYTES = 100 * 1024 * 1024;
const BATCH_FILE = /^([0-9_.]+)-([A-Za-z0-9_-]+)\.json\.gz$/;
const PENDING_NOTES = "pending-notes.json";

export interface SpoolEntry {
  file: string;
  /** sort key: creation time and sequence; split halves extend their parent's key, so order is kept */
  key: string;
  batchId: string;
  bytes: number;
}

export interface SpoolOptions {
  dir: string;
  clock: Clock;
  maxBytes?: number;
  newId?: () => string;
}

let sequence = 0;

/**
 * Batches on disk, oldest first, so nothing is lost while the server is unreachable or the probe restarts.
 * Each file is the gzip'd JSON body exactly as it will be sent; a file is written under a temporary name
 * and renamed, so a crash never leaves a half-written batch behind.
 */
export class Spool {
  readonly dir: string;
  private readonly clock: Clock;
  private readonly maxBytes: number;
  private readonly newId: () => string;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.clock = options.clock;
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_BYTES;
    this.newId = options.newId ?? newBatchId;
  }

  async list(): Promise<SpoolEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return [];
      throw error;
    }
    const entries: SpoolEntry[] = [];
    for (const file of names) {
      const match = BATCH_FILE.exec(file);
      if (!match?.[1] || !match[2]) continue;
      try {
        entries.push({
          file,
          key: match[1],
          batchId: match[2],
          bytes: (await stat(join(this.dir, file))).size,
        });
      } catch {
        // sent and deleted by another probe process (e.g. `backup` next to the daemon) meanwhile
      }
    }
    return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Gives a collection its batch id and writes it.
   * 1. Take over notes left by the sender (batches it had to give up on), so the server hears about them.
   * 2. If the spool would exceed its bound, delete the oldest batches and say so in this batch's notes.
   * 3. Write atomically; only then may the caller treat the data (e.g. a journal cursor) as safe.
   */
  async add(collection: Collection): Promise<SpoolEntry> {
    await this.ensureDir();
    const batch: ProbeBatchV1Input = { v: 1, batchId: this.newId(), sentAt: this.clock(), ...collection };
    batch.notes = [...(collection.notes ?? []), ...(await this.takePendingNotes())];
    let body = await encodeBatch(batch);
    const dropped = await this.makeRoom(body.length);
    if (dropped.batches > 0) {
      batch.notes.push({
        collector: "spool",
        message: `spool full (limit ${this.maxBytes} bytes): dropped the ${dropped.batches} oldest batches`,
        dropped: dropped.batches,
      });
      body = await encodeBatch(batch);
    }
    const key = `${String(this.clock()).padStart(15, "0")}_${String(sequence++ % 10_000).padStart(4, "0")}`;
    return this.write(key, batch.batchId, body);
  }

  async read(entry: SpoolEntry): Promise<Buffer> {
    return readFile(join(this.dir, entry.file));
  }

  async readBatch(entry: SpoolEntry): Promise<ProbeBatchV1Input> {
    return decodeBatch(await this.read(entry));
  }

  async remove(entry: SpoolEntry): Promise<void> {
    await rm(join(this.dir, entry.file), { force: true });
  }

  /** Replaces a batch by its halves in its place in the queue; halves first, so a crash loses nothing. */
  async replace(entry: SpoolEntry, halves: ProbeBatchV1Input[]): Promise<SpoolEntry[]> {
    const written: SpoolEntry[] = [];
    for (const [index, half] of halves.entries()) {
      written.push(await this.write(`${entry.key}.${index}`, half.batchId, await encodeBatch(half)));
    }
    await this.remove(entry);
    return written;
  }

  /** Remembers a note for the next batch added, also across restarts. */
  async addPendingNote(note: ProbeNote): Promise<void> {
    await this.ensureDir();
    const notes = await this.readPendingNotes();
    notes.push(note);
    await writeAtomically(join(this.dir, PENDING_NOTES), Buffer.from(JSON.stringify(notes.slice(-50))));
  }

  private async readPendingNotes(): Promise<ProbeNote[]> {
    try {
      return JSON.parse(await readFile(join(this.dir, PENDING_NOTES), "utf8")) as ProbeNote[];
    } catch {
      return [];
    }
  }

  private async takePendingNotes(): Promise<ProbeNote[]> {
    const notes = await this.readPendingNotes();
    if (notes.length > 0) await rm(join(this.dir, PENDING_NOTES), { force: true });
    return notes;
  }

  private async makeRoom(incomingBytes: number): Promise<{ batches: number }> {
    const entries = await this.list();
    let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    let batches = 0;
    for (const entry of entries) {
      if (total + incomingBytes <= this.maxBytes) break;
      // A dropped batch may itself carry the count of earlier drops: carry it forward, or it is lost too.
      batches += await this.earlierDropsIn(entry);
      await this.remove(entry);
      total -= entry.bytes;
      batches++;
    }
    return { batches };
  }

  private async earlierDropsIn(entry: SpoolEntry): Promise<number> {
    try {
      const batch = await this.readBatch(entry);
      return (batch.notes ?? [])
        .filter((note) => note.collector === "spool")
        .reduce((sum, note) => sum + (note.dropped ?? 0), 0);
    } catch {
      return 0;
    }
  }

  private async write(key: string, batchId: string, body: Buffer): Promise<SpoolEntry> {
    const file = `${key}-${batchId}.json.gz`;
    await writeAtomically(join(this.dir, file), body);
    // `backup` runs as root next to a daemon running as vigil: hand the file to the spool's owner.
    if (process.getuid?.() === 0) {
      const owner = await stat(this.dir);
      if (owner.uid !== 0) await chown(join(this.dir, file), owner.uid, owner.gid).catch(() => undefined);
    }
    return { file, key, batchId, bytes: body.length };
  }

  private async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
  }
}

async function writeAtomically(path: string, body: Buffer): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, body, { mode: 0o640 });
  await rename(temporary, path);
}

export async function encodeBatch(batch: ProbeBatchV1Input): Promise<Buffer> {
  return gzipAsync(Buffer.from(JSON.stringify(batch)));
}

export async function decodeBatch(body: Buffer): Promise<ProbeBatchV1Input> {
  return JSON.parse((await gunzipAsync(body)).toString("utf8")) as ProbeBatchV1Input;
}
