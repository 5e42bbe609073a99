import type { IngestMetrics } from './metrics.js';
import type { DurableWriter, StoredReading } from './reading.js';

interface Pending {
  readings: StoredReading[];
  resolve: () => void;
  reject: (e: Error) => void;
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
  private writing?: Promise<void>;
  private closed = false;

  constructor(
    private readonly writer: DurableWriter,
    private readonly metrics: IngestMetrics,
    private readonly opts: GroupCommitOptions = { maxBatch: 2000, maxDelayMs: 0 },
  ) {}

  submit(readings: StoredReading[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('ingest is shutting down'));
    if (readings.length === 0) return Promise.resolve();
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
    if (this.writing || this.timer) return;
    const run = () => {
      this.timer = undefined;
      this.writing = this.flushOnce().finally(() => {
        this.writing = undefined;
        if (this.queue.length > 0) this.schedule();
      });
    };
    // With no delay the commit runs after the current I/O phase, so every message that arrived in it
    // shares the transaction; while a commit runs, newcomers queue for the next one.
    const delay = this.queued >= this.opts.maxBatch ? 0 : this.opts.maxDelayMs;
    this.timer = delay === 0 ? (setImmediate(run) as unknown as NodeJS.Timeout) : setTimeout(run, delay);
  }

  private async flushOnce(): Promise<void> {
    const batch: Pending[] = [];
    let n = 0;
    while (this.queue.length > 0 && (n === 0 || n + this.queue[0]!.readings.length <= this.opts.maxBatch)) {
      const p = this.queue.shift()!;
      batch.push(p);
      n += p.readings.length;
    }
    this.queued -= n;
    const all = batch.length === 1 ? batch[0]!.readings : batch.flatMap((p) => p.readings);
    const stop = this.metrics.storeLatency.startTimer();
    try {
      const result = await this.writer.writeBatch(all);
      stop();
      this.metrics.batchSize.observe(n);
      this.metrics.committed.inc(result.inserted);
      for (const p of batch) p.resolve();
    } catch (err) {
      stop();
      for (const p of batch) p.reject(err as Error);
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
    while (this.writing || this.queue.length > 0) {
      if (this.writing) await this.writing;
      else {
        this.writing = this.flushOnce().finally(() => (this.writing = undefined));
      }
    }
  }
}
