import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { openAccounts } from '../../accounting/accounts.js';
import { loadBudget } from '../../accounting/budget/budget.js';
import type { FactorVersion } from '../../accounting/factors/types.js';
import type { LedgerRow } from '../../accounting/ledger/device-row.js';
import { monthWindow } from '../../accounting/periods.js';
import {
  ANNUAL_CSV_SECTIONS,
  annualBudget,
  annualCsv,
  annualHtml,
  buildAnnualModel,
  hoursFrom,
  hoursIn,
  markHours,
  readCoverage,
  HOUR_MS,
  type AnnualInput,
  type AnnualReport,
} from '../../accounting/reports/annual/index.js';
import type { MonthlyRollup } from '../../accounting/rollups/monthly.js';
import { localMs, openHarness, type AccountsHarness } from '../helpers/accounts.js';

/**
 * The annual progress report (accounting/reports/annual/): a model hand-worked from two synthetic
 * months, the coverage definition on a real store, and revisions on a real state database.
 *
 * Hand-worked year 2027 (the grid factor 2024, 0.474 kgCO2e/kWh, stands in; every row provisional):
 *
 *   2027-01, rollup revision 1:
 *     pv-a     rooftop-pv (built in)                    1,000 kWh → 0.474 t avoided, claimed; ok 2,976
 *     bg-nm    neimen-methane, sold as credits          2.8 t avoided, 0 claimed;          ok 2,970, implausible 2
 *     sm-off   public-sector-electricity-saving         import 2,000 kWh → 0.948 t inventory; 100 kWh saved → 0.0474 t claimed; ok 2,976
 *   2027-02, rollup revision 2:
 *     pv-a     1,200 kWh → 0.5688 t claimed;            ok 2,688
 *     bg-nm    2.52 t avoided, sold;                   ok 2,688
 *     sm-off   import 1,800 kWh → 0.8532 t inventory; 200 kWh saved → 0.0948 t claimed; ok 2,687, reset 1
 *     sm-x     no measure, industry: import 500 kWh → 0.237 t inventory; ok 2,688
 *   2027-03 … 2027-12: not rolled up.
 *
 *   avoided, all  = 0.474 + 2.8 + 0.0474 + 0.5688 + 2.52 + 0.0948 = 6.505 t
 *   claimed       = 0.474 + 0.0474 + 0.5688 + 0.0948              = 1.185 t
 *   sold          = 2.8 + 2.52                                    = 5.32 t
 *   inventory     = 0.948 + 0.8532 + 0.237                        = 2.0382 t   (never netted against avoided)
 *   import        = 2,000 + 1,800 + 500                           = 4,300 kWh
 *   public-sector-electricity-saving: claimed 0.0474 + 0.0948 = 0.1422 t of 2,160 t → 0.1422 / 2,160 × 100 = 0.006583 %
 *   neimen-methane: 0 claimed, 5.32 sold, of 2,520 t → 0 %
 *   residential_commercial inventory 0.948 + 0.8532 = 1.8012 t of the cap 4,422,300 t → 0.000041 % (6 decimals)
 *   industry inventory 0.237 t of 42,638,100 t → 0.000001 %
 *   2027-01: avoided 3.3214, claimed 0.5214, sold 2.8, inventory 0.948, 3 devices
 *   2027-02: avoided 3.1836, claimed 0.6636, sold 2.52, inventory 1.0902, 4 devices
 *   quality: ok 2,976 + 2,970 + 2,976 + 2,688 + 2,688 + 2,687 + 2,688 = 19,673; reset 1; implausible 2; total 19,676
 *   coverage (given): pv-a 1,400 of 1,416 h, sm-x 672 of 672 h → (1,400 + 672) / (1,416 + 672) = 2,072 / 2,088 = 0.992337
 *   review: open 5,000 kWh (× 0.474 / 1000 = 2.37 t indicative), accepted 300 kWh (0.1422 t), rejected 1,000 m³
 */

const YEAR = 2027;

function factor(over: Partial<FactorVersion> & Pick<FactorVersion, 'id' | 'name' | 'value' | 'unit' | 'source'>): FactorVersion {
  return { variant: null, version: 1, dataYear: null, validFrom: null, validTo: null, publishedAt: null, status: 'published', note: null, createdAt: '2026-01-01T00:00:00.000Z', ...over };
}

const FACTORS: FactorVersion[] = [
  factor({ id: 'grid_ef-2024-v1', name: 'grid_ef', dataYear: 2024, value: 0.474, unit: 'kgCO2e/kWh', source: 'MOEA Energy Administration 2024' }),
  factor({ id: 'ch4_gwp-ar5-v1', name: 'ch4_gwp', variant: 'ar5', value: 28, unit: 'tCO2e/tCH4', source: 'IPCC AR5' }),
];

type Row = LedgerRow & { month: string; revision: number };

function row(month: string, revision: number, over: Partial<LedgerRow> & Pick<LedgerRow, 'device' | 'kind' | 'sector'>): Row {
  return {
    month, revision, site: 'site-1', measure: null, stream: null, energy_kwh: 0, consumption_kwh: 0, methane_t: 0, avoided_tco2e: 0, inventory_tco2e: 0, claimed_avoided_tco2e: 0,
    sold_as_credits: false, provisional: true, factors: ['grid_ef-2024-v1'], quality: { ok: 0 }, detail: {}, notes: [], ...over,
  };
}

function rollup(month: string, revision: number, rows: Row[]): MonthlyRollup {
  return { month, revision, computed_at: `${month}-28T16:10:00.000Z`, trigger: revision === 1 ? 'scheduled' : 'late_readings', changes: [], rows, revisions: [] };
}

const JAN = rollup('2027-01', 1, [
  row('2027-01', 1, { device: 'pv-a', kind: 'pv_inverter', sector: 'residential_commercial', measure: 'rooftop-pv', stream: 'pv', energy_kwh: 1000, avoided_tco2e: 0.474, claimed_avoided_tco2e: 0.474, quality: { ok: 2976 } }),
  row('2027-01', 1, { device: 'bg-nm', kind: 'biogas', sector: 'agriculture', measure: 'neimen-methane', stream: 'biogas', methane_t: 0.1, avoided_tco2e: 2.8, sold_as_credits: true, factors: ['ch4_gwp-ar5-v1', 'grid_ef-2024-v1'], quality: { ok: 2970, implausible: 2 } }),
  row('2027-01', 1, { device: 'sm-off', kind: 'smart_meter', sector: 'residential_commercial', measure: 'public-sector-electricity-saving', stream: 'electricity_saving', energy_kwh: 2000, consumption_kwh: 2000, inventory_tco2e: 0.948, avoided_tco2e: 0.0474, claimed_avoided_tco2e: 0.0474, quality: { ok: 2976 } }),
]);
const FEB = rollup('2027-02', 2, [
  row('2027-02', 2, { device: 'pv-a', kind: 'pv_inverter', sector: 'residential_commercial', measure: 'rooftop-pv', stream: 'pv', energy_kwh: 1200, avoided_tco2e: 0.5688, claimed_avoided_tco2e: 0.5688, quality: { ok: 2688 } }),
  row('2027-02', 2, { device: 'bg-nm', kind: 'biogas', sector: 'agriculture', measure: 'neimen-methane', stream: 'biogas', methane_t: 0.09, avoided_tco2e: 2.52, sold_as_credits: true, factors: ['ch4_gwp-ar5-v1', 'grid_ef-2024-v1'], quality: { ok: 2688 } }),
  row('2027-02', 2, { device: 'sm-off', kind: 'smart_meter', sector: 'residential_commercial', measure: 'public-sector-electricity-saving', stream: 'electricity_saving', energy_kwh: 1800, consumption_kwh: 1800, inventory_tco2e: 0.8532, avoided_tco2e: 0.0948, claimed_avoided_tco2e: 0.0948, quality: { ok: 2687, reset: 1 } }),
  row('2027-02', 2, { device: 'sm-x', kind: 'smart_meter', sector: 'industry', energy_kwh: 500, consumption_kwh: 500, inventory_tco2e: 0.237, quality: { ok: 2688 } }),
]);

const MONTHS = Array.from({ length: 12 }, (_, i) => `${YEAR}-${String(i + 1).padStart(2, '0')}`);

function input(over: Partial<AnnualInput> = {}): AnnualInput {
  return {
    year: YEAR,
    tz: 'Asia/Taipei',
    gwpSet: 'ar5',
    months: MONTHS.map((month) => ({ month, rollup: month === '2027-01' ? JAN : month === '2027-02' ? FEB : null })),
    factors: FACTORS,
    budget: annualBudget(loadBudget()),
    otherMeasures: [
      { id: 'rooftop-pv', name: 'Rooftop PV on public and private buildings', source: 'built-in' },
      { id: 'school-led-lighting', name: 'LED lighting in schools', source: 'added' },
    ],
    coverage: {
      hours_in_period: 744 + 672,
      devices: [
        { device: 'pv-a', site: 'site-1', kind: 'pv_inverter', expected_from: '2027-01-01T00:00:00+08:00', hours_expected: 1416, hours_with_data: 1400, truncated: false },
        { device: 'sm-x', site: 'site-1', kind: 'smart_meter', expected_from: '2027-02-01T00:00:00+08:00', hours_expected: 672, hours_with_data: 672, truncated: false },
      ],
    },
    reviews: [
      { device: 'pv-a', counter: 'energy_kwh', t0: '2027-01-05T00:00:00.000Z', t1: '2027-01-05T01:00:00.000Z', amount: 5000, quality: 'implausible', reason: 'over the bound', status: 'open' },
      { device: 'sm-off', counter: 'import_kwh', t0: '2027-01-06T00:00:00.000Z', t1: '2027-01-06T01:00:00.000Z', amount: 300, quality: 'implausible', reason: 'over the bound', status: 'accepted' },
      { device: 'bg-nm', counter: 'biogas_m3', t0: '2027-01-07T00:00:00.000Z', t1: '2027-01-07T01:00:00.000Z', amount: 1000, quality: 'implausible', reason: 'over the bound', status: 'rejected' },
    ],
    gridFactor: { id: 'grid_ef-2024-v1', value: 0.474, provisional: true },
    ...over,
  };
}

/** The model as rendered: with a revision box (revision 1 of 1) and a clock reading. */
function asReport(model = buildAnnualModel(input())): AnnualReport {
  return {
    ...model,
    revision: {
      revision: 1, of: 1, latest: true, created_at: '2027-03-01T00:00:00.000Z', created_at_local: '2027-03-01 08:00:00 (Asia/Taipei, UTC+08:00)',
      months: MONTHS.map((month) => ({ month, revision: month === '2027-01' ? 1 : month === '2027-02' ? 2 : null })),
      changes: [], change_lines: [],
      history: [{ revision: 1, created_at: '2027-03-01T00:00:00.000Z', created_at_local: '2027-03-01 08:00:00 (Asia/Taipei, UTC+08:00)', months_rolled_up: 2, change_lines: [] }],
    },
    generated_at: '2027-03-02T00:00:00.000Z',
    generated_at_local: '2027-03-02 08:00:00 (Asia/Taipei, UTC+08:00)',
  };
}

describe('annual model, hand-worked', () => {
  const m = buildAnnualModel(input());

  it('totals the two ledgers apart, claimed and sold apart (totals module, rounding rule)', () => {
    expect(m.totals).toMatchObject({ devices: 4, avoided_tco2e: 6.505, avoided_claimed_tco2e: 1.185, avoided_sold_tco2e: 5.32, inventory_tco2e: 2.0382, consumption_kwh: 4300 });
    expect(m.period).toEqual({ months_rolled_up: ['2027-01', '2027-02'], months_not_rolled_up: MONTHS.slice(2) });
  });

  it('lists every budget measure in table-12 order with agency, indicator and target, then the known ones outside the budget, then no measure', () => {
    const budgetLines = m.measures.filter((l) => l.source === 'budget');
    expect(budgetLines).toHaveLength(28);
    expect(budgetLines.map((l) => l.table12_row)).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
    expect(m.measures.find((l) => l.measure === 'public-sector-electricity-saving')).toMatchObject({
      agency_zh: '經發局', sector: 'residential_commercial', scope: '2', indicator: { label_zh: '節電量', unit: 'kWh' },
      devices: 1, avoided_claimed_tco2e: 0.1422, avoided_sold_tco2e: 0, target_tco2e: 2160, share_of_target_pct: 0.006583,
    });
    expect(m.measures.find((l) => l.measure === 'neimen-methane')).toMatchObject({ agency_zh: '環保局', indicator: { unit: 't CH4' }, avoided_claimed_tco2e: 0, avoided_sold_tco2e: 5.32, target_tco2e: 2520, share_of_target_pct: 0 });
    expect(m.measures.find((l) => l.measure === 'grid-factor')).toMatchObject({ sector: null, devices: 0, target_tco2e: 2145010 });
    expect(m.measures.find((l) => l.measure === 'rooftop-pv')).toMatchObject({ source: 'built-in', devices: 1, avoided_claimed_tco2e: 1.0428, target_tco2e: null, share_of_target_pct: null });
    expect(m.measures.find((l) => l.measure === 'school-led-lighting')).toMatchObject({ source: 'added', devices: 0, target_tco2e: null });
    expect(m.measures.at(-1)).toMatchObject({ measure: null, source: null, devices: 1, avoided_tco2e: 0 });
    // the budget's total: the rows with a sector (409.1984 萬噸), against what budget measures' devices claimed
    expect(m.measure_totals).toEqual({ target_tco2e: 4091984, avoided_claimed_tco2e: 0.1422, avoided_sold_tco2e: 5.32, share_of_target_pct: 0.000003 });
  });

  it('compares each sector\'s metered inventory with its cap, avoided beside it', () => {
    expect(m.sectors.map((s) => s.sector)).toEqual(['industry', 'residential_commercial', 'transport', 'environment', 'agriculture', 'forestry']);
    expect(m.sectors.find((s) => s.sector === 'residential_commercial')).toMatchObject({ name_zh: '住商', devices: 2, inventory_tco2e: 1.8012, cap_tco2e: 4422300, share_of_cap_pct: 0.000041, avoided_claimed_tco2e: 1.185 });
    expect(m.sectors.find((s) => s.sector === 'industry')).toMatchObject({ inventory_tco2e: 0.237, cap_tco2e: 42638100, share_of_cap_pct: 0.000001 });
    expect(m.sectors.find((s) => s.sector === 'agriculture')).toMatchObject({ inventory_tco2e: 0, avoided_claimed_tco2e: 0, avoided_sold_tco2e: 5.32 });
    // forestry's cap is negative (a sink): no share
    expect(m.sectors.find((s) => s.sector === 'forestry')).toMatchObject({ cap_tco2e: -1170200, share_of_cap_pct: null });
  });

  it('has twelve month lines: the revision used and its totals, or not rolled up', () => {
    expect(m.months).toHaveLength(12);
    expect(m.months[0]).toMatchObject({ month: '2027-01', rolled_up: true, revision: 1, devices: 3, avoided_tco2e: 3.3214, avoided_claimed_tco2e: 0.5214, avoided_sold_tco2e: 2.8, inventory_tco2e: 0.948, provisional: true });
    expect(m.months[1]).toMatchObject({ month: '2027-02', rolled_up: true, revision: 2, devices: 4, avoided_tco2e: 3.1836, avoided_claimed_tco2e: 0.6636, avoided_sold_tco2e: 2.52, inventory_tco2e: 1.0902 });
    expect(m.months[2]).toMatchObject({ month: '2027-03', rolled_up: false, revision: null, avoided_tco2e: null, inventory_tco2e: null });
    expect(m.warnings.some((w) => w.includes('10 month(s) of 2027 are not rolled up'))).toBe(true);
  });

  it('sums the rows\' interval qualities, coverage per device and overall, and the review queue by status', () => {
    expect(m.quality).toEqual({ ok: 19673, reset: 1, wrap: 0, step_back: 0, jump: 0, implausible: 2, total: 19676 });
    expect(m.coverage).toMatchObject({ hours_expected: 2088, hours_with_data: 2072, share: 0.992337 });
    expect(m.coverage.devices.find((d) => d.device === 'pv-a')).toMatchObject({ share: 0.988701, intervals: 2976 + 2688 });
    expect(m.coverage.definition).toContain('overlaps that hour');
    expect(m.review.open).toEqual({ intervals: 1, kwh: 5000, m3: 0, indicative_tco2e: 2.37 });
    expect(m.review.accepted).toEqual({ intervals: 1, kwh: 300, m3: 0, indicative_tco2e: 0.1422 });
    expect(m.review.rejected).toEqual({ intervals: 1, kwh: 0, m3: 1000, indicative_tco2e: 0 });
    expect(m.warnings.some((w) => w.includes('1 held-out interval(s) of 2027 are not reviewed'))).toBe(true);
  });

  it('lists the factor versions the rows used and the provisional months', () => {
    expect(m.factors.map((f) => [f.id, f.devices])).toEqual([['ch4_gwp-ar5-v1', 2], ['grid_ef-2024-v1', 7]]);
    expect(m.provisional.months).toEqual(['2027-01', '2027-02']);
    expect(m.provisional.messages[0]).toContain('The 2027 grid emission factor is not published yet: the 2024 grid factor (grid_ef-2024-v1, 0.474 kgCO2e/kWh) stands in');
    expect(m.budget).toMatchObject({ id: 'kaohsiung-2027-2028', target_year: 2028, year_in_period: true });
  });

  it('is pure: the same input gives the same model', () => {
    expect(JSON.stringify(buildAnnualModel(input()))).toBe(JSON.stringify(m));
  });
});

describe('annual renderings', () => {
  const report = asReport();

  it('CSV: one table per section, each header starting with "section", lines starting with the section name', () => {
    const blocks = annualCsv(report).trimEnd().split('\n\n');
    expect(blocks.map((b) => b.split('\n')[1]!.split(',')[0])).toEqual(Object.keys(ANNUAL_CSV_SECTIONS));
    for (const b of blocks) {
      const [head, ...lines] = b.split('\n');
      const section = lines[0]!.split(',')[0]!;
      expect(head).toBe(['section', ...ANNUAL_CSV_SECTIONS[section as keyof typeof ANNUAL_CSV_SECTIONS]].join(','));
    }
    const csv = annualCsv(report);
    expect(csv).toContain('\nmonth,2027-03,false,,,,,,,,false\n');
    expect(csv).toContain('\nmonth,2027-02,true,2,4,3.1836,0.6636,2.52,1.0902,2300,true\n');
    expect(csv).toContain('\nmeasure,public-sector-electricity-saving,budget,7,公部門節電,');
    expect(csv).toContain('\ncoverage,(all),,,,2088,2072,0.992337,19676,false\n');
  });

  it('HTML: zh-TW first, self-contained (inline SVG charts, no script, nothing fetched), with the month table and the measures', () => {
    const html = annualHtml(report);
    expect(html).toContain('<html lang="zh-Hant-TW">');
    expect(html).toContain('高雄市 智慧電表碳帳 年度成果報告 2027');
    expect(html.indexOf('年度成果報告')).toBeLessThan(html.indexOf('annual progress report'));
    expect(html).toContain('@page { size: A4;');
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(/i);
    expect(html).toContain('尚未結算 not rolled up');
    expect(html).toContain('公部門節電');
    expect(html).toContain('經發局');
    expect(html).toContain('0.0066 %'); // 0.006583 % shown with two significant digits
  });
});

describe('coverage: device-hours with data', () => {
  it('marks the hours an interval overlaps, a zero-length one in the hour of its instant', () => {
    const w = { from: 0, to: 5 * HOUR_MS };
    const hours = new Uint8Array(hoursIn(w));
    markHours(hours, w, [{ t0: 0.5 * HOUR_MS, t1: 1.5 * HOUR_MS }, { t0: 3 * HOUR_MS, t1: 3 * HOUR_MS }, { t0: -HOUR_MS, t1: 0 }]);
    expect([...hours]).toEqual([1, 1, 0, 1, 0]);
    expect(hoursFrom(w, -1)).toBe(5);
    expect(hoursFrom(w, 2.5 * HOUR_MS)).toBe(3);
    expect(hoursFrom(w, 5 * HOUR_MS)).toBe(0);
  });

  let h: AccountsHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('counts from the earlier of registration and first interval, reads in bounded queries, settles whole months by aggregate', async () => {
    h = await openHarness();
    const tz = h.tz;
    for (const id of ['cov-a', 'cov-c', 'cov-d']) await h.addDevice({ id, kind: 'pv_inverter', sector: 'industry', params: { nameplate_kw: 1000 } });
    // A: 00:00, 00:30, 01:10, then nothing until 10 Jan: hours 0 … 215 of January have data (216 h)
    await h.write([
      { device: 'cov-a', ts: '2025-01-01T00:00:00', seq: 1, energy_kwh: 0 },
      { device: 'cov-a', ts: '2025-01-01T00:30:00', seq: 2, energy_kwh: 1 },
      { device: 'cov-a', ts: '2025-01-01T01:10:00', seq: 3, energy_kwh: 2 },
      { device: 'cov-a', ts: '2025-01-10T00:00:00', seq: 4, energy_kwh: 100 },
    ]);
    // C: hourly through February (settled by the month's aggregate: its intervals cover all of it)
    const feb = monthWindow('2025-02', tz);
    const c = [];
    for (let t = feb.from, i = 0; t <= feb.to; t += HOUR_MS, i++) c.push({ device: 'cov-c', ts: t, seq: i, energy_kwh: i });
    await h.write(c);
    // D: every 10 minutes, 5 Jan 00:00 → 7 Jan 00:00 (288 intervals): over the limit of 200 for the month, read day by day
    const d = [];
    for (let t = localMs('2025-01-05T00:00:00', tz), i = 0; t <= localMs('2025-01-07T00:00:00', tz); t += 600_000, i++) d.push({ device: 'cov-d', ts: t, seq: i, energy_kwh: i });
    await h.write(d);

    const windows = [monthWindow('2025-01', tz), feb];
    const devices = [
      { device: 'cov-a', site: 's', kind: 'pv_inverter', registeredAt: localMs('2026-06-01T00:00:00', tz) },
      { device: 'cov-b', site: 's', kind: 'pv_inverter', registeredAt: localMs('2025-01-15T00:00:00', tz) }, // registered, never reported
      { device: 'cov-c', site: 's', kind: 'pv_inverter', registeredAt: null },
      { device: 'cov-d', site: 's', kind: 'pv_inverter', registeredAt: null },
      { device: 'cov-e', site: 's', kind: 'pv_inverter', registeredAt: localMs('2025-03-01T00:00:00', tz) }, // after the period: not listed
    ];
    const cov = await readCoverage(h.store, devices, windows, { tz, limit: 200 });
    expect(cov.hours_in_period).toBe(744 + 672);
    expect(cov.devices).toEqual([
      { device: 'cov-a', site: 's', kind: 'pv_inverter', expected_from: '2025-01-01T00:00:00+08:00', hours_expected: 1416, hours_with_data: 216, truncated: false },
      { device: 'cov-b', site: 's', kind: 'pv_inverter', expected_from: '2025-01-15T00:00:00+08:00', hours_expected: 744 - 14 * 24 + 672, hours_with_data: 0, truncated: false },
      { device: 'cov-c', site: 's', kind: 'pv_inverter', expected_from: '2025-02-01T00:00:00+08:00', hours_expected: 672, hours_with_data: 672, truncated: false },
      { device: 'cov-d', site: 's', kind: 'pv_inverter', expected_from: '2025-01-05T00:00:00+08:00', hours_expected: 744 - 4 * 24 + 672, hours_with_data: 48, truncated: false },
    ]);
    // a day over the limit too: a lower bound, said so
    const tight = await readCoverage(h.store, devices.slice(3, 4), windows, { tz, limit: 100 });
    expect(tight.devices[0]).toMatchObject({ device: 'cov-d', truncated: true });
    expect(tight.devices[0]!.hours_with_data).toBeLessThan(48);
  });
});

describe('annual report revisions', () => {
  let h: AccountsHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a restated month gives revision 2; revision 1 stays readable and unchanged; the same basis is served as stored', async () => {
    h = await openHarness();
    await h.addDevice({ id: 'rev-pv', kind: 'pv_inverter', sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 100 } });
    await h.write([
      { device: 'rev-pv', ts: '2025-01-01T00:00:00', seq: 1, energy_kwh: 0 },
      { device: 'rev-pv', ts: '2025-01-20T00:00:00', seq: 2, energy_kwh: 1000 },
      { device: 'rev-pv', ts: '2025-02-10T00:00:00', seq: 3, energy_kwh: 2000 },
    ]);
    const annual = h.accounts.annual;
    expect(await annual.current(2025)).toBeUndefined(); // nothing rolled up: no report, nothing stored
    expect(await annual.latestRevision(2025)).toBeUndefined();
    await h.accounts.rollups.compute('2025-01', 'manual');
    await h.accounts.rollups.compute('2025-02', 'manual');

    const [first, again] = await Promise.all([annual.current(2025), annual.current(2025)]);
    expect(first!.report.revision).toBe(1);
    expect(again!.report.revision).toBe(1);
    expect([first!.created, again!.created].filter(Boolean)).toHaveLength(1);
    expect((await annual.current(2025))!.created).toBe(false);
    const r1 = await annual.get(2025, 1);
    const before = JSON.stringify(r1);
    expect(r1!.basis.months.slice(0, 3)).toEqual([{ month: '2025-01', revision: 1 }, { month: '2025-02', revision: 1 }, { month: '2025-03', revision: null }]);
    const januaryBefore = r1!.model.months[0]!.avoided_tco2e!;

    // a late reading in January restates it (rollup revision 2): the annual report gets revision 2
    await h.write([{ device: 'rev-pv', ts: '2025-01-25T00:00:00', seq: 4, energy_kwh: 1500 }]);
    expect((await h.accounts.rollups.compute('2025-01', 'late_readings')).revision).toBe(2);
    const second = (await annual.current(2025))!;
    expect(second).toMatchObject({ created: true, report: { revision: 2, changes: [{ what: 'month', month: '2025-01', from: 1, to: 2 }] } });
    expect(second.report.model.months[0]!.avoided_tco2e).not.toBe(januaryBefore);

    expect(JSON.stringify(await annual.get(2025, 1))).toBe(before);
    const view1 = await annual.view((await annual.get(2025, 1))!, { tz: h.tz, generatedAt: new Date('2026-01-01T00:00:00Z') });
    expect(view1.revision).toMatchObject({ revision: 1, of: 2, latest: false });
    expect(view1.months[0]!.revision).toBe(1);
    const view2 = await annual.view(second.report, { tz: h.tz, generatedAt: new Date() });
    expect(view2.revision.change_lines).toEqual(['2025-01: rollup revision 1 → rollup revision 2']);
    expect(view2.revision.history.map((x) => x.change_lines)).toEqual([[], ['2025-01: rollup revision 1 → rollup revision 2']]);
    expect(await annual.get(2025, 3)).toBeUndefined();
  });
  it('a changed budget file (targets, caps) gives a new revision that says so; the old one stays as it was', async () => {
    h = await openHarness();
    await h.addDevice({ id: 'bud-pv', kind: 'pv_inverter', sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 100 } });
    await h.write([
      { device: 'bud-pv', ts: '2025-03-01T00:00:00', seq: 1, energy_kwh: 0 },
      { device: 'bud-pv', ts: '2025-03-20T00:00:00', seq: 2, energy_kwh: 1000 },
    ]);
    await h.accounts.rollups.compute('2025-03', 'manual');
    const first = (await h.accounts.annual.current(2025))!;
    expect(first.report.revision).toBe(1);
    const capBefore = first.report.model.sectors.find((x) => x.sector === 'residential_commercial')!.cap_tco2e;

    // the same data dir read with an edited budget file: residential_commercial's cap raised by 1,000 t
    const edited = JSON.parse(fs.readFileSync(path.resolve('accounting/budget/kaohsiung-2027-2028.json'), 'utf8')) as { sectors: Array<{ id: string; budget_tco2e: number; budget_10kt: number }> };
    const sector = edited.sectors.find((x) => x.id === 'residential_commercial')!;
    sector.budget_tco2e += 1000;
    sector.budget_10kt = Math.round((sector.budget_10kt + 0.1) * 100) / 100;
    const budgetFile = path.join(h.dir, 'budget-edited.json');
    fs.writeFileSync(budgetFile, JSON.stringify(edited));
    const other = await openAccounts({ state: h.state, store: h.store, registry: h.registry, tz: h.tz, gwpSet: 'ar5', budgetFile });
    const second = (await other.annual.current(2025))!;
    expect(second.created).toBe(true);
    expect(second.report.revision).toBe(2);
    expect(second.report.changes).toHaveLength(1);
    expect(second.report.changes[0]).toMatchObject({ what: 'budget', from: first.report.basis.budget, to: second.report.basis.budget });
    expect(second.report.basis.budget).toMatch(/^[0-9a-f]{12}$/);
    expect(second.report.basis.budget).not.toBe(first.report.basis.budget);
    expect(second.report.model.sectors.find((x) => x.sector === 'residential_commercial')!.cap_tco2e).toBe(capBefore! + 1000);
    expect((await other.annual.current(2025))!.created).toBe(false);
    expect((await h.accounts.annual.get(2025, 1))!.model.sectors.find((x) => x.sector === 'residential_commercial')!.cap_tco2e).toBe(capBefore);
    // back on the original file: that is a change too
    expect((await h.accounts.annual.current(2025))!.report).toMatchObject({ revision: 3, changes: [{ what: 'budget' }] });
  });
});
