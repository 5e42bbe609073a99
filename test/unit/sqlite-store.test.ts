import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../store/sqlite-store.js';
import type { StoredReading } from '../../ingest/reading.js';
import { storeContract } from '../contract/store-suite.js';

/**
 * The embedded store (real SQLite in a temp dir) against the store contract (../contract/store-suite.ts),
 * plus what only SQLite can promise: its commit is synchronous, so `writeBatch` already knows how many
 * readings were inserted and how many were duplicates.
 */

storeContract('SqliteStore', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-store-'));
  const file = path.join(dir, 'readings.sqlite');
  let current = new SqliteStore(file);
  await current.start();
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = new SqliteStore(file);
      await current.start();
      return current;
    },
    cleanup: async () => {
      await current.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

const H = 3_600_000;
// 2026-11-22T00:00:00+08:00
const T0 = Date.UTC(2026, 10, 21, 16, 0, 0);

function pv(ts: number, kwh: number, seq: number | null = null): StoredReading {
  return {
    device: 'pv-1',
    kind: 'pv_inverter',
    site: 'site-1',
    sector: 'residential_commercial',
    params: {},
    ts,
    seq,
    fields: { energy_kwh: kwh },
    extras: {},
    receivedAt: ts + 1000,
  };
}

describe('SqliteStore: writeBatch counts inserted and duplicate readings', () => {
  let dir: string;
  let file: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-store-'));
    file = path.join(dir, 'readings.sqlite');
    store = new SqliteStore(file);
    await store.start();
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a first reading: inserted 1, duplicates 0', async () => {
    expect(await store.writeBatch([pv(T0, 100)])).toEqual({ inserted: 1, duplicates: 0 });
  });

  it('an empty batch: inserted 0, duplicates 0', async () => {
    expect(await store.writeBatch([])).toEqual({ inserted: 0, duplicates: 0 });
  });

  it('a duplicate (same device, ts, seq) in a later batch: inserted 0, duplicates 1', async () => {
    expect(await store.writeBatch([pv(T0, 100, 1), pv(T0 + H, 110, 2)])).toEqual({ inserted: 2, duplicates: 0 });
    // resent with the same (ts, seq) — even with a different value, the first one stands
    expect(await store.writeBatch([pv(T0 + H, 999, 2)])).toEqual({ inserted: 0, duplicates: 1 });
  });

  it('a duplicate within one batch: inserted 2, duplicates 1', async () => {
    const r = pv(T0 + H, 110, 7);
    expect(await store.writeBatch([pv(T0, 100, 6), r, { ...r }])).toEqual({ inserted: 2, duplicates: 1 });
  });

  it('a resent reading without seq is a duplicate too', async () => {
    expect(await store.writeBatch([pv(T0, 100), pv(T0, 100)])).toEqual({ inserted: 1, duplicates: 1 });
    expect(await store.writeBatch([pv(T0, 100)])).toEqual({ inserted: 0, duplicates: 1 });
  });

  it('the same ts with a different seq is two readings: inserted 2, duplicates 0', async () => {
    expect(await store.writeBatch([pv(T0, 100, 1), pv(T0, 101, 2)])).toEqual({ inserted: 2, duplicates: 0 });
  });

  it('after close() and reopening the file, a resend is still counted as a duplicate', async () => {
    await store.writeBatch([pv(T0, 100, 1), pv(T0 + H, 110, 2)]);
    await store.close();
    store = new SqliteStore(file);
    await store.start();
    expect(await store.writeBatch([pv(T0 + 2 * H, 125, 3), pv(T0 + H, 110, 2)])).toEqual({ inserted: 1, duplicates: 1 });
  });
});
