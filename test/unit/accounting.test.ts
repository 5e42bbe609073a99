import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Kind, Sector } from '../../devices/kinds.js';
import type { DeviceParams } from '../../devices/params.js';
import { GRID_FACTORS, gridFactorFor } from '../../accounting/grid-factors.js';
import {
  inventoryTco2e,
  METHANE_DENSITY_KG_PER_NM3,
  methaneTonnes,
  normalCubicMetres,
  pvAvoidedTco2e,
} from '../../accounting/methods.js';
import { computeSummary, splitByYear, thisMonthSoFar } from '../../accounting/summary.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import type { StoredReading } from '../../store/types.js';

/**
 * Hand-worked numbers from ../shared/domain.md:
 * - "Factors": grid factor by data year, 2023 = 0.494, 2024 = 0.474 kgCO2e/kWh; unpublished year → latest, provisional;
 *   budget target path 0.347 for 2028 (projections only, passed explicitly here).
 * - "Methods": PV avoided t = ΔkWh × EF / 1000; inventory t = kWh × EF / 1000;
 *   Nm³ = m³ × (P / 101.325) × (273.15 / (273.15 + T)); CH4 t = Nm³ × CH4% / 100 × 0.716 / 1000.
 * - "Worked examples from the budget report (004, 2028 row of table 12)".
 */

const TZ = 'Asia/Taipei';
const taipei = (iso: string) => DateTime.fromISO(iso, { zone: TZ }).toMillis();

describe('accounting/methods.ts', () => {
  it('PV avoided = kWh × EF / 1000: 1,000 kWh in 2023 × 0.494 kgCO2e/kWh = 0.494 t', () => {
    expect(pvAvoidedTco2e(1000, 0.494)).toBeCloseTo(0.494, 12);
    // 12,345 kWh × 0.474 kg/kWh = 5,851.53 kg = 5.85153 t
    expect(pvAvoidedTco2e(12_345, 0.474)).toBeCloseTo(5.85153, 9);
  });

  it('inventory = kWh × EF / 1000: 207,608,259 kWh (public sector 2023) × 0.494 = 102,558.48 t', () => {
    // domain.md "four device streams": public-sector electricity 207,608,259 kWh in 2023
    // 207,608,259 × 0.494 = 102,558,479.946 kg = 102,558.479946 t
    expect(inventoryTco2e(207_608_259, 0.494)).toBeCloseTo(102_558.479946, 5);
    expect(inventoryTco2e(1000, 0.494)).toBeCloseTo(0.494, 12);
  });

  describe('budget report worked examples (2028 target-path factor 0.347 passed explicitly)', () => {
    it('generator 25 萬 kWh = 250,000 kWh × 0.347 = 86.75 t (0.009 萬噸)', () => {
      const t = pvAvoidedTco2e(250_000, 0.347);
      expect(t).toBeCloseTo(86.75, 9);
      expect(Number((t / 10_000).toFixed(3))).toBe(0.009);
    });

    it('small hydro 300,000 kWh × 0.347 = 104.1 t (0.010 萬噸)', () => {
      const t = pvAvoidedTco2e(300_000, 0.347);
      expect(t).toBeCloseTo(104.1, 9);
      expect((t / 10_000).toFixed(3)).toBe('0.010');
    });

    it('public-sector saving 6,228,246 kWh × 0.347 = 2,161.201362 t, reported as 0.216 萬噸', () => {
      const t = inventoryTco2e(6_228_246, 0.347);
      expect(t).toBeCloseTo(2161.201362, 6);
      expect(Number((t / 10_000).toFixed(3))).toBe(0.216);
    });
  });

  it('normalCubicMetres(100 m³, 20 °C, 101.325 kPa) = 100 × 273.15 / 293.15 = 93.177554 Nm³', () => {
    expect(normalCubicMetres(100, 20, 101.325)).toBeCloseTo((100 * 273.15) / 293.15, 10);
    expect(normalCubicMetres(100, 20, 101.325)).toBeCloseTo(93.177554153, 8);
  });

  it('normalCubicMetres: pressure only, and neither (already Nm³)', () => {
    // 100 m³ at 0 °C and 2 atm (202.65 kPa) = 200 Nm³
    expect(normalCubicMetres(100, 0, 202.65)).toBeCloseTo(200, 10);
    // absent T and P → taken as Nm³
    expect(normalCubicMetres(100)).toBe(100);
    // 100 m³ at 0 °C, 90 kPa = 100 × 90 / 101.325 = 88.82309 Nm³
    expect(normalCubicMetres(100, undefined, 90)).toBeCloseTo(88.823094, 6);
  });

  it('methaneTonnes of 93.177554 Nm³ at 60 % CH4 = 93.177554 × 0.60 × 0.716 / 1000 = 0.0400291 t', () => {
    expect(METHANE_DENSITY_KG_PER_NM3).toBe(0.716);
    const nm3 = normalCubicMetres(100, 20, 101.325);
    // 93.17755415 × 0.6 = 55.90653249 Nm³ CH4; × 0.716 kg/Nm³ = 40.02907726 kg = 0.04002907726 t
    expect(methaneTonnes(nm3, 60)).toBeCloseTo(0.04002907726, 10);
    // the 20 °C density shortcut of domain.md agrees: 100 m³ × 0.6 × 0.667 kg/m³ ≈ 40.02 kg
    expect(methaneTonnes(nm3, 60) * 1000).toBeCloseTo(100 * 0.6 * 0.667, 1);
  });
});

describe('accounting/grid-factors.ts', () => {
  it('gridFactorFor(2023) = 0.494, not provisional', () => {
    const u = gridFactorFor(2023);
    expect(u.factor.kgco2ePerKwh).toBe(0.494);
    expect(u.factor.dataYear).toBe(2023);
    expect(u.provisional).toBe(false);
    expect(u.year).toBe(2023);
    expect(u.factor.source).toMatch(/004/);
  });

  it('gridFactorFor(2026) = the latest published (2024, 0.474), provisional', () => {
    const u = gridFactorFor(2026);
    expect(u.factor.dataYear).toBe(2024);
    expect(u.factor.kgco2ePerKwh).toBe(0.474);
    expect(u.provisional).toBe(true);
    expect(u.year).toBe(2026);
  });

  it('holds the domain.md table by data year', () => {
    expect(Object.fromEntries(GRID_FACTORS.map((f) => [f.dataYear, f.kgco2ePerKwh]))).toEqual({
      2015: 0.525, 2016: 0.529, 2017: 0.554, 2018: 0.533, 2019: 0.509,
      2020: 0.502, 2021: 0.509, 2022: 0.495, 2023: 0.494, 2024: 0.474,
    });
    for (const f of GRID_FACTORS) expect(f.source.length).toBeGreaterThan(0);
  });

  it('a year before the table uses its first year, provisional', () => {
    const u = gridFactorFor(2010);
    expect(u.factor.dataYear).toBe(2015);
    expect(u.provisional).toBe(true);
  });
});

describe('accounting/summary.ts: splitByYear', () => {
  it('splits at 2025-01-01T00:00+08:00 in Asia/Taipei', () => {
    const from = taipei('2024-12-31T12:00:00');
    const to = taipei('2025-01-01T12:00:00');
    const boundary = Date.UTC(2024, 11, 31, 16, 0, 0); // 2025-01-01T00:00+08:00 = 2024-12-31T16:00Z
    expect(splitByYear({ from, to }, TZ)).toEqual([
      { from, to: boundary, year: 2024 },
      { from: boundary, to, year: 2025 },
    ]);
  });

  it('the UTC new year (08:00 Taipei) is not the split point', () => {
    // 2025-01-01T00:00Z = 2025-01-01T08:00+08:00, already in 2025 in Taipei
    const from = Date.UTC(2024, 11, 31, 20, 0, 0); // 2025-01-01T04:00+08:00
    const to = Date.UTC(2025, 0, 1, 4, 0, 0);
    expect(splitByYear({ from, to }, TZ)).toEqual([{ from, to, year: 2025 }]);
  });

  it('a window inside one year is one part; a multi-year window has one part per year', () => {
    const a = taipei('2023-03-01T00:00:00');
    const b = taipei('2023-04-01T00:00:00');
    expect(splitByYear({ from: a, to: b }, TZ)).toEqual([{ from: a, to: b, year: 2023 }]);
    const parts = splitByYear({ from: taipei('2022-06-01T00:00:00'), to: taipei('2024-06-01T00:00:00') }, TZ);
    expect(parts.map((p) => p.year)).toEqual([2022, 2023, 2024]);
    expect(parts[1]).toEqual({ from: taipei('2023-01-01T00:00:00'), to: taipei('2024-01-01T00:00:00'), year: 2023 });
  });

  it('thisMonthSoFar starts at the first of the month in the time zone', () => {
    // now = 2026-11-01T03:00+08:00 = 2026-10-31T19:00Z → from 2026-11-01T00:00+08:00
    const now = Date.UTC(2026, 9, 31, 19, 0, 0);
    expect(thisMonthSoFar(now, TZ)).toEqual({ from: Date.UTC(2026, 9, 31, 16, 0, 0), to: now });
  });
});

describe('accounting/summary.ts: computeSummary against a real SqliteStore', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-acct-'));
    store = new SqliteStore(path.join(dir, 'readings.sqlite'));
    await store.start();
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const r = (
    device: string,
    kind: Kind,
    iso: string,
    fields: Record<string, number>,
    params: DeviceParams = {},
    sector: Sector = 'residential_commercial',
  ): StoredReading => {
    const ts = taipei(iso);
    return { device, kind, site: 's1', sector, params, ts, seq: null, fields, extras: {}, receivedAt: ts };
  };

  // Window 2023-12-31T00:00+08:00 … 2024-01-01T12:00+08:00, crossing 2023→2024 in Taipei.
  const WINDOW = { from: taipei('2023-12-31T00:00:00'), to: taipei('2024-01-01T12:00:00') };

  async function seed() {
    await store.writeBatch([
      // PV: 10 kWh between 23:00 and 01:00 → 5 kWh in 2023, 5 kWh in 2024 (pro rata by time)
      r('pv-1', 'pv_inverter', '2023-12-31T23:00:00', { energy_kwh: 100 }, {}, 'industry'),
      r('pv-1', 'pv_inverter', '2024-01-01T01:00:00', { energy_kwh: 110 }, {}, 'industry'),
      // smart meter, all in 2023: import 1,000 → 1,100 kWh (100 kWh), export 0 → 40 kWh
      r('sm-1', 'smart_meter', '2023-12-31T10:00:00', { import_kwh: 1000, export_kwh: 0 }),
      r('sm-1', 'smart_meter', '2023-12-31T12:00:00', { import_kwh: 1100, export_kwh: 40 }),
      // PV with nameplate 10 kW: 10:00→11:00 50 kWh > 10 × 1 × 1.2 = 12 kWh → implausible (2023 only)
      r('pv-np', 'pv_inverter', '2023-12-31T10:00:00', { energy_kwh: 0 }, { nameplate_kw: 10 }),
      r('pv-np', 'pv_inverter', '2023-12-31T11:00:00', { energy_kwh: 50 }, { nameplate_kw: 10 }),
    ]);
  }

  it('PV 10 kWh across the new year: avoided = 5 × 0.494 / 1000 + 5 × 0.474 / 1000 = 0.00484 t', async () => {
    await seed();
    const s = await computeSummary(store, WINDOW, { tz: TZ });
    // 5 × 0.494 = 2.47 kg; 5 × 0.474 = 2.37 kg; total 4.84 kg = 0.00484 t
    expect(s.by_stream.pv).toBeCloseTo(0.00484, 6);
    expect(s.avoided_tco2e).toBeCloseTo(0.00484, 6);
    expect(s.by_sector.industry).toBeCloseTo(0.00484, 6); // pv-1 is in industry
    expect(s.by_sector.residential_commercial).toBe(0); // pv-np (implausible) is excluded
    // energy: 10 kWh PV (the implausible 50 kWh left out)
    expect(s.energy_kwh.pv).toBeCloseTo(10, 3);
    expect(s.factors).toEqual([
      { id: 'grid-tw-2023-v1', year: 2023, kgco2e_per_kwh: 0.494, provisional: false },
      { id: 'grid-tw-2024-v1', year: 2024, kgco2e_per_kwh: 0.474, provisional: false },
    ]);
    expect(s.provisional).toBe(false);
  });

  it('inventory from import_kwh × EF of its year; export_kwh is not subtracted', async () => {
    await seed();
    const s = await computeSummary(store, WINDOW, { tz: TZ });
    // 100 kWh import in 2023 × 0.494 = 49.4 kg = 0.0494 t; the 40 kWh export does not reduce it
    // (subtracting it would give 60 × 0.494 / 1000 = 0.02964 t)
    expect(s.inventory_tco2e).toBeCloseTo(0.0494, 6);
    expect(s.energy_kwh.consumption).toBeCloseTo(100, 3);
    // the ledgers are not netted: inventory is not reduced by avoided PV either
    expect(s.avoided_tco2e).toBeCloseTo(0.00484, 6);
  });

  it('implausible intervals are excluded from totals and counted in quality', async () => {
    await seed();
    const s = await computeSummary(store, WINDOW, { tz: TZ });
    expect(s.quality.implausible).toBe(1);
    expect(s.quality.reset).toBe(0);
    expect(s.quality.wrap).toBe(0);
    // with the implausible 50 kWh counted, PV avoided would be 0.00484 + 50 × 0.494 / 1000 = 0.02954 t
    expect(s.by_stream.pv).toBeCloseTo(0.00484, 6);
  });

  it('quality counts each interval once, even when it crosses the year boundary', async () => {
    await seed();
    const s = await computeSummary(store, WINDOW, { tz: TZ });
    // ok intervals: pv-1 energy (1, crossing 2023→2024), sm-1 import (1), sm-1 export (1) = 3
    expect(s.quality.ok).toBe(3);
  });

  it('excludeDevices removes a device', async () => {
    await seed();
    const s = await computeSummary(store, WINDOW, { tz: TZ, excludeDevices: new Set(['pv-1']) });
    expect(s.by_stream.pv).toBe(0);
    expect(s.avoided_tco2e).toBe(0);
    expect(s.energy_kwh.pv).toBe(0);
    expect(s.inventory_tco2e).toBeCloseTo(0.0494, 6); // sm-1 still counted
    const s2 = await computeSummary(store, WINDOW, { tz: TZ, excludeDevices: new Set(['sm-1']) });
    expect(s2.inventory_tco2e).toBe(0);
    expect(s2.by_stream.pv).toBeCloseTo(0.00484, 6);
  });

  it('reset intervals are counted (amount = new reading) and their quality recorded', async () => {
    await store.writeBatch([
      r('sm-2', 'smart_meter', '2023-06-01T00:00:00', { import_kwh: 5000 }),
      r('sm-2', 'smart_meter', '2023-06-01T01:00:00', { import_kwh: 20 }), // reset: 20 kWh
    ]);
    const s = await computeSummary(store, { from: taipei('2023-06-01T00:00:00'), to: taipei('2023-06-02T00:00:00') }, { tz: TZ });
    // 20 kWh × 0.494 = 9.88 kg = 0.00988 t
    expect(s.inventory_tco2e).toBeCloseTo(0.00988, 6);
    expect(s.quality.reset).toBe(1);
  });

  it('provisional is false for a 2023-only window', async () => {
    await store.writeBatch([
      r('pv-1', 'pv_inverter', '2023-05-01T10:00:00', { energy_kwh: 0 }),
      r('pv-1', 'pv_inverter', '2023-05-01T12:00:00', { energy_kwh: 8 }),
    ]);
    const s = await computeSummary(store, { from: taipei('2023-05-01T00:00:00'), to: taipei('2023-06-01T00:00:00') }, { tz: TZ });
    // 8 kWh × 0.494 = 3.952 kg = 0.003952 t
    expect(s.avoided_tco2e).toBeCloseTo(0.003952, 6);
    expect(s.provisional).toBe(false);
    expect(s.factors).toEqual([{ id: 'grid-tw-2023-v1', year: 2023, kgco2e_per_kwh: 0.494, provisional: false }]);
  });

  it('provisional is true when a 2026 interval is included (2024 factor 0.474 stands in)', async () => {
    await store.writeBatch([
      r('pv-1', 'pv_inverter', '2026-11-01T10:00:00', { energy_kwh: 0 }),
      r('pv-1', 'pv_inverter', '2026-11-01T12:00:00', { energy_kwh: 8 }),
      r('sm-1', 'smart_meter', '2026-11-01T10:00:00', { import_kwh: 0 }),
      r('sm-1', 'smart_meter', '2026-11-01T12:00:00', { import_kwh: 30 }),
    ]);
    const s = await computeSummary(store, { from: taipei('2026-11-01T00:00:00'), to: taipei('2026-11-22T10:00:00') }, { tz: TZ });
    // PV 8 kWh × 0.474 = 3.792 kg = 0.003792 t; inventory 30 kWh × 0.474 = 14.22 kg = 0.01422 t
    expect(s.avoided_tco2e).toBeCloseTo(0.003792, 6);
    expect(s.inventory_tco2e).toBeCloseTo(0.01422, 6);
    expect(s.provisional).toBe(true);
    expect(s.factors).toEqual([{ id: 'grid-tw-2024-v1', year: 2026, kgco2e_per_kwh: 0.474, provisional: true }]);
    expect(s.from).toMatch(/^2026-11-01T00:00:00(\.000)?\+08:00$/);
  });

  it('a window spanning 2023 and 2026 intervals is provisional', async () => {
    await store.writeBatch([
      r('pv-1', 'pv_inverter', '2023-05-01T10:00:00', { energy_kwh: 0 }),
      r('pv-1', 'pv_inverter', '2023-05-01T12:00:00', { energy_kwh: 8 }),
      r('pv-2', 'pv_inverter', '2026-05-01T10:00:00', { energy_kwh: 0 }),
      r('pv-2', 'pv_inverter', '2026-05-01T12:00:00', { energy_kwh: 10 }),
    ]);
    const s = await computeSummary(store, { from: taipei('2023-01-01T00:00:00'), to: taipei('2027-01-01T00:00:00') }, { tz: TZ });
    // 8 × 0.494 / 1000 + 10 × 0.474 / 1000 = 0.003952 + 0.00474 = 0.008692 t
    expect(s.avoided_tco2e).toBeCloseTo(0.008692, 6);
    expect(s.provisional).toBe(true);
  });

  it('biogas: treated methane from normalised volume, energy from gen_kwh; avoided pending', async () => {
    await store.writeBatch([
      r('bg-1', 'biogas', '2023-05-01T10:00:00', { biogas_m3: 1000, ch4_pct: 60, temp_c: 20, pressure_kpa: 101.325, gen_kwh: 0 }, {}, 'agriculture'),
      r('bg-1', 'biogas', '2023-05-01T12:00:00', { biogas_m3: 1100, ch4_pct: 60, temp_c: 20, pressure_kpa: 101.325, gen_kwh: 150 }, {}, 'agriculture'),
    ]);
    const s = await computeSummary(store, { from: taipei('2023-05-01T00:00:00'), to: taipei('2023-06-01T00:00:00') }, { tz: TZ });
    // 100 m³ at 20 °C, 101.325 kPa, 60 % → 0.04002907726 t CH4 (see methods test above)
    expect(s.methane_t).toBeCloseTo(0.040029, 6);
    expect(s.energy_kwh.biogas_generation).toBeCloseTo(150, 3);
    expect(s.methods_pending).toContain('biogas');
  });
});
