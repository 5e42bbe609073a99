import type { AggregateRow, Window } from './types.js';

/** An interval that crosses a step edge or an edge of the window, as `stepsCrossing` returns it. */
export interface CrossingInterval extends Omit<AggregateRow, 'amount' | 'intervals' | 'continuing' | 'covered_ms'> {
  t0: number;
  t1: number;
  amount: number;
}

/** What tells one aggregate row from another: its device, counter, kind, site, sector and quality. */
export const aggregateKey = (r: Omit<AggregateRow, 'amount' | 'intervals' | 'continuing' | 'covered_ms'>): string =>
  `${r.device}\u0000${r.counter}\u0000${r.kind}\u0000${r.site}\u0000${r.sector}\u0000${r.quality}`;

/** The steps of a window: [from, from + step), …, the last one cut at `to`. */
export function stepWindows(window: Window, stepMs: number): Window[] {
  const out: Window[] = [];
  for (let f = window.from; f < window.to; f += stepMs) out.push({ from: f, to: Math.min(f + stepMs, window.to) });
  return out;
}

/**
 * Per step, the aggregate rows `aggregate(step)` would answer, from the sums of the intervals lying inside
 * one step (`inside`, with their step index) and the intervals crossing an edge (`crossing`), each shared
 * out pro rata by time over the steps it overlaps, by the overlap rule of `aggregate`.
 */
export function combineSteps(window: Window, stepMs: number, inside: Array<AggregateRow & { step: number }>, crossing: CrossingInterval[]): AggregateRow[][] {
  const steps = stepWindows(window, stepMs);
  const maps = steps.map(() => new Map<string, AggregateRow>());
  const row = (n: number, r: Omit<AggregateRow, 'amount' | 'intervals' | 'continuing' | 'covered_ms'>) => {
    const key = aggregateKey(r);
    let a = maps[n]!.get(key);
    if (!a) maps[n]!.set(key, (a = { device: r.device, counter: r.counter, kind: r.kind, site: r.site, sector: r.sector, quality: r.quality, amount: 0, intervals: 0, continuing: 0, covered_ms: 0 }));
    return a;
  };
  for (const r of inside) {
    if (r.step < 0 || r.step >= steps.length) continue;
    const a = row(r.step, r);
    a.amount += Number(r.amount);
    a.intervals += Number(r.intervals);
    a.covered_ms += Number(r.covered_ms);
  }
  for (const i of crossing) {
    const first = Math.max(0, Math.floor((i.t0 - window.from) / stepMs));
    const last = Math.min(steps.length - 1, Math.floor((Math.max(i.t1 - 1, i.t0) - window.from) / stepMs));
    for (let n = first; n <= last; n++) {
      const w = steps[n]!;
      const zero = i.t1 === i.t0;
      if (zero ? !(i.t1 >= w.from && i.t1 < w.to) : !(i.t1 > w.from && i.t0 < w.to)) continue;
      const covered = zero ? 0 : Math.min(i.t1, w.to) - Math.max(i.t0, w.from);
      const a = row(n, i);
      a.intervals += 1;
      a.continuing += i.t1 > w.to ? 1 : 0;
      a.covered_ms += covered;
      a.amount += zero ? i.amount : (i.amount * covered) / (i.t1 - i.t0);
    }
  }
  return maps.map((m) => [...m.values()]);
}
