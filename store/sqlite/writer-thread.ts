import type { Worker } from 'node:worker_threads';
import type { StoredReading } from '../../ingest/reading.js';
import { moduleWorker } from '../../lib/module-worker.js';
import type { BatchOutcome } from './batch-writer.js';
import { fromThreadError, type ThreadError } from './thread-error.js';

/** `transaction`: on the first batch of a transaction, the readings it committed (all its batches'). */
type Reply = { type: 'ready' } | { type: 'failed'; error: ThreadError } | { type: 'written'; id: number; outcome?: BatchOutcome; error?: ThreadError; transaction?: number };

interface Waiting {
  resolve: (outcome: BatchOutcome) => void;
  reject: (err: Error) => void;
}

/**
 * The main thread's side of the store's writer thread (store/sqlite/write-worker.ts): batches go to it
 * as they come (the thread commits those waiting together) and their outcomes come back; an error keeps its class and `code` across (a reading's fault or the
 * store's). If the thread dies, what it was writing is rejected (nothing of it acknowledged) and the
 * next write starts a fresh one.
 */
export class WriterThread {
  private worker?: Worker;
  private started?: Promise<void>;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;

  /** `onTransaction`: told the readings of each transaction committed (for metrics). */
  constructor(
    private readonly file: string,
    private readonly onTransaction?: (readings: number) => void,
  ) {}

  start(): Promise<void> {
    this.closed = false;
    this.started ??= this.spawn();
    return this.started;
  }

  /** Whether a writer thread is up (or starting). */
  get running(): boolean {
    return this.started !== undefined && !this.closed;
  }

  private spawn(): Promise<void> {
    const worker = moduleWorker(new URL(`./write-worker${extension()}`, import.meta.url), { file: this.file });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: Reply) => {
        if (msg.type === 'ready') {
          worker.unref();
          resolve();
        } else if (msg.type === 'failed') {
          reject(fromThreadError(msg.error));
          void worker.terminate();
        } else this.settle(msg);
      });
      worker.on('error', (err) => {
        reject(err);
        this.lost(worker, err);
      });
      worker.on('exit', (code) => {
        const err = new Error(`the store's writer thread stopped (exit code ${code})`);
        reject(err);
        this.lost(worker, err);
      });
    });
  }

  private settle(msg: Extract<Reply, { type: 'written' }>): void {
    const w = this.waiting.get(msg.id);
    if (!w) return;
    this.waiting.delete(msg.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (msg.error) w.reject(fromThreadError(msg.error));
    else {
      if (msg.transaction !== undefined) this.onTransaction?.(msg.transaction);
      w.resolve(msg.outcome!);
    }
  }

  /** The thread is gone: its writes fail as a fault of the store, and the next write starts another. */
  private lost(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.started = undefined;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  async write(readings: StoredReading[]): Promise<BatchOutcome> {
    if (this.closed) throw new Error('store closed');
    await (this.started ??= this.spawn());
    const worker = this.worker!;
    const id = this.nextId++;
    return new Promise<BatchOutcome>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      try {
        // A value structured clone cannot copy (nested too deep) throws here: the reading's fault.
        worker.postMessage({ type: 'write', id, readings });
      } catch (err) {
        this.waiting.delete(id);
        if (this.waiting.size === 0) worker.unref();
        reject(err as Error);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ type: 'close' });
    await exited;
    this.started = undefined;
  }
}

/** `.ts` when running from the sources, `.js` when built. */
function extension(): string {
  return import.meta.url.endsWith('.ts') ? '.ts' : '.js';
}
