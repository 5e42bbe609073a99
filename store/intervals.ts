import type { Kind } from '../devices/kinds.js';
import { INTERVAL_QUALITIES, type Interval, type IntervalQuality, type Window } from './types.js';

/**
 * Intervals: what context an interval keeps, how much of an interval lies inside a window, and empty
 * quality counts. Both stores and the ledger use these, so they exist once. How two readings become an
 * interval is store/counter-rules.ts.
 */

/** A count per quality, all zero. */
export function emptyQualityCounts(): Record<IntervalQuality, number> {
  return Object.fromEntries(INTERVAL_QUALITIES.map((q) => [q, 0])) as Record<IntervalQuality, number>;
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
