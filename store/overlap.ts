import type { Interval, Window } from './types.js';

/**
 * The share of an interval inside a window, pro rata by time; a zero-length interval (two readings at one
 * ts with different seqs) counts wholly when its instant lies in the window.
 */
export function overlapShare(i: Pick<Interval, 't0' | 't1'>, w: Window): number {
  if (i.t1 === i.t0) return i.t1 >= w.from && i.t1 < w.to ? 1 : 0;
  return Math.max(0, Math.min(i.t1, w.to) - Math.max(i.t0, w.from)) / (i.t1 - i.t0);
}
