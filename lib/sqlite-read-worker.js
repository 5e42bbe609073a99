// A read-only SQLite connection in a worker thread (see sqlite-reader.ts): plain JavaScript, so the
// same file runs from the source tree and beside the compiled code. It prepares the statements it is
// handed once and answers `{id, name, params, mode}` with `{id, rows}` or `{id, error}`.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const statements = {};
for (const [name, sql] of Object.entries(workerData.statements)) statements[name] = db.prepare(sql);

parentPort.on('message', (msg) => {
  try {
    const stmt = statements[msg.name];
    if (!stmt) throw new Error(`no statement named ${msg.name}`);
    const args = msg.params === undefined ? [] : Array.isArray(msg.params) ? msg.params : [msg.params];
    const rows = msg.mode === 'get' ? stmt.get(...args) : stmt.all(...args);
    parentPort.postMessage({ id: msg.id, rows });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
