import type { IngestMetrics } from './metrics.js';
import type { DurableWriter, StoredReading } from './reading.js';

/** A reading the store refused for a reason of its own (its index in the submitted list), not for a fault of the store. */
export interface RefusedReading {
  index: number;
  reason: string;
}

/** What became of a submitted list: everything durable, but for the readings the store refused. */
export interface CommitOutcome {
  refused: RefusedReading[];
}

interface Pending {
  readings: StoredReading[];
  resolve: (outcome: CommitOutcome) => void;
  reject: (e: Error) => void;
}

/**
 * Whether a failed write was the reading's fault (a value the store cannot take) rather than the
 * store's (disk full, I/O error, database locked or gone, spool closed): only the former may be
 * refused and acknowledged; after the latter nothing is acknowledged and devices resend.
 */
export function isReadingFault(err: unknown): boolean {
  if (err instanceof RangeError || err instanceof TypeError || err instanceof SyntaxError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code);
}

/** The store's last failure, for health and metrics; cleared by the next commit that succeeds. */
export interface CommitFault {
  at: number;
  message: string;
}

export interface GroupCommitOptions {
  /** readings per transaction, at most (a single message's batch is never split) */
  maxBatch: number;
  /** how long the first waiting reading may wait for company before the commit starts (0: next turn of the event loop) */
  maxDelayMs: number;
}

/**
 * Group commit: readings submitted while a commit is being prepared or running are written together
 * in the next transaction, so many acknowledgements share one fsync. `submit` resolves when its
 * readings are durable; nothing is acknowledged before that.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private queued = 0;
  private timer?: NodeJS.Timeout;
  /** commits under way: at most the writer's `writesAtOnce` */
  private readonly writing = new Set<Promise<void>>();
  private closed = false;
  /** set while commits fail for a fault of the store */
  fault?: CommitFault;

  constructor(
    private readonly writer: DurableWriter,
    private readonly metrics: IngestMetrics,
    private readonly opts: GroupCommitOptions = { maxBatch: 2000, maxDelayMs: 0 },
  ) {}

  /**
   * Resolves when the readings are durable, with those the store refused for their own sake (they are
   * not stored: the caller quarantines them); rejects when the store failed (nothing may be acknowledged).
   */
  submit(readings: StoredReading[]): Promise<CommitOutcome> {
    if (this.closed) return Promise.reject(new Error('ingest is shutting down'));
    if (readings.length === 0) return Promise.resolve({ refused: [] });
    return new Promise((resolve, reject) => {
      this.queue.push({ readings, resolve, reject });
      this.queued += readings.length;
      this.schedule();
    });
  }

  /** Readings waiting for a commit. */
  get depth(): number {
    return this.queued;
  }

  private schedule(): void {
    // once draining, `drain` starts every commit itself: a timer set now would start one beside it
    if (this.closed || this.writing.size >= (this.writer.writesAtOnce ?? 1) || this.timer) return;
    const run = () => {
      this.timer = undefined;
      this.startFlush();
      if (this.queue.length > 0) this.schedule();
    };
    // With no delay the commit runs after the current I/O phase, so every message that arrived in it
    // shares the transaction; while as many commits run as the writer takes, newcomers queue for the next.
    const delay = this.queued >= this.opts.maxBatch ? 0 : this.opts.maxDelayMs;
    this.timer = delay === 0 ? (setImmediate(run) as unknown as NodeJS.Timeout) : setTimeout(run, delay);
  }

  private startFlush(): void {
    const flush: Promise<void> = this.flushOnce().finally(() => {
      this.writing.delete(flush);
      if (this.queue.length > 0) this.schedule();
    });
    this.writing.add(flush);
  }

  private async flushOnce(): Promise<void> {
    // Count first, then take them in one splice: shifting one by one is quadratic in a long queue (a QoS 0 flood).
    let k = 0;
    let n = 0;
    while (k < this.queue.length && (k === 0 || n + this.queue[k]!.readings.length <= this.opts.maxBatch)) n += this.queue[k++]!.readings.length;
    const batch = this.queue.splice(0, k);
    this.queued -= n;
    const all = batch.length === 1 ? batch[0]!.readings : batch.flatMap((p) => p.readings);
    const stop = this.metrics.storeLatency.startTimer();
    try {
      const result = await this.writer.writeBatch(all);
      stop();
      this.metrics.batchSize.observe(n);
      this.metrics.committed.inc(result.inserted);
      this.fault = undefined;
      for (const p of batch) p.resolve({ refused: [] });
    } catch (err) {
      stop();
      if (isReadingFault(err)) await this.isolate(batch);
      else this.failAll(batch, err as Error);
    }
  }

  private failAll(batch: Pending[], err: Error): void {
    this.fault = { at: Date.now(), message: err.message };
    this.metrics.commitFailures.inc({ cause: causeOf(err) });
    for (const p of batch) p.reject(err);
  }

  /**
   * One reading spoiled the shared transaction: write the batch again reading by reading, in order, so
   * the others are stored and only the offending ones are refused. A fault of the store met on the way
   * still rejects its message (nothing of it acknowledged).
   */
  private async isolate(batch: Pending[]): Promise<void> {
    for (const p of batch) {
      const refused: RefusedReading[] = [];
      let fault: Error | undefined;
      for (const [index, reading] of p.readings.entries()) {
        try {
          const result = await this.writer.writeBatch([reading]);
          this.metrics.committed.inc(result.inserted);
        } catch (err) {
          if (!isReadingFault(err)) {
            fault = err as Error;
            break;
          }
          refused.push({ index, reason: `the store could not take this reading: ${(err as Error).message}` });
        }
      }
      if (fault) this.failAll([p], fault);
      else p.resolve({ refused });
    }
  }

  /** Commit everything submitted so far, then refuse new work. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      clearImmediate(this.timer as unknown as NodeJS.Immediate);
      this.timer = undefined;
    }
    while (this.writing.size > 0 || this.queue.length > 0) {
      if (this.queue.length > 0 && this.writing.size < (this.writer.writesAtOnce ?? 1)) this.startFlush();
      else await Promise.race(this.writing);
    }
  }
}

/** A low-cardinality label for a store fault. */
function causeOf(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code.replace(/^SQLITE_(\w+?)(_\w+)?$/, 'sqlite_$1').toLowerCase();
  return 'other';
}
