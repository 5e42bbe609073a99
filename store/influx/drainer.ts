import type { Logger } from 'pino';
import type { StoreEvents, StoredReading } from '../../ingest/reading.js';
import type { StoreMetrics } from '../metrics.js';
import type { Spool, SpoolEntry } from '../spool/spool.js';
import type { IntervalTracker, Plan } from './interval-tracker.js';
import { intervalLine, readingLine, receiptLine } from './schema.js';
import { describe } from '../write-health.js';
import { backoffMs, type LineWriter } from './writer.js';

export interface DrainerOptions {
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

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Replays the spool in order into InfluxDB with the readings' own timestamps, their intervals and
 * receipts alongside, retrying with back-off (honouring Retry-After), splitting on 413 and quarantining
 * on other 4xx. Spool records are acked only once their readings are written or quarantined.
 */
/** A failure of the spool on local disk (not of InfluxDB): named as such in logs and health. */
class SpoolFault extends Error {}

async function local<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new SpoolFault(`spool ${what} failed on local disk: ${describe(err)}`);
  }
}

export class SpoolDrainer {
  private remoteUp = false;
  /** why the spool on local disk failed, until it works again */
  spoolFault?: string;

  constructor(
    private readonly spool: Spool<StoredReading[]>,
    private readonly writer: LineWriter,
    private readonly tracker: IntervalTracker,
    private readonly opts: DrainerOptions,
  ) {}

  /** Where flagged intervals and conflicting resends are reported once their batch is written. */
  events?: StoreEvents;

  /** Whether InfluxDB answered the last write (false until the first one). */
  get reachable(): boolean {
    return this.remoteUp;
  }

  /** Drains until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const spool = this.spool;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        await spool.waitForData(signal);
        if (signal.aborted) break;
        const entries = takeUpTo(await local('read', () => spool.peek(this.opts.drainRecords ?? 1000)), this.opts.drainReadings ?? 5000);
        if (entries.length === 0) continue;
        await this.deliver(entries, signal);
        if (signal.aborted) break;
        await local('ack', () => spool.ack(entries[entries.length - 1]!.position));
        this.spoolFault = undefined;
        attempt = 0;
        updateSpoolMetrics(spool, this.opts.metrics);
      } catch (err) {
        if (signal.aborted) break;
        const wait = backoffMs(attempt++, { maxMs: this.opts.maxRetryWaitMs ?? 5000 });
        if (err instanceof SpoolFault) {
          // The local disk, not InfluxDB: say so (a full disk under the spool is not an InfluxDB outage).
          this.spoolFault = err.message;
          this.opts.log.error({ err: err.message, retryInMs: wait }, 'the spool on local disk failed; draining waits');
        } else {
          // A query for interval neighbours failed (InfluxDB down): wait and take the batch again.
          this.remoteUp = false;
          this.tracker.reset();
          this.opts.metrics?.influxRetries.inc();
          this.opts.log.warn({ err: (err as Error).message, retryInMs: wait }, 'InfluxDB unavailable; readings wait in the spool');
        }
        await sleep(wait, signal);
      }
    }
  }

  /** Writes the readings of these spool records, their intervals and receipts; returns when done or rejected. */
  private async deliver(entries: SpoolEntry<StoredReading[]>[], signal: AbortSignal): Promise<void> {
    const readings = entries.flatMap((e) => e.value);
    const plan = await this.tracker.plan(readings);
    this.opts.metrics?.duplicates.inc(plan.duplicates);
    const lines = linesOf(plan, Date.now());
    const stored = lines.length === 0 || (await this.send(lines, plan.readings, signal));
    // Told once the readings are in InfluxDB (a batch quarantined for good tells nothing: its readings are not stored).
    if (stored && plan.flagged.length > 0) this.events?.flagged(plan.flagged);
    if (plan.conflicts.length > 0) this.events?.conflicts(plan.conflicts);
  }

  /** Writes the lines; true when InfluxDB took them all, false when (a part) went to the quarantine or the drain stopped. */
  private async send(lines: string[], readings: StoredReading[], signal: AbortSignal): Promise<boolean> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      const stop = this.opts.metrics?.influxWriteLatency.startTimer();
      const outcome = await this.writer.write(lines);
      stop?.();
      switch (outcome.kind) {
        case 'ok':
          this.remoteUp = true;
          this.opts.metrics?.influxPoints.inc(lines.length);
          return true;
        case 'split': {
          if (lines.length === 1) {
            await this.reject(readings, `InfluxDB refused a single point as too large: ${outcome.reason}`);
            return false;
          }
          const half = Math.ceil(lines.length / 2);
          this.opts.log.info({ lines: lines.length }, 'InfluxDB answered 413: splitting the batch');
          const first = await this.send(lines.slice(0, half), readings, signal);
          const second = await this.send(lines.slice(half), readings, signal);
          return first && second;
        }
        case 'reject':
          this.remoteUp = true;
          await this.reject(readings, `InfluxDB refused the batch (HTTP ${outcome.status}): ${outcome.reason}`);
          return false;
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
    return false;
  }

  private async reject(readings: StoredReading[], reason: string): Promise<void> {
    this.opts.metrics?.influxRejected.inc();
    this.opts.log.error({ readings: readings.length, reason }, 'batch quarantined');
    this.tracker.reset();
    await this.opts.onRejected?.(readings, reason);
  }
}

/** The spool gauges: records and bytes waiting, age of the oldest. */
export function updateSpoolMetrics(spool: Spool<StoredReading[]>, metrics: StoreMetrics | undefined): void {
  if (!metrics) return;
  const s = spool.stats();
  metrics.spoolRecords.set(s.records);
  metrics.spoolBytes.set(s.bytes);
  metrics.spoolOldestAge.set(s.oldestAppendedAt === null ? 0 : (Date.now() - s.oldestAppendedAt) / 1000);
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
/** The points one drained batch writes: its readings, their intervals and the hours they were stored in. */
export function linesOf(plan: Pick<Plan, 'readings' | 'intervals'>, storedAt: number): string[] {
  return [...plan.readings.map(readingLine), ...plan.intervals.map(intervalLine), ...receipts(plan.readings, storedAt)];
}

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
