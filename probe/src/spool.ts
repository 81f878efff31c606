import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { chown, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzip, gzipSync } from "node:zlib";
import type { ProbeBatchV1Input, ProbeNote } from "@vigil/contract";
import { newBatchId } from "./batch-id.ts";
import type { Clock } from "./clock.ts";
import type { Collection } from "./collect.ts";
import { splitCollection } from "./split-batch.ts";

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
  /**
   * How long the in-memory index is trusted before the directory is read again (default 60 s): batches and
   * notes that other processes (`backup`, `once`) add to the same spool are picked up within this delay.
   */
  rescanMs?: number;
}

const RESCAN_MS = 60_000;

let sequence = 0;

/**
 * Batches on disk, oldest first, so nothing is lost while the server is unreachable or the probe restarts.
 * Each file is the gzip'd JSON body exactly as it will be sent; a file is written under a temporary name
 * and renamed, so a crash never leaves a half-written batch behind.
 *
 * The disk is the truth; the list of files is also kept in memory, so a daemon does not readdir and stat
 * the spool several times per interval. The index is rebuilt from the directory on first use and every
 * `rescanMs`, and a file found missing (sent by another process) is dropped from it.
 */
export class Spool {
  readonly dir: string;
  private readonly clock: Clock;
  private readonly maxBytes: number;
  private readonly newId: () => string;
  private readonly rescanMs: number;
  /** sorted by key, as on disk the last time we looked plus our own writes and removals since */
  private index: SpoolEntry[] | undefined;
  private scannedAt = Number.NEGATIVE_INFINITY;
  /** false once this process has taken the pending notes and nobody has added one since the last scan */
  private pendingNotesMayExist = true;
  private dirReady = false;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.clock = options.clock;
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_BYTES;
    this.newId = options.newId ?? newBatchId;
    this.rescanMs = options.rescanMs ?? RESCAN_MS;
  }

  async list(): Promise<SpoolEntry[]> {
    // A clock stepped back (NTP at boot) also forces a scan, or the index could be trusted for hours.
    const age = this.clock() - this.scannedAt;
    if (!this.index || age >= this.rescanMs || age < 0) {
      this.index = await this.scan();
      this.scannedAt = this.clock();
      this.pendingNotesMayExist = true;
      this.dirReady = false;
    }
    return [...this.index];
  }

  private async scan(): Promise<SpoolEntry[]> {
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
    return entries.sort(byKey);
  }

  /**
   * Gives a collection its batch id and writes it.
   * 1. Take over notes left by the sender (batches it had to give up on), so the server hears about them.
   * 2. If the spool would exceed its bound, delete the oldest batches and say so in this batch's notes.
   * 3. Write atomically; only then may the caller treat the data (e.g. a journal cursor) as safe.
   */
  async add(collection: Collection): Promise<SpoolEntry> {
    // A collection with more custom samples than a batch may carry becomes several batches, in order.
    const [first, ...more] = splitCollection(collection);
    const entry = await this.addOne(first ?? collection);
    for (const part of more) await this.addOne(part);
    return entry;
  }

  private async addOne(collection: Collection): Promise<SpoolEntry> {
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
    try {
      return readFileSync(join(this.dir, entry.file));
    } catch (error) {
      // Sent and deleted by another probe process meanwhile: forget it, or the index would offer it again.
      if ((error as { code?: string }).code === "ENOENT") this.forget(entry);
      throw error;
    }
  }

  async readBatch(entry: SpoolEntry): Promise<ProbeBatchV1Input> {
    return decodeBatch(await this.read(entry));
  }

  async remove(entry: SpoolEntry): Promise<void> {
    rmSync(join(this.dir, entry.file), { force: true });
    this.forget(entry);
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
    this.pendingNotesMayExist = true;
  }

  private async readPendingNotes(): Promise<ProbeNote[]> {
    try {
      return JSON.parse(await readFile(join(this.dir, PENDING_NOTES), "utf8")) as ProbeNote[];
    } catch {
      return [];
    }
  }

  private async takePendingNotes(): Promise<ProbeNote[]> {
    if (!this.pendingNotesMayExist) return [];
    const notes = await this.readPendingNotes();
    if (notes.length > 0) rmSync(join(this.dir, PENDING_NOTES), { force: true });
    this.pendingNotesMayExist = false;
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
    const entry = { file, key, batchId, bytes: body.length };
    if (this.index) {
      this.index.push(entry);
      this.index.sort(byKey);
    }
    return entry;
  }

  private forget(entry: SpoolEntry): void {
    this.index = this.index?.filter((e) => e.file !== entry.file);
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
    this.dirReady = true;
  }
}

function byKey(a: SpoolEntry, b: SpoolEntry): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Synchronous like the /proc reads: the daemon's loop does one thing at a time anyway, and each fs/promises
 * call is a thread-pool round trip that cost more CPU than the small write itself.
 */
async function writeAtomically(path: string, body: Buffer): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, body, { mode: 0o640 });
  renameSync(temporary, path);
}

/** Synchronous: a batch is a few kilobytes, and the thread-pool hand-off cost more CPU than compressing it. */
export async function encodeBatch(batch: ProbeBatchV1Input): Promise<Buffer> {
  return gzipSync(JSON.stringify(batch));
}

export async function decodeBatch(body: Buffer): Promise<ProbeBatchV1Input> {
  return JSON.parse((await gunzipAsync(body)).toString("utf8")) as ProbeBatchV1Input;
}
