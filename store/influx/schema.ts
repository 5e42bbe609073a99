import { counters, KINDS, type Kind } from '../../devices/kinds.js';
import type { StoredReading } from '../../ingest/reading.js';
import type { SeriesState } from '../counter-rules.js';
import type { Interval } from '../types.js';
import { formatLine, nsTimestamp } from './line-protocol.js';

/**
 * The InfluxDB schema (see store/INFLUX.md):
 * - one measurement per kind (`smart_meter`, `pv_inverter`, `biogas`, `ev_charger`), tags `site`,
 *   `device`, `kind`, `sector`; the kind's numbers as float fields, `connector` integer, `session_id`
 *   string, `seq` integer (−1 when absent), `ts_ms` and `received_at` integer (epoch ms), `extras` JSON
 *   string; time = ts in ns with the seq folded into the sub-millisecond digits, so (device, ts, seq) is
 *   one point and a resend overwrites it with itself;
 * - `intervals`: tags `device`, `counter`, `kind`, `site`, `sector`; fields `t0_ms`, `dt_ms`, `seq0`,
 *   `seq1`, `ref_ts` (integer), `v0`, `v1`, `amount`, `ref`, `pending` (float; −1: none), `quality`,
 *   `reason` (string): the series state after the end point is `ref`, `ref_ts`, `pending`; and the biogas context `ch4_pct`,
 *   `temp_c`, `pressure_kpa` (float); time = the end reading's time, so a late reading's new interval
 *   replaces the one it cut;
 * - `receipts`: tag `device`, field `hour_ms` (integer), timed when the readings were written: which
 *   hours of reading time became queryable when, for the late-reading check of the monthly rollups.
 * A field's type never changes.
 */

export const READING_MEASUREMENTS = KINDS;
export const INTERVALS = 'intervals';
export const RECEIPTS = 'receipts';

const INTEGER_FIELDS = new Set(['connector']);

export function readingLine(r: StoredReading): string {
  const fields: Record<string, number | string | boolean | { int: number }> = {};
  for (const [k, v] of Object.entries(r.fields)) {
    if (typeof v === 'string') fields[k] = v;
    else fields[k] = INTEGER_FIELDS.has(k) ? { int: v } : v;
  }
  fields.seq = { int: r.seq ?? -1 };
  fields.ts_ms = { int: r.ts };
  fields.received_at = { int: r.receivedAt };
  if (Object.keys(r.extras).length > 0) fields.extras = JSON.stringify(r.extras);
  return formatLine(r.kind, { site: r.site, device: r.device, kind: r.kind, sector: r.sector }, fields, nsTimestamp(r.ts, r.seq));
}

/** An interval as written: with the series state after its end point (store/counter-rules.ts), so a later reading can continue from it. */
export interface IntervalPoint extends Interval {
  state: SeriesState;
}

export function intervalLine(i: IntervalPoint): string {
  const fields: Record<string, number | string | { int: number }> = {
    t0_ms: { int: i.t0 },
    dt_ms: { int: i.t1 - i.t0 },
    seq0: { int: i.seq0 ?? -1 },
    seq1: { int: i.seq1 ?? -1 },
    v0: i.v0,
    v1: i.v1,
    amount: i.amount,
    quality: i.quality,
    reason: i.reason,
    ref: i.state.ref,
    ref_ts: { int: i.state.refTs },
    // −1 for none: a field's type never changes (pending values are counters, never negative)
    pending: i.state.pending ?? -1,
  };
  for (const [k, v] of Object.entries(i.ctx)) fields[k] = v;
  return formatLine(INTERVALS, { device: i.device, counter: i.counter, kind: i.kind, site: i.site, sector: i.sector }, fields, nsTimestamp(i.t1, i.seq1));
}

/**
 * A receipt's time is the ms it was stored plus the hour's index in the sub-millisecond digits, so the
 * receipts of one device for different hours never overwrite each other (hour indexes stay below 1e6
 * until 2084), and a replay rewrites identical points.
 */
export function receiptLine(device: string, storedAt: number, hourMs: number): string {
  const hourIndex = BigInt(Math.floor(hourMs / 3_600_000) % 1_000_000);
  return formatLine(RECEIPTS, { device }, { hour_ms: { int: hourMs } }, `${BigInt(storedAt) * 1_000_000n + hourIndex}`);
}

/** The counter fields of a kind that are cumulative (turned into intervals). */
export function counterFields(kind: Kind): string[] {
  return counters[kind].map((c) => c.field);
}

/** First ns of the millisecond `ms` (InfluxQL time literal). */
export const nsOf = (ms: number): string => `${BigInt(Math.trunc(ms)) * 1_000_000n}`;
