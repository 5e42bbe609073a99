import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthOf, monthWindow, shiftMonth, splitByMonth, thisMonthSoFar } from '../../accounting/periods.js';
import { localMs, openHarness, type AccountsHarness } from '../helpers/accounts.js';

/**
 * The accounting room end to end on a real SQLite store and state database (test/helpers/accounts.ts).
 * Pure method cases live in methods.test.ts; per-stream ledger cases in ledger.test.ts; the factor
 * registry and monthly rollups in factors.test.ts.
 *
 * Hand-worked numbers from docs/domain.md:
 * - "Factors": grid factor by data year, 2023 = 0.494, 2024 = 0.474 kgCO2e/kWh; a year not yet published uses
 *   the latest published one, marked provisional; the budget's target path (0.388 in 2025 … 0.347 in 2028 …
 *   0.319 in 2030) is for projections only.
 * - "Methods": PV avoided t = ΔkWh × EF / 1000; inventory t = import kWh × EF / 1000 (export not subtracted);
 *   intervals crossing a month or year boundary are split pro rata by time; implausible intervals are kept,
 *   flagged and left out of totals; a counter that goes down is a reset (amount = the new reading).
 */

const TZ = 'Asia/Taipei';
const taipei = (local: string) => localMs(local, TZ);

describe('FactorSet.grid: grid factor choice', () => {
  let h: AccountsHarness;
  beforeEach(async () => {
    h = await openHarness({ tz: TZ });
  });
  afterEach(async () => {
    await h.close();
  });

  it('grid(2023) = 0.494 (grid_ef-2023-v1), not provisional, sourced to the budget report', async () => {
    const u = (await h.accounts.factors.snapshot()).grid(2023);
    expect(u.year).toBe(2023);
    expect(u.provisional).toBe(false);
    expect(u.version.id).toBe('grid_ef-2023-v1');
    expect(u.version.value).toBe(0.494);
    expect(u.version.dataYear).toBe(2023);
    expect(u.version.status).toBe('published');
    expect(u.version.source).toMatch(/^2027-2028 高雄市碳預算報告書 \(草案初稿\)/);
  });

  it('grid(2026) = the latest published (2024, 0.474), provisional', async () => {
    const u = (await h.accounts.factors.snapshot()).grid(2026);
    expect(u.year).toBe(2026);
    expect(u.provisional).toBe(true);
    expect(u.version.id).toBe('grid_ef-2024-v1');
    expect(u.version.dataYear).toBe(2024);
    expect(u.version.value).toBe(0.474);
  });

  it('target-path values never stand in for actual energy: 2025 and 2028 also fall back to 2024 (0.474)', async () => {
    const f = await h.accounts.factors.snapshot();
    // the registry holds a 2025 (0.388) and a 2028 (0.347) target-path value …
    expect(f.targetPath(2025)?.value).toBe(0.388);
    expect(f.targetPath(2028)?.value).toBe(0.347);
    expect(f.targetPath(2028)?.status).toBe('target_path');
    // … but metered energy of those years uses the latest published factor, provisionally
    for (const year of [2025, 2028, 2030]) {
      const u = f.grid(year);
      expect(u.version.status).toBe('published');
      expect(u.version.value).toBe(0.474);
      expect(u.provisional).toBe(true);
    }
    // no target path for a published year
    expect(f.targetPath(2023)).toBeUndefined();
  });

  it('a summary of 2025 PV energy uses 0.474, not the target path 0.388: 10 kWh → 0.00474 t, provisional', async () => {
    await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'industry' });
    await h.write([
      { device: 'pv-1', ts: '2025-07-01T10:00:00', energy_kwh: 0 },
      { device: 'pv-1', ts: '2025-07-01T12:00:00', energy_kwh: 10 },
    ]);
    const s = await h.accounts.ledger.summary(monthWindow('2025-07', TZ));
    // 10 × 0.474 / 1000 = 0.00474 t (with 0.388 it would be 0.00388 t)
    expect(s.avoided_tco2e).toBeCloseTo(0.00474, 9);
    expect(s.provisional).toBe(true);
    expect(s.grid_factors).toEqual([{ year: 2025, id: 'grid_ef-2024-v1', kgco2e_per_kwh: 0.474, provisional: true }]);
  });

  it('a year before the table uses its first year (2015), provisional', async () => {
    const u = (await h.accounts.factors.snapshot()).grid(2010);
    expect(u.version.dataYear).toBe(2015);
    expect(u.version.value).toBe(0.525);
    expect(u.provisional).toBe(true);
  });

  it('restatement: adding grid_ef 2023 v2 makes grid(2023) return v2; v1 stays in the registry', async () => {
    const before = await h.accounts.factors.snapshot();
    const v2 = await h.accounts.factors.add({
      name: 'grid_ef', data_year: 2023, value: 0.495, unit: 'kgCO2e/kWh', published_at: '2025-04-01', source: 'test: restated notice',
    });
    expect(v2.id).toBe('grid_ef-2023-v2');
    expect(v2.version).toBe(2);
    const after = await h.accounts.factors.snapshot();
    expect(after).not.toBe(before); // the snapshot is rebuilt after add()
    const u = after.grid(2023);
    expect(u.version.id).toBe('grid_ef-2023-v2');
    expect(u.version.value).toBe(0.495);
    expect(u.provisional).toBe(false);
    // the old snapshot is immutable: still v1
    expect(before.grid(2023).version.id).toBe('grid_ef-2023-v1');
    // history is versioned, not edited
    const ids = (await h.accounts.factors.list()).filter((v) => v.name === 'grid_ef' && v.dataYear === 2023).map((v) => [v.id, v.value]);
    expect(ids).toEqual([
      ['grid_ef-2023-v1', 0.494],
      ['grid_ef-2023-v2', 0.495],
    ]);
  });

  it('restatement reaches the summary: 8 kWh in 2023 × 0.495 (v2) = 0.00396 t', async () => {
    await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'industry' });
    await h.write([
      { device: 'pv-1', ts: '2023-05-01T10:00:00', energy_kwh: 0 },
      { device: 'pv-1', ts: '2023-05-01T12:00:00', energy_kwh: 8 },
    ]);
    const w = monthWindow('2023-05', TZ);
    // 8 × 0.494 = 3.952 kg
    expect((await h.accounts.ledger.summary(w)).avoided_tco2e).toBeCloseTo(0.003952, 9);
    await h.accounts.factors.add({ name: 'grid_ef', data_year: 2023, value: 0.495, unit: 'kgCO2e/kWh', source: 'test: restated notice' });
    const s = await h.accounts.ledger.summary(w);
    // 8 × 0.495 = 3.96 kg
    expect(s.avoided_tco2e).toBeCloseTo(0.00396, 9);
    expect(s.grid_factors).toEqual([{ year: 2023, id: 'grid_ef-2023-v2', kgco2e_per_kwh: 0.495, provisional: false }]);
  });
});

describe('periods.ts: months in Asia/Taipei', () => {
  it('splitByMonth splits at 2025-01-01T00:00+08:00 (= 2024-12-31T16:00Z)', () => {
    const from = taipei('2024-12-31T12:00:00');
    const to = taipei('2025-01-01T12:00:00');
    const boundary = Date.UTC(2024, 11, 31, 16, 0, 0);
    expect(taipei('2025-01-01T00:00:00')).toBe(boundary);
    expect(splitByMonth({ from, to }, TZ)).toEqual([
      { from, to: boundary, month: '2024-12', year: 2024, monthWindow: { from: Date.UTC(2024, 10, 30, 16), to: boundary } },
      { from: boundary, to, month: '2025-01', year: 2025, monthWindow: { from: boundary, to: Date.UTC(2025, 0, 31, 16) } },
    ]);
  });

  it('the UTC new year (08:00 in Taipei) is not a boundary', () => {
    // 2024-12-31T20:00Z = 2025-01-01T04:00+08:00, already January 2025 in Taipei
    const from = Date.UTC(2024, 11, 31, 20, 0, 0);
    const to = Date.UTC(2025, 0, 1, 4, 0, 0);
    const parts = splitByMonth({ from, to }, TZ);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ from, to, month: '2025-01', year: 2025 });
    // and UTC midnight at the start of a month is 08:00 on the 1st in Taipei: no split there either
    const a = Date.UTC(2024, 2, 31, 20, 0, 0); // 2024-04-01T04:00+08:00
    const b = Date.UTC(2024, 3, 1, 4, 0, 0); // 2024-04-01T12:00+08:00
    expect(splitByMonth({ from: a, to: b }, TZ).map((p) => p.month)).toEqual(['2024-04']);
  });

  it('a window inside one month is one piece; a multi-month window has one piece per month', () => {
    const a = taipei('2023-03-05T00:00:00');
    const b = taipei('2023-03-20T00:00:00');
    expect(splitByMonth({ from: a, to: b }, TZ)).toEqual([
      { from: a, to: b, month: '2023-03', year: 2023, monthWindow: monthWindow('2023-03', TZ) },
    ]);
    const parts = splitByMonth({ from: taipei('2023-11-15T00:00:00'), to: taipei('2024-02-10T00:00:00') }, TZ);
    expect(parts.map((p) => [p.month, p.year])).toEqual([
      ['2023-11', 2023],
      ['2023-12', 2023],
      ['2024-01', 2024],
      ['2024-02', 2024],
    ]);
    expect(parts[1]).toMatchObject({ from: taipei('2023-12-01T00:00:00'), to: taipei('2024-01-01T00:00:00') });
    // pieces tile the window without gaps
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.from).toBe(parts[i - 1]!.to);
    expect(splitByMonth({ from: a, to: a }, TZ)).toEqual([]);
  });

  it('monthWindow, monthOf, shiftMonth use the time zone; bad months are refused', () => {
    expect(monthWindow('2024-02', TZ)).toEqual({ from: taipei('2024-02-01T00:00:00'), to: taipei('2024-03-01T00:00:00') });
    // 29 days in February 2024
    const feb = monthWindow('2024-02', TZ);
    expect(feb.to - feb.from).toBe(29 * 86_400_000);
    // 2024-12-31T16:00Z is already 2025-01 in Taipei; one ms earlier is 2024-12
    expect(monthOf(Date.UTC(2024, 11, 31, 16), TZ)).toBe('2025-01');
    expect(monthOf(Date.UTC(2024, 11, 31, 16) - 1, TZ)).toBe('2024-12');
    expect(shiftMonth('2024-12', 1, TZ)).toBe('2025-01');
    expect(shiftMonth('2024-01', -1, TZ)).toBe('2023-12');
    expect(() => monthWindow('2024-13', TZ)).toThrow(/YYYY-MM/);
    expect(() => monthWindow('2024-1', TZ)).toThrow(/YYYY-MM/);
  });

  it('thisMonthSoFar starts at the first of the month in the time zone', () => {
    // now = 2026-11-01T03:00+08:00 = 2026-10-31T19:00Z → from 2026-11-01T00:00+08:00 (not 2026-10-01)
    const now = Date.UTC(2026, 9, 31, 19, 0, 0);
    expect(thisMonthSoFar(now, TZ)).toEqual({ from: Date.UTC(2026, 9, 31, 16, 0, 0), to: now });
  });
});

describe('Ledger.summary against the real store', () => {
  let h: AccountsHarness;
  beforeEach(async () => {
    h = await openHarness({ tz: TZ });
  });
  afterEach(async () => {
    await h.close();
  });

  // Window 2023-12-31T00:00+08:00 … 2024-01-01T12:00+08:00, crossing 2023→2024 in Taipei.
  const WINDOW = { from: taipei('2023-12-31T00:00:00'), to: taipei('2024-01-01T12:00:00') };

  async function seed() {
    await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'industry' });
    await h.addDevice({ id: 'sm-1', kind: 'smart_meter', sector: 'residential_commercial' });
    await h.addDevice({ id: 'pv-np', kind: 'pv_inverter', sector: 'residential_commercial', params: { nameplate_kw: 10 } });
    await h.write([
      // PV: 10 kWh between 23:00 and 01:00 → 5 kWh in 2023, 5 kWh in 2024 (pro rata by time)
      { device: 'pv-1', ts: '2023-12-31T23:00:00', energy_kwh: 100 },
      { device: 'pv-1', ts: '2024-01-01T01:00:00', energy_kwh: 110 },
      // smart meter, all in 2023: import 1,000 → 1,100 kWh (100 kWh), export 0 → 40 kWh
      { device: 'sm-1', ts: '2023-12-31T10:00:00', import_kwh: 1000, export_kwh: 0 },
      { device: 'sm-1', ts: '2023-12-31T12:00:00', import_kwh: 1100, export_kwh: 40 },
      // PV with nameplate 10 kW: 10:00→11:00 50 kWh > 10 × 1 × 1.2 = 12 kWh → implausible (2023 only)
      { device: 'pv-np', ts: '2023-12-31T10:00:00', energy_kwh: 0 },
      { device: 'pv-np', ts: '2023-12-31T11:00:00', energy_kwh: 50 },
    ]);
  }

  it('PV 10 kWh across the new year: avoided = 5 × 0.494 / 1000 + 5 × 0.474 / 1000 = 0.00484 t', async () => {
    await seed();
    const s = await h.accounts.ledger.summary(WINDOW);
    // 5 × 0.494 = 2.47 kg; 5 × 0.474 = 2.37 kg; total 4.84 kg = 0.00484 t
    expect(s.by_stream.pv).toBeCloseTo(0.00484, 9);
    expect(s.avoided_tco2e).toBeCloseTo(0.00484, 9);
    expect(s.by_sector.industry).toBeCloseTo(0.00484, 9); // pv-1 is in industry
    expect(s.by_sector.residential_commercial).toBe(0); // pv-np (implausible) is excluded
    // energy: 10 kWh PV (the implausible 50 kWh left out)
    expect(s.energy_kwh.pv).toBeCloseTo(10, 6);
    expect(s.grid_factors).toEqual([
      { year: 2023, id: 'grid_ef-2023-v1', kgco2e_per_kwh: 0.494, provisional: false },
      { year: 2024, id: 'grid_ef-2024-v1', kgco2e_per_kwh: 0.474, provisional: false },
    ]);
    expect(s.factors.map((f) => f.id)).toEqual(['grid_ef-2023-v1', 'grid_ef-2024-v1']);
    expect(s.factors[0]).toMatchObject({ name: 'grid_ef', data_year: 2023, value: 0.494, unit: 'kgCO2e/kWh', status: 'published' });
    expect(s.provisional).toBe(false);
    expect(s.from).toMatch(/^2023-12-31T00:00:00(\.000)?\+08:00$/);
    expect(s.to).toMatch(/^2024-01-01T12:00:00(\.000)?\+08:00$/);

    // per month: 5 kWh each side of the boundary
    const months = await h.accounts.ledger.rowsByMonth(WINDOW);
    expect(months.map((m) => [m.month, m.year])).toEqual([
      ['2023-12', 2023],
      ['2024-01', 2024],
    ]);
    const pvDec = months[0]!.rows.find((r) => r.device === 'pv-1')!;
    const pvJan = months[1]!.rows.find((r) => r.device === 'pv-1')!;
    expect(pvDec.energy_kwh).toBeCloseTo(5, 9);
    expect(pvDec.avoided_tco2e).toBeCloseTo(0.00247, 9);
    expect(pvDec.factors).toEqual(['grid_ef-2023-v1']);
    expect(pvJan.energy_kwh).toBeCloseTo(5, 9);
    expect(pvJan.avoided_tco2e).toBeCloseTo(0.00237, 9);
    expect(pvJan.factors).toEqual(['grid_ef-2024-v1']);
  });

  it('inventory from import_kwh × EF of its year; export_kwh is not subtracted; the ledgers are not netted', async () => {
    await seed();
    const s = await h.accounts.ledger.summary(WINDOW);
    // 100 kWh import in 2023 × 0.494 = 49.4 kg = 0.0494 t; the 40 kWh export does not reduce it
    // (subtracting it would give 60 × 0.494 / 1000 = 0.02964 t)
    expect(s.inventory_tco2e).toBeCloseTo(0.0494, 9);
    expect(s.energy_kwh.consumption).toBeCloseTo(100, 6);
    // inventory is not reduced by avoided PV, and avoided is not reduced by inventory
    expect(s.avoided_tco2e).toBeCloseTo(0.00484, 9);
    // a plain smart meter (no baseline) has no avoided stream
    const [dec] = await h.accounts.ledger.rowsByMonth(monthWindow('2023-12', TZ));
    const sm = dec!.rows.find((r) => r.device === 'sm-1')!;
    expect(sm.stream).toBeNull();
    expect(sm.avoided_tco2e).toBe(0);
    expect(sm.consumption_kwh).toBeCloseTo(100, 9);
    expect(sm.inventory_tco2e).toBeCloseTo(0.0494, 9);
  });

  it('implausible intervals are excluded from totals and counted in quality', async () => {
    await seed();
    const s = await h.accounts.ledger.summary(WINDOW);
    expect(s.quality.implausible).toBe(1);
    expect(s.quality.reset).toBe(0);
    expect(s.quality.wrap).toBe(0);
    // with the implausible 50 kWh counted, PV avoided would be 0.00484 + 50 × 0.494 / 1000 = 0.02954 t
    expect(s.by_stream.pv).toBeCloseTo(0.00484, 9);
    expect(s.energy_kwh.pv).toBeCloseTo(10, 6);
  });

  it('quality counts each interval once, even when it crosses the month/year boundary', async () => {
    await seed();
    const s = await h.accounts.ledger.summary(WINDOW);
    // ok intervals: pv-1 energy (1, crossing 2023→2024), sm-1 import (1), sm-1 export (1) = 3
    expect(s.quality.ok).toBe(3);
    // a window ending inside the crossing interval still counts it once
    const s2 = await h.accounts.ledger.summary({ from: WINDOW.from, to: taipei('2024-01-01T00:30:00') });
    expect(s2.quality.ok).toBe(3);
    // 1 h 30 min of the 2 h interval = 0.75 × 10 = 7.5 kWh: 5 in 2023 (23:00–00:00) + 2.5 in 2024 (00:00–00:30)
    expect(s2.energy_kwh.pv).toBeCloseTo(7.5, 6);
    expect(s2.by_stream.pv).toBeCloseTo((5 * 0.494 + 2.5 * 0.474) / 1000, 9);
  });

  it('reset intervals are counted (amount = the new reading) and their quality recorded', async () => {
    await h.addDevice({ id: 'sm-2', kind: 'smart_meter', sector: 'residential_commercial' });
    await h.write([
      { device: 'sm-2', ts: '2023-06-01T00:00:00', import_kwh: 5000 },
      { device: 'sm-2', ts: '2023-06-01T01:00:00', import_kwh: 20 }, // reset: 20 kWh
    ]);
    const s = await h.accounts.ledger.summary({ from: taipei('2023-06-01T00:00:00'), to: taipei('2023-06-02T00:00:00') });
    // 20 kWh × 0.494 = 9.88 kg = 0.00988 t
    expect(s.inventory_tco2e).toBeCloseTo(0.00988, 9);
    expect(s.energy_kwh.consumption).toBeCloseTo(20, 6);
    expect(s.quality).toEqual({ ok: 0, reset: 1, wrap: 0, step_back: 0, jump: 0, implausible: 0 });
  });

  it('provisional is false for a 2023-only window', async () => {
    await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'industry' });
    await h.write([
      { device: 'pv-1', ts: '2023-05-01T10:00:00', energy_kwh: 0 },
      { device: 'pv-1', ts: '2023-05-01T12:00:00', energy_kwh: 8 },
    ]);
    const s = await h.accounts.ledger.summary({ from: taipei('2023-05-01T00:00:00'), to: taipei('2023-06-01T00:00:00') });
    // 8 kWh × 0.494 = 3.952 kg = 0.003952 t
    expect(s.avoided_tco2e).toBeCloseTo(0.003952, 9);
    expect(s.provisional).toBe(false);
    expect(s.grid_factors).toEqual([{ year: 2023, id: 'grid_ef-2023-v1', kgco2e_per_kwh: 0.494, provisional: false }]);
  });

  it('provisional is true when a 2026 interval is included (2024 factor 0.474 stands in)', async () => {
    await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'industry' });
    await h.addDevice({ id: 'sm-1', kind: 'smart_meter', sector: 'residential_commercial' });
    await h.write([
      { device: 'pv-1', ts: '2026-11-01T10:00:00', energy_kwh: 0 },
      { device: 'pv-1', ts: '2026-11-01T12:00:00', energy_kwh: 8 },
      { device: 'sm-1', ts: '2026-11-01T10:00:00', import_kwh: 0 },
      { device: 'sm-1', ts: '2026-11-01T12:00:00', import_kwh: 30 },
    ]);
    const s = await h.accounts.ledger.summary({ from: taipei('2026-11-01T00:00:00'), to: taipei('2026-11-22T10:00:00') });
    // PV 8 kWh × 0.474 = 3.792 kg = 0.003792 t; inventory 30 kWh × 0.474 = 14.22 kg = 0.01422 t
    expect(s.avoided_tco2e).toBeCloseTo(0.003792, 9);
    expect(s.inventory_tco2e).toBeCloseTo(0.01422, 9);
    expect(s.provisional).toBe(true);
    expect(s.grid_factors).toEqual([{ year: 2026, id: 'grid_ef-2024-v1', kgco2e_per_kwh: 0.474, provisional: true }]);
    expect(s.from).toMatch(/^2026-11-01T00:00:00(\.000)?\+08:00$/);
  });

  it('a window spanning 2023 and 2026 intervals is provisional; each year has its factor', async () => {
    await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'industry' });
    await h.addDevice({ id: 'pv-2', kind: 'pv_inverter', sector: 'industry' });
    await h.write([
      { device: 'pv-1', ts: '2023-05-01T10:00:00', energy_kwh: 0 },
      { device: 'pv-1', ts: '2023-05-01T12:00:00', energy_kwh: 8 },
      { device: 'pv-2', ts: '2026-05-01T10:00:00', energy_kwh: 0 },
      { device: 'pv-2', ts: '2026-05-01T12:00:00', energy_kwh: 10 },
    ]);
    const s = await h.accounts.ledger.summary({ from: taipei('2023-01-01T00:00:00'), to: taipei('2027-01-01T00:00:00') });
    // 8 × 0.494 / 1000 + 10 × 0.474 / 1000 = 0.003952 + 0.00474 = 0.008692 t
    expect(s.avoided_tco2e).toBeCloseTo(0.008692, 9);
    expect(s.provisional).toBe(true);
    expect(s.grid_factors).toEqual([
      { year: 2023, id: 'grid_ef-2023-v1', kgco2e_per_kwh: 0.494, provisional: false },
      { year: 2026, id: 'grid_ef-2024-v1', kgco2e_per_kwh: 0.474, provisional: true },
    ]);
  });

  it('biogas: treated methane from the normalised volume, generation from gen_kwh', async () => {
    await h.addDevice({ id: 'bg-1', kind: 'biogas', sector: 'agriculture' });
    await h.write([
      { device: 'bg-1', ts: '2023-05-01T10:00:00', biogas_m3: 1000, ch4_pct: 60, temp_c: 20, pressure_kpa: 101.325, gen_kwh: 0 },
      { device: 'bg-1', ts: '2023-05-01T12:00:00', biogas_m3: 1100, ch4_pct: 60, temp_c: 20, pressure_kpa: 101.325, gen_kwh: 150 },
    ]);
    const s = await h.accounts.ledger.summary(monthWindow('2023-05', TZ));
    // 100 m³ at 20 °C, 101.325 kPa = 100 × 273.15 / 293.15 = 93.177554 Nm³; × 0.60 × 0.716 / 1000 = 0.04002907726 t CH4
    expect(s.methane_t).toBeCloseTo(0.040029, 6);
    expect(s.energy_kwh.biogas_generation).toBeCloseTo(150, 6);
    // avoided = 0.04002907726 × 1.0 × 28 + 150 × 0.494 / 1000 = 1.12081416 + 0.0741 = 1.19491416 t
    expect(s.by_stream.biogas).toBeCloseTo(1.194914, 5);
    expect(s.gwp_set).toBe('ar5');
  });

  it('demo devices are counted while no real device exists, and excluded once one does', async () => {
    await h.registry.register({ id: 'demo-pv', kind: 'pv_inverter', site: 'demo', sector: 'industry', params: {} }, { demo: true });
    const demo = (await h.registry.get('demo-pv'))!;
    expect(demo.demo).toBe(true);
    await h.store.writeBatch(
      [
        ['2024-03-01T10:00:00', 0],
        ['2024-03-01T12:00:00', 20],
      ].map(([ts, v]) => ({
        device: 'demo-pv', kind: 'pv_inverter' as const, site: 'demo', sector: 'industry' as const, params: {},
        ts: taipei(ts as string), seq: null, fields: { energy_kwh: v as number }, extras: {}, receivedAt: Date.now(),
      })),
    );
    const w = monthWindow('2024-03', TZ);
    // only the demo fleet: it is counted, 20 × 0.474 / 1000 = 0.00948 t
    expect((await h.accounts.ledger.summary(w)).avoided_tco2e).toBeCloseTo(0.00948, 9);

    await h.addDevice({ id: 'pv-real', kind: 'pv_inverter', sector: 'industry' });
    await h.write([
      { device: 'pv-real', ts: '2024-03-02T10:00:00', energy_kwh: 0 },
      { device: 'pv-real', ts: '2024-03-02T12:00:00', energy_kwh: 5 },
    ]);
    const s = await h.accounts.ledger.summary(w);
    // the real device only: 5 × 0.474 / 1000 = 0.00237 t (with the demo it would be 0.01185 t)
    expect(s.avoided_tco2e).toBeCloseTo(0.00237, 9);
    expect(s.energy_kwh.pv).toBeCloseTo(5, 6);
    const [march] = await h.accounts.ledger.rowsByMonth(w);
    expect(march!.rows.map((r) => r.device)).toEqual(['pv-real']);
  });

  it('an empty window gives zeros and no grid factors', async () => {
    const s = await h.accounts.ledger.summary(monthWindow('2024-03', TZ));
    expect(s.avoided_tco2e).toBe(0);
    expect(s.inventory_tco2e).toBe(0);
    expect(s.grid_factors).toEqual([]);
    expect(s.factors).toEqual([]);
    expect(s.provisional).toBe(false);
    expect(s.quality).toEqual({ ok: 0, reset: 0, wrap: 0, step_back: 0, jump: 0, implausible: 0 });
  });
});
