import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Kind, Sector } from '../devices/kinds.js';
import type { StoreEvents, StoredReading, WriteResult } from '../ingest/reading.js';
import { openPrivateFile } from '../lib/private-file.js';
import { SqliteReader } from '../lib/sqlite-reader.js';
import type { StoreMetrics } from './metrics.js';
import { dayOffsetOf } from './sqlite/interval-sums.js';
import { migrate, NO_SEQ, READS } from './sqlite/schema.js';
import { FRESH_MS, joinAdjacent, SettledAggregates, settledSplit } from './sqlite/settled-aggregates.js';
import { WriterThread } from './sqlite/writer-thread.js';
import { stepWindows } from './steps.js';
import type { AggregateRow, Interval, IntervalQuality, ReadingRow, ReadingStore, ReadOptions, Window } from './types.js';
import { WriteHealth } from './write-health.js';

/** The longest a shared read of a window's settled part may run (no asker's budget bounds it). */
const SETTLED_READ_MS = 120_000;

/** Steps of `aggregateSteps` read at once (the reader has two workers; a year of days waits its turn). */
const STEPS_AT_ONCE = 2;

/** Waits for `p` until `signal` aborts (then rejects with its reason); `p` itself runs on. */
function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}

/** `timeZone`: the city's zone, for the interval sums' days; `log`: where the one-off rebuild of the sums is told. */
interface SqliteStoreOptions {
  timeZone?: string;
  log?: Pick<Logger, 'info'>;
}

/** The metrics the embedded store keeps (the transaction sizes where given). */
type StoreWriteMetrics = Pick<StoreMetrics, 'duplicates'> & Partial<Pick<StoreMetrics, 'transactionReadings'>>;

/**
 * The embedded store: SQLite in WAL mode with synchronous=FULL, so a committed transaction survives a
 * crash. Ingest hands it batches (group commit: one transaction, one fsync for many readings).
 * Intervals are maintained incrementally (store/sqlite/series.ts): a reading that lands between two
 * others replaces the interval that spanned it with two new ones, so late and out-of-order readings
 * need no rescan. Writes run on a writer thread of their own (store/sqlite/writer-thread.ts), so a
 * transaction and its fsync never hold up the event loop that acknowledges readings. After each commit it tells ingest (`StoreEvents`) which intervals are not `ok` and
 * which resent readings conflict with the stored ones. Every read runs off the main thread.
 */
export class SqliteStore implements ReadingStore {
  readonly name = 'sqlite';
  /**
   * Batches ingest may have in the writer thread at once: one being committed and one waiting, which the
   * thread takes up as soon as the commit ends instead of after a round trip through the event loop (a
   * busy event loop no longer leaves the writer idle). More in flight measured no better on 2 cores: smaller
   * batches, more hand-overs (bench/README.md).
   */
  readonly writesAtOnce = 2;
  private writer?: WriterThread;
  private reader?: SqliteReader;
  private events?: StoreEvents;
  private readonly writes: WriteHealth;
  private readonly settledPieces = new SettledAggregates({
    generation: () => this.changeGeneration(),
    earliestChangeSince: (gen) => this.earliestChangeSince(gen),
    aggregate: (window) => this.aggregateRead(window, { signal: AbortSignal.timeout(SETTLED_READ_MS) }),
  });

  /**
   * `timeZone`: the city's zone (`NETZERO_TZ`); the interval sums' days are kept in it where its offset
   * is fixed (store/sqlite/interval-sums.ts, `dayOffsetOf`), so a day of a trend is one row per series.
   * Without it the days stay as the data dir keeps them.
   */
  constructor(
    private readonly file: string,
    private readonly metrics?: StoreWriteMetrics,
    private readonly opts: SqliteStoreOptions = {},
  ) {
    this.writes = new WriteHealth(path.dirname(file));
  }

  static inDataDir(dataDir: string, metrics?: StoreWriteMetrics, opts: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(path.join(dataDir, 'readings.sqlite'), metrics, opts);
  }

  async start(): Promise<void> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    openPrivateFile(this.file);
    if (this.opts.timeZone) this.alignDays(this.opts.timeZone);
    const writer = new WriterThread(this.file, (readings) => this.metrics?.transactionReadings?.observe(readings));
    await writer.start();
    this.writer = writer;
    this.reader = new SqliteReader(this.file, READS);
    this.reader.start();
  }

  /**
   * The sums' day level in the city's zone before the writer starts (its `migrate` then finds it done): on
   * the first start with this zone (a new zone, or a data dir from before) the day level is rebuilt from
   * the intervals in one transaction, which reads every interval once.
   */
  private alignDays(tz: string): void {
    const db = new Database(this.file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      const started = Date.now();
      let rebuilt = false;
      migrate(db, {
        day: { offsetMs: dayOffsetOf(tz), tz },
        onRebuild: (what) => {
          rebuilt = true;
          this.opts.log?.info({ file: this.file }, what);
        },
      });
      if (rebuilt) this.opts.log?.info({ file: this.file, seconds: (Date.now() - started) / 1000 }, 'interval sums ready');
    } finally {
      db.close();
    }
  }

  /** Where the store reports flagged intervals and conflicting resends after each commit (ingest/feedback.ts). */
  setEvents(events: StoreEvents): void {
    this.events = events;
  }

  private read<T>(name: keyof typeof READS, params: unknown, opts: ReadOptions & { mode?: 'all' | 'get' } = {}): Promise<T> {
    if (!this.reader) return Promise.reject(new Error('store not started'));
    return this.reader.query<T>(name, params, opts);
  }

  async writeBatch(readings: StoredReading[]): Promise<WriteResult> {
    const writer = this.writer;
    if (!writer) throw new Error('store not started');
    const { result, flagged, conflicts } = await this.writes.track(() => writer.write(readings));
    this.metrics?.duplicates.inc(result.duplicates);
    if (flagged.length > 0) this.events?.flagged(flagged);
    if (conflicts.length > 0) this.events?.conflicts(conflicts.map((c) => ({ reading: readings[c.index]!, stored: c.stored })));
    return result;
  }

  /**
   * The window's settled part from memory while nothing in it changed, its last hours read afresh
   * (store/sqlite/settled-aggregates.ts). The settled read is shared by every asker and finishes for the
   * next one even when this asker stops waiting.
   */
  async aggregate(window: Window, opts: ReadOptions = {}): Promise<AggregateRow[]> {
    const split = settledSplit(window, Date.now());
    if (split === null) return this.aggregateRead(window, opts);
    const settled = this.settledPieces.get({ from: window.from, to: split });
    settled.catch(() => undefined); // an asker who stopped waiting leaves no unhandled rejection
    const [earlier, later] = await Promise.all([untilAborted(settled, opts.signal), this.aggregateRead({ from: split, to: window.to }, opts)]);
    return joinAdjacent(earlier, later);
  }

  private async aggregateRead(window: Window, opts: ReadOptions = {}): Promise<AggregateRow[]> {
    const rows = await this.read<Array<Omit<AggregateRow, 'kind' | 'sector' | 'quality'> & { kind: string; sector: string; quality: string }>>(
      'aggregate',
      { from: window.from, to: window.to },
      opts,
    );
    return rows.map((r) => ({
      ...r,
      kind: r.kind as Kind,
      sector: r.sector as Sector,
      quality: r.quality as IntervalQuality,
      amount: Number(r.amount),
      intervals: Number(r.intervals),
      continuing: Number(r.continuing),
      covered_ms: Number(r.covered_ms),
    }));
  }

  /**
   * `aggregate` of each step, each read from the sums as `aggregate` reads a window (a day in the city's
   * zone is one row per series, store/sqlite/interval-sums.ts): steps ending before the fresh hours are
   * read whole and not kept (the ledger keeps what it computed from them), later ones as `aggregate`.
   */
  async aggregateSteps(window: Window, stepMs: number, opts: ReadOptions = {}): Promise<AggregateRow[][]> {
    if (!Number.isInteger(stepMs) || stepMs <= 0) throw new Error(`step must be a positive whole number of ms, got ${stepMs}`);
    const steps = stepWindows(window, stepMs);
    const settledBefore = Date.now() - FRESH_MS;
    const out: AggregateRow[][] = new Array<AggregateRow[]>(steps.length);
    let next = 0;
    const worker = async () => {
      while (next < steps.length) {
        opts.signal?.throwIfAborted();
        const n = next++;
        const step = steps[n]!;
        out[n] = step.to <= settledBefore ? await this.aggregateRead(step, opts) : await this.aggregate(step, opts);
      }
    };
    await Promise.all(Array.from({ length: Math.min(STEPS_AT_ONCE, steps.length) }, worker));
    return out;
  }

  /** The last change generation committed (store/sqlite/settled-aggregates.ts): read it before what it vouches for. */
  async changeGeneration(): Promise<number> {
    return Number((await this.read<{ gen: number }>('changeGeneration', [], { mode: 'get' })).gen);
  }

  /** The start of the earliest hour a write committed after generation `gen` changed intervals in, or null. */
  async earliestChangeSince(gen: number): Promise<number | null> {
    const { at } = await this.read<{ at: number | null }>('earliestChange', { gen }, { mode: 'get' });
    return at === null ? null : Number(at);
  }

  async intervals(device: string, window: Window, opts: ReadOptions & { limit?: number } = {}): Promise<Interval[]> {
    return (await this.read<Array<Record<string, unknown>>>('intervals', { device, from: window.from, to: window.to, limit: opts.limit ?? -1 }, opts)).map(toInterval);
  }

  async heldOut(window: Window, limit: number, opts: ReadOptions = {}): Promise<Interval[]> {
    return (await this.read<Array<Record<string, unknown>>>('heldOut', { from: window.from, to: window.to, limit }, opts)).map(toInterval);
  }

  async readings(device: string, window: Window, limit: number, opts: ReadOptions & { newestFirst?: boolean } = {}): Promise<ReadingRow[]> {
    const rows = await this.read<Array<Record<string, unknown>>>(opts.newestFirst ? 'readingsNewestFirst' : 'readings', [device, window.from, window.to, limit], opts);
    return rows.map((r) => ({
      device: String(r.device),
      ts: Number(r.ts),
      seq: Number(r.seq) === NO_SEQ ? null : Number(r.seq),
      fields: JSON.parse(String(r.fields)) as Record<string, number | string>,
      extras: JSON.parse(String(r.extras)) as Record<string, unknown>,
      receivedAt: Number(r.received_at),
    }));
  }

  async countReadings(device?: string): Promise<number> {
    const row = device
      ? await this.read<{ n: number }>('countDevice', [device], { mode: 'get' })
      : await this.read<{ n: number }>('countAll', [], { mode: 'get' });
    return Number(row.n);
  }

  async receivedHours(after: number, until: number): Promise<number[]> {
    return (await this.read<Array<{ hour: number }>>('receivedHours', [after, until])).map((r) => Number(r.hour));
  }

  /** Up while the database is open and writes go through (a full disk makes it down until space returns). */
  healthy(): boolean {
    return this.writer?.running === true && this.writes.ok;
  }

  details(): Record<string, unknown> {
    return { ...this.writes.details(), ...(this.reader ? { readers: this.reader.load() } : {}) };
  }

  /** Commits are synchronous: what is written is queryable at once. */
  async settled(): Promise<void> {}

  async close(): Promise<void> {
    this.settledPieces.clear();
    await this.reader?.close();
    this.reader = undefined;
    await this.writer?.close();
    this.writer = undefined;
  }
}

function toInterval(r: Record<string, unknown>): Interval {
  return {
    device: String(r.device),
    counter: String(r.counter),
    kind: r.kind as Kind,
    site: String(r.site),
    sector: r.sector as Sector,
    t0: Number(r.t0),
    t1: Number(r.t1),
    seq0: Number(r.seq0) === NO_SEQ ? null : Number(r.seq0),
    seq1: Number(r.seq1) === NO_SEQ ? null : Number(r.seq1),
    v0: Number(r.v0),
    v1: Number(r.v1),
    amount: Number(r.amount),
    quality: r.quality as IntervalQuality,
    reason: String(r.reason ?? ''),
    ctx: JSON.parse(String(r.ctx)) as Record<string, number>,
  };
}
