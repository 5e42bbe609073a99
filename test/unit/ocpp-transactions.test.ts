import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ocppTables, OcppTransactions, TX_TIMEOUT_MS, type StartIn } from '../../ingest/sources/ocpp/transactions.js';
import { openStateDb, type StateDb } from '../../lib/state-db.js';

/** The central system's transactions and registers on a real state database (SQLite in a temp dir), reopened as after a restart. */

const T0 = Date.parse('2026-11-20T10:00:00+08:00');
const dirs: string[] = [];
const dbs: StateDb[] = [];

async function open(dir?: string): Promise<{ dir: string; db: StateDb }> {
  const d = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-ocpp-'));
  if (!dir) dirs.push(d);
  const db = await openStateDb(d, [ocppTables]);
  dbs.push(db);
  return { dir: d, db };
}

afterEach(async () => {
  for (const db of dbs.splice(0)) await db.destroy();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const start = (over: Partial<StartIn> = {}): StartIn => ({
  charger: 'ev-a',
  connector: 1,
  idTag: 'TAG1',
  meterStartWh: 12_345_000,
  startTs: T0,
  meterStartKwh: 12345,
  meterStart: 'pending',
  ...over,
});

describe('OCPP transactions', () => {
  it('hands the same transactionId to the same StartTransaction resent, across a restart of the service', async () => {
    const { dir, db } = await open();
    const a = new OcppTransactions(db);
    const first = await a.start(start());
    expect(first).toMatchObject({ created: true, tx: { id: 1, status: 'open', meterStart: 'pending' } });
    expect(await a.start(start())).toMatchObject({ created: false, tx: { id: 1 } });
    await db.destroy();
    dbs.length = 0;

    const { db: again } = await open(dir);
    const b = new OcppTransactions(again);
    expect(await b.start(start())).toMatchObject({ created: false, tx: { id: 1, status: 'open' } });
    // another idTag, meterStart or timestamp is another transaction
    expect((await b.start(start({ startTs: T0 + 60_000, meterStartWh: 12_345_600, meterStartKwh: 12345.6 }))).tx.id).toBe(2);
  });

  it('closes a connector\'s open transaction when a newer one starts there (its StopTransaction never came), dropping a meterStart still pending', async () => {
    const { db } = await open();
    const t = new OcppTransactions(db);
    await t.start(start());
    await t.start(start({ connector: 2, meterStartWh: 800_000, meterStartKwh: 800 }));
    const next = await t.start(start({ startTs: T0 + 3_600_000, meterStartWh: 12_350_000, meterStartKwh: 12350 }));
    expect(next.superseded.map((s) => [s.id, s.meterStart])).toEqual([[1, 'pending']]);
    expect(await t.get(1)).toMatchObject({ status: 'closed', closedReason: 'superseded', meterStart: 'dropped' });
    // connector 2 is another connector: still open
    expect(await t.get(2)).toMatchObject({ status: 'open' });
    // an older StartTransaction resent late does not close the newer one
    expect((await t.start(start())).created).toBe(false);
    expect(await t.get(next.tx.id)).toMatchObject({ status: 'open' });
  });

  it('closes a charger\'s open transactions at its BootNotification; the same StartTransaction resent after the reboot reopens it with its id', async () => {
    const { db } = await open();
    const t = new OcppTransactions(db);
    const { tx } = await t.start(start());
    const closed = await t.closeOpenOf('ev-a', 'boot');
    expect(closed.map((c) => c.id)).toEqual([tx.id]);
    expect(await t.get(tx.id)).toMatchObject({ status: 'closed', closedReason: 'boot' });
    expect(await t.start(start())).toMatchObject({ created: false, tx: { id: tx.id, status: 'open' } });
    await t.stop(tx.id, 12_351_000, T0 + 45 * 60_000);
    expect(await t.get(tx.id)).toMatchObject({ status: 'stopped', closedReason: 'stopped', meterStopWh: 12_351_000 });
    // a stopped transaction is not reopened by a late resend
    expect(await t.start(start())).toMatchObject({ created: false, tx: { status: 'stopped' } });
  });

  it('closes a transaction with no message about it for the timeout, and not before', async () => {
    const { db } = await open();
    let now = T0;
    const t = new OcppTransactions(db, () => now);
    const { tx } = await t.start(start());
    now = T0 + TX_TIMEOUT_MS - 1;
    await t.touch(tx.id);
    now = T0 + 2 * TX_TIMEOUT_MS - 2;
    expect(await t.closeStale()).toEqual([]);
    now = T0 + 2 * TX_TIMEOUT_MS;
    expect((await t.closeStale()).map((c) => c.id)).toEqual([tx.id]);
    expect(await t.get(tx.id)).toMatchObject({ status: 'closed', closedReason: 'timeout', meterStart: 'dropped' });
  });

  it('decides a pending meterStart once', async () => {
    const { db } = await open();
    const t = new OcppTransactions(db);
    const { tx } = await t.start(start());
    expect(await t.decideMeterStart(tx.id, 'written')).toBe(true);
    expect(await t.decideMeterStart(tx.id, 'dropped')).toBe(false);
    expect((await t.get(tx.id))?.meterStart).toBe('written');
  });

  it('keeps the newest register value per device and connector (a late reading does not move it back)', async () => {
    const { db } = await open();
    const t = new OcppTransactions(db);
    expect(await t.register('ev-a', 1)).toBeUndefined();
    await t.saveRegister('ev-a', 1, { kwh: 12346.5, ts: T0 + 600_000 });
    await t.saveRegister('ev-a', 1, { kwh: 12345, ts: T0 });
    await t.saveRegister('ev-a.2', 2, { kwh: 800, ts: T0 });
    expect(await t.register('ev-a', 1)).toEqual({ kwh: 12346.5, ts: T0 + 600_000 });
    await t.saveRegister('ev-a', 1, { kwh: 12348, ts: T0 + 1_200_000 });
    expect(await t.register('ev-a', 1)).toEqual({ kwh: 12348, ts: T0 + 1_200_000 });
    expect(await t.register('ev-a.2', 2)).toEqual({ kwh: 800, ts: T0 });
  });
});
