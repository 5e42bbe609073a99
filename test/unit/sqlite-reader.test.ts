import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueryAbortedError, ReaderBusyError, SqliteReader } from '../../lib/sqlite-reader.js';

/** lib/sqlite-reader.ts: reads in worker threads, so a long query never holds up the main thread. */

let dir: string;
let file: string;
let reader: SqliteReader | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-reader-'));
  file = path.join(dir, 'db.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER)');
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  db.transaction(() => {
    for (let i = 1; i <= 100; i++) insert.run(i);
  })();
  db.close();
});
afterEach(async () => {
  await reader?.close();
  reader = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A query that runs for a long time: a recursive count to a large number. */
const SLOW = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) SELECT count(*) AS n FROM c';

describe('SqliteReader', () => {
  it('answers named statements with named and positional parameters, all rows or one', async () => {
    reader = new SqliteReader(file, { sum: 'SELECT sum(n) AS s FROM t WHERE n <= @upTo', some: 'SELECT n FROM t WHERE n > ? ORDER BY n' });
    reader.start();
    expect(await reader.query('sum', { upTo: 10 }, { mode: 'get' })).toEqual({ s: 55 });
    expect(await reader.query('some', [97])).toEqual([{ n: 98 }, { n: 99 }, { n: 100 }]);
    await expect(reader.query('missing')).rejects.toThrow(/no statement named missing/);
  });

  it('keeps the main thread free while a query runs, and stops a running query when its signal aborts', async () => {
    reader = new SqliteReader(file, { slow: SLOW, sum: 'SELECT sum(n) AS s FROM t' }, { workers: 1 });
    reader.start();
    const ac = new AbortController();
    const slow = reader.query('slow', [], { signal: ac.signal });
    // the main thread still runs timers while the worker counts
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 200));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
    ac.abort();
    await expect(slow).rejects.toBeInstanceOf(QueryAbortedError);
    // a fresh worker took the stopped one's place
    expect(await reader.query('sum', [], { mode: 'get' })).toEqual({ s: 5050 });
  });

  it('drops a queued query when its signal aborts, and refuses more than it may queue', async () => {
    reader = new SqliteReader(file, { slow: SLOW }, { workers: 1, maxQueued: 1 });
    reader.start();
    const first = new AbortController();
    const running = reader.query('slow', [], { signal: first.signal });
    const second = new AbortController();
    const queued = reader.query('slow', [], { signal: second.signal });
    await expect(reader.query('slow')).rejects.toBeInstanceOf(ReaderBusyError);
    second.abort();
    await expect(queued).rejects.toThrow(/aborted while queued/);
    first.abort();
    await expect(running).rejects.toBeInstanceOf(QueryAbortedError);
  });
});
