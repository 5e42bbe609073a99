import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { StoredReading } from '../../ingest/reading.js';
import { BatchWriter, type BatchOutcome } from './batch-writer.js';
import { migrate } from './schema.js';
import { toThreadError } from './thread-error.js';

/**
 * The store's writer thread (store/sqlite/writer-thread.ts starts it): it owns the write connection,
 * so a transaction and its fsync never hold up the event loop that acknowledges readings.
 */

type Write = { type: 'write'; id: number; readings: StoredReading[] };
type Request = Write | { type: 'close' };

/** Readings taken into one transaction at most when writes wait on the port (a write is never split). */
const MAX_TRANSACTION_READINGS = 5_000;

const WAL_AUTOCHECKPOINT_PAGES = 10_000;

const port = parentPort!;
const { file } = workerData as { file: string };

let db: Database.Database | undefined;
let writer: BatchWriter | undefined;
try {
  db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // Checkpoint when the WAL holds 10,000 pages (40 MiB), not SQLite's 1,000: small group commits rewrite
  // the same pages, so a rarer checkpoint copies each page once for many commits (measured: +40 % readings/s
  // in commits of 25 readings, bench/README.md).
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  migrate(db);
  writer = new BatchWriter(db);
  port.postMessage({ type: 'ready' });
} catch (err) {
  db?.close();
  port.postMessage({ type: 'failed', error: toThreadError(err) });
}

/**
 * Every write waiting on the port goes into one transaction with the first (group commit across the
 * batches the main thread posted while the last commit ran): the main thread never waits for a commit
 * before it posts the next batch, and the thread starts the next transaction as soon as one ends.
 */
port.on('message', (msg: Request) => {
  if (msg.type === 'close') return close();
  const writes: Write[] = [msg];
  let readings = msg.readings.length;
  let closing = false;
  while (readings < MAX_TRANSACTION_READINGS) {
    const next = receiveMessageOnPort(port)?.message as Request | undefined;
    if (!next) break;
    if (next.type === 'close') {
      closing = true;
      break;
    }
    writes.push(next);
    readings += next.readings.length;
  }
  commit(writes, readings);
  if (closing) close();
});

function commit(writes: Write[], readings: number): void {
  if (writes.length > 1) {
    let outcomes: BatchOutcome[] | undefined;
    try {
      outcomes = writer!.writeMany(writes.map((w) => w.readings));
    } catch {
      // One batch spoiled the shared transaction (or the store failed): each again in its own, so a
      // reading's fault fails only its own batch.
    }
    if (outcomes) {
      for (const [i, w] of writes.entries()) port.postMessage({ type: 'written', id: w.id, outcome: outcomes[i], transaction: i === 0 ? readings : undefined });
      return;
    }
  }
  for (const w of writes) {
    try {
      port.postMessage({ type: 'written', id: w.id, outcome: writer!.write(w.readings), transaction: w.readings.length });
    } catch (err) {
      port.postMessage({ type: 'written', id: w.id, error: toThreadError(err) });
    }
  }
}

function close(): void {
  db?.close();
  port.close();
}
