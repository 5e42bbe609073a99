import type { CounterSpec, Kind } from '../devices/kinds.js';
import type { DeviceParams } from '../devices/params.js';
import type { Interval, IntervalQuality, Window } from './types.js';

/**
 * Intervals: how two consecutive readings of one cumulative counter become an amount with a quality,
 * what context an interval keeps, and how much of an interval lies inside a window. Both stores and the
 * ledger use these, so the rules exist once.
 *
 * Counter rules (../shared/domain.md, "Traps" 1): a counter that goes down restarted (reset) or rolled
 * over (wrap, when `counter_max` is declared and the previous value was near it); an interval that
 * needs more energy than the nameplate allows is implausible: kept, flagged, left out of totals.
 */

/** A drop counts as a rollover when the previous value was within this fraction of `counter_max`. */
export const WRAP_WINDOW = 0.1;
/** Headroom over nameplate × hours before an interval is implausible. */
export const NAMEPLATE_MARGIN = 1.2;
/** Relative slack so an amount exactly at the bound is not flagged by floating-point error (3 × 1.2 = 3.5999…). */
const FLOAT_SLACK = 1e-9;

export interface CounterPoint {
  ts: number;
  value: number;
}

export interface IntervalAmount {
  amount: number;
  quality: IntervalQuality;
}

export function intervalAmount(
  prev: CounterPoint,
  cur: CounterPoint,
  spec: Pick<CounterSpec, 'boundedByNameplate'>,
  params: Pick<DeviceParams, 'counter_max' | 'nameplate_kw'>,
): IntervalAmount {
  let amount = cur.value - prev.value;
  let quality: IntervalQuality = 'ok';
  if (amount < 0) {
    const max = params.counter_max;
    if (max !== undefined && prev.value >= max * (1 - WRAP_WINDOW) && cur.value < max) {
      amount = max - prev.value + cur.value;
      quality = 'wrap';
    } else {
      amount = cur.value;
      quality = 'reset';
    }
  }
  if (spec.boundedByNameplate && params.nameplate_kw !== undefined) {
    const hours = (cur.ts - prev.ts) / 3_600_000;
    if (amount > params.nameplate_kw * hours * NAMEPLATE_MARGIN * (1 + FLOAT_SLACK)) quality = 'implausible';
  }
  return { amount, quality };
}

/** Fields averaged over an interval's two endpoints and kept with it (the methane method needs them). */
export const CONTEXT_FIELDS: Partial<Record<Kind, readonly string[]>> = {
  biogas: ['ch4_pct', 'temp_c', 'pressure_kpa'],
};

/** Every context field of any kind (a stored interval's row carries those it has). */
export const ALL_CONTEXT_FIELDS: readonly string[] = [...new Set(Object.values(CONTEXT_FIELDS).flat())];

/** A reading's context fields (those of its kind that it carries). */
export function readingContext(kind: Kind, fields: Record<string, unknown>): Record<string, number> {
  return pickNumbers(fields, CONTEXT_FIELDS[kind] ?? []);
}

/** The context fields a stored interval row carries. */
export function storedContext(row: Record<string, unknown>): Record<string, number> {
  return pickNumbers(row, ALL_CONTEXT_FIELDS);
}

function pickNumbers(from: Record<string, unknown>, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of names) if (typeof from[f] === 'number') out[f] = from[f] as number;
  return out;
}

/** An interval's context: the mean of its endpoints' values, or the one endpoint's value where only one has it. */
export function meanContext(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k];
    const y = b[k];
    out[k] = x !== undefined && y !== undefined ? (x + y) / 2 : ((y ?? x) as number);
  }
  return out;
}

/**
 * The share of an interval inside a window, pro rata by time; a zero-length interval (two readings at one
 * ts with different seqs) counts wholly when its instant lies in the window.
 */
export function overlapShare(i: Pick<Interval, 't0' | 't1'>, w: Window): number {
  if (i.t1 === i.t0) return i.t1 >= w.from && i.t1 < w.to ? 1 : 0;
  return Math.max(0, Math.min(i.t1, w.to) - Math.max(i.t0, w.from)) / (i.t1 - i.t0);
}
