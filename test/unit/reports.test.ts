import { describe, expect, it } from 'vitest';
import type { FactorVersion } from '../../accounting/factors/types.js';
import type { LedgerRow } from '../../accounting/ledger/device-row.js';
import {
  buildReportModel,
  CSV_COLUMNS,
  renderReport,
  reportCsv,
  reportHtml,
  reportJson,
  type ReportInput,
} from '../../accounting/reports/index.js';
import type { MonthlyRollup } from '../../accounting/rollups/monthly.js';

/**
 * A hand-built rollup for 2025-01, revision 2, three devices (numbers from docs/domain.md, 2024
 * grid factor 0.474 kgCO2e/kWh standing in for the unpublished 2025 one):
 * - PV inverter, residential_commercial: 1,000 kWh × 0.474 / 1000 = 0.474 t avoided, claimed;
 * - biogas plant, agriculture, sold as carbon credits: 2.5 t avoided, 0 claimed;
 * - smart meter: 1,000 kWh import × 0.474 / 1000 = 0.474 t inventory.
 */

const MONTH = '2025-01';

function factor(over: Partial<FactorVersion> & Pick<FactorVersion, 'id' | 'name' | 'value' | 'unit' | 'source'>): FactorVersion {
  return {
    variant: null,
    version: 1,
    dataYear: null,
    validFrom: null,
    validTo: null,
    publishedAt: null,
    status: 'published',
    note: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

const FACTORS: FactorVersion[] = [
  factor({ id: 'grid_ef-2023-v1', name: 'grid_ef', dataYear: 2023, value: 0.494, unit: 'kgCO2e/kWh', source: 'MOEA Energy Administration notice 2023' }),
  factor({ id: 'grid_ef-2024-v1', name: 'grid_ef', dataYear: 2024, value: 0.474, unit: 'kgCO2e/kWh', publishedAt: '2025-06-30', source: 'MOEA Energy Administration grid emission factor notice (經濟部能源署)' }),
  factor({ id: 'ch4_gwp-ar5-v1', name: 'ch4_gwp', variant: 'ar5', value: 28, unit: 'tCO2e/tCH4', source: 'IPCC AR5 GWP100, adopted by Taiwan MOENV' }),
  factor({ id: 'ch4_density-nm3_0c-v1', name: 'ch4_density', variant: 'nm3_0c', value: 0.716, unit: 'kg/Nm3', source: 'methane density at 0 °C' }),
  factor({ id: 'destruction_efficiency-engine-v1', name: 'destruction_efficiency', variant: 'engine', value: 1, unit: 'fraction', source: 'budget report 004' }),
];

const q = (ok: number, reset = 0, wrap = 0, implausible = 0) => ({ ok, reset, wrap, implausible });

function row(over: Partial<LedgerRow> & Pick<LedgerRow, 'device' | 'kind' | 'sector'>): LedgerRow & { month: string; revision: number } {
  return {
    month: MONTH,
    revision: 2,
    site: 'site-1',
    measure: null,
    stream: null,
    energy_kwh: 0,
    consumption_kwh: 0,
    methane_t: 0,
    avoided_tco2e: 0,
    inventory_tco2e: 0,
    claimed_avoided_tco2e: 0,
    sold_as_credits: false,
    provisional: false,
    factors: ['grid_ef-2024-v1'],
    quality: q(0),
    detail: {},
    notes: [],
    ...over,
  };
}

function rollup(rows: Array<LedgerRow & { month: string; revision: number }>, over: Partial<MonthlyRollup> = {}): MonthlyRollup {
  return {
    month: MONTH,
    revision: 2,
    computed_at: '2025-02-03T04:05:06.000Z',
    trigger: 'late_readings',
    changes: [{ device: 'pv-gangshan-01', field: 'avoided_tco2e', from: 0.4503, to: 0.474 }],
    rows,
    revisions: [
      { revision: 1, computed_at: '2025-02-01T00:10:00.000Z', trigger: 'scheduled', changed_devices: 0 },
      { revision: 2, computed_at: '2025-02-03T04:05:06.000Z', trigger: 'late_readings', changed_devices: 1 },
    ],
    ...over,
  };
}

const PV = row({
  device: 'pv-gangshan-01',
  kind: 'pv_inverter',
  site: 'gangshan-police',
  sector: 'residential_commercial',
  measure: 'rooftop-pv, public buildings', // a comma: CSV must quote it
  stream: 'pv',
  energy_kwh: 1000,
  avoided_tco2e: 0.474,
  claimed_avoided_tco2e: 0.474,
  quality: q(2976),
});
const BIOGAS = row({
  device: 'neimen-biogas',
  kind: 'biogas',
  site: 'neimen',
  sector: 'agriculture',
  measure: 'neimen-methane',
  stream: 'biogas',
  energy_kwh: 20_000,
  methane_t: 0.08,
  avoided_tco2e: 2.5,
  claimed_avoided_tco2e: 0,
  sold_as_credits: true,
  factors: ['ch4_density-nm3_0c-v1', 'ch4_gwp-ar5-v1', 'destruction_efficiency-engine-v1', 'grid_ef-2024-v1'],
  quality: q(2970, 1, 0, 2),
  notes: ['sold as carbon credits: shown, not claimed by the city'],
});
const METER = row({
  device: 'sh-meter-07',
  kind: 'smart_meter',
  site: 'social-housing-a',
  sector: 'residential_commercial',
  energy_kwh: 1000,
  consumption_kwh: 1000,
  inventory_tco2e: 0.474,
  quality: q(2976),
});

const MEASURES: ReportInput['measures'] = [
  { id: 'neimen-methane', name_zh: '內門畜牧廢水資源化中心甲烷回收', name_en: 'Neimen livestock methane recovery', sector: 'agriculture', target_tco2e: 2520 },
  { id: 'rooftop-pv, public buildings', name_zh: '公有屋頂光電', name_en: 'Rooftop PV on public buildings', sector: 'residential_commercial', target_tco2e: 1200 },
];

function input(rows = [PV, BIOGAS, METER], over: Partial<MonthlyRollup> = {}): ReportInput {
  return { rollup: rollup(rows, over), factors: FACTORS, measures: MEASURES, tz: 'Asia/Taipei', generatedAt: new Date('2025-02-04T01:00:00.000Z'), gwpSet: 'ar5' };
}

/** Parses RFC 4180 text (quoted fields, doubled quotes) into rows of cells. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let rowCells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      rowCells.push(cell);
      cell = '';
    } else if (c === '\n') {
      rowCells.push(cell);
      out.push(rowCells);
      rowCells = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || rowCells.length > 0) out.push([...rowCells, cell]);
  return out;
}

describe('report model', () => {
  const model = buildReportModel(input());

  it('keeps the two ledgers apart: claimed 0.474, sold 2.5, inventory 0.474 t', () => {
    expect(model.totals.avoided_claimed_tco2e).toBeCloseTo(0.474, 9);
    expect(model.totals.avoided_sold_tco2e).toBeCloseTo(2.5, 9);
    expect(model.totals.avoided_tco2e).toBeCloseTo(2.974, 9);
    expect(model.totals.inventory_tco2e).toBeCloseTo(0.474, 9);
    expect(model.totals.methane_t).toBeCloseTo(0.08, 9);
    expect(model.totals.energy_kwh_by_stream).toEqual({ pv: 1000, biogas: 20_000, none: 1000 });
    expect(model.totals.devices).toBe(3);
  });

  it('sums per sector with the budget sectors named in Chinese', () => {
    const rc = model.sectors.find((s) => s.sector === 'residential_commercial')!;
    expect(rc).toMatchObject({ name_zh: '住商', devices: 2, avoided_claimed_tco2e: 0.474, avoided_sold_tco2e: 0, inventory_tco2e: 0.474 });
    const ag = model.sectors.find((s) => s.sector === 'agriculture')!;
    expect(ag).toMatchObject({ name_zh: '農業', devices: 1, avoided_claimed_tco2e: 0, avoided_sold_tco2e: 2.5 });
    expect(model.sectors.map((s) => s.name_zh)).toEqual(['工業', '住商', '運輸', '環境', '農業', '林業']);
  });

  it('sums per measure with the annual target and target / 12 for reference', () => {
    const neimen = model.measures.find((m) => m.measure === 'neimen-methane')!;
    expect(neimen).toMatchObject({ devices: 1, avoided_claimed_tco2e: 0, avoided_sold_tco2e: 2.5, target_annual_tco2e: 2520, target_month_ref_tco2e: 210 });
    expect(model.measures.at(-1)).toMatchObject({ measure: null, devices: 1, target_annual_tco2e: null });
  });

  it('lists the factor versions used (and only those) with their sources', () => {
    expect(model.factors.map((f) => f.id)).toEqual([
      'ch4_density-nm3_0c-v1',
      'ch4_gwp-ar5-v1',
      'destruction_efficiency-engine-v1',
      'grid_ef-2024-v1',
    ]);
    expect(model.factors.find((f) => f.id === 'grid_ef-2024-v1')).toMatchObject({ value: 0.474, unit: 'kgCO2e/kWh', status: 'published', devices: 3 });
  });

  it('describes the revision and its changes as readable lines', () => {
    expect(model.revision).toMatchObject({ revision: 2, of: 2, latest: true, trigger: 'late_readings' });
    expect(model.revision.change_lines).toEqual(['device pv-gangshan-01: avoided_tco2e 0.450 → 0.474']);
    expect(model.revision.computed_at_local).toContain('2025-02-03 12:05:06');
    expect(model.quality).toEqual({ ok: 8922, reset: 1, wrap: 0, step_back: 0, jump: 0, implausible: 2, total: 8925 });
    expect(model.provisional.any).toBe(false);
  });

  it('names the stand-in grid factor when rows are provisional', () => {
    const m = buildReportModel(input([{ ...PV, provisional: true }, BIOGAS, METER]));
    expect(m.provisional.any).toBe(true);
    expect(m.provisional.devices).toEqual(['pv-gangshan-01']);
    expect(m.provisional.stand_ins).toEqual([{ for_year: 2025, factor_id: 'grid_ef-2024-v1', data_year: 2024, value: 0.474, unit: 'kgCO2e/kWh', devices: 1 }]);
    expect(m.provisional.messages[0]).toContain('The 2025 grid emission factor is not published yet: the 2024 grid factor (0.474 kgCO2e/kWh');
  });
});

describe('CSV', () => {
  const csv = reportCsv(buildReportModel(input()));
  const table = parseCsv(csv);

  it('has a header line and one line per device, with \\n line ends', () => {
    expect(csv.split('\n')[0]).toBe(
      'month,revision,device,site,sector,measure,stream,energy_kwh,consumption_kwh,methane_t,avoided_tco2e,claimed_avoided_tco2e,inventory_tco2e,sold_as_credits,provisional,factors,quality_ok,quality_reset,quality_wrap,quality_implausible,quality_step_back,quality_jump',
    );
    expect(csv).not.toContain('\r');
    expect(csv.endsWith('\n')).toBe(true);
    expect(table).toHaveLength(4);
    for (const r of table) expect(r).toHaveLength(CSV_COLUMNS.length);
  });

  it('writes the numbers and quotes a measure that contains a comma', () => {
    expect(csv).toContain('2025-01,2,pv-gangshan-01,gangshan-police,residential_commercial,"rooftop-pv, public buildings",pv,1000,0,0,0.474,0.474,0,false,false,grid_ef-2024-v1,2976,0,0,0,0,0\n');
    const biogas = table.find((r) => r[2] === 'neimen-biogas')!;
    expect(biogas).toEqual([
      '2025-01', '2', 'neimen-biogas', 'neimen', 'agriculture', 'neimen-methane', 'biogas', '20000', '0', '0.08', '2.5', '0', '0', 'true', 'false',
      'ch4_density-nm3_0c-v1;ch4_gwp-ar5-v1;destruction_efficiency-engine-v1;grid_ef-2024-v1', '2970', '1', '0', '2', '0', '0',
    ]);
    const meter = table.find((r) => r[2] === 'sh-meter-07')!;
    expect(meter.slice(5, 13)).toEqual(['', '', '1000', '1000', '0', '0', '0', '0.474']);
  });

  it('doubles quotes, and defuses text a spreadsheet would run as a formula', () => {
    const odd = row({ device: 'x-1', kind: 'pv_inverter', sector: 'industry', measure: '=HYPERLINK("http://evil")', avoided_tco2e: 1e-7, claimed_avoided_tco2e: 1e-7 });
    const t = parseCsv(reportCsv(buildReportModel(input([odd]))));
    expect(t[1]![5]).toBe(`'=HYPERLINK("http://evil")`);
    expect(t[1]![10]).toBe('0.0000001');
  });
});

describe('JSON', () => {
  it('is the model, pretty-printed', () => {
    const model = buildReportModel(input());
    const json = reportJson(model);
    expect(json).toContain('\n  "month": "2025-01",');
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(model)));
    expect(renderReport(input(), 'json')).toBe(json);
  });
});

describe('HTML', () => {
  const html = renderReport(input(), 'html');

  it('is a self-contained document with the title and Chinese subtitle', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('Kaohsiung metered carbon account — monthly report 2025-01');
    expect(html).toContain('高雄市 智慧電表碳帳 月報');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
    expect(html).toContain('@page { size: A4;');
  });

  it('shows the revision, the trigger and the change line', () => {
    expect(html).toContain('Revision 2 of 2');
    expect(html).toContain('restates revision 1');
    expect(html).toContain('late or backfilled readings');
    expect(html).toContain('device pv-gangshan-01: avoided_tco2e 0.450 → 0.474');
  });

  it('shows both ledgers, never netted, and the sectors in Chinese and English', () => {
    expect(html).toContain('never netted');
    expect(html).toMatch(/0\.474 <span class="unit">tCO2e claimed/);
    expect(html).toMatch(/0\.474 <span class="unit">tCO2e emitted/);
    expect(html).toContain('2.500 t');
    for (const [zh, en] of [['住商', 'Residential &amp; commercial'], ['農業', 'Agriculture'], ['工業', 'Industry']]) {
      expect(html).toContain(zh);
      expect(html).toContain(en);
    }
  });

  it('embeds the charts as inline SVG', () => {
    expect((html.match(/<svg /g) ?? []).length).toBe(2);
    expect(html).toContain('Avoided by sector');
    expect(html).toContain('Avoided by stream');
  });

  it('lists the factor versions with their sources and the GWP set', () => {
    expect(html).toContain('grid_ef-2024-v1');
    expect(html).toContain('MOEA Energy Administration grid emission factor notice (經濟部能源署)');
    expect(html).toContain('IPCC AR5 GWP100, adopted by Taiwan MOENV');
    expect(html).toContain('CH4 GWP set: <strong>AR5</strong>');
    expect(html).not.toContain('grid_ef-2023-v1');
  });

  it('escapes a device name carrying <script>', () => {
    const evil = row({ device: '<script>alert(1)</script>', kind: 'pv_inverter', sector: 'industry', stream: 'pv', avoided_tco2e: 1, claimed_avoided_tco2e: 1 });
    const out = reportHtml(
      buildReportModel(input([evil], { changes: [{ device: '<script>alert(1)</script>', field: 'added', to: { avoided_tco2e: 1, inventory_tco2e: 0 } }] })),
    );
    expect(out).not.toContain('<script>');
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('device &lt;script&gt;alert(1)&lt;/script&gt;: added (avoided_tco2e 1, inventory_tco2e 0)');
  });

  it('warns when a row is provisional, naming the stand-in factor, and not otherwise', () => {
    expect(html).not.toContain('Provisional results');
    const out = renderReport(input([PV, { ...BIOGAS, provisional: true }, METER]), 'html');
    expect(out).toContain('Provisional results');
    expect(out).toContain('The 2025 grid emission factor is not published yet: the 2024 grid factor (0.474 kgCO2e/kWh, grid_ef-2024-v1) stands in');
    expect(out).toMatch(/class="tag prov">provisional</);
  });

  it('says so when rendering an older revision, and renders an empty month', () => {
    const old = renderReport(input([PV, BIOGAS, METER], { revision: 1, trigger: 'scheduled', changes: [] }), 'html');
    expect(old).toContain('Revision 1 of 2 — first computation of this month');
    expect(old).toContain('A newer revision (2) of this month exists');
    const empty = renderReport(input([], { revision: 1, changes: [], revisions: [] }), 'html');
    expect(empty).toContain('No avoided tonnes this month.');
    expect(renderReport(input([], { revision: 1, changes: [], revisions: [] }), 'csv').split('\n')).toHaveLength(2);
  });
});
