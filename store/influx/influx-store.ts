import { setTimeout as delay } from 'node:timers/promises';
import type { StoreEvents, StoredReading, WriteResult } from '../../ingest/reading.js';
import { Spool } from '../spool/spool.js';
import type { AggregateRow, Interval, ReadingRow, ReadingStore, ReadOptions, Window } from '../types.js';
import { WriteHealth } from '../write-health.js';
import { type DrainerOptions, SpoolDrainer, updateSpoolMetrics } from './drainer.js';
import { IntervalTracker } from './interval-tracker.js';
import { InfluxQuery } from './query.js';
import { InfluxReader } from './reader.js';
import { createLineWriter, type InfluxTarget } from './writer.js';

/** `log`, `metrics`, `onRejected` and the drain settings are in DrainerOptions. */
export interface InfluxStoreOptions extends DrainerOptions {
  target: InfluxTarget;
  /** undefined: query only (a command beside the service); writes are refused */
  spoolDir?: string;
  spoolMaxBytes: number;
}

/**
 * InfluxDB as the time-series store, with the on-disk spool in front: `writeBatch` resolves once the
 * readings are in the spool (durable; QoS 1 is acknowledged then); a drainer (drainer.ts) replays the
 * spool in order into InfluxDB with the readings' own timestamps, retrying with back-off (honouring
 * Retry-After), splitting on 413 and quarantining on other 4xx. When the spool's disk budget is full,
 * `writeBatch` waits: ingest stops acknowledging rather than dropping. Queries are InfluxQL on `/query`
 * (reader.ts).
 */
export class InfluxStore implements ReadingStore {
  readonly name = 'influxdb';
  private readonly spool?: Spool<StoredReading[]>;
  private readonly drainer?: SpoolDrainer;
  private readonly query: InfluxQuery;
  private readonly reader: InfluxReader;
  private readonly abort = new AbortController();
  private draining?: Promise<void>;
  private readonly writes: WriteHealth;

  constructor(private readonly opts: InfluxStoreOptions) {
    this.writes = new WriteHealth(opts.spoolDir ?? '.');
    if (opts.spoolDir) {
      this.spool = new Spool<StoredReading[]>({ dir: opts.spoolDir, maxBytes: opts.spoolMaxBytes, onCorrupt: (m: string) => opts.log.error({ spool: opts.spoolDir }, m) });
    }
    const writer = createLineWriter(opts.target);
    this.query = new InfluxQuery(opts.target);
    this.reader = new InfluxReader(this.query);
    if (this.spool) this.drainer = new SpoolDrainer(this.spool, writer, new IntervalTracker(this.query), opts);
  }

  async start(): Promise<void> {
    await this.checkDatabase();
    if (!this.spool || !this.drainer) return;
    await this.spool.open();
    const s = this.spool.stats();
    if (s.records > 0) this.opts.log.info({ records: s.records, bytes: s.bytes }, 'spool has readings from before the restart: replaying them');
    this.draining = this.drainer.run(this.abort.signal);
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
    const spool = this.spool;
    if (readings.length > 0) await this.writes.track(() => spool.append(readings));
    updateSpoolMetrics(this.spool, this.opts.metrics);
    // Duplicates are recognised when the spool drains (a resend overwrites its own point anyway).
    return { inserted: readings.length, duplicates: 0 };
  }

  /** Resolves when everything written so far has reached InfluxDB (tests, shutdown reporting). */
  async settled(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.spool && this.spool.stats().records > 0) {
      if (Date.now() > deadline) throw new Error(`spool did not drain within ${timeoutMs} ms (${this.spool.stats().records} records left)`);
      await delay(25);
    }
  }

  /** Up while the spool takes readings (InfluxDB itself may be down: the spool holds them); down while appends fail. */
  healthy(): boolean {
    return !this.abort.signal.aborted && (!this.spool || (!!this.draining && this.writes.ok));
  }

  spoolStats() {
    return this.spool?.stats();
  }

  /** Not part of the up/down verdict: with the spool, ingest goes on while InfluxDB is down. */
  details(): Record<string, unknown> {
    return {
      influx_reachable: this.drainer?.reachable ?? false,
      spool: this.spool?.stats(),
      ...(this.drainer?.spoolFault ? { spool_error: this.drainer.spoolFault } : {}),
      ...this.writes.details(),
    };
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.draining;
    await this.spool?.close();
  }

  aggregate(window: Window, opts?: ReadOptions): Promise<AggregateRow[]> {
    return this.reader.aggregate(window, opts);
  }

  intervals(device: string, window: Window, opts?: ReadOptions & { limit?: number }): Promise<Interval[]> {
    return this.reader.intervals(device, window, opts);
  }

  setEvents(events: StoreEvents): void {
    if (this.drainer) this.drainer.events = events;
  }

  heldOut(window: Window, limit: number, opts?: ReadOptions): Promise<Interval[]> {
    return this.reader.heldOut(window, limit, opts);
  }

  readings(device: string, window: Window, limit: number, opts?: ReadOptions & { newestFirst?: boolean }): Promise<ReadingRow[]> {
    return this.reader.readings(device, window, limit, opts);
  }

  countReadings(device?: string): Promise<number> {
    return this.reader.countReadings(device);
  }

  receivedHours(after: number, until: number): Promise<number[]> {
    return this.reader.receivedHours(after, until);
  }
}
