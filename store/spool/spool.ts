import path from 'node:path';
import { z } from 'zod';
import { Appender } from './appender.js';
import { emptyBacklog, type Backlog } from './backlog.js';
import { writeCursor } from './cursor.js';
import { recover } from './recovery.js';
import { Segments, type IndexEntry } from './segments.js';

/**
 * On-disk spool between ingest and a remote store (see README.md in this folder for the format,
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

const comparePos = (a: SpoolPosition, b: SpoolPosition): number => a.segment - b.segment || a.offset - b.offset;
const samePos = (a: SpoolPosition, b: SpoolPosition): boolean => a.segment === b.segment && a.offset === b.offset;

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

  private readonly backlog: Backlog = emptyBacklog();
  private readonly segments: Segments;
  private readonly appender: Appender;

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
    this.segments = new Segments(this.dir, parsed.data.segmentBytes);
    this.appender = new Appender(this.segments, this.backlog, parsed.data.maxBytes, () => this.wakeReaders());
  }

  open(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error(`spool: open() called on a spool that is ${this.state}`));
    if (OPEN_DIRS.has(this.dir)) return Promise.reject(new Error(`spool: ${this.dir} is already open by another Spool in this process`));
    OPEN_DIRS.add(this.dir);
    this.state = 'opening';
    this.opening = recover(this.segments, this.backlog, (m) => this.report(m)).then(
      () => {
        this.state = 'open';
      },
      async (err: unknown) => {
        await this.segments.writer?.fh.close().catch(() => undefined);
        this.segments.writer = null;
        OPEN_DIRS.delete(this.dir);
        this.state = 'closed';
        throw err;
      },
    );
    return this.opening;
  }

  append(value: T): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`spool: append on a spool that is ${this.state}`));
    return this.appender.append(value);
  }

  // -------------------------------------------------------------------------------------------
  // peek / ack
  // -------------------------------------------------------------------------------------------

  peek(max: number): Promise<SpoolEntry<T>[]> {
    if (!Number.isInteger(max) || max < 0) return Promise.reject(new RangeError(`spool: peek(max) needs a non-negative integer, got ${max}`));
    if (this.state !== 'open') return Promise.reject(new Error(`spool: peek on a spool that is ${this.state}`));
    return this.serial(async () => {
      const from = { ...this.backlog.cursor };
      const { entries, index } = await this.segments.read<T>(from, max, (m) => this.report(m));
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
      const { backlog } = this;
      if (comparePos(target, backlog.cursor) <= 0) return; // already consumed: acking twice is harmless
      const durableEnd = this.segments.durableEnd() ?? backlog.cursor;
      if (comparePos(target, durableEnd) > 0) {
        throw new RangeError(`spool: ack ${target.segment}:${target.offset} is beyond the last durable record ${durableEnd.segment}:${durableEnd.offset}`);
      }
      const m = await this.measure(target);
      await writeCursor(this.dir, target);
      backlog.cursor = target;
      backlog.records -= m.records;
      backlog.bytes -= m.bytes;
      this.index = m.rest ? { from: target, entries: m.rest } : null;
      await this.segments.removeConsumed(target);
      backlog.oldest = backlog.records === 0 ? null : (m.next ?? (await this.segments.appendedAtAfter(backlog.cursor)));
      this.appender.kick(); // space freed: waiting appends may fit now
    });
  }

  /** Records and bytes from the cursor up to `upTo` (which must end a record), and the appendedAt of the next one. */
  private async measure(upTo: SpoolPosition): Promise<{ records: number; bytes: number; next: number | null; rest: IndexEntry[] | null }> {
    const idx = this.index;
    if (idx && samePos(idx.from, this.backlog.cursor)) {
      const i = idx.entries.findIndex((e) => samePos(e.position, upTo));
      if (i >= 0) {
        const done = idx.entries.slice(0, i + 1);
        const rest = idx.entries.slice(i + 1);
        return { records: done.length, bytes: done.reduce((s, e) => s + e.bytes, 0), next: rest[0]?.appendedAt ?? null, rest };
      }
    }
    const { records, bytes } = await this.segments.measure(this.backlog.cursor, upTo);
    return { records, bytes, next: await this.segments.appendedAtAfter(upTo), rest: null };
  }

  waitForData(signal?: AbortSignal): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`spool: waitForData on a spool that is ${this.state}`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.backlog.records > 0) return Promise.resolve();
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
      records: this.backlog.records,
      bytes: this.backlog.bytes,
      oldestAppendedAt: this.backlog.oldest,
      appendWaiting: this.appender.waitingForSpace(),
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
      await this.appender.close();
      await this.chain;
      for (const w of [...this.dataWaiters]) w.reject(new Error('spool: closed'));
      await this.segments.writer?.fh.close();
      this.segments.writer = null;
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

  /** Records became durable: wake the consumer waiting for data. */
  private wakeReaders(): void {
    if (this.backlog.records > 0) for (const w of [...this.dataWaiters]) w.resolve();
  }

  private report(message: string): void {
    try {
      this.settings.onCorrupt?.(message);
    } catch {
      // a failing listener must not break recovery
    }
  }
}
