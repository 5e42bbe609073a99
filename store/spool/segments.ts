import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, unlinkIfExists } from './files.js';
import { SegmentReader } from './record.js';
import type { SpoolEntry, SpoolPosition } from './spool.js';

const SEGMENT_RE = /^(\d{8,})\.seg$/;

export const segmentName = (n: number): string => `${String(n).padStart(8, '0')}.seg`;

/** The segment numbers among these file names, ascending. */
export function segmentNumbers(names: string[]): number[] {
  return names
    .map((name) => SEGMENT_RE.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

export interface Writer {
  segment: number;
  fh: FileHandle;
  /** bytes written (the durable size is in `sizes`) */
  size: number;
}

/** A record a peek returned: where it ends, its framed bytes and appendedAt, so ack need not re-read it. */
export interface IndexEntry {
  position: SpoolPosition;
  bytes: number;
  appendedAt: number;
}

/**
 * The segment files `NNNNNNNN.seg` of one spool directory: their durable sizes, the last one (open for
 * appending, rolled to a new one when full), and reading records back out of them.
 */
export class Segments {
  /** segment number → durable size, ascending (Map keeps insertion order; segments are only added at the end) */
  readonly sizes = new Map<number, number>();
  /** the last segment, open for appending */
  writer: Writer | null = null;

  constructor(
    readonly dir: string,
    /** roll to a new segment file after this many bytes */
    readonly segmentBytes: number,
  ) {}

  path(n: number): string {
    return path.join(this.dir, segmentName(n));
  }

  async remove(n: number): Promise<void> {
    this.sizes.delete(n);
    await unlinkIfExists(this.path(n));
  }

  /** Just after the last durable record of the segment being appended to; null when none is open. */
  durableEnd(): SpoolPosition | null {
    return this.writer ? { segment: this.writer.segment, offset: this.sizes.get(this.writer.segment) ?? 0 } : null;
  }

  /** The segment to write a record of `size` bytes to, rolling to a new one when the current is full. */
  async writerFor(size: number, cursor: () => SpoolPosition): Promise<Writer> {
    const old = this.writer;
    if (old && (old.size === 0 || old.size + size <= this.segmentBytes)) return old;
    const lastKnown = [...this.sizes.keys()].at(-1) ?? 0;
    const n = Math.max(old?.segment ?? 0, lastKnown, cursor().segment) + 1;
    const file = this.path(n);
    const fh = await fsp.open(file, 'w');
    try {
      await fh.sync();
      await fsyncDir(this.dir); // the new name must survive a crash before any record in it is acknowledged
    } catch (err) {
      await fh.close();
      await unlinkIfExists(file).catch(() => undefined);
      throw err;
    }
    this.sizes.set(n, 0);
    this.writer = { segment: n, fh, size: 0 };
    if (old) {
      await old.fh.close();
      // sealed now; if the consumer already finished it, nothing in it is needed
      const c = cursor();
      if (c.segment === old.segment && c.offset === this.sizes.get(old.segment)) await this.remove(old.segment);
    }
    return this.writer;
  }

  /** Deletes the segments wholly before `cursor`, and the cursor's own one if it is sealed and fully consumed. */
  async removeConsumed(cursor: SpoolPosition): Promise<void> {
    for (const [n, size] of [...this.sizes]) {
      const sealed = n !== this.writer?.segment;
      if (n < cursor.segment || (n === cursor.segment && sealed && size === cursor.offset)) await this.remove(n);
    }
  }

  /**
   * The first `max` durable records after `from`, CRC-checked and parsed. An unreadable one is reported
   * and rejects the read: reopening the spool repairs the segment.
   */
  async read<T>(from: SpoolPosition, max: number, report: (message: string) => void): Promise<{ entries: SpoolEntry<T>[]; index: IndexEntry[] }> {
    const entries: SpoolEntry<T>[] = [];
    const index: IndexEntry[] = [];
    for (const [n, size] of [...this.sizes]) {
      if (entries.length >= max) break;
      if (n < from.segment) continue;
      let pos = n === from.segment ? from.offset : 0;
      if (pos >= size) continue;
      const fh = await fsp.open(this.path(n), 'r');
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
            report(msg);
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
    return { entries, index };
  }

  /** Records and framed bytes from `from` up to `upTo`, which must end a record (headers only, no CRC check). */
  async measure(from: SpoolPosition, upTo: SpoolPosition): Promise<{ records: number; bytes: number }> {
    if (!this.sizes.has(upTo.segment)) throw new RangeError(`spool: ack ${upTo.segment}:${upTo.offset}: no such segment`);
    let records = 0;
    let bytes = 0;
    for (const [n, size] of [...this.sizes]) {
      if (n < from.segment || n > upTo.segment) continue;
      const start = n === from.segment ? from.offset : 0;
      const end = n === upTo.segment ? upTo.offset : size;
      if (start >= end) continue;
      const fh = await fsp.open(this.path(n), 'r');
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
    return { records, bytes };
  }

  /** appendedAt of the first durable record after `pos`, or null. */
  async appendedAtAfter(pos: SpoolPosition): Promise<number | null> {
    for (const [n, size] of [...this.sizes]) {
      if (n < pos.segment) continue;
      const start = n === pos.segment ? pos.offset : 0;
      if (start >= size) continue;
      const fh = await fsp.open(this.path(n), 'r');
      try {
        const r = await new SegmentReader(fh, size).record(start, false);
        return r.kind === 'ok' ? r.appendedAt : null;
      } finally {
        await fh.close();
      }
    }
    return null;
  }
}
