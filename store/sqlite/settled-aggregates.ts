import { setImmediate as nextTurn } from 'node:timers/promises';
import { aggregateKey } from '../steps.js';
import type { AggregateRow, Window } from '../types.js';
import { HOUR_MS } from './interval-sums.js';

/**
 * Aggregates of the settled part of a window, kept between requests (store/README.md, "Settled
 * aggregates"). A window is read as two adjacent pieces: [from, split), which live readings no longer
 * reach, and [split, to), read afresh each time; `split` is the hour edge at least `FRESH_MS` before
 * `to` (or before now, for a window that ends later). Every office page asking for "this month so far" shares the first piece for an hour, and a month
 * of a city's fleet costs a read of the last hours instead of the whole month.
 *
 * The first piece is only answered from memory while no committed write since has touched an interval
 * that overlaps it: each write transaction marks the hour of the earliest interval start it wrote or
 * replaced, with a generation number (`interval_changes`, store/sqlite/batch-writer.ts). Marks live in
 * the database, so a write from another process (a CLI on the same data dir) counts as well.
 */

/** How far back from a window's end live readings still change intervals: a device reporting up to every hour. */
export const FRESH_MS = 2 * HOUR_MS;

/** Settled pieces kept at most, and the rows they hold at most (a few hundred bytes each: a month of 10,000 devices is about 15,000 rows). */
const MAX_ENTRIES = 32;
const MAX_ROWS = 300_000;

/**
 * The edge between the settled piece and the fresh one, or null when the window is too short to split:
 * the hour edge at least `FRESH_MS` before the window's end, or before `now` for a window ending later.
 */
export function settledSplit(window: Window, now: number): number | null {
  const split = Math.floor((Math.min(window.to, now) - FRESH_MS) / HOUR_MS) * HOUR_MS;
  return split > window.from ? split : null;
}

/** Rows joined between two turns of the event loop: a city's month is tens of thousands of rows. */
const ROWS_PER_TURN = 5_000;

/**
 * The aggregate of [a.from, b.to) from those of two adjacent windows, as one query over the whole window
 * would give it: amounts, methane and covered time add up; an interval running on from the first window
 * into the second (`continuing` of the first) is counted once, and what runs on past the end is the
 * second's `continuing`. `earlier` is left as it is (it is kept for the next asker); `later`'s rows are
 * reused. Lets the event loop turn every few thousand rows.
 */
export async function joinAdjacent(earlier: readonly AggregateRow[], later: AggregateRow[]): Promise<AggregateRow[]> {
  const out = new Map<string, AggregateRow>();
  for (const r of later) out.set(aggregateKey(r), r);
  let n = 0;
  for (const r of earlier) {
    if (++n % ROWS_PER_TURN === 0) await nextTurn();
    const key = aggregateKey(r);
    const e = out.get(key);
    if (!e) {
      out.set(key, { ...r, intervals: r.intervals - r.continuing, continuing: 0 });
      continue;
    }
    e.intervals += r.intervals - r.continuing;
    e.covered_ms += r.covered_ms;
    e.amount += r.amount;
    if (e.ch4_nm3 !== undefined || r.ch4_nm3 !== undefined) e.ch4_nm3 = (e.ch4_nm3 ?? 0) + (r.ch4_nm3 ?? 0);
  }
  return [...out.values()].filter((r) => r.intervals > 0);
}

interface Entry {
  /** the change generation, read before the rows: any change after it is looked at */
  gen: Promise<number>;
  rows: Promise<AggregateRow[]>;
  size: number;
}

export interface SettledReads {
  /** the highest change generation committed */
  generation(): Promise<number>;
  /** the start of the earliest hour a change after `gen` touched intervals in (null: none) */
  earliestChangeSince(gen: number): Promise<number | null>;
  /** the aggregate read from the database */
  aggregate(window: Window): Promise<AggregateRow[]>;
}

export class SettledAggregates {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly reads: SettledReads) {}

  /**
   * The aggregate of a settled window: from memory when nothing it holds has changed since, else read
   * again. Askers of one window share one read.
   */
  async get(window: Window): Promise<AggregateRow[]> {
    const key = `${window.from}|${window.to}`;
    for (;;) {
      const hit = this.entries.get(key);
      if (!hit) return this.read(key, window);
      const gen = await hit.gen.catch(() => null);
      const changed = gen === null ? null : await this.reads.earliestChangeSince(gen);
      // a change in an hour starting before the window's end may have touched an interval overlapping it
      const stale = gen === null || (changed !== null && changed < window.to);
      if (this.entries.get(key) !== hit) continue; // another asker replaced it meanwhile
      if (stale) return this.read(key, window);
      this.entries.delete(key); // most recently used last: the first one is the first dropped
      this.entries.set(key, hit);
      return hit.rows;
    }
  }

  /** Forgets every piece. */
  clear(): void {
    this.entries.clear();
  }

  private read(key: string, window: Window): Promise<AggregateRow[]> {
    const gen = this.reads.generation();
    const entry: Entry = { gen, rows: gen.then(() => this.reads.aggregate(window)), size: 0 };
    this.entries.delete(key);
    this.entries.set(key, entry);
    entry.rows.then(
      (rows) => {
        entry.size = rows.length;
        this.trim();
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.rows;
  }

  private trim(): void {
    let rows = 0;
    for (const e of this.entries.values()) rows += e.size;
    for (const [key, e] of this.entries) {
      if (this.entries.size <= MAX_ENTRIES && rows <= MAX_ROWS) break;
      this.entries.delete(key);
      rows -= e.size;
    }
  }
}
