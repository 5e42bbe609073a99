/** What became of a job handed to the queue. */
export type JobOutcome<T> =
  | { status: 'done'; value: T }
  /** the queue was full: refuse the caller now (CONNACK 3) rather than make it wait */
  | { status: 'overloaded' }
  /** the caller left (its socket closed) before the job's turn: the work was never done */
  | { status: 'dropped' }
  /** the queue is stopping or stopped: the work was never done */
  | { status: 'cancelled' }
  /** the work itself threw */
  | { status: 'failed'; error: unknown };

interface Job {
  work: () => Promise<unknown>;
  abandoned: () => boolean;
  settle: (outcome: JobOutcome<unknown>) => void;
}

/**
 * A bounded queue for expensive work (legacy scrypt checks): at most `concurrency` jobs run at once
 * and at most `maxQueued` wait. A job whose caller has left (`abandoned()`) when its turn comes is
 * dropped without running; a full queue first drops such jobs, then answers `overloaded`. `stop()`
 * cancels every waiting job and resolves once the running ones are done, so nothing runs after it.
 */
export class BoundedWorkQueue {
  private readonly waiting: Job[] = [];
  private running = 0;
  private stopped = false;
  private idle?: () => void;

  constructor(
    private readonly opts: { concurrency: number; maxQueued: number; onDepth?: (waiting: number) => void },
  ) {}

  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  run<T>(work: () => Promise<T>, abandoned: () => boolean): Promise<JobOutcome<T>> {
    if (this.stopped) return Promise.resolve({ status: 'cancelled' });
    if (abandoned()) return Promise.resolve({ status: 'dropped' });
    if (this.waiting.length >= this.opts.maxQueued) this.dropAbandoned();
    if (this.waiting.length >= this.opts.maxQueued) return Promise.resolve({ status: 'overloaded' });
    return new Promise<JobOutcome<T>>((resolve) => {
      this.waiting.push({ work, abandoned, settle: resolve as (o: JobOutcome<unknown>) => void });
      this.pump();
    });
  }

  /** Cancel what waits, refuse what comes, and resolve once the running jobs are done; returns how many were cancelled. */
  async stop(): Promise<number> {
    this.stopped = true;
    const cancelled = this.waiting.splice(0);
    for (const job of cancelled) job.settle({ status: 'cancelled' });
    this.opts.onDepth?.(0);
    if (this.running > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    return cancelled.length;
  }

  private dropAbandoned(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const job = this.waiting[i]!;
      if (job.abandoned()) {
        this.waiting.splice(i, 1);
        job.settle({ status: 'dropped' });
      }
    }
    this.opts.onDepth?.(this.waiting.length);
  }

  private pump(): void {
    while (!this.stopped && this.running < this.opts.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      if (job.abandoned()) {
        job.settle({ status: 'dropped' });
        continue;
      }
      this.running++;
      Promise.resolve().then(job.work).then(
        (value) => job.settle({ status: 'done', value }),
        (error: unknown) => job.settle({ status: 'failed', error }),
      ).finally(() => {
        this.running--;
        if (this.stopped && this.running === 0) this.idle?.();
        else this.pump();
      });
    }
    this.opts.onDepth?.(this.waiting.length);
  }
}
