import { KINDS, type Kind, type Sector } from '../../devices/kinds.js';
import { overlapShare, storedContext } from '../intervals.js';
import { INTERVAL_QUALITIES, type AggregateRow, type Interval, type IntervalQuality, type ReadingRow, type ReadOptions, type Window } from '../types.js';
import { ident, type InfluxQuery, literal, type Series } from './query.js';
import { INTERVALS, nsOf, RECEIPTS } from './schema.js';

const QUALITIES = INTERVAL_QUALITIES;

/** The store's queries in InfluxQL: interval sums for accounting, a device's intervals and readings, receipts. */
export class InfluxReader {
  constructor(private readonly query: InfluxQuery) {}

  async aggregate(window: Window, opts: ReadOptions = {}): Promise<AggregateRow[]> {
    const rows = await this.overlapping(window, undefined, opts.signal);
    const out = new Map<string, AggregateRow>();
    for (const { i, share, continuing } of rows) {
      const key = `${i.device}|${i.counter}|${i.quality}`;
      const a = out.get(key) ?? { device: i.device, counter: i.counter, kind: i.kind, site: i.site, sector: i.sector, quality: i.quality, amount: 0, intervals: 0, continuing: 0, covered_ms: 0 };
      a.amount += i.amount * share;
      a.intervals += 1;
      a.continuing += continuing ? 1 : 0;
      a.covered_ms += (i.t1 - i.t0) * share;
      out.set(key, a);
    }
    for (const inside of await this.insideSums(window, undefined, opts.signal)) {
      const key = `${inside.device}|${inside.counter}|${inside.quality}`;
      const a = out.get(key);
      if (a) {
        a.amount += inside.amount;
        a.intervals += inside.intervals;
        a.covered_ms += inside.covered_ms;
      } else out.set(key, inside);
    }
    return [...out.values()];
  }

  /** Sums of the intervals lying wholly inside the window, computed by InfluxDB, per quality. */
  private async insideSums(w: Window, device?: string, signal?: AbortSignal): Promise<AggregateRow[]> {
    const where = `time >= ${nsOf(w.from)} AND time < ${nsOf(w.to + 1)} AND t0_ms >= ${w.from} AND t0_ms < ${w.to}${device ? ` AND device = ${literal(device)}` : ''}`;
    const statements = QUALITIES.map(
      (q) => `SELECT sum(amount) AS amount, count(amount) AS n, sum(dt_ms) AS covered FROM ${INTERVALS} WHERE ${where} AND quality = ${literal(q)} GROUP BY device, counter, kind, site, sector`,
    );
    const results = await this.query.statements(statements.join('; '), signal);
    const out: AggregateRow[] = [];
    results.forEach((series, n) => {
      for (const s of series) {
        const row = s.rows[0];
        if (!row) continue;
        out.push({
          device: s.tags.device!, counter: s.tags.counter!, kind: s.tags.kind as Kind, site: s.tags.site!, sector: s.tags.sector as Sector,
          quality: QUALITIES[n]!, amount: Number(row.amount), intervals: Number(row.n), continuing: 0, covered_ms: Number(row.covered ?? 0),
        });
      }
    });
    return out;
  }

  /**
   * Intervals that straddle a window edge: those ending inside that began before it, and per series the
   * first one ending after it, kept if it began before the window's end. Returns each with its share.
   */
  private async overlapping(w: Window, device?: string, signal?: AbortSignal): Promise<Array<{ i: Interval; share: number; continuing: boolean }>> {
    const dev = device ? ` AND device = ${literal(device)}` : '';
    const [startEdge, endEdge] = await this.query.statements(
      `SELECT * FROM ${INTERVALS} WHERE time >= ${nsOf(w.from)} AND time < ${nsOf(w.to + 1)} AND t0_ms < ${w.from}${dev} GROUP BY *; ` +
        `SELECT * FROM ${INTERVALS} WHERE time >= ${nsOf(w.to + 1)}${dev} GROUP BY * ORDER BY time ASC LIMIT 1`,
      signal,
    );
    const out: Array<{ i: Interval; share: number; continuing: boolean }> = [];
    for (const i of toIntervals(startEdge ?? [])) {
      const share = overlapShare(i, w);
      if (share > 0) out.push({ i, share, continuing: false });
    }
    for (const i of toIntervals(endEdge ?? [])) if (i.t0 < w.to) out.push({ i, share: overlapShare(i, w), continuing: true });
    return out;
  }

  async intervals(device: string, window: Window, opts: ReadOptions & { limit?: number } = {}): Promise<Interval[]> {
    const inside = await this.query.query(
      `SELECT * FROM ${INTERVALS} WHERE device = ${literal(device)} AND time >= ${nsOf(window.from)} AND time < ${nsOf(window.to + 1)} AND t0_ms >= ${window.from} AND t0_ms < ${window.to} GROUP BY *`,
      opts.signal,
    );
    const edges = (await this.overlapping(window, device, opts.signal)).map((x) => x.i);
    const all = [...toIntervals(inside), ...edges].sort((a, b) => a.counter.localeCompare(b.counter) || a.t1 - b.t1);
    return opts.limit === undefined ? all : all.slice(0, opts.limit);
  }

  async readings(device: string, window: Window, limit: number, opts: ReadOptions & { newestFirst?: boolean } = {}): Promise<ReadingRow[]> {
    const from = KINDS.map(ident).join(', ');
    const series = await this.query.query(
      `SELECT * FROM ${from} WHERE device = ${literal(device)} AND time >= ${nsOf(window.from)} AND time < ${nsOf(window.to)} ORDER BY time ${opts.newestFirst ? 'DESC' : 'ASC'} LIMIT ${limit}`,
      opts.signal,
    );
    const rows = series.flatMap((s) =>
      s.rows.map((r) => {
        const fields: Record<string, number | string> = {};
        for (const [k, v] of Object.entries(r)) {
          if (v === null || ['time', 'device', 'site', 'kind', 'sector', 'seq', 'ts_ms', 'received_at', 'extras'].includes(k)) continue;
          fields[k] = v as number | string;
        }
        const seq = Number(r.seq);
        return {
          device,
          ts: Number(r.ts_ms),
          seq: seq < 0 ? null : seq,
          fields,
          extras: typeof r.extras === 'string' ? (JSON.parse(r.extras) as Record<string, unknown>) : {},
          receivedAt: Number(r.received_at),
        };
      }),
    );
    const sign = opts.newestFirst ? -1 : 1;
    return rows.sort((a, b) => sign * (a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1))).slice(0, limit);
  }

  async heldOut(window: Window, limit: number, opts: ReadOptions = {}): Promise<Interval[]> {
    const series = await this.query.query(
      `SELECT * FROM ${INTERVALS} WHERE quality = 'implausible' AND time >= ${nsOf(window.from)} AND time < ${nsOf(window.to)} GROUP BY * ORDER BY time ASC LIMIT ${limit}`,
      opts.signal,
    );
    return toIntervals(series).sort((a, b) => a.t1 - b.t1 || a.device.localeCompare(b.device)).slice(0, limit);
  }

  async countReadings(device?: string): Promise<number> {
    const series = await this.query.query(`SELECT count(received_at) FROM ${KINDS.map(ident).join(', ')}${device ? ` WHERE device = ${literal(device)}` : ''}`);
    return series.reduce((a, s) => a + Number(s.rows[0]?.count ?? 0), 0);
  }

  async receivedHours(after: number, until: number): Promise<number[]> {
    // receipts are timed at the drain (ms) plus the hour index below 1 ms: (after, until] in ms
    const series = await this.query.query(`SELECT hour_ms FROM ${RECEIPTS} WHERE time >= ${nsOf(after + 1)} AND time < ${nsOf(until + 1)}`);
    return [...new Set(series.flatMap((s) => s.rows.map((r) => Number(r.hour_ms))))].sort((a, b) => a - b);
  }
}

function toIntervals(series: Series[]): Interval[] {
  return series.flatMap((s) =>
    s.rows.map((r) => {
      const ctx = storedContext(r);
      return {
        device: s.tags.device ?? String(r.device),
        counter: s.tags.counter ?? String(r.counter),
        kind: (s.tags.kind ?? r.kind) as Kind,
        site: s.tags.site ?? String(r.site),
        sector: (s.tags.sector ?? r.sector) as Sector,
        t0: Number(r.t0_ms),
        t1: Number(r.time),
        v0: Number(r.v0),
        v1: Number(r.v1),
        amount: Number(r.amount),
        quality: r.quality as IntervalQuality,
        reason: typeof r.reason === 'string' ? r.reason : '',
        seq0: r.seq0 === null || r.seq0 === undefined || Number(r.seq0) < 0 ? null : Number(r.seq0),
        seq1: r.seq1 === null || r.seq1 === undefined || Number(r.seq1) < 0 ? null : Number(r.seq1),
        ctx,
      };
    }),
  );
}
