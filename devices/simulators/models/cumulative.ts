import { HOUR_MS, SLOT_H, SLOT_MS, SLOTS_PER_DAY, dayStart, localDay } from './time.js';

// Integration. Rates are per hour and constant over a slot; the cumulative total at each local day
// start is memoised, so a reading costs at most one day of steps once the memo has caught up.

export type Rates = (slotStartMs: number) => readonly number[];

export class Cumulative {
  private readonly starts: number[][];

  constructor(
    private readonly rates: Rates,
    initial: readonly number[],
    private readonly firstDay: number,
  ) {
    this.starts = [[...initial]];
  }

  at(ts: number): number[] {
    const d = localDay(ts) - this.firstDay;
    if (d < 0) return [...this.starts[0]!];
    while (this.starts.length <= d) {
      const i = this.starts.length - 1;
      this.starts.push(this.advance(this.starts[i]!, dayStart(this.firstDay + i), Infinity));
    }
    return this.advance(this.starts[d]!, dayStart(this.firstDay + d), ts);
  }

  /** Integrate from local day start `t0` up to `until` (at most one day). */
  private advance(start: readonly number[], t0: number, until: number): number[] {
    const acc = [...start];
    for (let k = 0, t = t0; k < SLOTS_PER_DAY && t < until; k++, t += SLOT_MS) {
      const hours = t + SLOT_MS <= until ? SLOT_H : (until - t) / HOUR_MS;
      const r = this.rates(t);
      for (let j = 0; j < acc.length; j++) acc[j]! += r[j]! * hours;
    }
    return acc;
  }
}
