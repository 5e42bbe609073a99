import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openAccounts } from '../../accounting/accounts.js';
import { BUILTIN_FACTORS } from '../../accounting/factors/builtin.js';
import { factorId, newFactorSchema } from '../../accounting/factors/types.js';
import { openServiceState } from '../../app/state.js';
import { hashSecretLegacyScrypt } from '../../devices/credentials.js';
import { DeviceRegistry } from '../../devices/registry.js';
import { Quarantine } from '../../ingest/quarantine.js';
import type { StateDb } from '../../lib/state-db.js';
import { SqliteStore } from '../../store/sqlite-store.js';

/**
 * A data dir from before each room kept its own migration history (commit 42563a4 and earlier):
 * state.sqlite with one Kysely history, `kysely_migration`, holding 0001_devices_and_quarantine,
 * 0002_factor_versions and 0003_monthly_rollups. Opening it with today's code must keep every table
 * and row as it is, give each room its own history, and read everything back through the rooms.
 */

/** The schema the old migrations (store/state-db.ts at 42563a4) left in state.sqlite, as sqlite_master holds it. */
const OLD_SCHEMA = [
  'CREATE TABLE "kysely_migration" ("name" varchar(255) not null primary key, "timestamp" varchar(255) not null)',
  'CREATE TABLE "kysely_migration_lock" ("id" varchar(255) not null primary key, "is_locked" integer default 0 not null)',
  `CREATE TABLE "devices" ("id" text primary key, "role" text not null, "kind" text, "site" text not null, "sector" text, "measure" text, "name" text, "params" text default '{}' not null, "secret_hash" text not null, "demo" integer default 0 not null, "created_at" text not null)`,
  'CREATE TABLE "quarantine" ("id" integer primary key autoincrement, "device_id" text, "topic" text not null, "received_at" text not null, "errors" text not null, "raw" text not null)',
  'CREATE INDEX "quarantine_device" on "quarantine" ("device_id", "id")',
  'CREATE TABLE "factor_versions" ("id" text primary key, "name" text not null, "variant" text, "version" integer not null, "value" double precision not null, "unit" text not null, "data_year" integer, "valid_from" text, "valid_to" text, "published_at" text, "source" text not null, "status" text not null, "note" text, "created_at" text not null)',
  'CREATE INDEX "factor_versions_name" on "factor_versions" ("name", "variant", "data_year")',
  'CREATE TABLE "rollup_revisions" ("month" text not null, "revision" integer not null, "computed_at" text not null, "trigger" text not null, "changes" text not null, constraint "rollup_revisions_pk" primary key ("month", "revision"))',
  'CREATE TABLE "rollup_rows" ("month" text not null, "revision" integer not null, "device" text not null, "kind" text not null, "site" text not null, "sector" text not null, "measure" text, "stream" text, "row" text not null, constraint "rollup_rows_pk" primary key ("month", "revision", "device"))',
];
const OLD_MIGRATIONS = ['0001_devices_and_quarantine', '0002_factor_versions', '0003_monthly_rollups'];

const SECRET = 'old-device-secret-0123456789';
const OLD_ROW = {
  device: 'pv-old', kind: 'pv_inverter', site: 'kh-old', sector: 'industry', measure: null, stream: 'pv',
  energy_kwh: 100, consumption_kwh: 0, methane_t: 0, avoided_tco2e: 0.0474, inventory_tco2e: 0, claimed_avoided_tco2e: 0.0474,
  sold_as_credits: false, provisional: true, factors: ['grid_ef-2024-v1'], quality: { ok: 1, reset: 0, wrap: 0, implausible: 0 },
  detail: {}, notes: [],
};
/** an operator's correction added with the old code, beside the built-in versions the old code wrote */
const CORRECTION = { id: 'grid_ef-2024-v2', value: 0.48 };

let dir: string;
const open: StateDb[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** state.sqlite as the old code left it, with a device, a quarantine entry, factor versions and a rollup revision. */
async function oldDataDir(): Promise<string> {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-upgrade-'));
  const db = new Database(path.join(d, 'state.sqlite'));
  db.pragma('journal_mode = WAL');
  for (const stmt of OLD_SCHEMA) db.exec(stmt);
  const at = '2025-11-02T08:00:00.000Z';
  OLD_MIGRATIONS.forEach((name, i) => db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run(name, `2025-11-01T00:00:00.00${i}Z`));
  db.prepare("INSERT INTO kysely_migration_lock (id, is_locked) VALUES ('migration_lock', 0)").run();
  db.prepare(
    'INSERT INTO devices (id, role, kind, site, sector, measure, name, params, secret_hash, demo, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run('pv-old', 'device', 'pv_inverter', 'kh-old', 'industry', null, 'old inverter', '{"nameplate_kw":50}', await hashSecretLegacyScrypt(SECRET), 0, at); // data dirs of that time hold scrypt hashes
  db.prepare('INSERT INTO quarantine (device_id, topic, received_at, errors, raw) VALUES (?, ?, ?, ?, ?)').run(
    'pv-old', 'netzero/v1/kh-old/pv-old/telemetry', at, JSON.stringify([{ field: 'energy_kwh', reason: 'must be a number' }]), '{"energy_kwh":"x"}',
  );
  const insertFactor = db.prepare(
    'INSERT INTO factor_versions (id, name, variant, version, value, unit, data_year, valid_from, valid_to, published_at, source, status, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (const b of BUILTIN_FACTORS) {
    const f = newFactorSchema.parse(b);
    insertFactor.run(factorId(f, 1), f.name, f.variant ?? null, 1, f.value, f.unit, f.data_year ?? null, f.valid_from ?? null, f.valid_to ?? null, f.published_at ?? null, f.source, f.status, f.note ?? null, at);
  }
  insertFactor.run(CORRECTION.id, 'grid_ef', null, 2, CORRECTION.value, 'kgCO2e/kWh', 2024, null, null, '2025-09-01', 'a corrected notice', 'published', null, at);
  db.prepare('INSERT INTO rollup_revisions (month, revision, computed_at, trigger, changes) VALUES (?, ?, ?, ?, ?)').run('2025-10', 1, at, 'scheduled', '[]');
  db.prepare('INSERT INTO rollup_rows (month, revision, device, kind, site, sector, measure, stream, row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    '2025-10', 1, 'pv-old', 'pv_inverter', 'kh-old', 'industry', null, 'pv', JSON.stringify(OLD_ROW),
  );
  db.close();
  return d;
}

function sqliteMaster(): Map<string, string | null> {
  const db = new Database(path.join(dir, 'state.sqlite'), { readonly: true });
  try {
    const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as Array<{ name: string; sql: string | null }>;
    return new Map(rows.map((r) => [r.name, r.sql]));
  } finally {
    db.close();
  }
}

async function openState(): Promise<StateDb> {
  const db = await openServiceState(dir);
  open.push(db);
  return db;
}

describe('opening a data dir from before each room kept its own migrations', () => {
  it('keeps every table and row, and reads the device, quarantine, factors and rollups back through the rooms', async () => {
    dir = await oldDataDir();
    const before = sqliteMaster();

    const state = await openState();

    // the old tables are untouched (IF NOT EXISTS) but for the columns the rollups' later migrations add,
    // the old history stays, and each room has its own
    const after = sqliteMaster();
    for (const [name, sql] of before) {
      if (name === 'rollup_revisions') expect(after.get(name), name).toBe(sql!.replace(', constraint', ', "data_as_of" text, "cause" text, constraint'));
      else if (name === 'devices') expect(after.get(name), name).toBe(sql!.replace(/\)$/, ', "disabled_at" text, "disabled_reason" text, "disabled_by" text)'));
      else expect(after.get(name), name).toBe(sql);
    }
    expect(((await state.selectFrom('kysely_migration').select('name').orderBy('name').execute()) as Array<{ name: string }>).map((r) => r.name)).toEqual(OLD_MIGRATIONS);
    for (const [owner, migration] of [['registry', '0001_devices,0002_disabled'], ['quarantine', '0001_quarantine,0002_dropped_counts'], ['factors', '0001_factor_versions'], ['rollups', '0001_monthly_rollups,0002_data_as_of,0003_cause']]) {
      const rows = (await state.selectFrom(`migrations_${owner}`).select('name').orderBy('name').execute()) as Array<{ name: string }>;
      expect(rows.map((r) => r.name), owner).toEqual(migration!.split(','));
    }

    // the device, with its secret still accepted
    const registry = new DeviceRegistry(state);
    const devices = await registry.list();
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ id: 'pv-old', role: 'device', kind: 'pv_inverter', site: 'kh-old', sector: 'industry', name: 'old inverter', params: { nameplate_kw: 50 }, demo: false, disabled: null });
    expect((await registry.authenticate('pv-old', SECRET))?.id).toBe('pv-old');
    expect(await registry.authenticate('pv-old', 'wrong')).toBeNull();

    // the quarantine entry, and the next one numbered after it
    const quarantine = new Quarantine(state);
    const q = await quarantine.list({ limit: 10 });
    expect(q).toEqual([
      { id: 1, device: 'pv-old', topic: 'netzero/v1/kh-old/pv-old/telemetry', receivedAt: '2025-11-02T08:00:00.000Z', errors: [{ field: 'energy_kwh', reason: 'must be a number' }], raw: '{"energy_kwh":"x"}' },
    ]);
    expect(await quarantine.add({ device: 'pv-old', topic: 't', receivedAt: new Date(), errors: [], raw: '{}' })).toBe(2);

    // the factor versions: no built-in written twice, the operator's correction in force
    const store = SqliteStore.inDataDir(dir);
    await store.start();
    try {
      const accounts = await openAccounts({ state, store, registry, tz: 'Asia/Taipei', gwpSet: 'ar5' });
      const versions = await accounts.factors.list();
      expect(versions).toHaveLength(BUILTIN_FACTORS.length + 1);
      expect(await accounts.factors.ensureBuiltins()).toBe(0);
      const grid2024 = (await accounts.factors.snapshot()).grid(2024);
      expect(grid2024.version).toMatchObject({ id: CORRECTION.id, value: CORRECTION.value, version: 2 });

      // the rollup revision, readable as stored
      expect(await accounts.rollups.months()).toEqual(['2025-10']);
      const r1 = await accounts.rollups.get('2025-10');
      expect(r1).toMatchObject({ month: '2025-10', revision: 1, trigger: 'scheduled', changes: [] });
      expect(r1!.rows).toEqual([{ month: '2025-10', revision: 1, ...OLD_ROW }]);

      // and the next computation continues its numbering: 200 kWh now metered in October → revision 2
      await store.writeBatch(
        [
          { ts: Date.parse('2025-10-02T00:00:00+08:00'), seq: 1, kwh: 0 },
          { ts: Date.parse('2025-10-12T00:00:00+08:00'), seq: 2, kwh: 200 },
        ].map((r) => ({
          device: 'pv-old', kind: 'pv_inverter' as const, site: 'kh-old', sector: 'industry' as const, params: { nameplate_kw: 50 },
          ts: r.ts, seq: r.seq, fields: { energy_kwh: r.kwh }, extras: {}, receivedAt: Date.now(),
        })),
      );
      const r2 = await accounts.rollups.compute('2025-10', 'manual');
      expect(r2).toMatchObject({ revision: 2, created: true });
      expect(r2.changes).toContainEqual({ device: 'pv-old', field: 'energy_kwh', from: 100, to: 200 });
      // 2025 has no published grid factor: 2024's newest (the correction, 0.48) stands in: 200 × 0.48 / 1000
      expect(r2.rows[0]!.avoided_tco2e).toBeCloseTo(0.096, 9);
      expect((await accounts.rollups.get('2025-10', 1))!.rows[0]!.energy_kwh).toBe(100);
    } finally {
      await store.close();
    }
  });

  it('opens it again without change: migrations are not run twice and nothing is lost', async () => {
    dir = await oldDataDir();
    const first = await openState();
    await first.destroy();
    open.splice(open.indexOf(first), 1);
    const schema = sqliteMaster();

    const state = await openState();
    expect(sqliteMaster()).toEqual(schema);
    for (const [owner, migrations] of [['registry', 2], ['quarantine', 2], ['factors', 1], ['rollups', 3]] as const) {
      const n = (await state.selectFrom(`migrations_${owner}`).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()) as { n: number };
      expect(Number(n.n), owner).toBe(migrations);
    }
    expect(await new DeviceRegistry(state).list()).toHaveLength(1);
    expect(await new Quarantine(state).list({ limit: 10 })).toHaveLength(1);
    const count = (await state.selectFrom('factor_versions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()) as { n: number };
    expect(Number(count.n)).toBe(BUILTIN_FACTORS.length + 1);
    const revs = (await state.selectFrom('rollup_revisions').selectAll().execute()) as Array<{ month: string; revision: number }>;
    expect(revs.map((r) => [r.month, Number(r.revision)])).toEqual([['2025-10', 1]]);
  });
});
