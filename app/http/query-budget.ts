import { QueryAbortedError, ReaderBusyError } from '../../lib/sqlite-reader.js';

/** An HTTP error with a status and a reason for the client (the error handler sends both). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

/**
 * Bounds what public requests may ask of the store: at most `maxConcurrent` heavy queries at once
 * (others are told to come back: 503 with Retry-After), and each within `budgetMs` (its queries are
 * aborted when the budget runs out: 503). Ingest never waits for any of this: store reads run off the
 * main thread (lib/sqlite-reader.ts) or over HTTP (InfluxDB).
 */
export class QueryBudget {
  private running = 0;

  constructor(private readonly opts: { maxConcurrent: number; budgetMs: number }) {}

  async run<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.running >= this.opts.maxConcurrent) {
      throw new HttpError(503, `${this.running} queries are running already (at most ${this.opts.maxConcurrent} at once); try again shortly`, 2);
    }
    this.running++;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.opts.budgetMs);
    try {
      return await work(ac.signal);
    } catch (err) {
      if (ac.signal.aborted || err instanceof QueryAbortedError) {
        throw new HttpError(503, `the query took longer than its budget of ${this.opts.budgetMs / 1000} s and was stopped; ask for a shorter period`, 10);
      }
      if (err instanceof ReaderBusyError) throw new HttpError(503, `the store is busy (${err.message}); try again shortly`, 2);
      throw err;
    } finally {
      clearTimeout(timer);
      this.running--;
    }
  }

  get inFlight(): number {
    return this.running;
  }
}
