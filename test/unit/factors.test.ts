import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_FACTORS } from '../../accounting/factors/builtin.js';
import type { NewFactor } from '../../accounting/factors/types.js';
import { diffRows } from '../../accounting/rollups/monthly.js';
import { openHarness, type AccountsHarness } from '../helpers/accounts.js';

/**
 * The versioned factor registry (accounting/factors/) and monthly rollups with revisions
 * (accounting/rollups/monthly.ts) on a real state database and store (test/helpers/accounts.ts).
 * Values from docs/domain.md "Factors": grid factor by data year 2015–2024; the budget's target path
 * 0.388 (2025) → 0.319 (2030), linear, 0.347 in 2028; history is versioned, never edited; an unpublished
 * year uses the latest published factor, provisionally, and is restated as a new revision when the
 * factor arrives.
 */

const TZ = 'Asia/Taipei';

let h: AccountsHarness;
beforeEach(async () => {
  h = await openHarness({ tz: TZ });
});
afterEach(async () => {
  await h.close();
});

/** Run `fn`, expect a ZodError, return the dotted paths of its issues. */
async function issuePaths(fn: () => Promise<unknown>): Promise<string[]> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(z.ZodError);
    return (err as z.ZodError).issues.map((i) => i.path.join('.'));
  }
  throw new Error('expected a ZodError, nothing was thrown');
}

const grid = (data_year: number, value: number, extra: Partial<NewFactor> = {}): NewFactor => ({
  name: 'grid_ef', data_year, value, unit: 'kgCO2e/kWh', source: 'test: MOEA notice', ...extra,
});

describe('FactorRegistry', () => {
  it('ensureBuiltins is idempotent: openAccounts already wrote them, a second call adds 0', async () => {
    const before = await h.accounts.factors.list();
    expect(before).toHaveLength(BUILTIN_FACTORS.length);
    expect(await h.accounts.factors.ensureBuiltins()).toBe(0);
    expect(await h.accounts.factors.ensureBuiltins()).toBe(0);
    const after = await h.accounts.factors.list();
    expect(after).toEqual(before);
    // every built-in is version 1, with a unique id
    expect(new Set(after.map((v) => v.id)).size).toBe(after.length);
    for (const v of after) expect(v.version).toBe(1);
  });

  it('ensureBuiltins on a fresh registry over the same db adds 0 (built-ins are matched by id)', async () => {
    const { FactorRegistry } = await import('../../accounting/factors/registry.js');
    const other = new FactorRegistry(h.state);
    expect(await other.ensureBuiltins()).toBe(0);
  });

  it('every built-in has a source', async () => {
    for (const v of await h.accounts.factors.list()) {
      expect(v.source.trim().length, v.id).toBeGreaterThan(10);
      expect(v.unit.length, v.id).toBeGreaterThan(0);
    }
  });

  it('grid_ef 2015–2024: the published values of domain.md, by data year', async () => {
    const published = (await h.accounts.factors.list()).filter((v) => v.name === 'grid_ef' && v.status === 'published');
    expect(Object.fromEntries(published.map((v) => [v.dataYear, v.value]))).toEqual({
      2015: 0.525, 2016: 0.529, 2017: 0.554, 2018: 0.533, 2019: 0.509,
      2020: 0.502, 2021: 0.509, 2022: 0.495, 2023: 0.494, 2024: 0.474,
    });
    for (const v of published) {
      expect(v.unit).toBe('kgCO2e/kWh');
      expect(v.id).toBe(`grid_ef-${v.dataYear}-v1`);
      // data year ≠ publication year: published the year after
      expect(Number(v.publishedAt!.slice(0, 4))).toBe(v.dataYear! + 1);
    }
  });

  it('target path: 2025 0.388 … 2028 0.347 … 2030 0.319 (linear, projections only)', async () => {
    const f = await h.accounts.factors.snapshot();
    expect(f.targetPath(2025)?.value).toBe(0.388);
    expect(f.targetPath(2028)?.value).toBe(0.347);
    expect(f.targetPath(2030)?.value).toBe(0.319);
    // linear: 0.388 − k × (0.388 − 0.319) / 5, rounded to 3 decimals
    for (let year = 2025; year <= 2030; year++) {
      const linear = 0.388 - ((year - 2025) * (0.388 - 0.319)) / 5;
      expect(f.targetPath(year)?.value, String(year)).toBeCloseTo(linear, 3);
      expect(f.targetPath(year)?.status).toBe('target_path');
    }
    expect(f.targetPath(2031)).toBeUndefined();
  });

  it('pick: the newest published version of (name, variant), with validity dates', async () => {
    const f = await h.accounts.factors.snapshot();
    expect(f.pick('ch4_gwp', 'ar5').value).toBe(28);
    expect(f.pick('ch4_gwp', 'ar4').value).toBe(25);
    expect(f.pick('ch4_density', 'nm3_0c').value).toBe(0.716);
    expect(f.pick('destruction_efficiency', 'flare_open').value).toBe(0.5);
    expect(() => f.pick('ch4_gwp', 'ar9')).toThrow(/no published factor ch4_gwp \(ar9\)/);
    // a dated version wins only inside its validity
    await h.accounts.factors.add({ name: 'ch4_gwp', variant: 'ar5', value: 29, unit: 'tCO2e/tCH4', source: 'test: hypothetical', valid_from: '2030-01-01' });
    const g = await h.accounts.factors.snapshot();
    expect(g.pick('ch4_gwp', 'ar5', '2030-06-01').id).toBe('ch4_gwp-ar5-v2');
    expect(g.pick('ch4_gwp', 'ar5', '2029-12-31').id).toBe('ch4_gwp-ar5-v1');
  });

  describe('add() refuses bad input with the field named, and writes nothing', () => {
    let count: number;
    beforeEach(async () => {
      count = (await h.accounts.factors.list()).length;
    });
    afterEach(async () => {
      expect(await h.accounts.factors.list()).toHaveLength(count);
    });

    it('grid_ef without data_year → data_year', async () => {
      const { data_year: _omit, ...noYear } = grid(2023, 0.5);
      expect(await issuePaths(() => h.accounts.factors.add(noYear))).toEqual(['data_year']);
    });

    it('a grid value of 5 kgCO2e/kWh → value', async () => {
      expect(await issuePaths(() => h.accounts.factors.add(grid(2023, 5)))).toEqual(['value']);
      expect(await issuePaths(() => h.accounts.factors.add(grid(2023, 0)))).toEqual(['value']);
    });

    it('valid_to before valid_from → valid_to', async () => {
      expect(await issuePaths(() => h.accounts.factors.add(grid(2023, 0.5, { valid_from: '2024-06-01', valid_to: '2024-01-01' })))).toEqual(['valid_to']);
      expect(await issuePaths(() => h.accounts.factors.add(grid(2023, 0.5, { valid_from: '2024-06-01', valid_to: '2024-06-01' })))).toEqual(['valid_to']);
    });

    it('unknown name → name', async () => {
      const bad = { name: 'nuclear_ef', value: 0.01, unit: 'kgCO2e/kWh', source: 'test: none' } as unknown as NewFactor;
      expect(await issuePaths(() => h.accounts.factors.add(bad))).toEqual(['name']);
    });

    it('no source → source', async () => {
      expect(await issuePaths(() => h.accounts.factors.add(grid(2023, 0.5, { source: '' })))).toEqual(['source']);
    });
  });

  it('add() numbers versions per (name, variant, data year): grid_ef 2023 → v2, then v3; other years untouched', async () => {
    const v2 = await h.accounts.factors.add(grid(2023, 0.495));
    expect(v2).toMatchObject({ id: 'grid_ef-2023-v2', version: 2, name: 'grid_ef', dataYear: 2023, value: 0.495, status: 'published', variant: null });
    const v3 = await h.accounts.factors.add(grid(2023, 0.496));
    expect(v3.id).toBe('grid_ef-2023-v3');
    // a variant counts separately
    expect((await h.accounts.factors.add({ name: 'ch4_gwp', variant: 'ar6', value: 27.2, unit: 'tCO2e/tCH4', source: 'test: AR6 fossil' })).id).toBe('ch4_gwp-ar6-v2');
    // a year with no version yet starts at v1
    expect((await h.accounts.factors.add(grid(2014, 0.52))).id).toBe('grid_ef-2014-v1');
    const f = await h.accounts.factors.snapshot();
    expect(f.grid(2023).version.id).toBe('grid_ef-2023-v3');
    expect(f.grid(2022).version.id).toBe('grid_ef-2022-v1');
    expect(f.grid(2014)).toMatchObject({ provisional: false, version: { id: 'grid_ef-2014-v1' } });
  });

  it('a provisional or target-path grid version never replaces the published one for actual energy', async () => {
    await h.accounts.factors.add(grid(2023, 0.6, { status: 'provisional' }));
    const tp = await h.accounts.factors.add(grid(2026, 0.37, { variant: 'target_path', status: 'target_path' }));
    expect(tp.id).toBe('grid_ef-target_path-2026-v2');
    const f = await h.accounts.factors.snapshot();
    expect(f.grid(2023).version.id).toBe('grid_ef-2023-v1');
    expect(f.grid(2026)).toMatchObject({ provisional: true, version: { id: 'grid_ef-2024-v1' } });
    expect(f.targetPath(2026)?.id).toBe('grid_ef-target_path-2026-v2');
  });

  it('a grid target-path value needs both variant and status target_path (field named)', async () => {
    expect(await issuePaths(() => h.accounts.factors.add(grid(2026, 0.37, { status: 'target_path' })))).toEqual(['variant']);
    expect(await issuePaths(() => h.accounts.factors.add(grid(2026, 0.37, { variant: 'target_path' })))).toEqual(['variant']);
  });
});

describe('MonthlyRollups', () => {
  async function pv(id: string, readings: Array<[string, number]>, params: Record<string, unknown> = {}) {
    await h.addDevice({ id, kind: 'pv_inverter', sector: 'industry', params });
    await h.write(readings.map(([ts, energy_kwh]) => ({ device: id, ts, energy_kwh })));
  }

  it('compute twice: the second returns created false and the same revision (idempotent)', async () => {
    await pv('pv-1', [
      ['2024-03-01T10:00:00', 0],
      ['2024-03-01T12:00:00', 10],
    ]);
    const first = await h.accounts.rollups.compute('2024-03', 'manual');
    expect(first).toMatchObject({ month: '2024-03', revision: 1, created: true, changes: [] });
    // 10 × 0.474 / 1000 = 0.00474 t
    expect(first.rows.map((r) => [r.device, r.avoided_tco2e])).toEqual([['pv-1', 0.00474]]);
    const second = await h.accounts.rollups.compute('2024-03', 'scheduled');
    expect(second).toMatchObject({ month: '2024-03', revision: 1, created: false, changes: [] });
    const got = await h.accounts.rollups.get('2024-03');
    expect(got?.revisions.map((r) => r.revision)).toEqual([1]);
    expect(got?.trigger).toBe('manual');
    expect(await h.accounts.rollups.latestRevision('2024-03')).toBe(1);
    expect(await h.accounts.rollups.get('2024-04')).toBeUndefined();
    await expect(h.accounts.rollups.compute('2024-3', 'manual')).rejects.toThrow(/YYYY-MM/);
  });

  it('an empty month is revision 1 with no rows, and is not rewritten', async () => {
    const r = await h.accounts.rollups.compute('2024-02', 'manual');
    expect(r).toMatchObject({ revision: 1, created: true, rows: [] });
    expect((await h.accounts.rollups.compute('2024-02', 'manual')).created).toBe(false);
  });

  it('a late reading into the month → revision 2 naming the device and field; revision 1 still readable', async () => {
    await pv('pv-1', [
      ['2024-03-01T10:00:00', 0],
      ['2024-03-01T12:00:00', 10],
    ]);
    await pv('pv-2', [
      ['2024-03-01T10:00:00', 0],
      ['2024-03-01T12:00:00', 4],
    ]);
    await h.accounts.rollups.compute('2024-03', 'scheduled');
    // a late reading of pv-1 on 5 March: 10 → 15 kWh
    await h.write([{ device: 'pv-1', ts: '2024-03-05T12:00:00', energy_kwh: 15 }]);
    const r2 = await h.accounts.rollups.compute('2024-03', 'late_readings');
    expect(r2).toMatchObject({ revision: 2, created: true });
    expect(r2.changes).toContainEqual({ device: 'pv-1', field: 'energy_kwh', from: 10, to: 15 });
    // 15 × 0.474 / 1000 = 0.00711 t
    expect(r2.changes).toContainEqual({ device: 'pv-1', field: 'avoided_tco2e', from: 0.00474, to: 0.00711 });
    expect(r2.changes).toContainEqual({ device: 'pv-1', field: 'quality', from: { ok: 1, reset: 0, wrap: 0, step_back: 0, jump: 0, implausible: 0 }, to: { ok: 2, reset: 0, wrap: 0, step_back: 0, jump: 0, implausible: 0 } });
    // pv-2 did not change
    expect(r2.changes.some((c) => c.device === 'pv-2')).toBe(false);

    const latest = (await h.accounts.rollups.get('2024-03'))!;
    expect(latest.revision).toBe(2);
    expect(latest.trigger).toBe('late_readings');
    expect(latest.changes).toEqual(r2.changes);
    expect(latest.rows.find((r) => r.device === 'pv-1')).toMatchObject({ month: '2024-03', revision: 2, energy_kwh: 15, avoided_tco2e: 0.00711 });
    expect(latest.revisions.map((r) => [r.revision, r.trigger, r.changed_devices])).toEqual([
      [1, 'scheduled', 0],
      [2, 'late_readings', 1],
    ]);

    const old = (await h.accounts.rollups.get('2024-03', 1))!;
    expect(old.revision).toBe(1);
    expect(old.changes).toEqual([]);
    expect(old.rows.find((r) => r.device === 'pv-1')).toMatchObject({ revision: 1, energy_kwh: 10, avoided_tco2e: 0.00474 });
    expect(old.rows.find((r) => r.device === 'pv-2')).toMatchObject({ energy_kwh: 4 });
    expect(await h.accounts.rollups.get('2024-03', 3)).toBeUndefined();

    // nothing new: no revision 3
    expect((await h.accounts.rollups.compute('2024-03', 'late_readings')).created).toBe(false);
  });

  it('a new device in the month shows as "added"', async () => {
    await pv('pv-1', [
      ['2024-03-01T10:00:00', 0],
      ['2024-03-01T12:00:00', 10],
    ]);
    await h.accounts.rollups.compute('2024-03', 'scheduled');
    await pv('pv-late', [
      ['2024-03-02T10:00:00', 0],
      ['2024-03-02T12:00:00', 2],
    ]);
    const r2 = await h.accounts.rollups.compute('2024-03', 'late_readings');
    expect(r2.revision).toBe(2);
    expect(r2.changes).toEqual([{ device: 'pv-late', field: 'added', to: { avoided_tco2e: 0.000948, inventory_tco2e: 0 } }]);
  });

  it('diffRows: equal rows give no change; numbers within 1e-9 relative count as equal', () => {
    const row = {
      device: 'd', kind: 'pv_inverter', site: 's', sector: 'industry', measure: null, stream: 'pv' as const,
      energy_kwh: 10, consumption_kwh: 0, methane_t: 0, avoided_tco2e: 0.00474, inventory_tco2e: 0, claimed_avoided_tco2e: 0.00474,
      sold_as_credits: false, provisional: false, factors: ['grid_ef-2024-v1'], quality: { ok: 1, reset: 0, wrap: 0, implausible: 0 }, detail: {}, notes: [],
    };
    expect(diffRows([row], [{ ...row }])).toEqual([]);
    expect(diffRows([row], [{ ...row, energy_kwh: 10 + 1e-12 }])).toEqual([]);
    expect(diffRows([row], [{ ...row, energy_kwh: 11 }])).toEqual([{ device: 'd', field: 'energy_kwh', from: 10, to: 11 }]);
    expect(diffRows([row], [])).toEqual([{ device: 'd', field: 'removed' }]);
  });

  it('restateFor(grid_ef 2026 published): 2026 months get a new revision, not provisional; earlier years unchanged', async () => {
    // one device per month, so no interval spans the gaps between months: 10 kWh in each month
    for (const m of ['2024-06', '2025-06', '2026-03', '2026-04']) {
      await pv(`pv-${m}`, [
        [`${m}-01T10:00:00`, 0],
        [`${m}-01T12:00:00`, 10],
      ]);
    }
    for (const m of ['2024-06', '2025-06', '2026-03', '2026-04']) expect((await h.accounts.rollups.compute(m, 'scheduled')).revision).toBe(1);
    const before2026 = (await h.accounts.rollups.get('2026-03'))!.rows[0]!;
    expect(before2026).toMatchObject({ provisional: true, factors: ['grid_ef-2024-v1'], avoided_tco2e: 0.00474 }); // 10 × 0.474 / 1000

    const v = await h.accounts.factors.add(grid(2026, 0.46, { published_at: '2027-06-30' }));
    // the first published 2026 version (the target path 0.374 is a separate variant)
    expect(v.id).toBe('grid_ef-2026-v1');
    const results = await h.accounts.rollups.restateFor(v);
    // only months of the data year and later are recomputed
    expect(results.map((r) => [r.month, r.revision, r.created])).toEqual([
      ['2026-03', 2, true],
      ['2026-04', 2, true],
    ]);
    for (const m of ['2026-03', '2026-04']) {
      const got = (await h.accounts.rollups.get(m))!;
      expect(got.revision).toBe(2);
      expect(got.trigger).toBe('factor_added');
      // 10 × 0.46 / 1000 = 0.0046 t
      expect(got.rows[0]).toMatchObject({ provisional: false, factors: [v.id], avoided_tco2e: 0.0046 });
      expect(got.changes).toContainEqual({ device: `pv-${m}`, field: 'provisional', from: true, to: false });
      expect(got.changes).toContainEqual({ device: `pv-${m}`, field: 'factors', from: ['grid_ef-2024-v1'], to: [v.id] });
      expect(got.changes).toContainEqual({ device: `pv-${m}`, field: 'avoided_tco2e', from: 0.00474, to: 0.0046 });
      // revision 1 keeps the provisional numbers
      expect((await h.accounts.rollups.get(m, 1))!.rows[0]).toMatchObject({ provisional: true, avoided_tco2e: 0.00474 });
    }
    // earlier years: unchanged, still revision 1 (2025 stays provisional on 2024's factor)
    expect(await h.accounts.rollups.latestRevision('2024-06')).toBe(1);
    expect(await h.accounts.rollups.latestRevision('2025-06')).toBe(1);
    expect((await h.accounts.rollups.get('2025-06'))!.rows[0]).toMatchObject({ provisional: true, factors: ['grid_ef-2024-v1'] });

    // restating again with nothing new writes nothing
    expect((await h.accounts.rollups.restateFor(v)).map((r) => r.created)).toEqual([false, false]);
  });

  it('restateFor(grid_ef 2024 v2): 2024 months and the later months it stands in for get a new revision; 2023 does not', async () => {
    for (const m of ['2023-06', '2024-06', '2025-06']) {
      await pv(`pv-${m}`, [
        [`${m}-01T10:00:00`, 0],
        [`${m}-01T12:00:00`, 10],
      ]);
    }
    for (const m of ['2023-06', '2024-06', '2025-06']) await h.accounts.rollups.compute(m, 'scheduled');
    const v = await h.accounts.factors.add(grid(2024, 0.47));
    expect(v.id).toBe('grid_ef-2024-v2');
    const results = await h.accounts.rollups.restateFor(v);
    expect(results.map((r) => [r.month, r.revision, r.created])).toEqual([
      ['2024-06', 2, true],
      ['2025-06', 2, true],
    ]);
    // 10 × 0.47 / 1000 = 0.0047 t; 2025 still provisional, now on 2024 v2
    expect((await h.accounts.rollups.get('2024-06'))!.rows[0]).toMatchObject({ provisional: false, factors: ['grid_ef-2024-v2'], avoided_tco2e: 0.0047 });
    expect((await h.accounts.rollups.get('2025-06'))!.rows[0]).toMatchObject({ provisional: true, factors: ['grid_ef-2024-v2'], avoided_tco2e: 0.0047 });
    expect(await h.accounts.rollups.latestRevision('2023-06')).toBe(1);
  });
});
