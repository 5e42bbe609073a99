import { counters, type CounterSpec } from '../../devices/kinds.js';
import { CONTEXT_FIELDS, intervalAmount, meanContext, readingContext } from '../intervals.js';
import type { StoredReading } from '../../ingest/reading.js';
import { ident, literal, type InfluxQuery } from './query.js';
import type { IntervalPoint } from './schema.js';
import { nsTimestamp } from './line-protocol.js';


interface Point {
  ts: number;
  seq: number | null;
  value: number;
  ctx: Record<string, number>;
}

const order = (p: Pick<Point, 'ts' | 'seq'>) => [p.ts, p.seq ?? -1] as const;
function cmp(a: Pick<Point, 'ts' | 'seq'>, b: Pick<Point, 'ts' | 'seq'>): number {
  const [at, as] = order(a);
  const [bt, bs] = order(b);
  return at - bt || as - bs;
}

export interface Plan {
  /** readings to write (duplicates of stored readings left out: the first one stays, as in SQLite) */
  readings: StoredReading[];
  intervals: IntervalPoint[];
  duplicates: number;
}

/**
 * Turns counters into intervals for the InfluxDB store. It remembers each counter's newest point, so
 * readings arriving in order need no query; a reading older than that (late, out of order) or a counter
 * seen for the first time since start asks InfluxDB for its neighbours. Readings of the same batch that
 * are not written yet take part as neighbours too. A late reading's interval to its successor has the
 * successor's time, so writing it replaces the interval it cut.
 */
export class IntervalTracker {
  private newest = new Map<string, Point>();

  constructor(private readonly q: InfluxQuery) {}

  async plan(batch: readonly StoredReading[]): Promise<Plan> {
    const out: Plan = { readings: [], intervals: [], duplicates: 0 };
    const pending = new Map<string, Point[]>();
    const seen = new Set<string>();
    for (const r of batch) {
      const id = `${r.device}|${r.ts}|${r.seq ?? -1}`;
      const specs = counters[r.kind].filter((s) => typeof r.fields[s.field] === 'number');
      if (seen.has(id) || (await this.stored(r, specs))) {
        out.duplicates++;
        continue;
      }
      seen.add(id);
      out.readings.push(r);
      for (const spec of specs) {
        const key = `${r.device}|${spec.field}`;
        const cur: Point = { ts: r.ts, seq: r.seq, value: r.fields[spec.field] as number, ctx: readingContext(r.kind, r.fields) };
        const known = this.newest.get(key);
        const inBatch = pending.get(key) ?? [];
        const prevs = inBatch.filter((p) => cmp(p, cur) < 0);
        const nexts = inBatch.filter((p) => cmp(p, cur) > 0);
        if (known && cmp(known, cur) < 0) prevs.push(known);
        else {
          const [p, n] = await this.neighbours(r, spec.field);
          if (p) prevs.push(p);
          if (n) nexts.push(n);
          if (known && cmp(known, cur) > 0) nexts.push(known);
        }
        const prev = prevs.sort(cmp).at(-1);
        const next = nexts.sort(cmp)[0];
        if (prev) out.intervals.push(this.interval(r, spec, prev, cur));
        if (next) out.intervals.push(this.interval(r, spec, cur, next));
        inBatch.push(cur);
        pending.set(key, inBatch);
        if (!next && (!known || cmp(known, cur) < 0)) this.newest.set(key, cur);
      }
    }
    return out;
  }

  /** Forget the remembered points (after a failed write, InfluxDB is the truth again). */
  reset(): void {
    this.newest.clear();
  }

  private interval(r: StoredReading, spec: CounterSpec, a: Point, b: Point): IntervalPoint {
    const { amount, quality } = intervalAmount(a, b, spec, r.params);
    return {
      device: r.device, counter: spec.field, kind: r.kind, site: r.site, sector: r.sector,
      t0: a.ts, t1: b.ts, seq0: a.seq, seq1: b.seq, v0: a.value, v1: b.value, amount, quality, ctx: meanContext(a.ctx, b.ctx),
    };
  }

  /** Whether this reading is already in InfluxDB: a known newest point, or (when it is not newer) a query. */
  private async stored(r: StoredReading, specs: CounterSpec[]): Promise<boolean> {
    const spec = specs[0];
    if (!spec) return false;
    const known = this.newest.get(`${r.device}|${spec.field}`);
    if (known && cmp(known, r) < 0) return false;
    if (known && cmp(known, r) === 0) return true;
    const rows = await this.q.query(
      `SELECT ts_ms, seq FROM ${ident(r.kind)} WHERE device = ${literal(r.device)} AND time = ${nsTimestamp(r.ts, r.seq)}`,
    );
    return rows.some((s) => s.rows.some((x) => Number(x.ts_ms) === r.ts && Number(x.seq) === (r.seq ?? -1)));
  }

  private async neighbours(r: StoredReading, field: string): Promise<[Point | undefined, Point | undefined]> {
    const ctx = CONTEXT_FIELDS[r.kind] ?? [];
    const cols = [ident(field), 'seq', 'ts_ms', ...ctx.map(ident)].join(', ');
    const where = `device = ${literal(r.device)} AND ${ident(field)} >= 0`;
    const t = nsTimestamp(r.ts, r.seq);
    const [before, after] = await this.q.statements(
      `SELECT ${cols} FROM ${ident(r.kind)} WHERE ${where} AND time < ${t} ORDER BY time DESC LIMIT 1; ` +
        `SELECT ${cols} FROM ${ident(r.kind)} WHERE ${where} AND time > ${t} ORDER BY time ASC LIMIT 1`,
    );
    const toPoint = (series: typeof before): Point | undefined => {
      const row = series?.[0]?.rows[0];
      if (!row) return undefined;
      const seq = Number(row.seq);
      return { ts: Number(row.ts_ms), seq: seq < 0 ? null : seq, value: Number(row[field]), ctx: readingContext(r.kind, row) };
    };
    return [toPoint(before), toPoint(after)];
  }
}
