import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Backlog } from './backlog.js';
import { readCursor, writeCursor } from './cursor.js';
import { fsyncDir, readFully, syncFile, truncateFile, unlinkIfExists, writeAll } from './files.js';
import { salvageRecords, SegmentReader } from './record.js';
import { segmentName, segmentNumbers, type Segments } from './segments.js';

const CORRUPT_DIR = 'corrupt';

/**
 * What `Spool.open()` does (README.md, "Recovery"): creates the directory, removes leftovers of
 * interrupted writes, reads the cursor, deletes the segments it has passed, verifies every unconsumed
 * record (truncating a torn tail, repairing damage into corrupt/) and fills in `segments` and `backlog`.
 * The last segment becomes the append target.
 */
export function recover(segments: Segments, backlog: Backlog, report: (message: string) => void): Promise<void> {
  return new Recovery(segments, backlog, report).run();
}

class Recovery {
  constructor(
    private readonly segments: Segments,
    private readonly backlog: Backlog,
    private readonly report: (message: string) => void,
  ) {}

  async run(): Promise<void> {
    const { segments, backlog } = this;
    const dir = segments.dir;
    const made = await fsp.mkdir(dir, { recursive: true });
    if (made !== undefined) await fsyncDir(path.dirname(dir));

    const names = await fsp.readdir(dir);
    // leftovers of an interrupted cursor write or segment repair: the originals are intact
    for (const name of names) if (name.endsWith('.tmp')) await unlinkIfExists(path.join(dir, name));

    backlog.cursor = await readCursor(dir, this.report);
    const numbers = segmentNumbers(names);
    for (const n of numbers) {
      // wholly consumed before the crash; the deletion after the cursor write did not happen
      if (n < backlog.cursor.segment) await unlinkIfExists(segments.path(n));
    }
    const live = numbers.filter((n) => n >= backlog.cursor.segment);
    for (const [i, n] of live.entries()) {
      const start = n === backlog.cursor.segment ? backlog.cursor.offset : 0;
      const seg = await this.scanSegment(n, start, i === live.length - 1);
      segments.sizes.set(n, seg.size);
      backlog.records += seg.records;
      backlog.bytes += seg.size - Math.min(start, seg.size);
      backlog.oldest ??= seg.oldest;
    }

    const last = live.at(-1);
    const cursorSize = segments.sizes.get(backlog.cursor.segment);
    if (cursorSize !== undefined && backlog.cursor.offset > cursorSize) {
      // the segment is shorter than the cursor says (damaged outside the spool): never append under the cursor
      this.report(`spool: cursor ${backlog.cursor.segment}:${backlog.cursor.offset} is beyond the end of ${segmentName(backlog.cursor.segment)} (${cursorSize} bytes); cursor moved to its end`);
      await writeCursor(dir, { segment: backlog.cursor.segment, offset: cursorSize });
      backlog.cursor = { segment: backlog.cursor.segment, offset: cursorSize };
    }
    if (cursorSize !== undefined && backlog.cursor.segment !== last && backlog.cursor.offset === cursorSize) {
      await segments.remove(backlog.cursor.segment);
    }
    if (last !== undefined) {
      segments.writer = { segment: last, fh: await fsp.open(segments.path(last), 'r+'), size: segments.sizes.get(last)! };
    }
  }

  /**
   * Verify every record of a segment from `start`. A bad record followed by nothing readable in the last
   * segment is a torn tail (a crash mid-write, never acknowledged): truncated. Anything else is damage:
   * a copy of the segment goes to corrupt/, the segment is rewritten with its valid prefix plus every
   * valid record found after the damage, and onCorrupt is told.
   */
  private async scanSegment(n: number, start: number, isLast: boolean): Promise<{ size: number; records: number; oldest: number | null }> {
    const file = this.segments.path(n);
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
        await truncateFile(file, pos);
        return { size: pos, records, oldest };
      }
      if (attempt > 0) throw new Error(`spool: ${segmentName(n)} is still unreadable at offset ${pos} after repair (${problem})`);
      await this.repairSegment(n, pos, size, later, problem);
    }
  }

  private async repairSegment(n: number, badAt: number, size: number, later: Buffer[], problem: string): Promise<void> {
    const dir = this.segments.dir;
    const name = segmentName(n);
    const file = this.segments.path(n);
    const corruptDir = path.join(dir, CORRUPT_DIR);
    await fsp.mkdir(corruptDir, { recursive: true });
    const asideName = `${name}.${Date.now()}`;
    const aside = path.join(corruptDir, asideName);
    await fsp.copyFile(file, aside);
    await syncFile(aside);
    await fsyncDir(corruptDir);
    await fsyncDir(dir);

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
    await fsyncDir(dir);

    const kept = later.reduce((s, b) => s + b.length, 0);
    this.report(
      `spool: ${name} is corrupt at offset ${badAt} (${problem}); copy moved to ${CORRUPT_DIR}/${asideName}; ` +
        `records before it kept, ${later.length} later record(s) salvaged, ${size - badAt - kept} byte(s) unreadable and dropped`,
    );
  }
}
