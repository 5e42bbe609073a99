import type Database from 'better-sqlite3';
import { AGGREGATE_BY_SUMS, HOUR_MS, installIntervalSums } from './interval-sums.js';

/** `seq` is part of the primary keys; SQLite treats NULLs as distinct, so "no seq" is stored as -1. */
export const NO_SEQ = -1;

/**
 * The embedded store's tables (store/README.md, "SQLite schema"). A counter point and the series state
 * after it (`ref`, `ref_ts`, `pending`: store/counter-rules.ts) are kept on the interval ending at it
 * (`end_*` columns, added below), a series' first point in `counter_points`; `intervals` carries the
 * reason of a quality that is not `ok`.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  device TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL,
  kind TEXT NOT NULL, site TEXT NOT NULL, sector TEXT NOT NULL,
  fields TEXT NOT NULL, extras TEXT NOT NULL, received_at INTEGER NOT NULL,
  PRIMARY KEY (device, ts, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counter_points (
  device TEXT NOT NULL, counter TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL,
  value REAL NOT NULL, ctx TEXT NOT NULL,
  ref REAL, ref_ts INTEGER, pending REAL,
  PRIMARY KEY (device, counter, ts, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS intervals (
  device TEXT NOT NULL, counter TEXT NOT NULL,
  t0 INTEGER NOT NULL, seq0 INTEGER NOT NULL, t1 INTEGER NOT NULL, seq1 INTEGER NOT NULL,
  v0 REAL NOT NULL, v1 REAL NOT NULL, amount REAL NOT NULL, quality TEXT NOT NULL,
  kind TEXT NOT NULL, site TEXT NOT NULL, sector TEXT NOT NULL, ctx TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (device, counter, t1, seq1)
);
CREATE INDEX IF NOT EXISTS intervals_by_end ON intervals (t1);
CREATE INDEX IF NOT EXISTS readings_by_receipt ON readings (received_at);
CREATE TABLE IF NOT EXISTS interval_changes (hour INTEGER PRIMARY KEY, gen INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS interval_changes_by_gen ON interval_changes (gen);
`;

/** Columns added since the first version: a data dir written before gets them at start (its points' state is then computed as they are next used). */
const ADDED: Array<[table: string, column: string, definition: string]> = [
  ['counter_points', 'ref', 'REAL'],
  ['counter_points', 'ref_ts', 'INTEGER'],
  ['counter_points', 'pending', 'REAL'],
  ['intervals', 'reason', "TEXT NOT NULL DEFAULT ''"],
  // the interval's end point and the series state after it (store/sqlite/series.ts): null on intervals
  // written before points were kept on them, whose points are in counter_points
  ['intervals', 'end_ctx', 'TEXT'],
  ['intervals', 'end_ref', 'REAL'],
  ['intervals', 'end_ref_ts', 'INTEGER'],
  ['intervals', 'end_pending', 'REAL'],
];

/**
 * Brings a database to this version's schema. `day`: the day level of the interval sums in the
 * service's zone (`dayOffsetOf`, store/sqlite/interval-sums.ts); without it the level stays as kept.
 */
export function migrate(db: Database.Database, opts: { day?: { offsetMs: number; tz: string }; onRebuild?: (what: string) => void } = {}): void {
  db.exec(SCHEMA);
  for (const [table, column, definition] of ADDED) {
    const cols = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
    if (!cols.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
  installIntervalSums(db, opts.day, opts.onRebuild);
}

/**
 * An interval overlaps [from, to) when it has time inside it; a zero-length one (two readings with one
 * ts and different seq) when its instant lies in it. Aggregates and interval lists use the same rule.
 */
const OVERLAPS = '(t1 >= @from AND t0 < @to AND (t1 > @from OR t1 = t0) AND (t1 < @to OR t1 > t0))';

/** The queries readers run, off the main thread (lib/sqlite-reader.ts): a long one never holds up ingest. */
export const READS = {
  // a window's interval amounts from the hourly and daily sums and the few intervals at its edges
  // (store/sqlite/interval-sums.ts); the same numbers as summing every interval (test/unit/interval-sums.test.ts)
  aggregate: AGGREGATE_BY_SUMS,
  // the change marks (store/README.md "Settled aggregates"): the last generation, and the earliest hour a
  // change after @gen marked (null: none): what settled aggregates and kept ledger rows read up to a time
  // still holds while that hour starts at or after it
  changeGeneration: 'SELECT COALESCE(MAX(gen), 0) AS gen FROM interval_changes',
  earliestChange: `SELECT MIN(hour) * ${HOUR_MS} AS at FROM interval_changes WHERE gen > @gen`,
  intervals: `SELECT * FROM intervals WHERE device = @device AND ${OVERLAPS} ORDER BY counter, t1, seq1 LIMIT @limit`,
  heldOut: `SELECT * FROM intervals WHERE quality = 'implausible' AND t1 >= @from AND t1 < @to ORDER BY t1, device, counter LIMIT @limit`,
  readings: `SELECT device, ts, seq, fields, extras, received_at FROM readings
    WHERE device = ? AND ts >= ? AND ts < ? ORDER BY ts, seq LIMIT ?`,
  readingsNewestFirst: `SELECT device, ts, seq, fields, extras, received_at FROM readings
    WHERE device = ? AND ts >= ? AND ts < ? ORDER BY ts DESC, seq DESC LIMIT ?`,
  receivedHours: 'SELECT DISTINCT (ts / 3600000) * 3600000 AS hour FROM readings WHERE received_at > ? AND received_at <= ? ORDER BY hour',
  countAll: 'SELECT COUNT(*) AS n FROM readings',
  countDevice: 'SELECT COUNT(*) AS n FROM readings WHERE device = ?',
};
