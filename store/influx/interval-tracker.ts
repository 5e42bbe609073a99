import { counters, type CounterSpec } from '../../devices/kinds.js';
import type { ConflictingReading, FlaggedInterval, StoredReading } from '../../ingest/reading.js';
import { counterRule, firstState, nextStep, sameState, type SeriesState } from '../counter-rules.js';
import { CONTEXT_FIELDS, meanContext, readingContext } from '../intervals.js';
import { sameValues } from '../same-values.js';
import { nsTimestamp } from './line-protocol.js';
import { ident, literal, type InfluxQuery } from './query.js';
import { INTERVALS, type IntervalPoint } from './schema.js';

/** A point of a counter series, with the series state after it when known. */
interface Point {
  ts: number;
  seq: number | null;
  value: number;
  ctx: Record<string, number>;
  /** the state after this point; undefined when it has none stored (a series' first point, or data from before states were kept) */
  state?: SeriesState;
}

const order = (p: Pick<Point, 'ts' | 'seq'>) => [p.ts, p.seq ?? -1] as const;
function cmp(a: Pick<Point, 'ts' | 'seq'>, b: Pick<Point, 'ts' | 'seq'>): number {
  const [at, as] = order(a);
  const [bt, bs] = order(b);
  return at - bt || as - bs;
}
const stateAfter = (p: Point): SeriesState => p.state ?? firstState(p);

/** Points of the following part of a series read per query while recomputing after a late reading. */
const FOLLOWING_CHUNK = 50;

export interface Plan {
  /** readings to write (duplicates of stored readings left out: the first one stays, as in SQLite) */
  readings: StoredReading[];
  intervals: IntervalPoint[];
  duplicates: number;
  /** resends with the ts and seq of a stored reading but other values */
  conflicts: ConflictingReading[];
  /** intervals written that are not `ok` */
  flagged: FlaggedInterval[];
}

/**
 * Turns counters into intervals for the InfluxDB store, with the same rules and series state as SQLite
 * (store/counter-rules.ts). It remembers each series' newest point and state, so readings arriving in
 * order need no query; a reading older than that (late, out of order) or a series seen for the first time
 * since start asks InfluxDB for its predecessor and state, and recomputes the points after it until the
 * state is what InfluxDB holds. Readings of the same batch take part as they are planned. An interval is
 * written at its end point's time, so a recomputed one replaces what it was.
 */
export class IntervalTracker {
  private newest = new Map<string, Point>();

  constructor(private readonly q: InfluxQuery) {}

  async plan(batch: readonly StoredReading[]): Promise<Plan> {
    const out: Plan = { readings: [], intervals: [], duplicates: 0, conflicts: [], flagged: [] };
    const written = new Map<string, IntervalPoint>();
    /** points planned in this batch, per series, in order */
    const planned = new Map<string, Point[]>();
    const seen = new Map<string, StoredReading>();
    for (const r of batch) {
      const id = `${r.device}|${r.ts}|${r.seq ?? -1}`;
      const specs = counters[r.kind].filter((s) => typeof r.fields[s.field] === 'number');
      const stored = seen.get(id) ?? (await this.storedValues(r, specs));
      if (stored) {
        out.duplicates++;
        const was = 'fields' in stored ? { fields: stored.fields as Record<string, unknown>, extras: stored.extras } : stored;
        if (!sameValues(was.fields, r.fields) || !sameValues(was.extras, r.extras)) out.conflicts.push({ reading: r, stored: was });
        continue;
      }
      seen.set(id, r);
      out.readings.push(r);
      for (const spec of specs) await this.insert(r, spec, planned, written);
    }
    out.intervals = [...written.values()];
    out.flagged = out.intervals
      .filter((i) => i.quality !== 'ok')
      .map((i) => ({ device: i.device, site: i.site, counter: i.counter, t0: i.t0, t1: i.t1, v0: i.v0, v1: i.v1, amount: i.amount, quality: i.quality, reason: i.reason }));
    return out;
  }

  /** Forget the remembered points (after a failed write, InfluxDB is the truth again). */
  reset(): void {
    this.newest.clear();
  }

  private async insert(r: StoredReading, spec: CounterSpec, planned: Map<string, Point[]>, written: Map<string, IntervalPoint>): Promise<void> {
    const key = `${r.device}|${spec.field}`;
    const rule = counterRule(r.kind, spec, r.params);
    const cur: Point = { ts: r.ts, seq: r.seq, value: r.fields[spec.field] as number, ctx: readingContext(r.kind, r.fields) };
    const inBatch = planned.get(key) ?? [];
    const known = this.newest.get(key);
    const write = (a: Point, aState: SeriesState, b: Point): SeriesState => {
      const step = nextStep(a, aState, b, rule);
      written.set(`${key}|${b.ts}|${b.seq ?? -1}`, {
        device: r.device, counter: spec.field, kind: r.kind, site: r.site, sector: r.sector,
        t0: a.ts, t1: b.ts, seq0: a.seq, seq1: b.seq, v0: a.value, v1: b.value, amount: step.amount, quality: step.quality, reason: step.reason,
        ctx: meanContext(a.ctx, b.ctx), state: step.state,
      });
      return step.state;
    };

    // Fast path: after the newest point of the series, with nothing of this batch after it.
    const lastPlanned = inBatch.at(-1);
    const newestKnown = lastPlanned && (!known || cmp(lastPlanned, known) > 0) ? lastPlanned : known;
    if (newestKnown && cmp(newestKnown, cur) < 0) {
      cur.state = write(newestKnown, stateAfter(newestKnown), cur);
      inBatch.push(cur);
      planned.set(key, inBatch);
      this.newest.set(key, cur);
      return;
    }

    // Late or first seen: the predecessor (of this batch, or from InfluxDB) and what follows it.
    const before = inBatch.filter((p) => cmp(p, cur) < 0).at(-1);
    const stored = await this.predecessor(r, spec.field, cur);
    const prev = before && (!stored || cmp(before, stored) > 0) ? before : stored;
    cur.state = prev ? write(prev, stateAfter(prev), cur) : firstState(cur);
    inBatch.push(cur);
    inBatch.sort(cmp);
    planned.set(key, inBatch);
    if (!known || cmp(known, cur) < 0) this.newest.set(key, cur);

    // Recompute the following points until one's state is unchanged.
    let a = cur;
    let aState = cur.state;
    for (;;) {
      const following = await this.following(r, spec.field, a, inBatch);
      if (following.length === 0) return;
      for (const b of following) {
        const bState = write(a, aState, b);
        if (sameState(bState, stateAfter(b))) return;
        b.state = bState;
        if (this.newest.get(key) && cmp(this.newest.get(key)!, b) === 0) this.newest.set(key, b);
        a = b;
        aState = bState;
      }
    }
  }

  /** The stored reading with this reading's ts and seq (its values), when there is one. */
  private async storedValues(r: StoredReading, specs: CounterSpec[]): Promise<{ fields: Record<string, unknown>; extras: Record<string, unknown> } | undefined> {
    const spec = specs[0];
    if (spec) {
      const known = this.newest.get(`${r.device}|${spec.field}`);
      if (known && cmp(known, r) < 0) return undefined;
    }
    const series = await this.q.query(`SELECT * FROM ${ident(r.kind)} WHERE device = ${literal(r.device)} AND time = ${nsTimestamp(r.ts, r.seq)}`);
    const row = series.flatMap((s) => s.rows).find((x) => Number(x.ts_ms) === r.ts && Number(x.seq) === (r.seq ?? -1));
    if (!row) return undefined;
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (v === null || ['time', 'device', 'site', 'kind', 'sector', 'seq', 'ts_ms', 'received_at', 'extras'].includes(k)) continue;
      fields[k] = v;
    }
    return { fields, extras: typeof row.extras === 'string' ? (JSON.parse(row.extras) as Record<string, unknown>) : {} };
  }

  /** The stored point just before `cur`, with the state after it. */
  private async predecessor(r: StoredReading, field: string, cur: Point): Promise<Point | undefined> {
    const [p] = await this.points(r, field, `time < ${nsTimestamp(cur.ts, cur.seq)} ORDER BY time DESC LIMIT 1`);
    return p;
  }

  /** The points after `a`: this batch's and InfluxDB's, merged in order (a chunk at a time). */
  private async following(r: StoredReading, field: string, a: Point, inBatch: Point[]): Promise<Point[]> {
    const stored = await this.points(r, field, `time > ${nsTimestamp(a.ts, a.seq)} ORDER BY time ASC LIMIT ${FOLLOWING_CHUNK}`);
    const last = stored.at(-1);
    const batch = inBatch.filter((p) => cmp(p, a) > 0 && (!last || stored.length < FOLLOWING_CHUNK || cmp(p, last) <= 0));
    const merged = new Map<string, Point>();
    for (const p of [...stored, ...batch]) merged.set(`${p.ts}|${p.seq ?? -1}`, p);
    return [...merged.values()].sort(cmp);
  }

  /** Points of one series with their stored states (the interval ending at each holds the state after it). */
  private async points(r: StoredReading, field: string, where: string): Promise<Point[]> {
    const ctx = CONTEXT_FIELDS[r.kind] ?? [];
    const cols = [ident(field), 'seq', 'ts_ms', ...ctx.map(ident)].join(', ');
    const [pts] = await this.q.statements(`SELECT ${cols} FROM ${ident(r.kind)} WHERE device = ${literal(r.device)} AND ${ident(field)} >= 0 AND ${where}`);
    const points: Point[] = (pts?.[0]?.rows ?? []).map((row) => {
      const seq = Number(row.seq);
      return { ts: Number(row.ts_ms), seq: seq < 0 ? null : seq, value: Number(row[field]), ctx: readingContext(r.kind, row) };
    });
    if (points.length === 0) return points;
    const times = points.map((p) => nsTimestamp(p.ts, p.seq));
    const [ivs] = await this.q.statements(
      `SELECT ref, ref_ts, pending, seq1 FROM ${INTERVALS} WHERE device = ${literal(r.device)} AND counter = ${literal(field)} AND (${times.map((t) => `time = ${t}`).join(' OR ')})`,
    );
    // answered with epoch=ms: the end reading's ts; its seq tells apart two readings in one millisecond
    const states = new Map<string, SeriesState>();
    for (const row of ivs?.[0]?.rows ?? []) {
      if (row.ref === null || row.ref === undefined || row.ref_ts === null || row.ref_ts === undefined) continue;
      const pending = Number(row.pending);
      states.set(`${Number(row.time)}|${Number(row.seq1)}`, { ref: Number(row.ref), refTs: Number(row.ref_ts), pending: pending < 0 ? null : pending });
    }
    for (const p of points) {
      const s = states.get(`${p.ts}|${p.seq ?? -1}`);
      if (s) p.state = s;
    }
    return points;
  }
}
