import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { openAccounts, type Accounts } from '../../accounting/accounts.js';
import type { Kind, Sector } from '../../devices/kinds.js';
import type { DeviceParams } from '../../devices/params.js';
import { DeviceRegistry, type Device } from '../../devices/registry.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { openServiceState } from '../../app/state.js';
import type { StateDb } from '../../lib/state-db.js';
import type { ReadingStore } from '../../store/types.js';

/** The accounting room on a real SQLite store and state database in a temp dir, for unit and golden tests. */
export interface AccountsHarness {
  dir: string;
  state: StateDb;
  store: ReadingStore;
  registry: DeviceRegistry;
  accounts: Accounts;
  tz: string;
  addDevice: (d: { id: string; kind: Kind; site?: string; sector: Sector; measure?: string; params?: DeviceParams }) => Promise<Device>;
  /** writes readings as ingest would; `ts` is local time in `tz` without offset, or ISO with offset, or epoch ms */
  write: (readings: Array<{ device: string; ts: string | number; seq?: number; receivedAt?: number } & Record<string, unknown>>) => Promise<void>;
  close: () => Promise<void>;
}

export function localMs(ts: string | number, tz: string): number {
  if (typeof ts === 'number') return ts;
  const dt = /[zZ]|[+-]\d{2}:?\d{2}$/.test(ts) ? DateTime.fromISO(ts, { setZone: true }) : DateTime.fromISO(ts, { zone: tz });
  if (!dt.isValid) throw new Error(`bad time ${ts}`);
  return dt.toMillis();
}

export async function openHarness(
  opts: { tz?: string; gwpSet?: string; store?: (dir: string) => Promise<ReadingStore> } = {},
): Promise<AccountsHarness> {
  const tz = opts.tz ?? 'Asia/Taipei';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-accounts-'));
  const state = await openServiceState(dir);
  const store = opts.store ? await opts.store(dir) : SqliteStore.inDataDir(dir, undefined, { timeZone: tz });
  await store.start();
  const registry = new DeviceRegistry(state);
  const accounts = await openAccounts({ state, store, registry, tz, gwpSet: opts.gwpSet ?? 'ar5' });
  const devices = new Map<string, Device>();
  return {
    dir,
    state,
    store,
    registry,
    accounts,
    tz,
    addDevice: async (d) => {
      await registry.register({ id: d.id, kind: d.kind, site: d.site ?? 'site-1', sector: d.sector, measure: d.measure, params: d.params ?? {} });
      const device = (await registry.get(d.id))!;
      devices.set(d.id, device);
      return device;
    },
    write: async (readings) => {
      await store.writeBatch(
        readings.map((r) => {
          const device = devices.get(r.device);
          if (!device) throw new Error(`unknown device ${r.device} (addDevice first)`);
          const { device: _d, ts, seq, receivedAt, ...fields } = r;
          return {
            device: device.id, kind: device.kind!, site: device.site, sector: device.sector!, params: device.params,
            ts: localMs(ts, tz), seq: seq ?? null, fields: fields as Record<string, number | string>, extras: {}, receivedAt: receivedAt ?? Date.now(),
          };
        }),
      );
      await store.settled();
    },
    close: async () => {
      await store.close();
      await state.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
