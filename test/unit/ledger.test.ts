import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerRow } from '../../accounting/ledger/device-row.js';
import { monthWindow } from '../../accounting/periods.js';
import type { Window } from '../../store/types.js';
import { localMs, openHarness, type AccountsHarness } from '../helpers/accounts.js';

/**
 * Hand-worked ledger cases through Ledger.summary / Ledger.rowsByMonth on a real SQLite store and state
 * database (test/helpers/accounts.ts). Every number is worked by hand from docs/domain.md:
 * - grid factor 2023 = 0.494, 2024 = 0.474 kgCO2e/kWh (data year of the energy);
 * - biogas: Nm³ = m³ × (P / 101.325) × (273.15 / (273.15 + T)); CH4 t = Nm³ × CH4% / 100 × 0.716 / 1000;
 *   avoided t = CH4 to engine × 1.0 × GWP + CH4 to flare × η_flare × GWP + gen kWh × EF / 1000, with η_flare
 *   0.9 enclosed (default) / 0.5 open, GWP 28 (AR5, default) or 25 (AR4);
 * - EV: km = kWh / kWh-per-km; avoided t = (km × baseline kgCO2e/km − kWh × EF) / 1000; car 0.115 kgCO2e/km and
 *   0.17 kWh/km, scooter 0.0951 and 0.04, bus: declared by the device;
 * - electricity saving: saving = baseline − metered (never clipped), avoided t = saving × EF / 1000; baseline a
 *   declared kWh per month (pro-rated) or the same calendar month of the baseline year (2023 by default);
 * - tonnes sold as carbon credits are shown, not claimed.
 */

const TZ = 'Asia/Taipei';
const EF_2023 = 0.494;
const EF_2024 = 0.474;
const DENSITY = 0.716;
const GWP_AR5 = 28;
const GWP_AR4 = 25;

let h: AccountsHarness;
const opened: AccountsHarness[] = [];
async function open(opts: { gwpSet?: string } = {}): Promise<AccountsHarness> {
  h = await openHarness({ tz: TZ, ...opts });
  opened.push(h);
  return h;
}
afterEach(async () => {
  for (const x of opened.splice(0)) await x.close();
});

async function rowOf(device: string, window: Window): Promise<LedgerRow> {
  const months = await h.accounts.ledger.rowsByMonth(window);
  const rows = months.flatMap((m) => m.rows).filter((r) => r.device === device);
  expect(rows, `one row for ${device}`).toHaveLength(1);
  return rows[0]!;
}

const MARCH_2024 = monthWindow('2024-03', TZ);

describe('biogas plant', () => {
  // Both readings: 30 °C, 106 kPa absolute, 60 % CH4.
  // normalisation k = (106 / 101.325) × (273.15 / 303.15) = 1.046138662719 × 0.901039089560 = 0.942611828209
  const K = (106 / 101.325) * (273.15 / 303.15);
  // all gas: 200 m³ → 188.522365642 Nm³ → × 0.60 × 0.716 / 1000 = 0.080989208280 t CH4
  const CH4_TOTAL_T = (200 * K * 0.6 * DENSITY) / 1000;
  // flare: 40 m³ → 37.704473128 Nm³ → 0.016197841656 t CH4; engine: the rest, 0.064791366624 t
  const CH4_FLARE_T = (40 * K * 0.6 * DENSITY) / 1000;
  const CH4_ENGINE_T = CH4_TOTAL_T - CH4_FLARE_T;
  // generator 250 kWh in 2024 × 0.474 = 118.5 kg = 0.1185 t
  const GEN_T = (250 * EF_2024) / 1000;

  async function plant(params: Record<string, unknown> = {}, measure?: string) {
    await h.addDevice({ id: 'bg-1', kind: 'biogas', sector: 'agriculture', measure, params });
    await h.write([
      { device: 'bg-1', ts: '2024-03-10T10:00:00', biogas_m3: 5000, ch4_pct: 60, temp_c: 30, pressure_kpa: 106, gen_kwh: 2000, flare_m3: 300 },
      { device: 'bg-1', ts: '2024-03-10T12:00:00', biogas_m3: 5200, ch4_pct: 60, temp_c: 30, pressure_kpa: 106, gen_kwh: 2250, flare_m3: 340 },
    ]);
  }

  it('hand-worked constants', () => {
    expect(K).toBeCloseTo(0.942611828209, 11);
    expect(CH4_TOTAL_T).toBeCloseTo(0.08098920828, 11);
    expect(CH4_FLARE_T).toBeCloseTo(0.016197841656, 11);
    expect(CH4_ENGINE_T).toBeCloseTo(0.064791366624, 11);
  });

  it('enclosed flare (default), AR5: avoided = engine × 1 × 28 + flare × 0.9 × 28 + 250 kWh × 0.474 / 1000 = 2.340844 t', async () => {
    await open();
    await plant();
    const row = await rowOf('bg-1', MARCH_2024);
    // methane: normalised, not raw (raw 200 m³ × 0.6 × 0.716 / 1000 = 0.08592 t would be wrong)
    expect(row.methane_t).toBeCloseTo(CH4_TOTAL_T, 8);
    expect(row.methane_t).not.toBeCloseTo(0.08592, 4);
    expect(row.energy_kwh).toBeCloseTo(250, 8);
    expect(row.detail.ch4_to_flare_t).toBeCloseTo(CH4_FLARE_T, 8);
    // destroyed = 0.064791366624 × 1 + 0.016197841656 × 0.9 = 0.079369424114 t
    expect(row.detail.methane_destroyed_t).toBeCloseTo(CH4_ENGINE_T + CH4_FLARE_T * 0.9, 8);
    // 0.079369424114 × 28 = 2.222343875196 t
    expect(row.detail.avoided_methane_tco2e).toBeCloseTo((CH4_ENGINE_T + CH4_FLARE_T * 0.9) * GWP_AR5, 8);
    expect(row.detail.avoided_electricity_tco2e).toBeCloseTo(0.1185, 9);
    const expected = CH4_ENGINE_T * 1 * GWP_AR5 + CH4_FLARE_T * 0.9 * GWP_AR5 + GEN_T;
    expect(expected).toBeCloseTo(2.340843875196, 9);
    expect(row.avoided_tco2e).toBeCloseTo(expected, 8);
    expect(row.claimed_avoided_tco2e).toBeCloseTo(expected, 8);
    expect(row.stream).toBe('biogas');
    expect(row.sold_as_credits).toBe(false);
    expect(row.provisional).toBe(false);
    expect(row.factors).toEqual([
      'ch4_density-nm3_0c-v1',
      'ch4_gwp-ar5-v1',
      'destruction_efficiency-engine-v1',
      'destruction_efficiency-flare_enclosed-v1',
      'grid_ef-2024-v1',
    ]);

    const s = await h.accounts.ledger.summary(MARCH_2024);
    expect(s.avoided_tco2e).toBeCloseTo(expected, 5);
    expect(s.by_stream.biogas).toBeCloseTo(expected, 5);
    expect(s.by_sector.agriculture).toBeCloseTo(expected, 5);
    expect(s.methane_t).toBeCloseTo(CH4_TOTAL_T, 5);
    expect(s.energy_kwh.biogas_generation).toBeCloseTo(250, 3);
    expect(s.gwp_set).toBe('ar5');
    expect(s.factors.map((f) => f.id)).toEqual(row.factors);
    expect(s.factors.find((f) => f.id === 'ch4_gwp-ar5-v1')).toMatchObject({ name: 'ch4_gwp', variant: 'ar5', value: 28 });
    expect(s.quality.ok).toBe(3); // biogas_m3, gen_kwh, flare_m3
  });

  it('open flare: the flare part is destroyed at 0.5 → 2.159428 t', async () => {
    await open();
    await plant({ flare_type: 'open' });
    const row = await rowOf('bg-1', MARCH_2024);
    // 0.064791366624 × 28 + 0.016197841656 × 0.5 × 28 + 0.1185 = 1.814158265467 + 0.226769783183 + 0.1185 = 2.159428048650 t
    const expected = CH4_ENGINE_T * GWP_AR5 + CH4_FLARE_T * 0.5 * GWP_AR5 + GEN_T;
    expect(expected).toBeCloseTo(2.15942804865, 9);
    expect(row.avoided_tco2e).toBeCloseTo(expected, 8);
    expect(row.factors).toContain('destruction_efficiency-flare_open-v1');
    expect(row.factors).not.toContain('destruction_efficiency-flare_enclosed-v1');
    expect(row.methane_t).toBeCloseTo(CH4_TOTAL_T, 8); // treated methane does not depend on the flare type
  });

  it('GWP set AR4 (harness gwpSet ar4): 25, and the summary reports gwp_set', async () => {
    await open({ gwpSet: 'ar4' });
    await plant();
    const row = await rowOf('bg-1', MARCH_2024);
    // 0.079369424114 × 25 + 0.1185 = 1.984235602854 + 0.1185 = 2.102735602854 t
    const expected = (CH4_ENGINE_T + CH4_FLARE_T * 0.9) * GWP_AR4 + GEN_T;
    expect(expected).toBeCloseTo(2.102735602854, 9);
    expect(row.avoided_tco2e).toBeCloseTo(expected, 8);
    expect(row.factors).toContain('ch4_gwp-ar4-v1');
    expect(row.factors).not.toContain('ch4_gwp-ar5-v1');
    const s = await h.accounts.ledger.summary(MARCH_2024);
    expect(s.gwp_set).toBe('ar4');
    expect(s.avoided_tco2e).toBeCloseTo(expected, 5);
    // one GWP set per report: no other ch4_gwp version is listed
    expect(s.factors.filter((f) => f.name === 'ch4_gwp').map((f) => f.id)).toEqual(['ch4_gwp-ar4-v1']);
  });

  it('without a flare: all methane to the engine; the flare factor is not listed', async () => {
    await open();
    await h.addDevice({ id: 'bg-1', kind: 'biogas', sector: 'agriculture' });
    await h.write([
      { device: 'bg-1', ts: '2024-03-10T10:00:00', biogas_m3: 0, ch4_pct: 60, temp_c: 30, pressure_kpa: 106, gen_kwh: 0 },
      { device: 'bg-1', ts: '2024-03-10T12:00:00', biogas_m3: 200, ch4_pct: 60, temp_c: 30, pressure_kpa: 106, gen_kwh: 250 },
    ]);
    const row = await rowOf('bg-1', MARCH_2024);
    // 0.08098920828 × 28 + 0.1185 = 2.267697831833 + 0.1185 = 2.386197831833 t
    expect(row.avoided_tco2e).toBeCloseTo(CH4_TOTAL_T * GWP_AR5 + GEN_T, 8);
    expect(row.factors).not.toContain('destruction_efficiency-flare_enclosed-v1');
  });

  it('an interval across the 2023→2024 new year: methane pro rata by time, generation at each year\'s factor', async () => {
    await open();
    await h.addDevice({ id: 'bg-1', kind: 'biogas', sector: 'agriculture' });
    await h.write([
      { device: 'bg-1', ts: '2023-12-31T23:00:00', biogas_m3: 0, ch4_pct: 60, temp_c: 30, pressure_kpa: 106, gen_kwh: 0 },
      { device: 'bg-1', ts: '2024-01-01T01:00:00', biogas_m3: 200, ch4_pct: 60, temp_c: 30, pressure_kpa: 106, gen_kwh: 250 },
    ]);
    const w = { from: localMs('2023-12-01T00:00:00', TZ), to: localMs('2024-02-01T00:00:00', TZ) };
    const months = await h.accounts.ledger.rowsByMonth(w);
    const dec = months[0]!.rows[0]!;
    const jan = months[1]!.rows[0]!;
    expect(dec.methane_t).toBeCloseTo(CH4_TOTAL_T / 2, 8);
    expect(jan.methane_t).toBeCloseTo(CH4_TOTAL_T / 2, 8);
    // Dec: 0.04049460414 × 28 + 125 × 0.494 / 1000 = 1.133848916 + 0.06175
    expect(dec.avoided_tco2e).toBeCloseTo((CH4_TOTAL_T / 2) * GWP_AR5 + (125 * EF_2023) / 1000, 8);
    expect(dec.factors).toContain('grid_ef-2023-v1');
    // Jan: … + 125 × 0.474 / 1000 = 0.05925
    expect(jan.avoided_tco2e).toBeCloseTo((CH4_TOTAL_T / 2) * GWP_AR5 + (125 * EF_2024) / 1000, 8);
    expect(jan.factors).toContain('grid_ef-2024-v1');
    const s = await h.accounts.ledger.summary(w);
    expect(s.methane_t).toBeCloseTo(CH4_TOTAL_T, 5);
    // 2.267697831833 + 0.06175 + 0.05925 = 2.388697831833 t
    expect(s.avoided_tco2e).toBeCloseTo(CH4_TOTAL_T * GWP_AR5 + 0.121, 5);
  });

  it('a flare volume larger than the total is capped at the total, with a note', async () => {
    await open();
    await h.addDevice({ id: 'bg-1', kind: 'biogas', sector: 'agriculture' });
    await h.write([
      { device: 'bg-1', ts: '2024-03-10T10:00:00', biogas_m3: 0, ch4_pct: 60, flare_m3: 0 },
      { device: 'bg-1', ts: '2024-03-10T12:00:00', biogas_m3: 100, ch4_pct: 60, flare_m3: 150 },
    ]);
    const row = await rowOf('bg-1', MARCH_2024);
    // no T, P: already Nm³. 100 Nm³ × 0.6 × 0.716 / 1000 = 0.04296 t, all of it flared: × 0.9 × 28 = 1.082592 t
    expect(row.methane_t).toBeCloseTo(0.04296, 9);
    expect(row.avoided_tco2e).toBeCloseTo(0.04296 * 0.9 * GWP_AR5, 8);
    expect(row.notes.join(' ')).toMatch(/flare volume exceeds/);
  });
});

describe('biogas: the methane actually computed matches the factors and intervals the row reports', () => {
  it('a dated ch4_density version (valid from 2030) is not used for 2024 methane; the row lists the version it used', async () => {
    // BUG (accounting/ledger/collect.ts:39): collectQuantities picks the density with no date,
    // `opts.factors.pick('ch4_density', 'nm3_0c')`, so the newest version wins whatever its validity, while
    // deviceRow (device-row.ts:180) lists the version valid on the window's date. Expected 0.04296 t with
    // ch4_density-nm3_0c-v1 (0.716); got 0.048 t (0.8 from v2, valid only from 2030) while the row still lists v1.
    await open();
    await h.accounts.factors.add({ name: 'ch4_density', variant: 'nm3_0c', value: 0.8, unit: 'kg/Nm3', source: 'test: hypothetical future value', valid_from: '2030-01-01' });
    await h.addDevice({ id: 'bg-1', kind: 'biogas', sector: 'agriculture' });
    await h.write([
      { device: 'bg-1', ts: '2024-03-10T10:00:00', biogas_m3: 0, ch4_pct: 60 },
      { device: 'bg-1', ts: '2024-03-10T12:00:00', biogas_m3: 100, ch4_pct: 60 },
    ]);
    const row = await rowOf('bg-1', MARCH_2024);
    expect(row.factors).toContain('ch4_density-nm3_0c-v1');
    // 100 Nm³ × 0.60 × 0.716 / 1000 = 0.04296 t (with 0.8: 0.048 t)
    expect(row.methane_t).toBeCloseTo(0.04296, 9);
    expect(row.avoided_tco2e).toBeCloseTo(0.04296 * GWP_AR5, 8);
  });

  it('a zero-length interval (same ts, next seq) at the very start of a month: methane follows the volume counted', async () => {
    // BUG: store.aggregate counts a t0 = t1 interval at the window start (store/sqlite-store.ts:112,
    // `t1 >= @from … (t1 > @from OR t1 = t0)`), but store.intervals (store/sqlite-store.ts:116, `t1 > ?`) leaves
    // it out, and collectQuantities (accounting/ledger/collect.ts:45) takes biogas methane from store.intervals.
    // The 100 m³ is counted in April (quality ok 2, gen_kwh 10) but its methane is lost: expected 0.04296 t, got 0.
    await open();
    await h.addDevice({ id: 'bg-1', kind: 'biogas', sector: 'agriculture' });
    await h.write([
      { device: 'bg-1', ts: '2024-04-01T00:00:00', seq: 1, biogas_m3: 0, ch4_pct: 60, gen_kwh: 0 },
      { device: 'bg-1', ts: '2024-04-01T00:00:00', seq: 2, biogas_m3: 100, ch4_pct: 60, gen_kwh: 10 },
    ]);
    const row = await rowOf('bg-1', monthWindow('2024-04', TZ));
    expect(row.energy_kwh).toBeCloseTo(10, 9); // the gen_kwh interval is counted in April
    expect(row.quality.ok).toBe(2); // and so is the biogas_m3 interval
    // 100 Nm³ × 0.60 × 0.716 / 1000 = 0.04296 t
    expect(row.methane_t).toBeCloseTo(0.04296, 9);
  });
});

describe('EV chargers (2024, EF 0.474)', () => {
  beforeEach(async () => {
    await open();
  });

  async function charger(id: string, params: Record<string, unknown>, kwh: number) {
    await h.addDevice({ id, kind: 'ev_charger', sector: 'transport', params });
    await h.write([
      { device: id, ts: '2024-03-05T18:00:00', energy_kwh: 100 },
      { device: id, ts: '2024-03-05T22:00:00', energy_kwh: 100 + kwh },
    ]);
  }

  it('scooter charger, 40 kWh: 1000 km × 0.0951 − 40 × 0.474 = 95.1 − 18.96 = 76.14 kg = 0.07614 t', async () => {
    await charger('ev-s', { vehicle_class: 'scooter' }, 40);
    const row = await rowOf('ev-s', MARCH_2024);
    expect(row.detail.km).toBeCloseTo(1000, 6); // 40 / 0.04
    expect(row.detail.baseline_tco2e).toBeCloseTo(0.0951, 9);
    expect(row.detail.charging_tco2e).toBeCloseTo(0.01896, 9);
    expect(row.avoided_tco2e).toBeCloseTo((1000 * 0.0951 - 40 * EF_2024) / 1000, 9);
    expect(row.avoided_tco2e).toBeCloseTo(0.07614, 9);
    expect(row.energy_kwh).toBeCloseTo(40, 9);
    expect(row.stream).toBe('ev_charging');
    expect(row.factors).toEqual(['grid_ef-2024-v1', 'vehicle_baseline_kgco2e_per_km-scooter-v1', 'vehicle_kwh_per_km-scooter-v1']);
    const s = await h.accounts.ledger.summary(MARCH_2024);
    expect(s.by_stream.ev_charging).toBeCloseTo(0.07614, 9);
    expect(s.by_sector.transport).toBeCloseTo(0.07614, 9);
    expect(s.energy_kwh.ev_charging).toBeCloseTo(40, 3);
  });

  it('car charger with the defaults, 17 kWh: 100 km × 0.115 − 17 × 0.474 = 11.5 − 8.058 = 3.442 kg', async () => {
    await charger('ev-c', {}, 17);
    const row = await rowOf('ev-c', MARCH_2024);
    expect(row.detail.km).toBeCloseTo(100, 6); // 17 / 0.17
    expect(row.avoided_tco2e).toBeCloseTo(0.003442, 9);
    expect(row.factors).toEqual(['grid_ef-2024-v1', 'vehicle_baseline_kgco2e_per_km-car-v1', 'vehicle_kwh_per_km-car-v1']);
  });

  it('bus charger without numbers: avoided 0 and a note; energy still counted', async () => {
    await charger('ev-b', { vehicle_class: 'bus' }, 100);
    const row = await rowOf('ev-b', MARCH_2024);
    expect(row.avoided_tco2e).toBe(0);
    expect(row.energy_kwh).toBeCloseTo(100, 9);
    expect(row.notes.join(' ')).toMatch(/bus charger must declare params\.baseline_kgco2e_per_km and params\.kwh_per_km/);
    const s = await h.accounts.ledger.summary(MARCH_2024);
    expect(s.avoided_tco2e).toBe(0);
    expect(s.energy_kwh.ev_charging).toBeCloseTo(100, 3);
  });

  it('bus charger with declared numbers: 120 kWh / 1.2 = 100 km × 1.3 − 120 × 0.474 = 130 − 56.88 = 73.12 kg', async () => {
    await charger('ev-b2', { vehicle_class: 'bus', baseline_kgco2e_per_km: 1.3, kwh_per_km: 1.2 }, 120);
    const row = await rowOf('ev-b2', MARCH_2024);
    expect(row.avoided_tco2e).toBeCloseTo(0.07312, 9);
    // declared numbers are not registry factors: only the grid factor is listed
    expect(row.factors).toEqual(['grid_ef-2024-v1']);
  });
});

describe('electricity saving', () => {
  beforeEach(async () => {
    await open();
  });

  const APRIL_2024 = monthWindow('2024-04', TZ);

  async function declared() {
    await h.addDevice({ id: 'sm-d', kind: 'smart_meter', sector: 'residential_commercial', params: { baseline_kwh_per_month: 3000 } });
    await h.write([
      { device: 'sm-d', ts: '2024-04-01T00:00:00', import_kwh: 0 },
      { device: 'sm-d', ts: '2024-04-16T00:00:00', import_kwh: 1400 },
      { device: 'sm-d', ts: '2024-05-01T00:00:00', import_kwh: 2700 },
    ]);
  }

  it('declared 3000 kWh/month over the whole of April 2024: saving 3000 − 2700 = 300 kWh × 0.474 = 0.1422 t', async () => {
    await declared();
    const row = await rowOf('sm-d', APRIL_2024);
    expect(row.stream).toBe('electricity_saving');
    expect(row.detail.baseline_kwh).toBeCloseTo(3000, 6);
    expect(row.detail.saving_kwh).toBeCloseTo(300, 6);
    expect(row.avoided_tco2e).toBeCloseTo(0.1422, 9);
    // the inventory ledger stands beside it: 2700 × 0.474 = 1279.8 kg
    expect(row.inventory_tco2e).toBeCloseTo(1.2798, 9);
    const s = await h.accounts.ledger.summary(APRIL_2024);
    expect(s.by_stream.electricity_saving).toBeCloseTo(0.1422, 9);
    expect(s.avoided_tco2e).toBeCloseTo(0.1422, 9);
    expect(s.inventory_tco2e).toBeCloseTo(1.2798, 9);
    expect(s.quality.ok).toBe(2);
  });

  it('over half of April (15 of 30 days) the baseline is pro-rated: 1500 − 1400 = 100 kWh × 0.474 = 0.0474 t', async () => {
    await declared();
    const half = { from: APRIL_2024.from, to: localMs('2024-04-16T00:00:00', TZ) };
    const row = await rowOf('sm-d', half);
    expect(row.detail.baseline_kwh).toBeCloseTo(1500, 6);
    expect(row.consumption_kwh).toBeCloseTo(1400, 6);
    expect(row.detail.saving_kwh).toBeCloseTo(100, 6);
    expect(row.avoided_tco2e).toBeCloseTo(0.0474, 9);
    const s = await h.accounts.ledger.summary(half);
    expect(s.avoided_tco2e).toBeCloseTo(0.0474, 9);
  });

  async function ownHistory(id: string, extra: { measure?: string; params?: Record<string, unknown> }) {
    await h.addDevice({ id, kind: 'smart_meter', sector: 'residential_commercial', ...extra });
    await h.write([
      // October 2023: 1000 kWh
      { device: id, ts: '2023-10-01T00:00:00', import_kwh: 0 },
      { device: id, ts: '2023-11-01T00:00:00', import_kwh: 1000 },
      // October 2024: 1200 kWh (the 4000 kWh from 2023-11 to 2024-10 lie outside both Octobers)
      { device: id, ts: '2024-10-01T00:00:00', import_kwh: 5000 },
      { device: id, ts: '2024-11-01T00:00:00', import_kwh: 6200 },
    ]);
  }
  const OCTOBER_2024 = monthWindow('2024-10', TZ);

  it('baseline_year 2023 from the device\'s own October 2023: 1000 − 1200 = −200 kWh × 0.474 = −0.0948 t (stays negative)', async () => {
    await ownHistory('sm-y', { params: { baseline_year: 2023 } });
    const row = await rowOf('sm-y', OCTOBER_2024);
    expect(row.stream).toBe('electricity_saving');
    expect(row.detail.baseline_kwh).toBeCloseTo(1000, 6);
    expect(row.consumption_kwh).toBeCloseTo(1200, 6);
    expect(row.detail.saving_kwh).toBeCloseTo(-200, 6);
    expect(row.avoided_tco2e).toBeCloseTo(-0.0948, 9);
    expect(row.claimed_avoided_tco2e).toBeCloseTo(-0.0948, 9);
    const s = await h.accounts.ledger.summary(OCTOBER_2024);
    expect(s.avoided_tco2e).toBeCloseTo(-0.0948, 9);
    expect(s.by_stream.electricity_saving).toBeCloseTo(-0.0948, 9);
    expect(s.by_sector.residential_commercial).toBeCloseTo(-0.0948, 9);
    // 1200 × 0.474 = 568.8 kg
    expect(s.inventory_tco2e).toBeCloseTo(0.5688, 9);
  });

  it('baseline_year over half of October 2024 (15 of 31 days): both sides pro-rated', async () => {
    await ownHistory('sm-y', { params: { baseline_year: 2023 } });
    const part = { from: OCTOBER_2024.from, to: localMs('2024-10-16T00:00:00', TZ) };
    const row = await rowOf('sm-y', part);
    // baseline 1000 × 15/31 = 483.870968; metered 1200 × 15/31 = 580.645161; saving −200 × 15/31 = −96.774194 kWh
    expect(row.detail.baseline_kwh).toBeCloseTo((1000 * 15) / 31, 6);
    expect(row.consumption_kwh).toBeCloseTo((1200 * 15) / 31, 6);
    expect(row.avoided_tco2e).toBeCloseTo((((-200 * 15) / 31) * EF_2024) / 1000, 9);
  });

  it('a smart meter linked to public-sector-electricity-saving gets the default baseline year 2023', async () => {
    const m = h.accounts.budget.measures.find((x) => x.id === 'public-sector-electricity-saving')!;
    expect(m.stream).toBe('electricity_saving');
    await ownHistory('sm-pub', { measure: 'public-sector-electricity-saving' });
    const row = await rowOf('sm-pub', OCTOBER_2024);
    expect(row.measure).toBe('public-sector-electricity-saving');
    expect(row.stream).toBe('electricity_saving');
    expect(row.detail.baseline_kwh).toBeCloseTo(1000, 6);
    expect(row.avoided_tco2e).toBeCloseTo(-0.0948, 9);
  });

  it('linked to the measure but without 2023 data: avoided 0, a note, inventory still counted', async () => {
    await h.addDevice({ id: 'sm-new', kind: 'smart_meter', sector: 'residential_commercial', measure: 'public-sector-electricity-saving' });
    await h.write([
      { device: 'sm-new', ts: '2024-10-01T00:00:00', import_kwh: 0 },
      { device: 'sm-new', ts: '2024-11-01T00:00:00', import_kwh: 1200 },
    ]);
    const row = await rowOf('sm-new', OCTOBER_2024);
    expect(row.avoided_tco2e).toBe(0);
    expect(row.notes.join(' ')).toMatch(/baseline missing/);
    expect(row.inventory_tco2e).toBeCloseTo(0.5688, 9);
  });
});

describe('carbon credits, generation stream, factor ids', () => {
  beforeEach(async () => {
    await open();
  });

  it('a device with params.sold_as_credits: shown in sold_as_credits_tco2e, left out of avoided, by_stream and by_sector', async () => {
    await h.addDevice({ id: 'pv-own', kind: 'pv_inverter', sector: 'industry' });
    await h.addDevice({ id: 'pv-sold', kind: 'pv_inverter', sector: 'industry', params: { sold_as_credits: true } });
    await h.write([
      { device: 'pv-own', ts: '2024-03-01T10:00:00', energy_kwh: 0 },
      { device: 'pv-own', ts: '2024-03-01T12:00:00', energy_kwh: 20 },
      { device: 'pv-sold', ts: '2024-03-01T10:00:00', energy_kwh: 0 },
      { device: 'pv-sold', ts: '2024-03-01T12:00:00', energy_kwh: 10 },
    ]);
    const row = await rowOf('pv-sold', MARCH_2024);
    expect(row.sold_as_credits).toBe(true);
    expect(row.avoided_tco2e).toBeCloseTo(0.00474, 9); // 10 × 0.474 / 1000
    expect(row.claimed_avoided_tco2e).toBe(0);
    expect(row.notes.join(' ')).toMatch(/sold as carbon credits/);
    const s = await h.accounts.ledger.summary(MARCH_2024);
    // claimed: pv-own only, 20 × 0.474 / 1000 = 0.00948 t; sold: 0.00474 t
    expect(s.sold_as_credits_tco2e).toBeCloseTo(0.00474, 9);
    expect(s.avoided_tco2e).toBeCloseTo(0.00948, 9);
    expect(s.by_stream.pv).toBeCloseTo(0.00948, 9);
    expect(s.by_sector.industry).toBeCloseTo(0.00948, 9);
  });

  it('a biogas plant linked to neimen-methane (the budget marks it sold) likewise', async () => {
    const m = h.accounts.budget.measures.find((x) => x.id === 'neimen-methane')!;
    expect(m.sold_as_credits).toBe(true);
    await h.addDevice({ id: 'bg-nm', kind: 'biogas', sector: 'agriculture', measure: 'neimen-methane' });
    await h.write([
      { device: 'bg-nm', ts: '2024-03-10T10:00:00', biogas_m3: 0, ch4_pct: 60, gen_kwh: 0 },
      { device: 'bg-nm', ts: '2024-03-10T12:00:00', biogas_m3: 100, ch4_pct: 60, gen_kwh: 100 },
    ]);
    // 100 Nm³ × 0.6 × 0.716 / 1000 = 0.04296 t CH4 × 28 = 1.20288 t; + 100 × 0.474 / 1000 = 0.0474 → 1.25028 t
    const row = await rowOf('bg-nm', MARCH_2024);
    expect(row.sold_as_credits).toBe(true);
    expect(row.avoided_tco2e).toBeCloseTo(1.25028, 9);
    expect(row.claimed_avoided_tco2e).toBe(0);
    const s = await h.accounts.ledger.summary(MARCH_2024);
    expect(s.sold_as_credits_tco2e).toBeCloseTo(1.25028, 6);
    expect(s.avoided_tco2e).toBe(0);
    expect(s.by_stream.biogas).toBe(0);
    expect(s.by_sector.agriculture).toBe(0);
    // the treated methane is still shown
    expect(s.methane_t).toBeCloseTo(0.04296, 6);
  });

  it('a generation meter linked to small-hydro reports in by_stream.generation and energy_kwh.generation', async () => {
    await h.addDevice({ id: 'hydro-1', kind: 'pv_inverter', sector: 'environment', measure: 'small-hydro' });
    await h.write([
      { device: 'hydro-1', ts: '2024-03-01T00:00:00', energy_kwh: 0 },
      { device: 'hydro-1', ts: '2024-03-02T00:00:00', energy_kwh: 300 },
    ]);
    const s = await h.accounts.ledger.summary(MARCH_2024);
    // 300 × 0.474 / 1000 = 0.1422 t
    expect(s.by_stream.generation).toBeCloseTo(0.1422, 9);
    expect(s.by_stream.pv).toBe(0);
    expect(s.energy_kwh.generation).toBeCloseTo(300, 3);
    expect(s.energy_kwh.pv).toBe(0);
    expect(s.by_sector.environment).toBeCloseTo(0.1422, 9);
  });

  it('each row lists the factor version ids it used', async () => {
    await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'industry' });
    await h.addDevice({ id: 'sm-1', kind: 'smart_meter', sector: 'residential_commercial' });
    await h.addDevice({ id: 'bg-1', kind: 'biogas', sector: 'agriculture' });
    await h.write([
      { device: 'pv-1', ts: '2023-06-01T10:00:00', energy_kwh: 0 },
      { device: 'pv-1', ts: '2023-06-01T12:00:00', energy_kwh: 5 },
      { device: 'sm-1', ts: '2024-03-01T10:00:00', import_kwh: 0 },
      { device: 'sm-1', ts: '2024-03-01T12:00:00', import_kwh: 5 },
      { device: 'bg-1', ts: '2024-03-01T10:00:00', biogas_m3: 0, ch4_pct: 60, gen_kwh: 0 },
      { device: 'bg-1', ts: '2024-03-01T12:00:00', biogas_m3: 10, ch4_pct: 60, gen_kwh: 5 },
    ]);
    expect((await rowOf('pv-1', monthWindow('2023-06', TZ))).factors).toEqual(['grid_ef-2023-v1']);
    expect((await rowOf('sm-1', MARCH_2024)).factors).toEqual(['grid_ef-2024-v1']);
    const bg = await rowOf('bg-1', MARCH_2024);
    expect(bg.factors).toContain('grid_ef-2024-v1');
    expect(bg.factors).toContain('ch4_gwp-ar5-v1');
    expect(bg.factors).toContain('ch4_density-nm3_0c-v1');
    expect(bg.factors).toContain('destruction_efficiency-engine-v1');
    // every listed id exists in the registry
    const ids = new Set((await h.accounts.factors.list()).map((v) => v.id));
    for (const id of bg.factors) expect(ids.has(id), id).toBe(true);
  });
});
