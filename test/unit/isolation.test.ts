import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMIT, DeviceRateLimiter, rateLimitOf } from '../../ingest/device-limits.js';
import { GroupCommitter, isReadingFault } from '../../ingest/group-commit.js';
import { createIngestMetrics } from '../../ingest/metrics.js';
import type { DurableWriter, StoredReading } from '../../ingest/reading.js';
import { SqliteStore } from '../../store/sqlite-store.js';

/**
 * One reading, one device never spoils the rest (issue: a poison payload overflowed the stack inside the
 * shared group-commit transaction and took the whole batch down). Validation refuses such readings now
 * (devices/payload.ts); this is the second line: a failure while committing a batch isolates the
 * offending reading and commits the rest, while a fault of the store (disk full) still acknowledges nothing.
 */

const T0 = Date.UTC(2026, 10, 21, 16);
const pv = (device: string, ts: number, kwh: number, extras: Record<string, unknown> = {}): StoredReading => ({
  device, kind: 'pv_inverter', site: 's', sector: 'industry', params: {}, ts, seq: null, fields: { energy_kwh: kwh }, extras, receivedAt: Date.now(),
});

/** An extra field nested deeper than JSON.stringify's stack allows (validation would refuse it; here it is handed straight to the store). */
function poison(): Record<string, unknown> {
  let x: unknown = 1;
  for (let i = 0; i < 200_000; i++) x = [x];
  return { x };
}

describe('GroupCommitter on a real SQLite store', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-isolation-'));
    store = new SqliteStore(path.join(dir, 'readings.sqlite'));
    await store.start();
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a poison reading in a shared commit is refused alone; the honest devices in the same transaction are stored', async () => {
    const metrics = createIngestMetrics(new Registry());
    const committer = new GroupCommitter(store, metrics);
    // three messages submitted together share one transaction; the second one carries the poison
    const honest1 = committer.submit([pv('a', T0, 1), pv('a', T0 + 60_000, 2)]);
    const mixed = committer.submit([pv('b', T0, 10), pv('b', T0 + 60_000, 11, poison()), pv('b', T0 + 120_000, 12)]);
    const honest2 = committer.submit([pv('c', T0, 5)]);
    expect(await honest1).toEqual({ refused: [] });
    expect(await honest2).toEqual({ refused: [] });
    const m = await mixed;
    expect(m.refused.map((r) => r.index)).toEqual([1]);
    expect(m.refused[0]!.reason).toMatch(/the store could not take this reading: .*call stack/);
    expect(await store.countReadings('a')).toBe(2);
    expect(await store.countReadings('b')).toBe(2); // 10 and 12: the interval chain skips the refused one
    expect(await store.countReadings('c')).toBe(1);
    const iv = await store.intervals('b', { from: T0 - 1, to: T0 + 3_600_000 });
    expect(iv.map((i) => [i.v0, i.v1, i.amount])).toEqual([[10, 12, 2]]);
    expect(committer.fault).toBeUndefined();
    expect(store.healthy()).toBe(true);
  });
});

describe('GroupCommitter: a fault of the store acknowledges nothing', () => {
  it('disk full: every message of the batch is rejected (no PUBACK, devices resend), and the fault is reported', async () => {
    const full: DurableWriter = {
      writeBatch: async () => {
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      },
    };
    const registry = new Registry();
    const committer = new GroupCommitter(full, createIngestMetrics(registry));
    const a = committer.submit([pv('a', T0, 1)]);
    const b = committer.submit([pv('b', T0, 1)]);
    await expect(a).rejects.toThrow(/disk is full/);
    await expect(b).rejects.toThrow(/disk is full/);
    expect(committer.fault?.message).toBe('database or disk is full');
    expect(await registry.getSingleMetricAsString('netzero_store_commit_failures_total')).toMatch(/cause="sqlite_full"} 1/);
  });

  it('tells reading faults from store faults', () => {
    expect(isReadingFault(new RangeError('Maximum call stack size exceeded'))).toBe(true);
    expect(isReadingFault(new TypeError('Do not know how to serialize a BigInt'))).toBe(true);
    expect(isReadingFault(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_NOTNULL' }))).toBe(true);
    expect(isReadingFault(Object.assign(new Error('x'), { code: 'SQLITE_FULL' }))).toBe(false);
    expect(isReadingFault(Object.assign(new Error('x'), { code: 'SQLITE_IOERR_WRITE' }))).toBe(false);
    expect(isReadingFault(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }))).toBe(false);
    expect(isReadingFault(new Error('store not started'))).toBe(false);
  });
});

/** A writer that holds each batch until the test ends it, counting the most it held at once. */
function heldWriter(writesAtOnce: number) {
  const calls: Array<{ readings: StoredReading[]; done: () => void }> = [];
  let inFlight = 0;
  let most = 0;
  const writer: DurableWriter = {
    writesAtOnce,
    writeBatch: (readings) =>
      new Promise((resolve) => {
        inFlight++;
        most = Math.max(most, inFlight);
        calls.push({ readings, done: () => (inFlight--, resolve({ inserted: readings.length, duplicates: 0 })) });
      }),
  };
  return { calls, committer: new GroupCommitter(writer, createIngestMetrics(new Registry())), most: () => most };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('GroupCommitter: batches in flight at once', () => {
  it('hands the writer as many batches as it takes at once (writesAtOnce), queues the rest, and drains them all', async () => {
    const { calls, committer, most } = heldWriter(2);
    const a = committer.submit([pv('a', T0, 1)]);
    await turn();
    const b = committer.submit([pv('b', T0, 1)]);
    await turn();
    const c = committer.submit([pv('c', T0, 1)]);
    const d = committer.submit([pv('d', T0, 1)]);
    await turn();
    // a and b are with the writer; c and d wait for one of them to end
    expect(calls.map((x) => x.readings.map((r) => r.device))).toEqual([['a'], ['b']]);
    let bDone = false;
    void b.then(() => (bDone = true));
    calls[0]!.done();
    expect(await a).toEqual({ refused: [] });
    await turn();
    await turn();
    expect(calls.map((x) => x.readings.map((r) => r.device))).toEqual([['a'], ['b'], ['c', 'd']]);
    expect(bDone).toBe(false);
    const drained = committer.drain();
    calls[1]!.done();
    calls[2]!.done();
    await drained;
    expect(await Promise.all([b, c, d])).toEqual([{ refused: [] }, { refused: [] }, { refused: [] }]);
    expect(most()).toBe(2);
  });
});

describe('GroupCommitter: drain keeps the bound', () => {
  it('on shutdown hands the writer no more batches at once than it takes, and no empty one', async () => {
    const { calls, committer, most } = heldWriter(1);
    const a = committer.submit([pv('a', T0, 1)]);
    await turn();
    const b = committer.submit([pv('b', T0, 1)]);
    const drained = committer.drain();
    calls[0]!.done();
    await a;
    for (let i = 0; i < 5 && calls.length < 2; i++) await turn();
    calls[1]!.done();
    for (let i = 0; i < 5; i++) await turn();
    for (const c of calls.slice(2)) c.done();
    await drained;
    expect(await b).toEqual({ refused: [] });
    expect(calls.map((x) => x.readings.map((r) => r.device))).toEqual([['a'], ['b']]);
    expect(most()).toBe(1);
  });
});

describe('per-device rate limit (token bucket)', () => {
  it('lets a burst through, then makes a message wait for its tokens, and refuses one that would wait too long', () => {
    let now = 0;
    const limiter = new DeviceRateLimiter({ maxWaitMs: 20_000, now: () => now });
    const limit = { perSecond: 10, burst: 100 };
    expect(limiter.reserve('d', limit, 100, true)).toEqual({ waitMs: 0 }); // the burst
    expect(limiter.reserve('d', limit, 50, true)).toEqual({ waitMs: 5000 }); // 50 more at 10/s
    now += 5000;
    const refused = limiter.reserve('d', limit, 300, true); // 300 at 10/s = 30 s > 20 s
    expect(refused).toMatchObject({ refused: expect.stringMatching(/10 readings\/s .* these 300 would have to wait 30\.0 s/) });
    expect(limiter.reserve('other', limit, 100, true)).toEqual({ waitMs: 0 }); // another device has its own bucket
  });

  it('refuses at once where the source cannot hold the device back (an external broker serves every device in one stream)', () => {
    const limiter = new DeviceRateLimiter({ maxWaitMs: 20_000, now: () => 0 });
    expect(limiter.reserve('d', { perSecond: 1, burst: 1000 }, 1000, false)).toEqual({ waitMs: 0 });
    expect(limiter.reserve('d', { perSecond: 1, burst: 1000 }, 1, false)).toHaveProperty('refused');
  });

  it('takes a device\'s own limit from params.max_readings_per_s, else the default', () => {
    expect(rateLimitOf({})).toEqual(DEFAULT_RATE_LIMIT);
    expect(rateLimitOf({ max_readings_per_s: 2 })).toEqual({ perSecond: 2, burst: 1000 });
    expect(rateLimitOf({ max_readings_per_s: 50 })).toEqual({ perSecond: 50, burst: 5000 });
    expect(rateLimitOf({ max_readings_per_s: -1 })).toEqual(DEFAULT_RATE_LIMIT);
  });
});
