import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isReadingFault } from '../../ingest/group-commit.js';
import type { StoredReading } from '../../ingest/reading.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { fromThreadError, toThreadError } from '../../store/sqlite/thread-error.js';
import type { Interval } from '../../store/types.js';

/**
 * The embedded store writes on a thread of its own (store/sqlite/writer-thread.ts) and keeps each
 * series' last point in memory (store/sqlite/series.ts). What these tests hold it to: the memory never
 * changes a number (the same intervals as a store that reads every predecessor back), a rolled-back
 * transaction leaves nothing behind in it, errors keep the class and code that tell a reading's fault
 * from the store's, and a writer thread that dies fails only what it was writing.
 */

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 21, 16);
const ALL = { from: Date.UTC(2000, 0, 1), to: Date.UTC(2100, 0, 1) };

const reading = (device: string, ts: number, fields: Record<string, number>, seq: number | null = null): StoredReading => ({
  device,
  kind: device.startsWith('m') ? 'smart_meter' : 'pv_inverter',
  site: 's',
  sector: 'residential_commercial',
  params: { nameplate_kw: 50 },
  ts,
  seq,
  fields,
  extras: {},
  receivedAt: ts,
});

const shape = (iv: Interval[]) =>
  iv.map((i) => [i.device, i.counter, i.t0, i.seq0, i.t1, i.seq1, i.v0, i.v1, i.amount, i.quality, i.reason]).sort((a, b) => String(a).localeCompare(String(b)));

describe('the embedded store on its writer thread', () => {
  let dir: string;
  const open: SqliteStore[] = [];
  const start = async (name: string) => {
    const s = new SqliteStore(path.join(dir, name));
    await s.start();
    open.push(s);
    return s;
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-writer-'));
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeping the last point in memory gives the intervals of a store that reads every point back (random orders, drops, batches)', async () => {
    const point = fc.record({
      device: fc.constantFrom('pv-1', 'm-1'),
      hour: fc.integer({ min: 0, max: 30 }),
      seq: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
      value: fc.oneof(fc.integer({ min: 100, max: 400 }), fc.integer({ min: 0, max: 20 })),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(point, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }), async (batches) => {
        const run = `${open.length}`;
        const kept = await start(`kept-${run}.sqlite`);
        const file = path.join(dir, `fresh-${run}.sqlite`);
        for (const batch of batches) {
          const rs = batch.map((p) => reading(p.device, T0 + p.hour * H, p.device === 'pv-1' ? { energy_kwh: p.value } : { import_kwh: p.value, export_kwh: p.value / 2 }, p.seq));
          await kept.writeBatch(rs);
          // A store opened for one batch has nothing in memory: every predecessor is read from the file.
          const fresh = new SqliteStore(file);
          await fresh.start();
          await fresh.writeBatch(rs);
          const [a, b] = [shape([...(await kept.intervals('pv-1', ALL)), ...(await kept.intervals('m-1', ALL))]), shape([...(await fresh.intervals('pv-1', ALL)), ...(await fresh.intervals('m-1', ALL))])];
          await fresh.close();
          expect(a).toEqual(b);
        }
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  it('a rolled-back batch leaves nothing in memory: 100 @0h, [110 @1h + a reading that cannot be stored] fails, then 120 @2h is one interval of 20', async () => {
    const store = await start('rollback.sqlite');
    await store.writeBatch([reading('pv-1', T0, { energy_kwh: 100 })]);
    // JSON cannot hold a BigInt: the transaction fails after 110 @1h was appended to the series.
    const bad = { ...reading('pv-1', T0 + 3 * H, { energy_kwh: 130 }), extras: { big: 1n } };
    const failure = await store.writeBatch([reading('pv-1', T0 + H, { energy_kwh: 110 }), bad]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TypeError);
    expect(isReadingFault(failure)).toBe(true);
    await store.writeBatch([reading('pv-1', T0 + 2 * H, { energy_kwh: 120 })]);
    const iv = await store.intervals('pv-1', ALL);
    expect(iv.map((i) => [i.v0, i.v1, i.amount])).toEqual([[100, 120, 20]]);
    expect(await store.countReadings('pv-1')).toBe(2);
  });

  it('an error keeps its class and SQLite code across the thread', () => {
    const back = fromThreadError(toThreadError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })));
    expect([back.message, (back as { code?: string }).code, isReadingFault(back)]).toEqual(['database or disk is full', 'SQLITE_FULL', false]);
    const constraint = fromThreadError(toThreadError(Object.assign(new Error('NOT NULL constraint failed'), { code: 'SQLITE_CONSTRAINT_NOTNULL' })));
    expect(isReadingFault(constraint)).toBe(true);
    expect(fromThreadError(toThreadError(new RangeError('Maximum call stack size exceeded')))).toBeInstanceOf(RangeError);
  });

  it('a value too deep to send to the thread is refused as the reading\'s fault (RangeError), the store stays up', async () => {
    const store = await start('deep.sqlite');
    let x: unknown = 1;
    for (let i = 0; i < 200_000; i++) x = [x];
    const failure = await store.writeBatch([{ ...reading('pv-1', T0, { energy_kwh: 1 }), extras: { x } }]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RangeError);
    expect(isReadingFault(failure)).toBe(true);
    expect((await store.writeBatch([reading('pv-1', T0, { energy_kwh: 1 })])).inserted).toBe(1);
  });

  it('a writer thread that dies fails what it was writing as a fault of the store (nothing acknowledged); the next write starts a new one', async () => {
    const store = await start('dies.sqlite');
    await store.writeBatch([reading('pv-1', T0, { energy_kwh: 100 })]);
    const worker = (store as unknown as { writer: { worker: { terminate(): Promise<number> } } }).writer.worker;
    const pending = store.writeBatch([reading('pv-1', T0 + H, { energy_kwh: 110 })]);
    void worker.terminate();
    const failure = await pending.then(
      () => 'committed before the thread died',
      (e: unknown) => e,
    );
    if (failure !== 'committed before the thread died') {
      expect(isReadingFault(failure)).toBe(false);
      expect(String((failure as Error).message)).toMatch(/writer thread stopped/);
      expect(store.healthy()).toBe(false);
    }
    // The device resends; the new thread stores it once, and the series goes on from what is committed.
    await store.writeBatch([reading('pv-1', T0 + H, { energy_kwh: 110 }), reading('pv-1', T0 + 2 * H, { energy_kwh: 125 })]);
    expect(store.healthy()).toBe(true);
    expect(await store.countReadings('pv-1')).toBe(3);
    expect((await store.intervals('pv-1', ALL)).map((i) => i.amount)).toEqual([10, 15]);
  });

  it('batches waiting for the thread are committed in one transaction; one that cannot be stored fails alone, the others are stored', async () => {
    const transactions: number[] = [];
    const store = new SqliteStore(path.join(dir, 'together.sqlite'), { duplicates: { inc: () => undefined }, transactionReadings: { observe: (n: number) => transactions.push(n) } } as never);
    await store.start();
    open.push(store);
    // a long first batch keeps the thread busy while the next ones are posted
    const long = Array.from({ length: 3000 }, (_, i) => reading('pv-0', T0 + i * 60_000, { energy_kwh: i }));
    const first = store.writeBatch(long);
    const later = [1, 2, 3, 4].map((d) => store.writeBatch([reading(`pv-${d}`, T0, { energy_kwh: 10 }), reading(`pv-${d}`, T0 + H, { energy_kwh: 20 })]));
    const bad = store.writeBatch([reading('pv-5', T0, { energy_kwh: 10 }), { ...reading('pv-5', T0 + H, { energy_kwh: 20 }), kind: undefined as never }]);
    const last = store.writeBatch([reading('pv-6', T0, { energy_kwh: 10 })]);
    expect((await first).inserted).toBe(3000);
    expect((await Promise.all(later)).map((r) => r.inserted)).toEqual([2, 2, 2, 2]);
    const failure = await bad.catch((e: unknown) => e);
    expect(isReadingFault(failure)).toBe(true);
    expect((await last).inserted).toBe(1);
    for (const d of [1, 2, 3, 4]) expect((await store.intervals(`pv-${d}`, ALL)).map((i) => i.amount)).toEqual([10]);
    expect(await store.countReadings('pv-5')).toBe(0);
    expect(await store.countReadings('pv-6')).toBe(1);
    // every reading stored counted once in the transactions; the first tried to take the five batches
    // behind the long one together, which failed on pv-5's, so each was written again in its own
    expect(transactions.reduce((a, b) => a + b, 0)).toBe(3000 + 8 + 1);
    expect(transactions[0]).toBe(3000);
  });

  it('batches posted together while the thread is busy share a transaction', async () => {
    const transactions: number[] = [];
    const store = new SqliteStore(path.join(dir, 'shared.sqlite'), { duplicates: { inc: () => undefined }, transactionReadings: { observe: (n: number) => transactions.push(n) } } as never);
    await store.start();
    open.push(store);
    const first = store.writeBatch(Array.from({ length: 3000 }, (_, i) => reading('pv-0', T0 + i * 60_000, { energy_kwh: i })));
    const later = Array.from({ length: 10 }, (_, d) => store.writeBatch([reading(`m-${d}`, T0, { import_kwh: 1, export_kwh: 0 })]));
    await first;
    expect((await Promise.all(later)).every((r) => r.inserted === 1)).toBe(true);
    // the ten (and the long one too, when all were posted before the thread took the first) in one
    expect(transactions.reduce((a, b) => a + b, 0)).toBe(3010);
    expect(transactions.length).toBeLessThanOrEqual(2);
  });
});
