/**
 * Where the Data API stand-in keeps a statement's result: its rows in PostgreSQL's text form, in the order the engine
 * read them. A small result stays in memory; past `memoryBytes` the rows move to a file (one JSON array per line) in
 * the spool directory, with the byte offset of every `INDEX_EVERY`-th row, so a `GetStatementResult` page is read from
 * disk without reading what comes before it. The stand-in's memory stays flat whatever the result's size, as the
 * Data API keeps results outside the cluster. Writes are synchronous and buffered: the engine's socket is not read
 * again until a chunk is on disk, so PostgreSQL waits for the spool instead of filling this process's memory.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One row: PostgreSQL's text form of each value (`null` for NULL). */
export type TextRow = ReadonlyArray<string | null>;

/** Rows between two recorded offsets. */
const INDEX_EVERY = 256;
/** Buffered bytes written at once. */
const FLUSH_BYTES = 1024 * 1024;
/** Bytes read at once when a page is read from the file. */
const READ_BYTES = 256 * 1024;

/** The directory a Data API stand-in spools its large results to: created on first use, removed with `remove()`. */
export class SpoolDirectory {
  private path?: string;
  private next = 0;

  /** @param root where the directory is created (default: the system's temporary directory) */
  constructor(private readonly root = tmpdir()) {}

  /** The directory, once a result was spooled. */
  get current(): string | undefined {
    return this.path;
  }

  /** A new file path in the directory. */
  file(): string {
    this.path ??= mkdtempSync(join(this.root, 'redshift-data-results-'));
    return join(this.path, `${++this.next}.jsonl`);
  }

  remove(): void {
    if (this.path) rmSync(this.path, { recursive: true, force: true });
    this.path = undefined;
  }
}

export class ResultSpool {
  /** Rows written. */
  public rowCount = 0;
  /** Bytes of the values' text (what the Data API reports as `ResultSize`). */
  public size = 0;
  private memory: TextRow[] | undefined = [];
  private memoryUsed = 0;
  private file?: { readonly path: string; readonly fd: number; bytes: number; readonly offsets: number[] };
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly directory: SpoolDirectory, private readonly memoryBytes = 4 * 1024 * 1024) {}

  /** Whether the rows are in a file (the result passed `memoryBytes`). */
  get onDisk(): boolean {
    return this.file !== undefined;
  }

  append(rows: readonly TextRow[]): void {
    for (const row of rows) {
      let bytes = 0;
      for (const value of row) if (value !== null) bytes += Buffer.byteLength(value);
      this.size += bytes;
      if (this.memory) {
        this.memory.push(row);
        this.memoryUsed += bytes + 16 * row.length;
        this.rowCount += 1;
        if (this.memoryUsed > this.memoryBytes) this.spill();
        continue;
      }
      this.write(row);
    }
  }

  /** Writes what is buffered: call once the last rows are in. */
  finish(): void {
    this.flush();
  }

  /** `count` rows from row `offset` (fewer at the end). */
  read(offset: number, count: number): TextRow[] {
    const end = Math.min(this.rowCount, offset + count);
    if (offset >= end) return [];
    if (this.memory) return this.memory.slice(offset, end);
    this.flush();
    const file = this.file!;
    const block = Math.floor(offset / INDEX_EVERY);
    let position = file.offsets[block];
    let skip = offset - block * INDEX_EVERY;
    const rows: TextRow[] = [];
    let carry = '';
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    while (rows.length < end - offset && position < file.bytes) {
      const read = readSync(file.fd, buffer, 0, Math.min(READ_BYTES, file.bytes - position), position);
      if (read <= 0) break;
      position += read;
      const lines = (carry + buffer.toString('utf8', 0, read)).split('\n');
      carry = lines.pop()!;
      for (const line of lines) {
        if (skip > 0) {
          skip -= 1;
          continue;
        }
        rows.push(JSON.parse(line) as TextRow);
        if (rows.length === end - offset) break;
      }
    }
    return rows;
  }

  /** Frees the rows (the file goes). */
  discard(): void {
    this.memory = [];
    this.memoryUsed = 0;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.file) {
      closeSync(this.file.fd);
      try {
        unlinkSync(this.file.path);
      } catch {
        // Its directory was removed already.
      }
      this.file = undefined;
    }
    this.rowCount = 0;
  }

  /** Moves the rows held in memory to a new file. */
  private spill(): void {
    const rows = this.memory!;
    this.memory = undefined;
    this.memoryUsed = 0;
    const path = this.directory.file();
    this.file = { path, fd: openSync(path, 'w+'), bytes: 0, offsets: [] };
    this.rowCount = 0;
    for (const row of rows) this.write(row);
  }

  private write(row: TextRow): void {
    const file = this.file!;
    if (this.rowCount % INDEX_EVERY === 0) file.offsets.push(file.bytes + this.pendingBytes);
    const line = Buffer.from(`${JSON.stringify(row)}\n`);
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.rowCount += 1;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (!this.file || !this.pendingBytes) return;
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    let written = 0;
    while (written < chunk.length) written += writeSync(this.file.fd, chunk, written, chunk.length - written, this.file.bytes + written);
    this.file.bytes += chunk.length;
    this.pending = [];
    this.pendingBytes = 0;
  }
}
