import type { Logger } from 'pino';
import { KINDS, type Kind, type Sector } from '../../devices/kinds.js';
import { Spool, type SpoolEntry } from '../spool.js';
import type { StoredReading, WriteResult } from '../../ingest/reading.js';
import type { AggregateRow, Interval, IntervalQuality, ReadingRow, ReadingStore, Window } from '../types.js';
import { overlapShare, storedContext } from '../intervals.js';
import type { StoreMetrics } from '../metrics.js';
import { IntervalTracker } from './interval-tracker.js';
import { ident, InfluxQuery, literal, type Series } from './query.js';
import { INTERVALS, intervalLine, nsOf, readingLine, RECEIPTS, receiptLine } from './schema.js';
import { backoffMs, createLineWriter, type InfluxTarget, type LineWriter } from './writer.js';

export interface InfluxStoreOptions {
  target: InfluxTarget;
  /** undefined: query only (a command beside the service); writes are refused */
  spoolDir?: string;
  spoolMaxBytes: number;
  log: Logger;
  metrics?: StoreMetrics;
  /** a batch InfluxDB refused for good (4xx other than 429): its readings go to the quarantine */
  onRejected?: (readings: StoredReading[], reason: string) => Promise<void>;
  /** spool records read per write at most (each record is one group commit) */
  drainRecords?: number;
  /** readings per write at most (their intervals and receipts ride along) */
  drainReadings?: number;
  /** longest wait between retries while InfluxDB is unreachable, ms (a `Retry-After` may ask for longer) */
  maxRetryWaitMs?: number;
}

const QUALITIES: IntervalQuality[] = ['ok', 'reset', 'wrap', 'implausible'];
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * InfluxDB as the time-series store, with the on-disk spool in front: `writeBatch` resolves once the
 * readings are in the spool (durable; QoS 1 is acknowledged then); a drainer replays the spool in order
 * into InfluxDB with the readings' own timestamps, retrying with back-off (honouring Retry-After),
 * splitting on 413 and quarantining on other 4xx. When the spool's disk budget is full, `writeBatch`
 * waits: ingest stops acknowledging rather than dropping. Queries are InfluxQL on `/query`.
 */
export class InfluxStore implements ReadingStore {
  readonly name = 'influxdb';
  private spool?: Spool<StoredReading[]>;
  private writer: LineWriter;
  private query: InfluxQuery;
  private tracker: IntervalTracker;
  private abort = new AbortController();
  private drainer?: Promise<void>;
  private remoteUp = false;

  constructor(private readonly opts: InfluxStoreOptions) {
    if (opts.spoolDir) {
      this.spool = new Spool<StoredReading[]>({ dir: opts.spoolDir, maxBytes: opts.spoolMaxBytes, onCorrupt: (m: string) => opts.log.error({ spool: opts.spoolDir }, m) });
    }
    this.writer = createLineWriter(opts.target);
    this.query = new InfluxQuery(opts.target);
    this.tracker = new IntervalTracker(this.query);
  }

  async start(): Promise<void> {
    await this.checkDatabase();
    if (!this.spool) return;
    await this.spool.open();
    const s = this.spool.stats();
    if (s.records > 0) this.opts.log.info({ records: s.records, bytes: s.bytes }, 'spool has readings from before the restart: replaying them');
    this.drainer = this.drain();
  }

  /**
   * A v1 database that does not exist is a settings mistake worth one clear line at start (writes would
   * wait in the spool until it is created). An unreachable server is not: the spool exists for that.
   */
  private async checkDatabase(): Promise<void> {
    const { target, log } = this.opts;
    if (target.api !== 'v1' || !target.db) return;
    try {
      const series = await this.query.query('SHOW DATABASES');
      const names = series.flatMap((s) => s.rows.map((r) => String(r.name)));
      if (!names.includes(target.db)) {
        log.error({ db: target.db, url: target.url }, `InfluxDB has no database "${target.db}": create it (CREATE DATABASE "${target.db}"); readings wait in the spool meanwhile`);
      }
    } catch (err) {
      log.warn({ url: target.url, err: (err as Error).message }, 'InfluxDB not reachable at start; readings wait in the spool until it is');
    }
  }

  async writeBatch(readings: StoredReading[]): Promise<WriteResult> {
    if (!this.spool) throw new Error('this InfluxDB store was opened for queries only');
    if (readings.length > 0) await this.spool.append(readings);
    this.updateSpoolMetrics();
    // Duplicates are recognised when the spool drains (a resend overwrites its own point anyway).
    return { inserted: readings.length, duplicates: 0 };
  }

  /** Resolves when everything written so far has reached InfluxDB (tests, shutdown reporting). */
  async settled(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.spool && this.spool.stats().records > 0) {
      if (Date.now() > deadline) throw new Error(`spool did not drain within ${timeoutMs} ms (${this.spool.stats().records} records left)`);
      await sleep(25);
    }
  }

  healthy(): boolean {
    return !this.abort.signal.aborted && (!this.spool || !!this.drainer);
  }

  spoolStats() {
    return this.spool?.stats();
  }

  /** Not part of the up/down verdict: with the spool, ingest goes on while InfluxDB is down. */
  details(): Record<string, unknown> {
    return { influx_reachable: this.remoteUp, spool: this.spool?.stats() };
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.drainer;
    await this.spool?.close();
  }

  private updateSpoolMetrics(): void {
    const m = this.opts.metrics;
    if (!m || !this.spool) return;
    const s = this.spool.stats();
    m.spoolRecords.set(s.records);
    m.spoolBytes.set(s.bytes);
    m.spoolOldestAge.set(s.oldestAppendedAt === null ? 0 : (Date.now() - s.oldestAppendedAt) / 1000);
  }

  private async drain(): Promise<void> {
    const { signal } = this.abort;
    const spool = this.spool!;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        await spool.waitForData(signal);
        if (signal.aborted) break;
        const entries = takeUpTo(await spool.peek(this.opts.drainRecords ?? 1000), this.opts.drainReadings ?? 5000);
        if (entries.length === 0) continue;
        await this.deliver(entries, signal);
        if (signal.aborted) break;
        await spool.ack(entries[entries.length - 1]!.position);
        attempt = 0;
        this.updateSpoolMetrics();
      } catch (err) {
        if (signal.aborted) break;
        // A query for interval neighbours failed (InfluxDB down): wait and take the batch again.
        this.remoteUp = false;
        this.tracker.reset();
        const wait = backoffMs(attempt++, { maxMs: this.opts.maxRetryWaitMs ?? 5000 });
        this.opts.metrics?.influxRetries.inc();
        this.opts.log.warn({ err: (err as Error).message, retryInMs: wait }, 'InfluxDB unavailable; readings wait in the spool');
        await sleep(wait, signal);
      }
    }
  }

  /** Writes the readings of these spool records, their intervals and receipts; returns when done or rejected. */
  private async deliver(entries: SpoolEntry<StoredReading[]>[], signal: AbortSignal): Promise<void> {
    const readings = entries.flatMap((e) => e.value);
    const plan = await this.tracker.plan(readings);
    this.opts.metrics?.duplicates.inc(plan.duplicates);
    const lines = [...plan.readings.map(readingLine), ...plan.intervals.map(intervalLine), ...receipts(plan.readings, Date.now())];
    if (lines.length === 0) return;
    await this.send(lines, plan.readings, signal);
  }

  private async send(lines: string[], readings: StoredReading[], signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      const stop = this.opts.metrics?.influxWriteLatency.startTimer();
      const outcome = await this.writer.write(lines);
      stop?.();
      switch (outcome.kind) {
        case 'ok':
          this.remoteUp = true;
          this.opts.metrics?.influxPoints.inc(lines.length);
          return;
        case 'split': {
          if (lines.length === 1) {
            await this.reject(readings, `InfluxDB refused a single point as too large: ${outcome.reason}`);
            return;
          }
          const half = Math.ceil(lines.length / 2);
          this.opts.log.info({ lines: lines.length }, 'InfluxDB answered 413: splitting the batch');
          await this.send(lines.slice(0, half), readings, signal);
          await this.send(lines.slice(half), readings, signal);
          return;
        }
        case 'reject':
          this.remoteUp = true;
          await this.reject(readings, `InfluxDB refused the batch (HTTP ${outcome.status}): ${outcome.reason}`);
          return;
        case 'retry': {
          this.remoteUp = false;
          this.opts.metrics?.influxRetries.inc();
          // A server's Retry-After is honoured as asked; otherwise the wait is capped so recovery is quick.
          const wait = outcome.serverAsked ? outcome.afterMs : Math.min(outcome.afterMs, this.opts.maxRetryWaitMs ?? 5000);
          if (attempt === 0 || attempt % 10 === 0) this.opts.log.warn({ reason: outcome.reason, retryInMs: wait, attempt }, 'InfluxDB write failed; retrying, readings wait in the spool');
          await sleep(wait, signal);
        }
      }
    }
  }

  private async reject(readings: StoredReading[], reason: string): Promise<void> {
    this.opts.metrics?.influxRejected.inc();
    this.opts.log.error({ readings: readings.length, reason }, 'batch quarantined');
    this.tracker.reset();
    await this.opts.onRejected?.(readings, reason);
  }

  // ---- queries (InfluxQL) ----

  async aggregate(window: Window): Promise<AggregateRow[]> {
    const rows = await this.overlapping(window);
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
    for (const inside of await this.insideSums(window)) {
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
  private async insideSums(w: Window, device?: string): Promise<AggregateRow[]> {
    const where = `time >= ${nsOf(w.from)} AND time < ${nsOf(w.to + 1)} AND t0_ms >= ${w.from} AND t0_ms < ${w.to}${device ? ` AND device = ${literal(device)}` : ''}`;
    const statements = QUALITIES.map(
      (q) => `SELECT sum(amount) AS amount, count(amount) AS n, sum(dt_ms) AS covered FROM ${INTERVALS} WHERE ${where} AND quality = ${literal(q)} GROUP BY device, counter, kind, site, sector`,
    );
    const results = await this.query.statements(statements.join('; '));
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
  private async overlapping(w: Window, device?: string): Promise<Array<{ i: Interval; share: number; continuing: boolean }>> {
    const dev = device ? ` AND device = ${literal(device)}` : '';
    const [startEdge, endEdge] = await this.query.statements(
      `SELECT * FROM ${INTERVALS} WHERE time >= ${nsOf(w.from)} AND time < ${nsOf(w.to + 1)} AND t0_ms < ${w.from}${dev} GROUP BY *; ` +
        `SELECT * FROM ${INTERVALS} WHERE time >= ${nsOf(w.to + 1)}${dev} GROUP BY * ORDER BY time ASC LIMIT 1`,
    );
    const out: Array<{ i: Interval; share: number; continuing: boolean }> = [];
    for (const i of toIntervals(startEdge ?? [])) {
      const share = overlapShare(i, w);
      if (share > 0) out.push({ i, share, continuing: false });
    }
    for (const i of toIntervals(endEdge ?? [])) if (i.t0 < w.to) out.push({ i, share: overlapShare(i, w), continuing: true });
    return out;
  }

  async intervals(device: string, window: Window): Promise<Interval[]> {
    const inside = await this.query.query(
      `SELECT * FROM ${INTERVALS} WHERE device = ${literal(device)} AND time >= ${nsOf(window.from)} AND time < ${nsOf(window.to + 1)} AND t0_ms >= ${window.from} AND t0_ms < ${window.to} GROUP BY *`,
    );
    const edges = (await this.overlapping(window, device)).map((x) => x.i);
    return [...toIntervals(inside), ...edges].sort((a, b) => a.counter.localeCompare(b.counter) || a.t1 - b.t1);
  }

  async readings(device: string, window: Window, limit: number): Promise<ReadingRow[]> {
    const from = KINDS.map(ident).join(', ');
    const series = await this.query.query(
      `SELECT * FROM ${from} WHERE device = ${literal(device)} AND time >= ${nsOf(window.from)} AND time < ${nsOf(window.to)} ORDER BY time ASC LIMIT ${limit}`,
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
    return rows.sort((a, b) => a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1)).slice(0, limit);
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

/** The first records holding at most `maxReadings` readings (always at least one record). */
function takeUpTo<T>(entries: SpoolEntry<T[]>[], maxReadings: number): SpoolEntry<T[]>[] {
  let n = 0;
  let k = 0;
  while (k < entries.length && (k === 0 || n + entries[k]!.value.length <= maxReadings)) n += entries[k++]!.value.length;
  return entries.slice(0, k);
}

/**
 * One receipt per device and hour of reading time in the batch, timed when the batch is written to
 * InfluxDB (not when ingest received it): the late-reading check asks what became queryable since its
 * last look, and a reading that waited in the spool becomes queryable only now.
 */
function receipts(readings: StoredReading[], storedAt: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of readings) {
    const hour = Math.floor(r.ts / 3_600_000) * 3_600_000;
    const key = `${r.device}|${hour}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(receiptLine(r.device, storedAt, hour));
  }
  return out;
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
        ctx,
      };
    }),
  );
}
