import type { AggregateRow, Window } from './types.js';

/** What tells one aggregate row from another: its device, counter, kind, site, sector and quality. */
export const aggregateKey = (r: Omit<AggregateRow, 'amount' | 'intervals' | 'continuing' | 'covered_ms'>): string =>
  `${r.device}\u0000${r.counter}\u0000${r.kind}\u0000${r.site}\u0000${r.sector}\u0000${r.quality}`;

/** The steps of a window: [from, from + step), …, the last one cut at `to`. */
export function stepWindows(window: Window, stepMs: number): Window[] {
  const out: Window[] = [];
  for (let f = window.from; f < window.to; f += stepMs) out.push({ from: f, to: Math.min(f + stepMs, window.to) });
  return out;
}
