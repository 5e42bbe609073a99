import type Database from 'better-sqlite3';
import { DateTime } from 'luxon';

/**
 * Interval sums per hour and per day (store/README.md, "Interval sums"): what `aggregate` reads instead of
 * every interval of a long window. `interval_sums` holds, per bucket (an hour, or a day starting at the
 * city's midnight: `interval_sums_days`, below) and per (device, counter, kind, site, sector, quality), the intervals' amounts and covered
 * time inside the bucket, pro rata by time as `aggregate` counts them, their methane at normal conditions
 * where they carry a CH4 share (`ch4_nm3`), how many intervals end in it and how many run on past its end.
 * Triggers on `intervals` keep it in the same transaction as the intervals, so a reader's snapshot always
 * sees both alike: an interval added adds its parts, one deleted or replaced (a late reading re-cuts the
 * interval it lands in) takes its parts away.
 *
 * Only intervals crossing at most one hour edge are summed (every one of a device reporting each minute
 * or each quarter hour): such an interval has at most two parts per level. One crossing two or more hour
 * edges (a gap in the data, a meter read every few hours) is "long" and read one by one.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Normal cubic metres of methane per m³ of gas at the meter, from an interval's context (`ctx`, the mean
 * of its endpoints' readings): CH4 % / 100 × (P / 101.325) × (273.15 / (273.15 + T)), a factor 1 where T
 * or P is absent; 0 without `ch4_pct` (every interval that is not a biogas meter's). The normalisation of
 * accounting/streams/biogas/method.ts (`normalCubicMetres`, `methaneTonnes`), so that the methane method,
 * linear in each interval's volume, can be summed like the amounts (`ch4_nm3`); test/unit/interval-sums.test.ts
 * holds the two to each other.
 */
export const ch4Weight = (ctx: string) =>
  `(CASE WHEN ${ctx} = '{}' THEN 0 ELSE COALESCE(json_extract(${ctx}, '$.ch4_pct') / 100.0
      * COALESCE(json_extract(${ctx}, '$.pressure_kpa') / 101.325, 1)
      * COALESCE(273.15 / (273.15 + json_extract(${ctx}, '$.temp_c')), 1), 0) END)`;

/** An interval crossing two hour edges or more: never summed, read one by one (partial index `intervals_long`). */
export const LONG = `(t1 > t0 AND (t1 - 1) / ${HOUR_MS} - t0 / ${HOUR_MS} >= 2)`;

/** The bucket lengths, hour and day; and the two parts an interval crossing one edge has. */
const SPANS = `(SELECT ${HOUR_MS} AS span UNION ALL SELECT ${DAY_MS})`;
const DAYS_ONLY = `(SELECT ${DAY_MS} AS span)`;
const PARTS = '(SELECT 0 AS n UNION ALL SELECT 1)';

/**
 * Where the day level's days start: at k × DAY_MS − offset, the offset in [0, DAY_MS), a whole number of
 * hours (so every day is whole hours). `dayOffsetOf(tz)`: a zone's offset from UTC when it is the same
 * at every time the service accepts (2000 to 2100: lib/time.ts), so the days are the city's days
 * (Asia/Taipei, UTC+8: 8 h, its days start at 16:00 UTC); 0 (UTC days) for a zone with summer time or
 * an offset that is not whole hours, whose days are then read from the hours.
 */
export function dayOffsetOf(tz: string): number {
  let known = dayOffsets.get(tz);
  if (known === undefined) dayOffsets.set(tz, (known = zoneDayOffset(tz)));
  return known;
}

const dayOffsets = new Map<string, number>();

function zoneDayOffset(tz: string): number {
  const offsets = new Set<number>();
  const from = Date.UTC(2000, 0, 1);
  const to = Date.UTC(2100, 0, 1);
  // weekly: summer time lasts months, and any change of the standard offset shows as a second value
  for (let t = from; t < to && offsets.size < 2; t += 7 * DAY_MS) offsets.add(DateTime.fromMillis(t, { zone: tz }).offset);
  offsets.add(DateTime.fromMillis(to, { zone: tz }).offset);
  if (offsets.size !== 1) return 0;
  const ms = [...offsets][0]! * 60_000;
  if (!Number.isFinite(ms) || ms % HOUR_MS !== 0) return 0;
  return ((ms % DAY_MS) + DAY_MS) % DAY_MS;
}

/**
 * The parts of interval row `r` (NEW, OLD, or a table alias) with `sign` (1 adds, -1 takes away): per
 * level, the bucket of its start (a) and of its end (b: a non-zero interval ending on an edge belongs
 * to the bucket before it, as in `aggregate`'s overlap rule), buckets counted from −`off` (a whole
 * number of hours: the hours are the same for any offset); part 0 in bucket a, part 1 in bucket b
 * when b = a + 1. Amounts are shared by time with `aggregate`'s own expression.
 */
function partsOf(r: string, sign: 1 | -1, off: number, from = '', spans = SPANS): string {
  const a = `((${r}.t0 + ${off}) / s.span)`;
  const b = `((${r}.t1 - (${r}.t1 > ${r}.t0) + ${off}) / s.span)`;
  const edge = `(${b} * s.span - ${off})`;
  const amount = `(CASE WHEN ${r}.t1 = ${r}.t0 THEN ${r}.amount
        WHEN ${b} = ${a} THEN ${r}.amount * (${r}.t1 - ${r}.t0) * 1.0 / (${r}.t1 - ${r}.t0)
        WHEN p.n = 0 THEN ${r}.amount * (${edge} - ${r}.t0) * 1.0 / (${r}.t1 - ${r}.t0)
        ELSE ${r}.amount * (${r}.t1 - ${edge}) * 1.0 / (${r}.t1 - ${r}.t0) END)`;
  return `SELECT s.span AS span, (${a} + p.n) * s.span - ${off} AS start, ${r}.device AS device, ${r}.counter AS counter, ${r}.kind AS kind,
      ${r}.site AS site, ${r}.sector AS sector, ${r}.quality AS quality,
      ${sign} * (p.n = ${b} - ${a}) AS ends,
      ${sign} * (p.n < ${b} - ${a}) AS carried,
      ${sign} * (CASE WHEN ${r}.t1 = ${r}.t0 THEN 0 WHEN ${b} = ${a} THEN ${r}.t1 - ${r}.t0 WHEN p.n = 0 THEN ${edge} - ${r}.t0 ELSE ${r}.t1 - ${edge} END) AS covered_ms,
      ${sign} * ${amount} AS amount,
      ${sign} * ${ch4Weight(`${r}.ctx`)} * ${amount} AS ch4_nm3
    FROM ${from}${spans} s, ${PARTS} p
    WHERE p.n <= ${b} - ${a} AND NOT (${r}.t1 > ${r}.t0 AND (${r}.t1 - 1) / ${HOUR_MS} - ${r}.t0 / ${HOUR_MS} >= 2)`;
}

const COLUMNS = 'span, start, device, counter, kind, site, sector, quality, ends, carried, covered_ms, amount, ch4_nm3';

const upsert = (r: string, sign: 1 | -1, off: number) => `INSERT INTO interval_sums (${COLUMNS})
    ${partsOf(r, sign, off)}
    ON CONFLICT (span, start, device, counter, kind, site, sector, quality) DO UPDATE SET
      ends = ends + excluded.ends, carried = carried + excluded.carried,
      covered_ms = covered_ms + excluded.covered_ms, amount = amount + excluded.amount, ch4_nm3 = ch4_nm3 + excluded.ch4_nm3;`;

const TABLE = `CREATE TABLE interval_sums (
  span INTEGER NOT NULL, start INTEGER NOT NULL,
  device TEXT NOT NULL, counter TEXT NOT NULL, kind TEXT NOT NULL, site TEXT NOT NULL, sector TEXT NOT NULL, quality TEXT NOT NULL,
  ends INTEGER NOT NULL, carried INTEGER NOT NULL, covered_ms INTEGER NOT NULL, amount REAL NOT NULL, ch4_nm3 REAL NOT NULL,
  PRIMARY KEY (span, start, device, counter, kind, site, sector, quality)
) WITHOUT ROWID`;

/** Where the day level's days start (`dayOffsetOf`): one row, read by `aggregate` and written with the triggers. */
const DAYS_TABLE = 'CREATE TABLE interval_sums_days (offset_ms INTEGER NOT NULL, tz TEXT NOT NULL)';

const LONG_INDEX = `CREATE INDEX intervals_long ON intervals (t1) WHERE t1 > t0 AND (t1 - 1) / ${HOUR_MS} - t0 / ${HOUR_MS} >= 2`;

/** The triggers, with the day level's offset written into them. */
const TRIGGERS = (off: number): Array<[name: string, sql: string]> => [
  ['interval_sums_insert', `CREATE TRIGGER interval_sums_insert AFTER INSERT ON intervals BEGIN ${upsert('NEW', 1, off)} END`],
  ['interval_sums_delete', `CREATE TRIGGER interval_sums_delete AFTER DELETE ON intervals BEGIN ${upsert('OLD', -1, off)} END`],
  ['interval_sums_update', `CREATE TRIGGER interval_sums_update AFTER UPDATE ON intervals BEGIN ${upsert('OLD', -1, off)} ${upsert('NEW', 1, off)} END`],
];

const NAMES = ['interval_sums', 'interval_sums_days', 'intervals_long', ...TRIGGERS(0).map(([n]) => n)];

/** The day level as it is kept: its offset, or null in a data dir from before the zone's days (UTC days). */
export function sumsDayOffset(db: Database.Database): number | null {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'interval_sums_days'").get();
  if (!has) return null;
  const row = db.prepare('SELECT offset_ms FROM interval_sums_days').get() as { offset_ms: number } | undefined;
  return row ? Number(row.offset_ms) : null;
}

/**
 * Sets up the sums on the connection that writes intervals (called by `migrate`): `recursive_triggers`
 * on, so the row an `INSERT OR REPLACE` replaces fires the delete trigger (SQLite fires delete triggers
 * for REPLACE only then); and, where needed, in one transaction (a crash leaves the dir as it was; the
 * next start does it again):
 * - a data dir from before the sums (or from before `ch4_nm3`): the table, its triggers and the index of
 *   long intervals, filled from the intervals already stored;
 * - sums from before the zone's days: their days are UTC days, kept as the day level with offset 0;
 * - `day` given (the service's zone, `dayOffsetOf`) and the day level kept with another offset: the day
 *   level rebuilt from the intervals with it (the hours stay). Without `day` the offset kept stays (a new
 *   data dir: UTC days).
 */
export function installIntervalSums(db: Database.Database, day?: { offsetMs: number; tz: string }, onRebuild?: (what: string) => void): void {
  db.pragma('recursive_triggers = ON');
  if (day && (!Number.isInteger(day.offsetMs) || day.offsetMs < 0 || day.offsetMs >= DAY_MS || day.offsetMs % HOUR_MS !== 0)) {
    throw new Error(`the day level's offset must be whole hours in [0, 24 h), got ${day.offsetMs} ms`);
  }
  const present = () => {
    const rows = db.prepare(`SELECT name FROM sqlite_master WHERE name IN (${NAMES.map(() => '?').join(', ')})`).all(...NAMES) as Array<{ name: string }>;
    return new Set(rows.map((r) => r.name));
  };
  const withMethane = () => (db.prepare('PRAGMA table_info(interval_sums)').all() as Array<{ name: string }>).some((c) => c.name === 'ch4_nm3');
  // the sums as this version keeps them, with the day level the caller asks for
  const current = () => {
    if (present().size !== NAMES.length || !withMethane()) return false;
    const kept = sumsDayOffset(db);
    return kept !== null && (day === undefined || kept === day.offsetMs);
  };
  if (current()) return;
  db.transaction(() => {
    if (current()) return;
    const have = present();
    const whole = !have.has('interval_sums') || !withMethane();
    const kept = whole ? null : (sumsDayOffset(db) ?? 0); // sums from before the zone's days hold UTC days
    const off = day?.offsetMs ?? kept ?? 0;
    for (const [name] of TRIGGERS(0)) if (have.has(name)) db.exec(`DROP TRIGGER ${name}`);
    // the whole table (hours and days), or only the day level when its offset changes
    const rebuild = whole ? SPANS : kept !== off ? DAYS_ONLY : null;
    if (rebuild) {
      // reads every interval once: minutes on a large data dir, so say so before the service is quiet that long
      const intervals = (db.prepare('SELECT COUNT(*) AS n FROM intervals').get() as { n: number }).n;
      onRebuild?.(`${whole ? 'building the interval sums' : `moving the interval sums' days to ${day?.tz ?? 'UTC'}`} from ${intervals} intervals (once; the service starts when it is done)`);
      if (whole) {
        if (have.has('interval_sums')) db.exec('DROP TABLE interval_sums');
        db.exec(TABLE);
      } else db.exec(`DELETE FROM interval_sums WHERE span = ${DAY_MS}`);
      db.exec(`INSERT INTO interval_sums (${COLUMNS})
        SELECT span, start, device, counter, kind, site, sector, quality, SUM(ends), SUM(carried), SUM(covered_ms), SUM(amount), SUM(ch4_nm3)
        FROM (${partsOf('i', 1, off, 'intervals i, ', rebuild)})
        GROUP BY span, start, device, counter, kind, site, sector, quality`);
    }
    if (!have.has('interval_sums_days')) db.exec(DAYS_TABLE);
    const keptTz = have.has('interval_sums_days') ? (db.prepare('SELECT tz FROM interval_sums_days').get() as { tz: string } | undefined)?.tz : undefined;
    db.exec('DELETE FROM interval_sums_days');
    db.prepare('INSERT INTO interval_sums_days (offset_ms, tz) VALUES (?, ?)').run(off, day?.tz ?? (off === kept ? (keptTz ?? 'UTC') : 'UTC'));
    if (!have.has('intervals_long')) db.exec(LONG_INDEX);
    for (const [, sql] of TRIGGERS(off)) db.exec(sql);
  }).immediate();
}

/**
 * Interval amounts over [@from, @to), exactly what summing every overlapping interval pro rata gives
 * (the rule of `OVERLAPS` in schema.ts), read as:
 * - part 1, [@from, h0): the intervals overlapping the window's start up to its first whole hour, one by one;
 * - part 2, [h0, h1): the whole hours, from `interval_sums`: hours up to the first whole day of the day
 *   level (its offset from `interval_sums_days`), the whole days, hours after the last whole day;
 * - part 3, [h1, @to): the intervals after the last whole hour, one by one;
 * - part 0: the long intervals overlapping the window, one by one.
 * Parts 1–3 hold no long interval, and an interval that runs on from one of them into the next is in
 * both: its count is taken away once (the `continuing` of the earlier part), its time and amount were
 * shared by time already. A window without a whole hour is read one by one (part 1 is then the window).
 */
export const AGGREGATE_BY_SUMS = `
WITH
p AS (SELECT CAST(@from AS INTEGER) AS f, CAST(@to AS INTEGER) AS t, (SELECT offset_ms FROM interval_sums_days) AS off),
h AS (SELECT f, t, off, ((f + ${HOUR_MS - 1}) / ${HOUR_MS}) * ${HOUR_MS} AS h0, (t / ${HOUR_MS}) * ${HOUR_MS} AS h1 FROM p),
hh AS (SELECT f, t, off, CASE WHEN h1 > h0 THEN h0 ELSE t END AS h0, CASE WHEN h1 > h0 THEN h1 ELSE t END AS h1 FROM h),
dd AS (SELECT f, t, h0, h1, ((h0 + off + ${DAY_MS - 1}) / ${DAY_MS}) * ${DAY_MS} - off AS d0, ((h1 + off) / ${DAY_MS}) * ${DAY_MS} - off AS d1 FROM hh),
w AS (SELECT f, t, h0, h1, CASE WHEN d1 > d0 THEN d0 ELSE h1 END AS d0, CASE WHEN d1 > d0 THEN d1 ELSE h1 END AS d1 FROM dd),
parts AS (
  SELECT 1 AS part, device, counter, kind, site, sector, quality, COUNT(*) AS intervals,
      SUM(t1 > w.h0) AS continuing,
      SUM(CASE WHEN t1 = t0 THEN 0 ELSE MIN(t1, w.h0) - MAX(t0, w.f) END) AS covered_ms,
      SUM(CASE WHEN t1 = t0 THEN amount ELSE amount * (MIN(t1, w.h0) - MAX(t0, w.f)) * 1.0 / (t1 - t0) END) AS amount,
      SUM(${ch4Weight('ctx')} * (CASE WHEN t1 = t0 THEN amount ELSE amount * (MIN(t1, w.h0) - MAX(t0, w.f)) * 1.0 / (t1 - t0) END)) AS ch4_nm3
    FROM w CROSS JOIN intervals
    WHERE w.h0 > w.f AND t1 >= w.f AND t1 < w.h0 + ${2 * HOUR_MS} AND t0 < w.h0 AND (t1 > w.f OR t1 = t0) AND (t1 < w.h0 OR t1 > t0) AND NOT ${LONG}
    GROUP BY device, counter, kind, site, sector, quality
  UNION ALL
  SELECT 2, device, counter, kind, site, sector, quality, SUM(ends) + SUM(last_carried), SUM(last_carried), SUM(covered_ms), SUM(amount), SUM(ch4_nm3)
    FROM (
      SELECT device, counter, kind, site, sector, quality, ends, CASE WHEN start + span = w.h1 THEN carried ELSE 0 END AS last_carried, covered_ms, amount, ch4_nm3
        FROM w CROSS JOIN interval_sums WHERE w.h1 > w.h0 AND span = ${HOUR_MS} AND start >= w.h0 AND start < w.d0
      UNION ALL
      SELECT device, counter, kind, site, sector, quality, ends, CASE WHEN start + span = w.h1 THEN carried ELSE 0 END, covered_ms, amount, ch4_nm3
        FROM w CROSS JOIN interval_sums WHERE w.h1 > w.h0 AND span = ${DAY_MS} AND start >= w.d0 AND start < w.d1
      UNION ALL
      SELECT device, counter, kind, site, sector, quality, ends, CASE WHEN start + span = w.h1 THEN carried ELSE 0 END, covered_ms, amount, ch4_nm3
        FROM w CROSS JOIN interval_sums WHERE w.h1 > w.h0 AND span = ${HOUR_MS} AND start >= w.d1 AND start < w.h1
    )
    GROUP BY device, counter, kind, site, sector, quality
  UNION ALL
  SELECT 3, device, counter, kind, site, sector, quality, COUNT(*),
      SUM(t1 > w.t),
      SUM(CASE WHEN t1 = t0 THEN 0 ELSE MIN(t1, w.t) - MAX(t0, w.h1) END),
      SUM(CASE WHEN t1 = t0 THEN amount ELSE amount * (MIN(t1, w.t) - MAX(t0, w.h1)) * 1.0 / (t1 - t0) END),
      SUM(${ch4Weight('ctx')} * (CASE WHEN t1 = t0 THEN amount ELSE amount * (MIN(t1, w.t) - MAX(t0, w.h1)) * 1.0 / (t1 - t0) END))
    FROM w CROSS JOIN intervals
    WHERE w.t > w.h1 AND t1 >= w.h1 AND t1 < w.t + ${2 * HOUR_MS} AND t0 < w.t AND (t1 > w.h1 OR t1 = t0) AND (t1 < w.t OR t1 > t0) AND NOT ${LONG}
    GROUP BY device, counter, kind, site, sector, quality
  UNION ALL
  SELECT 0, device, counter, kind, site, sector, quality, COUNT(*),
      SUM(t1 > w.t),
      SUM(MIN(t1, w.t) - MAX(t0, w.f)),
      SUM(amount * (MIN(t1, w.t) - MAX(t0, w.f)) * 1.0 / (t1 - t0)),
      SUM(${ch4Weight('ctx')} * amount * (MIN(t1, w.t) - MAX(t0, w.f)) * 1.0 / (t1 - t0))
    FROM w CROSS JOIN intervals
    WHERE t1 > t0 AND (t1 - 1) / ${HOUR_MS} - t0 / ${HOUR_MS} >= 2 AND t1 > w.f AND t0 < w.t
    GROUP BY device, counter, kind, site, sector, quality
),
passed AS (
  SELECT parts.*, CASE WHEN (part = 1 AND w.t > w.h0) OR (part = 2 AND w.t > w.h1) THEN continuing ELSE 0 END AS passed_on
  FROM parts, w
)
SELECT device, counter, kind, site, sector, quality,
    SUM(intervals) - SUM(passed_on) AS intervals,
    SUM(continuing) - SUM(passed_on) AS continuing,
    SUM(covered_ms) AS covered_ms,
    SUM(amount) AS amount,
    SUM(ch4_nm3) AS ch4_nm3
  FROM passed
  GROUP BY device, counter, kind, site, sector, quality
  HAVING SUM(intervals) - SUM(passed_on) > 0`;
