import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openPrivateFile } from '../lib/private-file.js';
import { SqliteReader } from '../lib/sqlite-reader.js';
import { counters, type Kind, type Sector } from '../devices/kinds.js';
import { intervalAmount, meanContext, readingContext } from './intervals.js';
import type { StoredReading, WriteResult } from '../ingest/reading.js';
import type { StoreMetrics } from './metrics.js';
import { WriteHealth } from './write-health.js';
import type { AggregateRow, Interval, IntervalQuality, ReadingRow, ReadingStore, ReadOptions, Window } from './types.js';

/** `seq` is part of the primary key; SQLite treats NULLs as distinct, so "no seq" is stored as -1. */
const NO_SEQ = -1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  device TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL,
  kind TEXT NOT NULL, site TEXT NOT NULL, sector TEXT NOT NULL,
  fields TEXT NOT NULL, extras TEXT NOT NULL, received_at INTEGER NOT NULL,
  PRIMARY KEY (device, ts, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counter_points (
  device TEXT NOT NULL, counter TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL,
  value REAL NOT NULL, ctx TEXT NOT NULL,
  PRIMARY KEY (device, counter, ts, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS intervals (
  device TEXT NOT NULL, counter TEXT NOT NULL,
  t0 INTEGER NOT NULL, seq0 INTEGER NOT NULL, t1 INTEGER NOT NULL, seq1 INTEGER NOT NULL,
  v0 REAL NOT NULL, v1 REAL NOT NULL, amount REAL NOT NULL, quality TEXT NOT NULL,
  kind TEXT NOT NULL, site TEXT NOT NULL, sector TEXT NOT NULL, ctx TEXT NOT NULL,
  PRIMARY KEY (device, counter, t1, seq1)
);
CREATE INDEX IF NOT EXISTS intervals_by_end ON intervals (t1);
CREATE INDEX IF NOT EXISTS readings_by_receipt ON readings (received_at);
`;

/**
 * An interval overlaps [from, to) when it has time inside it; a zero-length one (two readings with one
 * ts and different seq) when its instant lies in it. Aggregates and interval lists use the same rule.
 */
const OVERLAPS = '(t1 >= @from AND t0 < @to AND (t1 > @from OR t1 = t0) AND (t1 < @to OR t1 > t0))';

/** The queries readers run, off the main thread (lib/sqlite-reader.ts): a long one never holds up ingest. */
const READS = {
  aggregate: `SELECT device, counter, kind, site, sector, quality, COUNT(*) AS intervals,
      SUM(CASE WHEN t1 > @to THEN 1 ELSE 0 END) AS continuing,
      SUM(CASE WHEN t1 = t0 THEN 0 ELSE MIN(t1, @to) - MAX(t0, @from) END) AS covered_ms,
      SUM(CASE WHEN t1 = t0 THEN amount
               ELSE amount * (MIN(t1, @to) - MAX(t0, @from)) * 1.0 / (t1 - t0) END) AS amount
    FROM intervals
    WHERE ${OVERLAPS}
    GROUP BY device, counter, kind, site, sector, quality`,
  intervals: `SELECT * FROM intervals WHERE device = @device AND ${OVERLAPS} ORDER BY counter, t1, seq1 LIMIT @limit`,
  readings: `SELECT device, ts, seq, fields, extras, received_at FROM readings
    WHERE device = ? AND ts >= ? AND ts < ? ORDER BY ts, seq LIMIT ?`,
  receivedHours: 'SELECT DISTINCT (ts / 3600000) * 3600000 AS hour FROM readings WHERE received_at > ? AND received_at <= ? ORDER BY hour',
  countAll: 'SELECT COUNT(*) AS n FROM readings',
  countDevice: 'SELECT COUNT(*) AS n FROM readings WHERE device = ?',
};

interface PointRow {
  ts: number;
  seq: number;
  value: number;
  ctx: string;
}

/**
 * The embedded store: SQLite in WAL mode with synchronous=FULL, so a committed transaction survives a
 * crash. Ingest hands it batches (group commit: one transaction, one fsync for many readings).
 * Intervals are maintained incrementally: a reading that lands between two others replaces the
 * interval that spanned it with two new ones, so late and out-of-order readings need no rescan.
 */
export class SqliteStore implements ReadingStore {
  readonly name = 'sqlite';
  private db?: Database.Database;
  private stmts?: ReturnType<SqliteStore['prepare']>;
  private writeTx?: (readings: StoredReading[]) => WriteResult;
  private reader?: SqliteReader;
  private readonly writes: WriteHealth;

  constructor(
    private readonly file: string,
    private readonly metrics?: Pick<StoreMetrics, 'duplicates'>,
  ) {
    this.writes = new WriteHealth(path.dirname(file));
  }

  static inDataDir(dataDir: string, metrics?: Pick<StoreMetrics, 'duplicates'>): SqliteStore {
    return new SqliteStore(path.join(dataDir, 'readings.sqlite'), metrics);
  }

  async start(): Promise<void> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    openPrivateFile(this.file);
    const db = new Database(this.file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    this.db = db;
    this.stmts = this.prepare(db);
    this.writeTx = db.transaction((readings: StoredReading[]) => this.applyAll(readings));
    this.reader = new SqliteReader(this.file, READS);
    this.reader.start();
  }

  private read<T>(name: keyof typeof READS, params: unknown, opts: ReadOptions & { mode?: 'all' | 'get' } = {}): Promise<T> {
    if (!this.reader) return Promise.reject(new Error('store not started'));
    return this.reader.query<T>(name, params, opts);
  }

  private prepare(db: Database.Database) {
    return {
      insertReading: db.prepare(
        `INSERT OR IGNORE INTO readings (device, ts, seq, kind, site, sector, fields, extras, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertPoint: db.prepare(
        'INSERT INTO counter_points (device, counter, ts, seq, value, ctx) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      prev: db.prepare(
        `SELECT ts, seq, value, ctx FROM counter_points WHERE device = ? AND counter = ? AND (ts, seq) < (?, ?)
         ORDER BY ts DESC, seq DESC LIMIT 1`,
      ),
      next: db.prepare(
        `SELECT ts, seq, value, ctx FROM counter_points WHERE device = ? AND counter = ? AND (ts, seq) > (?, ?)
         ORDER BY ts ASC, seq ASC LIMIT 1`,
      ),
      upsertInterval: db.prepare(
        `INSERT OR REPLACE INTO intervals (device, counter, t0, seq0, t1, seq1, v0, v1, amount, quality, kind, site, sector, ctx)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
  }

  private s() {
    if (!this.stmts) throw new Error('store not started');
    return this.stmts;
  }

  async writeBatch(readings: StoredReading[]): Promise<WriteResult> {
    const writeTx = this.writeTx;
    if (!writeTx) throw new Error('store not started');
    const result = await this.writes.track(() => writeTx(readings));
    this.metrics?.duplicates.inc(result.duplicates);
    return result;
  }

  private applyAll(readings: StoredReading[]): WriteResult {
    const s = this.s();
    let inserted = 0;
    let duplicates = 0;
    for (const r of readings) {
      const seq = r.seq ?? NO_SEQ;
      const res = s.insertReading.run(
        r.device, r.ts, seq, r.kind, r.site, r.sector,
        JSON.stringify(r.fields), JSON.stringify(r.extras), r.receivedAt,
      );
      if (res.changes === 0) {
        duplicates++;
        continue;
      }
      inserted++;
      this.addCounterPoints(r, seq);
    }
    return { inserted, duplicates };
  }

  private addCounterPoints(r: StoredReading, seq: number): void {
    const s = this.s();
    const ctxJson = JSON.stringify(readingContext(r.kind, r.fields));
    for (const spec of counters[r.kind]) {
      const value = r.fields[spec.field];
      if (typeof value !== 'number') continue;
      s.insertPoint.run(r.device, spec.field, r.ts, seq, value, ctxJson);
      const cur: PointRow = { ts: r.ts, seq, value, ctx: ctxJson };
      const prev = s.prev.get(r.device, spec.field, r.ts, seq) as PointRow | undefined;
      const next = s.next.get(r.device, spec.field, r.ts, seq) as PointRow | undefined;
      // The interval prev→next (if any) is keyed by next's end point, so writing cur→next replaces it.
      if (prev) this.writeInterval(r, spec, prev, cur);
      if (next) this.writeInterval(r, spec, cur, next);
    }
  }

  private writeInterval(r: StoredReading, spec: (typeof counters)[Kind][number], a: PointRow, b: PointRow): void {
    const { amount, quality } = intervalAmount(a, b, spec, r.params);
    this.s().upsertInterval.run(
      r.device, spec.field, a.ts, a.seq, b.ts, b.seq, a.value, b.value, amount, quality,
      r.kind, r.site, r.sector, JSON.stringify(meanContext(JSON.parse(a.ctx) as Record<string, number>, JSON.parse(b.ctx) as Record<string, number>)),
    );
  }

  async aggregate(window: Window, opts: ReadOptions = {}): Promise<AggregateRow[]> {
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

  async intervals(device: string, window: Window, opts: ReadOptions & { limit?: number } = {}): Promise<Interval[]> {
    const rows = await this.read<Array<Record<string, unknown>>>('intervals', { device, from: window.from, to: window.to, limit: opts.limit ?? -1 }, opts);
    return rows.map((r) => ({
      device: String(r.device),
      counter: String(r.counter),
      kind: r.kind as Kind,
      site: String(r.site),
      sector: r.sector as Sector,
      t0: Number(r.t0),
      t1: Number(r.t1),
      v0: Number(r.v0),
      v1: Number(r.v1),
      amount: Number(r.amount),
      quality: r.quality as IntervalQuality,
      ctx: JSON.parse(String(r.ctx)) as Record<string, number>,
    }));
  }

  async readings(device: string, window: Window, limit: number, opts: ReadOptions = {}): Promise<ReadingRow[]> {
    const rows = await this.read<Array<Record<string, unknown>>>('readings', [device, window.from, window.to, limit], opts);
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
    return this.db?.open === true && this.writes.ok;
  }

  details(): Record<string, unknown> {
    return { ...this.writes.details(), ...(this.reader ? { readers: this.reader.load() } : {}) };
  }

  /** Commits are synchronous: what is written is queryable at once. */
  async settled(): Promise<void> {}

  async close(): Promise<void> {
    await this.reader?.close();
    this.reader = undefined;
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
    this.writeTx = undefined;
  }
}
