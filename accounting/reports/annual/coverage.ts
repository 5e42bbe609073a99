import type { AggregateRow, Interval, ReadingStore, Window } from '../../../store/types.js';
import { isoInZone } from '../../periods.js';

/**
 * Coverage of the annual report: the share of device-hours with data.
 *
 * - The hours of a month are the hours from its start in NETZERO_TZ: hour i is [from + i h, from + (i+1) h).
 * - A device-hour **has data** when an interval of that device (any counter, any quality) overlaps it
 *   (a zero-length interval: when its instant lies in it), the store's own overlap rule.
 * - A device is **expected** from the hour holding the earlier of its registration and its first
 *   interval (a meter installed in June is not missing in January), in the months the report covers
 *   (the rolled-up ones), to their end.
 * - share = hours with data ÷ hours expected; overall = Σ with data ÷ Σ expected over the devices.
 *
 * The store's intervals join consecutive readings, so a gap between two readings is one long interval:
 * its hours count as covered (its energy is accounted for, pro rata), and coverage shows the hours
 * before a meter's first and after its last reading. The interval counts per device say how dense the
 * readings were.
 *
 * The rollups' rows carry interval counts, but not when the intervals lie, so coverage reads the store:
 * one aggregate per month (the rollup's own query) settles every device that covers the whole month or
 * none of it; only a device that covers part of a month has its intervals read, at most `limit` per
 * query (by day when a month holds more). Nothing reads without a bound.
 */

/** The definition, as the report states it. */
export const COVERAGE_DEFINITION =
  'A device-hour has data when an interval of the device (the delta between two consecutive readings of a counter, any quality) overlaps that hour. ' +
  'A device is expected from the hour of its registration or of its first interval, whichever is earlier, in the months the report covers. ' +
  'Coverage = hours with data ÷ hours expected. A gap between two readings is one long interval: its energy is accounted for pro rata and its hours count as covered.';

export const HOUR_MS = 3_600_000;
/** Intervals read in one query, at most. */
export const COVERAGE_QUERY_LIMIT = 20_000;

/** How many hours a window holds (its last hour may be short, e.g. a DST change). */
export function hoursIn(w: Window): number {
  return Math.max(0, Math.ceil((w.to - w.from) / HOUR_MS));
}

/** Marks in `hours` (one slot per hour of `w`) every hour an interval overlaps. */
export function markHours(hours: Uint8Array, w: Window, intervals: Iterable<Pick<Interval, 't0' | 't1'>>): void {
  const n = hours.length;
  for (const { t0, t1 } of intervals) {
    if (t1 === t0) {
      if (t0 >= w.from && t0 < w.to) hours[Math.floor((t0 - w.from) / HOUR_MS)] = 1;
      continue;
    }
    if (t1 <= w.from || t0 >= w.to) continue;
    const first = Math.max(0, Math.floor((t0 - w.from) / HOUR_MS));
    const last = Math.min(n - 1, Math.ceil((Math.min(t1, w.to) - w.from) / HOUR_MS) - 1);
    for (let h = first; h <= last; h++) hours[h] = 1;
  }
}

/** Hours of `w` at or after the hour holding `start` (all of them when it started before `w`). */
export function hoursFrom(w: Window, start: number): number {
  const n = hoursIn(w);
  if (start <= w.from) return n;
  if (start >= w.to) return 0;
  return n - Math.floor((start - w.from) / HOUR_MS);
}

export interface CoverageDevice {
  device: string;
  site: string;
  kind: string;
  /** epoch ms of its registration, when known */
  registeredAt: number | null;
}

export interface DeviceCoverage {
  device: string;
  site: string;
  kind: string;
  /** ISO start of the hour the device is expected from (null: expected in no hour of the report) */
  expected_from: string | null;
  hours_expected: number;
  hours_with_data: number;
  /** a query hit its bound: hours_with_data is a lower bound */
  truncated: boolean;
}

export interface CoverageResult {
  /** hours in the months covered (the rolled-up ones) */
  hours_in_period: number;
  devices: DeviceCoverage[];
}

/** Per device: which hours of each window had data, and its first hour with data. */
interface Marks {
  byWindow: Map<number, Uint8Array>;
  first: number | null;
  truncated: boolean;
}

/** The devices that covered the whole window (some counter's intervals cover all of it) and those with any interval in it. */
function settledByAggregate(rows: readonly AggregateRow[], w: Window): { full: Set<string>; present: Set<string> } {
  const covered = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.device}\u0000${r.counter}`;
    covered.set(key, (covered.get(key) ?? 0) + r.covered_ms);
  }
  const full = new Set<string>();
  for (const [key, ms] of covered) if (ms >= w.to - w.from) full.add(key.split('\u0000')[0]!);
  return { full, present: new Set(rows.map((r) => r.device)) };
}

/** A device's hours with data in one window, read in bounded queries (the whole window, else day by day). */
async function markPartial(store: ReadingStore, device: string, w: Window, hours: Uint8Array, limit: number, signal?: AbortSignal): Promise<boolean> {
  const all = await store.intervals(device, w, { limit, signal });
  if (all.length < limit) {
    markHours(hours, w, all);
    return false;
  }
  let truncated = false;
  for (let from = w.from; from < w.to; from += 24 * HOUR_MS) {
    const day = { from, to: Math.min(w.to, from + 24 * HOUR_MS) };
    const part = await store.intervals(device, day, { limit, signal });
    markHours(hours, w, part);
    truncated ||= part.length >= limit;
  }
  return truncated;
}

/**
 * Coverage of `devices` in `windows` (the rolled-up months), read from the store in bounded queries.
 * Devices with data that are not in `devices` (e.g. no longer accounted) are left out.
 */
export async function readCoverage(
  store: ReadingStore,
  devices: readonly CoverageDevice[],
  windows: readonly Window[],
  opts: { tz: string; signal?: AbortSignal; limit?: number },
): Promise<CoverageResult> {
  const limit = opts.limit ?? COVERAGE_QUERY_LIMIT;
  const wanted = new Map(devices.map((d) => [d.device, d]));
  const marks = new Map<string, Marks>(devices.map((d) => [d.device, { byWindow: new Map(), first: null, truncated: false }]));
  for (const [i, w] of windows.entries()) {
    opts.signal?.throwIfAborted();
    const { full, present } = settledByAggregate(await store.aggregate(w, { signal: opts.signal }), w);
    for (const id of present) {
      const m = marks.get(id);
      if (!m || !wanted.has(id)) continue;
      const hours = new Uint8Array(hoursIn(w));
      if (full.has(id)) hours.fill(1);
      else m.truncated = (await markPartial(store, id, w, hours, limit, opts.signal)) || m.truncated;
      m.byWindow.set(i, hours);
      const firstHour = hours.indexOf(1);
      if (firstHour >= 0 && m.first === null) m.first = w.from + firstHour * HOUR_MS;
    }
  }
  const out: DeviceCoverage[] = [];
  for (const d of devices) {
    const m = marks.get(d.device)!;
    const candidates = [d.registeredAt, m.first].filter((x): x is number => x !== null);
    const start = candidates.length > 0 ? Math.min(...candidates) : null;
    let expected = 0;
    let withData = 0;
    let expectedFrom: number | null = null;
    for (const [i, w] of windows.entries()) {
      if (start === null) break;
      const n = hoursFrom(w, start);
      if (n > 0 && expectedFrom === null) expectedFrom = w.from + (hoursIn(w) - n) * HOUR_MS;
      expected += n;
      const hours = m.byWindow.get(i);
      if (hours) withData += hours.reduce((a, x) => a + x, 0);
    }
    if (expected === 0) continue;
    out.push({
      device: d.device,
      site: d.site,
      kind: d.kind,
      expected_from: expectedFrom === null ? null : isoInZone(expectedFrom, opts.tz),
      hours_expected: expected,
      hours_with_data: withData,
      truncated: m.truncated,
    });
  }
  return { hours_in_period: windows.reduce((a, w) => a + hoursIn(w), 0), devices: out.sort((a, b) => a.device.localeCompare(b.device)) };
}
