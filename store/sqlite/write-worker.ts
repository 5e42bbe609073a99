import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { StoredReading } from '../../ingest/reading.js';
import { BatchWriter } from './batch-writer.js';
import { migrate } from './schema.js';
import { toThreadError } from './thread-error.js';

/**
 * The store's writer thread (store/sqlite/writer-thread.ts starts it): it owns the write connection,
 * so a transaction and its fsync never hold up the event loop that acknowledges readings.
 */

type Request = { type: 'write'; id: number; readings: StoredReading[] } | { type: 'close' };

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

port.on('message', (msg: Request) => {
  if (msg.type === 'close') {
    db?.close();
    port.close();
    return;
  }
  try {
    port.postMessage({ type: 'written', id: msg.id, outcome: writer!.write(msg.readings) });
  } catch (err) {
    port.postMessage({ type: 'written', id: msg.id, error: toThreadError(err) });
  }
});
