import { afterEach, describe, expect, it } from 'vitest';
import type { LedgerRow } from '../../accounting/ledger/device-row.js';
import { monthWindow } from '../../accounting/periods.js';
import { buildReportModel } from '../../accounting/reports/index.js';
import { roundFigure, roundRow } from '../../accounting/rounding.js';
import { figuresOf, totalRows } from '../../accounting/totals.js';
import { openHarness, type AccountsHarness } from '../helpers/accounts.js';

/**
 * accounting/totals.ts: the one place ledger rows are added up, with the one rounding rule of
 * accounting/rounding.ts (rows to 1e-9; totals: tonnes to the gram, kWh to the watt-hour).
 */

const q = (ok: number) => ({ ok, reset: 0, wrap: 0, implausible: 0 });
function row(over: Partial<LedgerRow> & Pick<LedgerRow, 'device' | 'kind' | 'sector'>): LedgerRow {
  return {
    site: 's', measure: null, stream: null, energy_kwh: 0, consumption_kwh: 0, methane_t: 0, avoided_tco2e: 0, inventory_tco2e: 0,
    claimed_avoided_tco2e: 0, sold_as_credits: false, provisional: false, factors: ['grid_ef-2024-v1'], quality: q(1), detail: {}, notes: [], ...over,
  };
}

describe('totalRows', () => {
  // PV 1,000 kWh × 0.474 / 1000 = 0.474 t claimed; biogas sold as credits 2.5 t (0 claimed), generator 20,000 kWh,
  // 0.08 t CH4; a smart meter importing 1,000 kWh: 0.474 t inventory; the same PV device again in another month, 500 kWh.
  const rows = [
    row({ device: 'pv-1', kind: 'pv_inverter', sector: 'residential_commercial', measure: 'rooftop-pv', stream: 'pv', energy_kwh: 1000, avoided_tco2e: 0.474, claimed_avoided_tco2e: 0.474 }),
    row({ device: 'bg-1', kind: 'biogas', sector: 'agriculture', measure: 'neimen-methane', stream: 'biogas', energy_kwh: 20_000, methane_t: 0.08, avoided_tco2e: 2.5, sold_as_credits: true, factors: ['ch4_gwp-ar5-v1', 'grid_ef-2024-v1'] }),
    row({ device: 'sm-1', kind: 'smart_meter', sector: 'residential_commercial', energy_kwh: 1000, consumption_kwh: 1000, inventory_tco2e: 0.474, provisional: true, quality: { ok: 3, reset: 1, wrap: 0, implausible: 2 } }),
    row({ device: 'pv-1', kind: 'pv_inverter', sector: 'residential_commercial', measure: 'rooftop-pv', stream: 'pv', energy_kwh: 500, avoided_tco2e: 0.237, claimed_avoided_tco2e: 0.237 }),
  ];
  const t = totalRows(rows);

  it('adds both ledgers apart: claimed 0.474 + 0.237 = 0.711 t, sold 2.5 t, all avoided 3.211 t, inventory 0.474 t', () => {
    expect(t.all).toEqual({
      devices: 3, energy_kwh: 22_500, consumption_kwh: 1000, methane_t: 0.08,
      avoided_tco2e: 3.211, claimed_avoided_tco2e: 0.711, sold_tco2e: 2.5, inventory_tco2e: 0.474,
    });
  });

  it("puts each stream's energy in its summary figure and the meter's import in consumption", () => {
    expect(t.energy_kwh).toEqual({ pv: 1500, biogas_generation: 20_000, ev_charging: 0, consumption: 1000, generation: 0 });
  });

  it('groups by stream (none: inventory only), sector and measure, counting a device once', () => {
    expect(figuresOf(t.by_stream, 'pv')).toMatchObject({ devices: 1, energy_kwh: 1500, claimed_avoided_tco2e: 0.711 });
    expect(figuresOf(t.by_stream, 'none')).toMatchObject({ devices: 1, inventory_tco2e: 0.474 });
    expect(figuresOf(t.by_stream, 'ev_charging').devices).toBe(0);
    expect(figuresOf(t.by_sector, 'residential_commercial')).toMatchObject({ devices: 2, claimed_avoided_tco2e: 0.711, inventory_tco2e: 0.474 });
    expect(figuresOf(t.by_sector, 'agriculture')).toMatchObject({ devices: 1, sold_tco2e: 2.5, claimed_avoided_tco2e: 0 });
    expect(figuresOf(t.by_measure, 'neimen-methane')).toMatchObject({ devices: 1, avoided_tco2e: 2.5, sold_tco2e: 2.5 });
    expect(figuresOf(t.by_measure, null)).toMatchObject({ devices: 1, inventory_tco2e: 0.474 });
  });

  it('sums quality counts, marks provisional when any row is, and lists the factor versions used', () => {
    expect(t.quality).toEqual({ ok: 1 + 1 + 3 + 1, reset: 1, wrap: 0, step_back: 0, jump: 0, implausible: 2 });
    expect(t.provisional).toBe(true);
    expect(t.factors).toEqual(['ch4_gwp-ar5-v1', 'grid_ef-2024-v1']);
  });

  it('rounds a total once: tonnes to the gram, kWh to the watt-hour (0.1 + 0.2 is 0.3, not 0.30000000000000004)', () => {
    const tiny = totalRows([
      row({ device: 'a', kind: 'pv_inverter', sector: 'industry', stream: 'pv', energy_kwh: 0.1, avoided_tco2e: 0.0000004, claimed_avoided_tco2e: 0.0000004 }),
      row({ device: 'b', kind: 'pv_inverter', sector: 'industry', stream: 'pv', energy_kwh: 0.2, avoided_tco2e: 0.0000004, claimed_avoided_tco2e: 0.0000004 }),
    ]);
    expect(tiny.all.energy_kwh).toBe(0.3);
    expect(tiny.all.avoided_tco2e).toBe(0.000001); // 0.8 g → 1 g
    expect(roundFigure(1.23456789, 'kWh')).toBe(1.235);
    expect(roundFigure(1.23456789, 't')).toBe(1.234568);
    expect(roundRow(1.2345678912)).toBe(1.234567891);
  });
});

describe('one month, one set of figures: the summary and the monthly report agree to the last digit', () => {
  let h: AccountsHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('PV 1,234.5678 kWh and a meter importing 987.6543 kWh in March 2024 (EF 0.474)', async () => {
    h = await openHarness();
    await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'residential_commercial', params: { nameplate_kw: 1000 } });
    await h.addDevice({ id: 'sm-1', kind: 'smart_meter', sector: 'industry' });
    await h.write([
      { device: 'pv-1', ts: '2024-03-05T10:00:00', energy_kwh: 100 },
      { device: 'pv-1', ts: '2024-03-05T14:00:00', energy_kwh: 1334.5678 },
      { device: 'sm-1', ts: '2024-03-05T10:00:00', import_kwh: 5000 },
      { device: 'sm-1', ts: '2024-03-05T14:00:00', import_kwh: 5987.6543 },
    ]);
    const month = '2024-03';
    const summary = await h.accounts.ledger.summary(monthWindow(month, h.tz));
    await h.accounts.rollups.compute(month, 'manual');
    const rollup = (await h.accounts.rollups.get(month))!;
    const report = buildReportModel({ rollup, factors: await h.accounts.factors.list(), measures: [], tz: h.tz, generatedAt: new Date(), gwpSet: 'ar5' });

    // 1,234.5678 × 0.474 / 1000 = 0.5851851372 t → 0.585185 t; 987.6543 × 0.474 / 1000 = 0.4681481382 t → 0.468148 t
    expect(summary.avoided_tco2e).toBe(0.585185);
    expect(summary.inventory_tco2e).toBe(0.468148);
    expect(report.totals.avoided_claimed_tco2e).toBe(summary.avoided_tco2e);
    expect(report.totals.inventory_tco2e).toBe(summary.inventory_tco2e);
    expect(report.totals.consumption_kwh).toBe(summary.energy_kwh.consumption);
    expect(report.totals.energy_kwh_by_stream.pv).toBe(summary.energy_kwh.pv);
    for (const s of report.sectors) {
      expect(s.avoided_claimed_tco2e, s.sector).toBe(summary.by_sector[s.sector as keyof typeof summary.by_sector]);
    }
  });
});
