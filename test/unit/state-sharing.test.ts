import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ledger } from '../../accounting/ledger/ledger.js';
import { MonthlyRollups } from '../../accounting/rollups/monthly.js';
import { openHarness, type AccountsHarness } from '../helpers/accounts.js';

/**
 * Writers of the shared state that may run at the same time (the service, `netzero factors add`,
 * `netzero rollup`): versions are numbered once each, and a rollup computed from older data never
 * lands on top of one computed from newer data. The cross-process case is test/unit/rollup-concurrency.test.ts.
 */

let h: AccountsHarness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

describe('factor versions added at once', () => {
  it('get consecutive numbers instead of one of them failing on a duplicate id', async () => {
    const add = (value: number) => h.accounts.factors.add({ name: 'grid_ef', data_year: 2024, value, unit: 'kgCO2e/kWh', source: 'test' });
    const added = await Promise.all([add(0.48), add(0.49), add(0.5)]);
    expect(added.map((v) => v.version).sort()).toEqual([2, 3, 4]);
    expect(new Set(added.map((v) => v.id)).size).toBe(3);
    expect((await h.accounts.factors.snapshot()).grid(2024).version.version).toBe(4);
  });

  it('built-ins written by two registries at once are written once', async () => {
    const { FactorRegistry } = await import('../../accounting/factors/registry.js');
    await h.state.deleteFrom('factor_versions').execute();
    const [a, b] = await Promise.all([new FactorRegistry(h.state).ensureBuiltins(), new FactorRegistry(h.state).ensureBuiltins()]);
    const total = (await h.accounts.factors.list()).length;
    expect(a + b).toBe(total);
  });
});

describe('a rollup computed from older data', () => {
  it('does not land on top of a revision computed later: a late reading is not reverted', async () => {
    await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'industry' });
    await h.write([
      { device: 'pv-1', ts: '2024-03-05T10:00:00', energy_kwh: 0 },
      { device: 'pv-1', ts: '2024-03-05T12:00:00', energy_kwh: 100 },
    ]);
    expect((await h.accounts.rollups.compute('2024-03', 'manual')).revision).toBe(1);

    // A slow computation (the scheduler's late check, say) reads the month, then stalls before writing.
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const ledger = h.accounts.ledger;
    const slowLedger = Object.create(ledger) as Ledger;
    slowLedger.rowsByMonth = async (...args: Parameters<Ledger['rowsByMonth']>) => {
      const rows = await ledger.rowsByMonth(...args);
      if (reads++ === 0) await stalled;
      return rows;
    };
    const slow = new MonthlyRollups(h.state, slowLedger, h.accounts.factors).compute('2024-03', 'late_readings');
    while (reads === 0) await new Promise((r) => setTimeout(r, 5));

    // Meanwhile a late reading arrives and another process rolls the month up with it: 100 → 150 kWh.
    await new Promise((r) => setTimeout(r, 5));
    await h.write([{ device: 'pv-1', ts: '2024-03-05T14:00:00', energy_kwh: 150 }]);
    const fresh = await h.accounts.rollups.compute('2024-03', 'manual');
    expect(fresh.revision).toBe(2);
    expect(fresh.rows[0]!.energy_kwh).toBe(150);

    release();
    const late = await slow;
    // It computed again (it saw 100 kWh), found the latest revision current, and wrote nothing.
    expect(reads).toBe(2);
    expect(late).toMatchObject({ revision: 2, created: false });
    const stored = (await h.accounts.rollups.get('2024-03'))!;
    expect(stored.revision).toBe(2);
    expect(stored.rows[0]!.energy_kwh).toBe(150);
  });
});
