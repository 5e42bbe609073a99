import type { Device } from '../../devices/registry.js';
import type { ReadingStore, Window } from '../../store/types.js';
import type { FactorSet } from '../factors/factor-set.js';
import { acceptsIn, type ReviewDecision } from '../review/decisions.js';
import type { LedgerRow } from './device-row.js';

/**
 * Ledger rows of settled windows, kept between computations (accounting/README.md, "Kept ledger rows"):
 * a trend of a month by day is 30 windows × a city's devices, seconds of JavaScript, and only its last
 * day changes while the office pages ask again on every live change. A window's rows are answered again
 * while everything they were computed from is as it was:
 * - the store's data they read: the store's change generation, read before the reads, and the latest
 *   time they read up to (`readTo`, at least the window's end: a baseline month may lie after it); a
 *   write committed since that changed intervals in an hour starting before `readTo` makes them stale
 *   (`ReadingStore.earliestChangeSince`, the marks of the store's settled aggregates);
 * - the devices (the registry's list, compared device by device), the factor set (a new version makes a
 *   new set), and the review decisions that accept a held-out interval in the window.
 * A store without change tracking (InfluxDB) keeps nothing. Windows ending within the fresh hours before
 * now (today, this month so far) are not kept: live readings change them, and their end moves.
 */

/** Ledger rows kept at most (a city's 10,000 devices × a month of days and a year of months). */
export const MAX_KEPT_ROWS = 450_000;

/** Windows ending less than this before now are computed afresh, not kept (live readings reach them). */
export const KEEP_AFTER_MS = 2 * 3_600_000;

/** What a window's rows were computed from, besides the store's data. */
export interface RowInputs {
  /** the devices in the accounts, as a version number (`DeviceVersions`) */
  devices: number;
  factors: FactorSet;
  /** the decisions accepting an interval in the window, as a string (`acceptedIn`) */
  accepted: string;
}

interface Entry {
  rows: LedgerRow[];
  gen: number;
  readTo: number;
  devices: number;
  factors: FactorSet;
  accepted: string;
}

export type ChangeTracking = Required<Pick<ReadingStore, 'changeGeneration' | 'earliestChangeSince'>>;

/** The store's change tracking where it has it, else null (nothing is kept). */
export function changeTracking(store: ReadingStore): ChangeTracking | null {
  const { changeGeneration, earliestChangeSince } = store;
  if (!changeGeneration || !earliestChangeSince) return null;
  return { changeGeneration: () => changeGeneration.call(store), earliestChangeSince: (gen) => earliestChangeSince.call(store, gen) };
}

/** The decisions that make a held-out interval count in `window`, as a string: rows depend on these. */
export function acceptedIn(accepted: ReadonlyMap<string, ReviewDecision>, window: Window): string {
  const mine = [...accepted.entries()].filter(([, d]) => acceptsIn(d, window)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return mine.length === 0 ? '' : JSON.stringify(mine.map(([key, d]) => [key, d.id, d.decision]));
}

/**
 * A version number for the devices in the accounts: the same while every device is the same object or
 * has the same fields as the last list seen (the registry keeps its list until the state database
 * changes, so this is usually a comparison of references).
 */
export class DeviceVersions {
  private last: Device[] = [];
  private version = 0;

  of(devices: ReadonlyMap<string, Device>): number {
    const now = [...devices.values()];
    const same = now.length === this.last.length && now.every((d, n) => d === this.last[n] || JSON.stringify(d) === JSON.stringify(this.last[n]));
    if (!same) this.version++;
    this.last = now;
    return this.version;
  }
}

/**
 * Makes the rows of one window share their equal parts (factor lists, quality counts, details, notes:
 * most devices of a kind have the same ones) and freezes rows and parts: a kept row is answered to every
 * asker. A city's day then takes about half the memory (measured on 10,000 devices: 557 → 312 bytes a row).
 */
function shareParts(rows: LedgerRow[]): void {
  const seen = new Map<string, object>();
  const share = <T extends object>(key: string, part: T): T => {
    const known = seen.get(key);
    if (known) return known as T;
    seen.set(key, Object.freeze(part));
    return part;
  };
  for (const r of rows) {
    r.factors = share(`f${r.factors.join('\u0000')}`, r.factors);
    r.quality = share(`q${Object.keys(r.quality).join()}:${Object.values(r.quality).join()}`, r.quality);
    const detail = Object.keys(r.detail);
    r.detail = detail.length === 0 ? share('d', r.detail) : Object.freeze(r.detail); // a detail is mostly the device's own
    r.notes = share(`n${r.notes.join('\u0000')}`, r.notes);
    Object.freeze(r);
  }
}

export class KeptRows {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly changes: ChangeTracking,
    private readonly limits: { maxRows: number } = { maxRows: MAX_KEPT_ROWS },
  ) {}

  /** The change generation to compute new rows at: read it before anything they read. */
  generation(): Promise<number> {
    return this.changes.changeGeneration();
  }

  /**
   * The kept rows of each key whose inputs are `inputs(n)` and whose data is unchanged, undefined for the
   * others. One query per generation the kept rows were computed at.
   */
  async lookup(keys: readonly string[], inputs: (n: number) => RowInputs): Promise<Array<LedgerRow[] | undefined>> {
    const earliest = new Map<number, Promise<number | null>>();
    return Promise.all(
      keys.map(async (key, n) => {
        const e = this.entries.get(key);
        if (!e) return undefined;
        const want = inputs(n);
        // stale rows are dropped: they are computed again and kept anew
        const drop = () => (this.entries.get(key) === e && this.entries.delete(key), undefined);
        if (e.devices !== want.devices || e.factors !== want.factors || e.accepted !== want.accepted) return drop();
        let changed = earliest.get(e.gen);
        if (!changed) earliest.set(e.gen, (changed = this.changes.earliestChangeSince(e.gen)));
        const at = await changed;
        if (at !== null && at < e.readTo) return drop();
        if (this.entries.get(key) !== e) return undefined; // replaced meanwhile
        this.entries.delete(key); // most recently used last: the first one is the first dropped
        this.entries.set(key, e);
        return e.rows;
      }),
    );
  }

  /** Keeps a window's rows, computed at generation `gen` from data up to `readTo`. */
  keep(key: string, window: Window, rows: LedgerRow[], at: { gen: number; readTo: number; now: number }, inputs: RowInputs): void {
    if (window.to > at.now - KEEP_AFTER_MS) return;
    shareParts(rows);
    Object.freeze(rows); // answered to every asker from now on: nobody may change it
    this.entries.delete(key);
    this.entries.set(key, { rows, gen: at.gen, readTo: Math.max(at.readTo, window.to), ...inputs });
    this.trim();
  }

  /** Forgets every window's rows. */
  clear(): void {
    this.entries.clear();
  }

  /** How many windows and rows are kept. */
  size(): { windows: number; rows: number } {
    let rows = 0;
    for (const e of this.entries.values()) rows += e.rows.length;
    return { windows: this.entries.size, rows };
  }

  private trim(): void {
    let { rows } = this.size();
    for (const [key, e] of this.entries) {
      if (rows <= this.limits.maxRows) break;
      this.entries.delete(key);
      rows -= e.rows.length;
    }
  }
}
