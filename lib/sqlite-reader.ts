import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Reads of a SQLite database off the main thread: a small pool of worker threads, each with its own
 * read-only connection (WAL lets them read while the main thread commits), so a long query never holds
 * up the event loop that acknowledges readings. Each query can carry an AbortSignal: a query still
 * queued is dropped, one running is stopped by ending its worker (a fresh one takes its place).
 */

export class ReaderBusyError extends Error {}
export class QueryAbortedError extends Error {}

export interface SqliteReaderOptions {
  /** worker threads, each with one connection (default 2) */
  workers?: number;
  /** queries waiting for a worker at most; beyond, `query` rejects with ReaderBusyError (default 200) */
  maxQueued?: number;
}

interface Job {
  id: number;
  name: string;
  params: unknown;
  mode: 'all' | 'get';
  resolve: (rows: unknown) => void;
  reject: (err: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

const WORKER_FILE = 'sqlite-read-worker.js';

/** The worker's file: beside this module in the source tree (tsc does not copy .js files into dist/). */
function workerFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, WORKER_FILE), path.join(here.replace(`${path.sep}dist${path.sep}`, path.sep), WORKER_FILE)];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) throw new Error(`${WORKER_FILE} not found next to ${here}`);
  return found;
}

export class SqliteReader {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly size: number;
  private readonly maxQueued: number;

  constructor(
    private readonly file: string,
    private readonly statements: Record<string, string>,
    opts: SqliteReaderOptions = {},
  ) {
    this.size = opts.workers ?? 2;
    this.maxQueued = opts.maxQueued ?? 200;
  }

  /** Starts the workers; the database file must exist (the writer creates it first). */
  start(): void {
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(workerFile(), { workerData: { file: this.file, statements: this.statements } });
    const slot: Slot = { worker };
    worker.on('message', (msg: { id: number; rows?: unknown; error?: string }) => {
      const job = slot.job;
      if (!job || job.id !== msg.id) return;
      this.finish(slot);
      if (msg.error !== undefined) job.reject(new Error(msg.error));
      else job.resolve(msg.rows);
    });
    worker.on('error', (err) => this.replace(slot, err));
    worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot)) this.replace(slot, new Error(`SQLite reader worker exited with code ${code}`));
    });
    // An idle worker does not keep the process alive; one with a query in flight does (see dispatch).
    worker.unref();
    return slot;
  }

  /** A worker that failed or was stopped: its job (if any) is rejected and a fresh worker takes its place. */
  private replace(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const job = slot.job;
    slot.job = undefined;
    void slot.worker.terminate();
    if (job) {
      job.signal?.removeEventListener('abort', job.onAbort!);
      job.reject(err);
    }
    if (this.closed) {
      this.slots.splice(i, 1);
      return;
    }
    this.slots[i] = this.spawn();
    this.dispatch();
  }

  private finish(slot: Slot): void {
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    if (job?.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, name: job.name, params: job.params, mode: job.mode });
    }
  }

  /** Runs a named statement with its parameters (an object for named, an array for positional ones). */
  query<T>(name: string, params?: unknown, opts: { mode?: 'all' | 'get'; signal?: AbortSignal } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the SQLite reader is closed'));
    if (opts.signal?.aborted) return Promise.reject(new QueryAbortedError('query aborted before it started'));
    if (this.queue.length >= this.maxQueued) return Promise.reject(new ReaderBusyError(`${this.queue.length} queries are waiting already`));
    return new Promise<T>((resolve, reject) => {
      const job: Job = { id: this.nextId++, name, params, mode: opts.mode ?? 'all', resolve: resolve as (rows: unknown) => void, reject, signal: opts.signal };
      if (opts.signal) {
        job.onAbort = () => {
          const queued = this.queue.indexOf(job);
          if (queued >= 0) {
            this.queue.splice(queued, 1);
            reject(new QueryAbortedError('query aborted while queued'));
            return;
          }
          const slot = this.slots.find((s) => s.job === job);
          if (slot) this.replace(slot, new QueryAbortedError('query aborted while running: its worker was stopped'));
        };
        opts.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Queries waiting and running (for health and metrics). */
  load(): { queued: number; running: number } {
    return { queued: this.queue.length, running: this.slots.filter((s) => s.job).length };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the SQLite reader closed'));
    const slots = this.slots.splice(0);
    for (const s of slots) s.job?.reject(new Error('the SQLite reader closed'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
