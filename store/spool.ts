import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * On-disk spool between ingest and a remote store (see SPOOL.md next to this file for the format,
 * the durability points and the recovery rules).
 *
 * An append-only queue of JSON records in segment files `NNNNNNNN.seg`, with a durable cursor file
 * saying how far the consumer got. `append` resolves only after the record is fsync'd
 * (concurrent appends share one fsync), so an MQTT QoS 1 acknowledgement can be sent as soon as it
 * resolves. Records are delivered at least once: a record is consumed only when `ack` has written
 * the cursor past it.
 */

export interface SpoolOptions {
  /** created if missing */
  dir: string;
  /** disk budget for unconsumed data; when full, append waits (back-pressure) instead of failing or dropping */
  maxBytes: number;
  /** roll to a new segment file after this many bytes (default 16 MiB) */
  segmentBytes?: number;
  /** called (never throws into the spool) when recovery finds damage and moves a segment copy to `<dir>/corrupt/` */
  onCorrupt?: (message: string) => void;
}
/** position just AFTER a record */
export interface SpoolPosition {
  segment: number;
  offset: number;
}
export interface SpoolEntry<T> {
  position: SpoolPosition;
  appendedAt: number;
  value: T;
}
export interface SpoolStats {
  records: number;
  bytes: number;
  oldestAppendedAt: number | null;
  appendWaiting: number;
  maxBytes: number;
}

const MiB = 1024 * 1024;

const optionsSchema = z.strictObject({
  dir: z.string().min(1, { error: 'dir must be a non-empty path' }),
  maxBytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  segmentBytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(16 * MiB),
  onCorrupt: z.custom<(message: string) => void>((v) => typeof v === 'function', { error: 'onCorrupt must be a function' }).optional(),
});
type Settings = z.output<typeof optionsSchema>;

// ---------------------------------------------------------------------------------------------
// Record framing
//
//   0  4  magic FF 53 50 01 ("\xFFSP" + format version 1; 0xFF never occurs in UTF-8 JSON)
//   4  4  CRC-32 (IEEE 802.3) of bytes 8 .. end of record, uint32 big-endian
//   8  4  payload length n, uint32 big-endian
//  12  8  appendedAt, ms since the Unix epoch, uint64 big-endian
//  20  n  payload: JSON.stringify(value), UTF-8
// ---------------------------------------------------------------------------------------------

const MAGIC = Buffer.from([0xff, 0x53, 0x50, 0x01]);
const HEADER_BYTES = 20;
const MAX_PAYLOAD_BYTES = 0xffff_ffff;
const READ_CHUNK = 256 * 1024;
const MAX_BATCH_BYTES = 4 * MiB;
const CURSOR_FILE = 'cursor';
const CORRUPT_DIR = 'corrupt';
const SEGMENT_RE = /^(\d{8,})\.seg$/;
const EMPTY = Buffer.alloc(0);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, reflected, poly 0xEDB88320): crc32("123456789") = 0xCBF43926. Node 20 has no zlib.crc32. */
function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function encodeRecord(payload: Buffer, appendedAt: number): Buffer {
  const rec = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  MAGIC.copy(rec, 0);
  rec.writeUInt32BE(payload.length, 8);
  rec.writeBigUInt64BE(BigInt(appendedAt), 12);
  payload.copy(rec, HEADER_BYTES);
  rec.writeUInt32BE(crc32(rec.subarray(8)), 4);
  return rec;
}

type Decoded =
  | { kind: 'ok'; end: number; appendedAt: number; payload: Buffer }
  | { kind: 'end' }
  | { kind: 'torn' | 'bad'; reason: string };

/** Reads records of one segment file through a read-ahead buffer (one syscall per chunk, not per record). */
class SegmentReader {
  private buf: Buffer = EMPTY;
  private bufPos = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly end: number,
  ) {}

  private async bytes(pos: number, len: number): Promise<Buffer> {
    const want = Math.max(0, Math.min(len, this.end - pos));
    if (pos >= this.bufPos && pos + want <= this.bufPos + this.buf.length) {
      return this.buf.subarray(pos - this.bufPos, pos - this.bufPos + want);
    }
    const buf = Buffer.allocUnsafe(Math.min(Math.max(want, READ_CHUNK), this.end - pos));
    const n = await readFully(this.fh, buf, pos);
    this.buf = buf.subarray(0, n);
    this.bufPos = pos;
    return this.buf.subarray(0, Math.min(want, n));
  }

  /** The record starting at `pos`. `verify` checks the CRC and returns the payload; without it only the header is read. */
  async record(pos: number, verify: boolean): Promise<Decoded> {
    if (pos >= this.end) return { kind: 'end' };
    const head = await this.bytes(pos, HEADER_BYTES);
    if (head.length < HEADER_BYTES) return { kind: 'torn', reason: `${this.end - pos} byte(s) left, fewer than a record header` };
    if (!head.subarray(0, 4).equals(MAGIC)) return { kind: 'bad', reason: 'no record header (bad magic)' };
    const crc = head.readUInt32BE(4);
    const length = head.readUInt32BE(8);
    const appendedAt = Number(head.readBigUInt64BE(12));
    const end = pos + HEADER_BYTES + length;
    if (end > this.end) return { kind: 'torn', reason: `record of ${length} payload bytes runs past the end of the file` };
    if (!verify) return { kind: 'ok', end, appendedAt, payload: EMPTY };
    const whole = await this.bytes(pos, HEADER_BYTES + length);
    if (whole.length < HEADER_BYTES + length) return { kind: 'torn', reason: 'file shorter than its size' };
    if (crc32(whole.subarray(8)) !== crc) return { kind: 'bad', reason: 'checksum mismatch' };
    return { kind: 'ok', end, appendedAt, payload: whole.subarray(HEADER_BYTES) };
  }
}

/** Valid records found by scanning `buf` for the magic and checking each candidate's CRC (resynchronisation after damage). */
function salvageRecords(buf: Buffer): Buffer[] {
  const found: Buffer[] = [];
  let i = 0;
  while (i + HEADER_BYTES <= buf.length) {
    const j = buf.indexOf(MAGIC, i);
    if (j < 0 || j + HEADER_BYTES > buf.length) break;
    const end = j + HEADER_BYTES + buf.readUInt32BE(j + 8);
    if (end <= buf.length && crc32(buf.subarray(j + 8, end)) === buf.readUInt32BE(j + 4)) {
      found.push(buf.subarray(j, end));
      i = end;
    } else {
      i = j + 1;
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Small file helpers
// ---------------------------------------------------------------------------------------------

async function readFully(fh: FileHandle, buf: Buffer, pos: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, pos + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

async function writeAll(fh: FileHandle, buf: Buffer, pos: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, pos + done);
    done += bytesWritten;
  }
}

/** fsync a directory so that a create, rename or unlink in it is durable (a no-op where the OS refuses). */
async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}

async function unlinkIfExists(file: string): Promise<void> {
  try {
    await fsp.unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

const segmentName = (n: number): string => `${String(n).padStart(8, '0')}.seg`;
const comparePos = (a: SpoolPosition, b: SpoolPosition): number => a.segment - b.segment || a.offset - b.offset;
const samePos = (a: SpoolPosition, b: SpoolPosition): boolean => a.segment === b.segment && a.offset === b.offset;
const cursorCheck = (p: SpoolPosition): number => crc32(Buffer.from(`${p.segment}:${p.offset}`));

interface PendingAppend {
  payload: Buffer;
  size: number;
  appendedAt: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Writer {
  segment: number;
  fh: FileHandle;
  /** bytes written (the durable size is in `segments`) */
  size: number;
}

interface IndexEntry {
  position: SpoolPosition;
  bytes: number;
  appendedAt: number;
}

interface DataWaiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Directories opened by a Spool in this process: two spools on one directory would corrupt each other. */
const OPEN_DIRS = new Set<string>();

export class Spool<T = unknown> {
  private readonly settings: Settings;
  private readonly dir: string;
  private state: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | null = null;
  private opening: Promise<void> | null = null;
  /** set when an fsync failed: the spool can no longer promise durability and refuses appends */
  private failure: Error | null = null;

  /** everything before this position is consumed (durable in the cursor file) */
  private cursor: SpoolPosition = { segment: 0, offset: 0 };
  /** segment number → durable size, ascending (Map keeps insertion order; segments are only added at the end) */
  private readonly segments = new Map<number, number>();
  private writer: Writer | null = null;

  /** unconsumed durable records and their framed bytes */
  private records = 0;
  private bytes = 0;
  private oldest: number | null = null;

  /** appends not yet written, in call order */
  private queue: PendingAppend[] = [];
  /** bytes of appends being written (counted against maxBytes) */
  private inflightBytes = 0;
  private flushActive = false;
  private flushDone: Promise<void> = Promise.resolve();

  /** peek and ack run one at a time */
  private chain: Promise<void> = Promise.resolve();
  /** positions of the records the last peek returned, so ack need not re-read them */
  private index: { from: SpoolPosition; entries: IndexEntry[] } | null = null;
  private readonly dataWaiters = new Set<DataWaiter>();

  constructor(opts: SpoolOptions) {
    const parsed = optionsSchema.safeParse(opts);
    if (!parsed.success) {
      throw new TypeError(`spool: invalid options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    this.settings = parsed.data;
    this.dir = path.resolve(parsed.data.dir);
  }

  // -------------------------------------------------------------------------------------------
  // open / recovery
  // -------------------------------------------------------------------------------------------

  open(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error(`spool: open() called on a spool that is ${this.state}`));
    if (OPEN_DIRS.has(this.dir)) return Promise.reject(new Error(`spool: ${this.dir} is already open by another Spool in this process`));
    OPEN_DIRS.add(this.dir);
    this.state = 'opening';
    this.opening = this.recover().then(
      () => {
        this.state = 'open';
      },
      async (err: unknown) => {
        await this.writer?.fh.close().catch(() => undefined);
        this.writer = null;
        OPEN_DIRS.delete(this.dir);
        this.state = 'closed';
        throw err;
      },
    );
    return this.opening;
  }

  private async recover(): Promise<void> {
    const made = await fsp.mkdir(this.dir, { recursive: true });
    if (made !== undefined) await fsyncDir(path.dirname(this.dir));

    const names = await fsp.readdir(this.dir);
    // leftovers of an interrupted cursor write or segment repair: the originals are intact
    for (const name of names) if (name.endsWith('.tmp')) await unlinkIfExists(this.file(name));

    this.cursor = await this.readCursor();
    const numbers = names
      .map((name) => SEGMENT_RE.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const n of numbers) {
      // wholly consumed before the crash; the deletion after the cursor write did not happen
      if (n < this.cursor.segment) await unlinkIfExists(this.segmentPath(n));
    }
    const live = numbers.filter((n) => n >= this.cursor.segment);

    for (const [i, n] of live.entries()) {
      const start = n === this.cursor.segment ? this.cursor.offset : 0;
      const seg = await this.scanSegment(n, start, i === live.length - 1);
      this.segments.set(n, seg.size);
      this.records += seg.records;
      this.bytes += seg.size - Math.min(start, seg.size);
      this.oldest ??= seg.oldest;
    }

    const last = live.at(-1);
    const cursorSize = this.segments.get(this.cursor.segment);
    if (cursorSize !== undefined && this.cursor.offset > cursorSize) {
      // the segment is shorter than the cursor says (damaged outside the spool): never append under the cursor
      this.report(`spool: cursor ${this.cursor.segment}:${this.cursor.offset} is beyond the end of ${segmentName(this.cursor.segment)} (${cursorSize} bytes); cursor moved to its end`);
      await this.writeCursor({ segment: this.cursor.segment, offset: cursorSize });
      this.cursor = { segment: this.cursor.segment, offset: cursorSize };
    }
    if (cursorSize !== undefined && this.cursor.segment !== last && this.cursor.offset === cursorSize) {
      await this.removeSegment(this.cursor.segment);
    }
    if (last !== undefined) {
      this.writer = { segment: last, fh: await fsp.open(this.segmentPath(last), 'r+'), size: this.segments.get(last)! };
    }
  }

  /**
   * Verify every record of a segment from `start`. A bad record followed by nothing readable in the last
   * segment is a torn tail (a crash mid-write, never acknowledged): truncated. Anything else is damage:
   * a copy of the segment goes to corrupt/, the segment is rewritten with its valid prefix plus every
   * valid record found after the damage, and onCorrupt is told.
   */
  private async scanSegment(n: number, start: number, isLast: boolean): Promise<{ size: number; records: number; oldest: number | null }> {
    const file = this.segmentPath(n);
    for (let attempt = 0; ; attempt++) {
      let records = 0;
      let oldest: number | null = null;
      let size: number;
      let pos = start;
      let problem: string | null = null;
      let later: Buffer[] = [];
      const fh = await fsp.open(file, 'r');
      try {
        size = (await fh.stat()).size;
        if (start > size) return { size, records: 0, oldest: null };
        const reader = new SegmentReader(fh, size);
        for (;;) {
          const r = await reader.record(pos, true);
          if (r.kind === 'end') break;
          if (r.kind !== 'ok') {
            problem = r.reason;
            break;
          }
          records++;
          oldest ??= r.appendedAt;
          pos = r.end;
        }
        if (problem !== null) {
          const rest = Buffer.allocUnsafe(size - pos - 1);
          await readFully(fh, rest, pos + 1);
          later = salvageRecords(rest);
        }
      } finally {
        await fh.close();
      }
      if (problem === null) return { size, records, oldest };
      if (later.length === 0 && isLast) {
        await this.truncateSegment(file, pos);
        return { size: pos, records, oldest };
      }
      if (attempt > 0) throw new Error(`spool: ${segmentName(n)} is still unreadable at offset ${pos} after repair (${problem})`);
      await this.repairSegment(n, pos, size, later, problem);
    }
  }

  private async truncateSegment(file: string, size: number): Promise<void> {
    const fh = await fsp.open(file, 'r+');
    try {
      await fh.truncate(size);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private async repairSegment(n: number, badAt: number, size: number, later: Buffer[], problem: string): Promise<void> {
    const name = segmentName(n);
    const file = this.segmentPath(n);
    const corruptDir = this.file(CORRUPT_DIR);
    await fsp.mkdir(corruptDir, { recursive: true });
    const asideName = `${name}.${Date.now()}`;
    const aside = path.join(corruptDir, asideName);
    await fsp.copyFile(file, aside);
    await this.syncFile(aside);
    await fsyncDir(corruptDir);
    await fsyncDir(this.dir);

    // rewrite: valid prefix (offsets unchanged, so the cursor stays valid) + salvaged records; atomic rename
    const tmp = `${file}.tmp`;
    await fsp.copyFile(file, tmp);
    const fh = await fsp.open(tmp, 'r+');
    try {
      await fh.truncate(badAt);
      const tail = Buffer.concat(later);
      await writeAll(fh, tail, badAt);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
    await fsyncDir(this.dir);

    const kept = later.reduce((s, b) => s + b.length, 0);
    this.report(
      `spool: ${name} is corrupt at offset ${badAt} (${problem}); copy moved to ${CORRUPT_DIR}/${asideName}; ` +
        `records before it kept, ${later.length} later record(s) salvaged, ${size - badAt - kept} byte(s) unreadable and dropped`,
    );
  }

  private async readCursor(): Promise<SpoolPosition> {
    let text: string;
    try {
      text = await fsp.readFile(this.file(CURSOR_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { segment: 0, offset: 0 };
      throw err;
    }
    try {
      const c = JSON.parse(text) as { version?: unknown; segment?: unknown; offset?: unknown; check?: unknown };
      if (c.version === 1 && Number.isSafeInteger(c.segment) && Number.isSafeInteger(c.offset) && (c.segment as number) >= 0 && (c.offset as number) >= 0) {
        const p = { segment: c.segment as number, offset: c.offset as number };
        if (c.check === cursorCheck(p)) return p;
      }
    } catch {
      // fall through
    }
    this.report(`spool: cursor file is unreadable (${JSON.stringify(text.slice(0, 80))}); replaying every segment from the oldest (at-least-once)`);
    return { segment: 0, offset: 0 };
  }

  private async writeCursor(p: SpoolPosition): Promise<void> {
    const tmp = this.file(`${CURSOR_FILE}.tmp`);
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(`${JSON.stringify({ version: 1, segment: p.segment, offset: p.offset, check: cursorCheck(p) })}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, this.file(CURSOR_FILE));
    await fsyncDir(this.dir);
  }

  // -------------------------------------------------------------------------------------------
  // append: queue → batch → write → datasync → resolve
  // -------------------------------------------------------------------------------------------

  append(value: T): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`spool: append on a spool that is ${this.state}`));
    if (this.failure) return Promise.reject(this.failure);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      return Promise.reject(new TypeError(`spool: value is not JSON-serialisable: ${(err as Error).message}`));
    }
    if (json === undefined) return Promise.reject(new TypeError(`spool: value is not JSON-serialisable (${typeof value})`));
    const payload = Buffer.from(json, 'utf8');
    const size = HEADER_BYTES + payload.length;
    if (size > this.settings.maxBytes || payload.length > MAX_PAYLOAD_BYTES) {
      return Promise.reject(
        new RangeError(`spool: record of ${size} bytes (${payload.length} JSON + ${HEADER_BYTES} header) is larger than maxBytes ${this.settings.maxBytes} and can never fit`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ payload, size, appendedAt: 0, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushActive || this.failure || this.queue.length === 0) return;
    this.flushActive = true;
    this.flushDone = this.flushLoop();
  }

  private async flushLoop(): Promise<void> {
    try {
      for (;;) {
        const batch = this.takeAdmissible();
        if (batch.length === 0) return;
        await this.writeBatch(batch);
      }
    } finally {
      // runs in the same tick as the empty check above: an append cannot slip in between
      this.flushActive = false;
    }
  }

  /** How many queued appends, from the head, fit in the budget now. */
  private admissibleCount(batchLimit: number): number {
    let used = this.bytes + this.inflightBytes;
    let batch = 0;
    let k = 0;
    for (const it of this.queue) {
      if (used + it.size > this.settings.maxBytes) break;
      if (k > 0 && batch + it.size > batchLimit) break;
      used += it.size;
      batch += it.size;
      k++;
    }
    return k;
  }

  private takeAdmissible(): PendingAppend[] {
    if (this.failure) return [];
    const batch = this.queue.splice(0, this.admissibleCount(MAX_BATCH_BYTES));
    for (const it of batch) this.inflightBytes += it.size;
    return batch;
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    let done = 0;
    try {
      while (done < batch.length) {
        const w = await this.ensureWriter(batch[done]!.size);
        const start = w.size;
        const now = Date.now();
        const frames: Buffer[] = [];
        let end = start;
        let i = done;
        for (; i < batch.length; i++) {
          const it = batch[i]!;
          if (i > done && end + it.size > this.settings.segmentBytes) break;
          it.appendedAt = now;
          frames.push(encodeRecord(it.payload, now));
          end += it.size;
        }
        try {
          await writeAll(w.fh, frames.length === 1 ? frames[0]! : Buffer.concat(frames, end - start), start);
        } catch (err) {
          await this.rollBack(w, start, err);
          throw err;
        }
        w.size = end;
        try {
          await w.fh.datasync();
        } catch (err) {
          this.fail(err);
          throw err;
        }
        this.commit(batch.slice(done, i), w.segment, end);
        done = i;
      }
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const it of batch.slice(done)) {
        this.inflightBytes -= it.size;
        it.reject(e);
      }
    }
  }

  private commit(part: PendingAppend[], segment: number, end: number): void {
    this.segments.set(segment, end);
    for (const it of part) {
      this.inflightBytes -= it.size;
      this.records++;
      this.bytes += it.size;
      this.oldest ??= it.appendedAt;
      it.resolve();
    }
    if (this.records > 0) for (const w of [...this.dataWaiters]) w.resolve();
  }

  /** A write failed: cut the segment back to its durable size so no half record sits under later ones. */
  private async rollBack(w: Writer, durable: number, cause: unknown): Promise<void> {
    try {
      await w.fh.truncate(durable);
      await w.fh.datasync();
      w.size = durable;
    } catch {
      this.fail(cause);
    }
  }

  private fail(cause: unknown): void {
    const msg = cause instanceof Error ? cause.message : String(cause);
    this.failure ??= new Error(`spool: disk write failed (${msg}); appends are refused until the spool is reopened (recovery drops the unacknowledged tail)`, { cause });
    for (const it of this.queue.splice(0)) it.reject(this.failure);
  }

  /** The segment to write a record of `size` bytes to, rolling to a new one when the current is full. */
  private async ensureWriter(size: number): Promise<Writer> {
    const old = this.writer;
    if (old && (old.size === 0 || old.size + size <= this.settings.segmentBytes)) return old;
    const lastKnown = [...this.segments.keys()].at(-1) ?? 0;
    const n = Math.max(old?.segment ?? 0, lastKnown, this.cursor.segment) + 1;
    const file = this.segmentPath(n);
    const fh = await fsp.open(file, 'w');
    try {
      await fh.sync();
      await fsyncDir(this.dir); // the new name must survive a crash before any record in it is acknowledged
    } catch (err) {
      await fh.close();
      await unlinkIfExists(file).catch(() => undefined);
      throw err;
    }
    this.segments.set(n, 0);
    this.writer = { segment: n, fh, size: 0 };
    if (old) {
      await old.fh.close();
      // sealed now; if the consumer already finished it, nothing in it is needed
      if (this.cursor.segment === old.segment && this.cursor.offset === this.segments.get(old.segment)) await this.removeSegment(old.segment);
    }
    return this.writer;
  }

  // -------------------------------------------------------------------------------------------
  // peek / ack
  // -------------------------------------------------------------------------------------------

  peek(max: number): Promise<SpoolEntry<T>[]> {
    if (!Number.isInteger(max) || max < 0) return Promise.reject(new RangeError(`spool: peek(max) needs a non-negative integer, got ${max}`));
    if (this.state !== 'open') return Promise.reject(new Error(`spool: peek on a spool that is ${this.state}`));
    return this.serial(async () => {
      const from = { ...this.cursor };
      const entries: SpoolEntry<T>[] = [];
      const index: IndexEntry[] = [];
      for (const [n, size] of [...this.segments]) {
        if (entries.length >= max) break;
        if (n < from.segment) continue;
        let pos = n === from.segment ? from.offset : 0;
        if (pos >= size) continue;
        const fh = await fsp.open(this.segmentPath(n), 'r');
        try {
          const reader = new SegmentReader(fh, size);
          while (pos < size && entries.length < max) {
            const r = await reader.record(pos, true);
            let value: T;
            try {
              if (r.kind !== 'ok') throw new Error(r.kind === 'end' ? 'unexpected end' : r.reason);
              value = JSON.parse(r.payload.toString('utf8')) as T;
            } catch (err) {
              const msg = `spool: record at ${segmentName(n)} offset ${pos} is unreadable (${(err as Error).message}); reopen the spool to repair the segment`;
              this.report(msg);
              throw new Error(msg);
            }
            const position = { segment: n, offset: r.end };
            entries.push({ position, appendedAt: r.appendedAt, value });
            index.push({ position, bytes: r.end - pos, appendedAt: r.appendedAt });
            pos = r.end;
          }
        } finally {
          await fh.close();
        }
      }
      this.index = { from, entries: index };
      return entries;
    });
  }

  ack(upTo: SpoolPosition): Promise<void> {
    if (!upTo || !Number.isSafeInteger(upTo.segment) || !Number.isSafeInteger(upTo.offset) || upTo.segment < 0 || upTo.offset < 0) {
      return Promise.reject(new TypeError(`spool: ack needs a position from peek, got ${JSON.stringify(upTo)}`));
    }
    if (this.state !== 'open') return Promise.reject(new Error(`spool: ack on a spool that is ${this.state}`));
    const target = { segment: upTo.segment, offset: upTo.offset };
    return this.serial(async () => {
      if (comparePos(target, this.cursor) <= 0) return; // already consumed: acking twice is harmless
      const durableEnd = this.writer ? { segment: this.writer.segment, offset: this.segments.get(this.writer.segment) ?? 0 } : this.cursor;
      if (comparePos(target, durableEnd) > 0) {
        throw new RangeError(`spool: ack ${target.segment}:${target.offset} is beyond the last durable record ${durableEnd.segment}:${durableEnd.offset}`);
      }
      const m = await this.measure(target);
      await this.writeCursor(target);
      this.cursor = target;
      this.records -= m.records;
      this.bytes -= m.bytes;
      this.index = m.rest ? { from: target, entries: m.rest } : null;
      for (const [n, size] of [...this.segments]) {
        const sealed = n !== this.writer?.segment;
        if (n < target.segment || (n === target.segment && sealed && size === target.offset)) await this.removeSegment(n);
      }
      this.oldest = this.records === 0 ? null : (m.next ?? (await this.appendedAtAfter(this.cursor)));
      this.kick(); // space freed: waiting appends may fit now
    });
  }

  /** Records and bytes from the cursor up to `upTo` (which must end a record), and the appendedAt of the next one. */
  private async measure(upTo: SpoolPosition): Promise<{ records: number; bytes: number; next: number | null; rest: IndexEntry[] | null }> {
    const idx = this.index;
    if (idx && samePos(idx.from, this.cursor)) {
      const i = idx.entries.findIndex((e) => samePos(e.position, upTo));
      if (i >= 0) {
        const done = idx.entries.slice(0, i + 1);
        const rest = idx.entries.slice(i + 1);
        return { records: done.length, bytes: done.reduce((s, e) => s + e.bytes, 0), next: rest[0]?.appendedAt ?? null, rest };
      }
    }
    if (!this.segments.has(upTo.segment)) throw new RangeError(`spool: ack ${upTo.segment}:${upTo.offset}: no such segment`);
    let records = 0;
    let bytes = 0;
    for (const [n, size] of [...this.segments]) {
      if (n < this.cursor.segment || n > upTo.segment) continue;
      const start = n === this.cursor.segment ? this.cursor.offset : 0;
      const end = n === upTo.segment ? upTo.offset : size;
      if (start >= end) continue;
      const fh = await fsp.open(this.segmentPath(n), 'r');
      try {
        const reader = new SegmentReader(fh, size);
        let pos = start;
        while (pos < end) {
          const r = await reader.record(pos, false);
          if (r.kind !== 'ok' || r.end > end) throw new RangeError(`spool: ack ${upTo.segment}:${upTo.offset} is not the end of a record`);
          records++;
          pos = r.end;
        }
      } finally {
        await fh.close();
      }
      bytes += end - start;
    }
    return { records, bytes, next: await this.appendedAtAfter(upTo), rest: null };
  }

  /** appendedAt of the first durable record after `pos`, or null. */
  private async appendedAtAfter(pos: SpoolPosition): Promise<number | null> {
    for (const [n, size] of [...this.segments]) {
      if (n < pos.segment) continue;
      const start = n === pos.segment ? pos.offset : 0;
      if (start >= size) continue;
      const fh = await fsp.open(this.segmentPath(n), 'r');
      try {
        const r = await new SegmentReader(fh, size).record(start, false);
        return r.kind === 'ok' ? r.appendedAt : null;
      } finally {
        await fh.close();
      }
    }
    return null;
  }

  private async removeSegment(n: number): Promise<void> {
    this.segments.delete(n);
    await unlinkIfExists(this.segmentPath(n));
  }

  waitForData(signal?: AbortSignal): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`spool: waitForData on a spool that is ${this.state}`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.records > 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => waiter.reject(signal?.reason);
      const done = (): void => {
        this.dataWaiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: DataWaiter = {
        resolve: () => {
          done();
          resolve();
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      this.dataWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  stats(): SpoolStats {
    return {
      records: this.records,
      bytes: this.bytes,
      oldestAppendedAt: this.oldest,
      appendWaiting: this.queue.length - this.admissibleCount(Number.POSITIVE_INFINITY),
      maxBytes: this.settings.maxBytes,
    };
  }

  // -------------------------------------------------------------------------------------------
  // close
  // -------------------------------------------------------------------------------------------

  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.state === 'new' || this.state === 'closed') {
      this.state = 'closed';
      return Promise.resolve();
    }
    this.closing = (async () => {
      await this.opening?.catch(() => undefined);
      if (this.state === 'closed') return; // open failed and cleaned up
      this.state = 'closing';
      // appends waiting for space will not get it any more; the ones that fit are written
      const blocked = this.queue.splice(this.admissibleCount(Number.POSITIVE_INFINITY));
      for (const it of blocked) it.reject(new Error('spool: closed while the append waited for space (maxBytes)'));
      while (this.flushActive) await this.flushDone;
      await this.chain;
      for (const w of [...this.dataWaiters]) w.reject(new Error('spool: closed'));
      await this.writer?.fh.close();
      this.writer = null;
      OPEN_DIRS.delete(this.dir);
      this.state = 'closed';
    })();
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------
  // helpers
  // -------------------------------------------------------------------------------------------

  private serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.chain.then(fn);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private report(message: string): void {
    try {
      this.settings.onCorrupt?.(message);
    } catch {
      // a failing listener must not break recovery
    }
  }

  private async syncFile(file: string): Promise<void> {
    const fh = await fsp.open(file, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  private segmentPath(n: number): string {
    return this.file(segmentName(n));
  }
}
