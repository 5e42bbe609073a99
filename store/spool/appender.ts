import type { Backlog } from './backlog.js';
import { writeAll } from './files.js';
import { encodeRecord, HEADER_BYTES, MAX_PAYLOAD_BYTES } from './record.js';
import type { Segments, Writer } from './segments.js';

const MAX_BATCH_BYTES = 4 * 1024 * 1024;

interface PendingAppend {
  payload: Buffer;
  size: number;
  appendedAt: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The append path: queue → batch → write → datasync → resolve. Appends made while a write and its
 * datasync run are written together next, in call order, with one datasync (group fsync). The disk
 * budget `maxBytes` counts the backlog plus the appends being written; an append that does not fit
 * waits, and so does every append after it (back-pressure).
 */
export class Appender {
  /** appends not yet written, in call order */
  private queue: PendingAppend[] = [];
  /** bytes of appends being written (counted against maxBytes) */
  private inflightBytes = 0;
  private flushActive = false;
  private flushDone: Promise<void> = Promise.resolve();
  /** set when an fsync failed: the spool can no longer promise durability and refuses appends */
  private failure: Error | null = null;

  constructor(
    private readonly segments: Segments,
    private readonly backlog: Backlog,
    private readonly maxBytes: number,
    /** called once records are durable and counted in the backlog */
    private readonly onCommit: () => void,
  ) {}

  /** Resolves once `value` is durable on disk. */
  append(value: unknown): Promise<void> {
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
    if (size > this.maxBytes || payload.length > MAX_PAYLOAD_BYTES) {
      return Promise.reject(
        new RangeError(`spool: record of ${size} bytes (${payload.length} JSON + ${HEADER_BYTES} header) is larger than maxBytes ${this.maxBytes} and can never fit`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ payload, size, appendedAt: 0, resolve, reject });
      this.kick();
    });
  }

  /** Starts writing the queued appends that fit, unless a write is already under way. */
  kick(): void {
    if (this.flushActive || this.failure || this.queue.length === 0) return;
    this.flushActive = true;
    this.flushDone = this.flushLoop();
  }

  /** Appends held back because the budget is full. */
  waitingForSpace(): number {
    return this.queue.length - this.admissibleCount(Number.POSITIVE_INFINITY);
  }

  /** Rejects the appends waiting for space (they will not get it any more) and waits until the ones that fit are written. */
  async close(): Promise<void> {
    const blocked = this.queue.splice(this.admissibleCount(Number.POSITIVE_INFINITY));
    for (const it of blocked) it.reject(new Error('spool: closed while the append waited for space (maxBytes)'));
    while (this.flushActive) await this.flushDone;
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
    let used = this.backlog.bytes + this.inflightBytes;
    let batch = 0;
    let k = 0;
    for (const it of this.queue) {
      if (used + it.size > this.maxBytes) break;
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
        const w = await this.segments.writerFor(batch[done]!.size, () => this.backlog.cursor);
        const start = w.size;
        const now = Date.now();
        const frames: Buffer[] = [];
        let end = start;
        let i = done;
        for (; i < batch.length; i++) {
          const it = batch[i]!;
          if (i > done && end + it.size > this.segments.segmentBytes) break;
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
    this.segments.sizes.set(segment, end);
    for (const it of part) {
      this.inflightBytes -= it.size;
      this.backlog.records++;
      this.backlog.bytes += it.size;
      this.backlog.oldest ??= it.appendedAt;
      it.resolve();
    }
    this.onCommit();
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
}
