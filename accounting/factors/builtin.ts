import type { NewFactor } from './types.js';

/**
 * The factor versions the system ships with, each with its source. They are written to the factor
 * registry at start when missing (by id), never changed there: a correction is a new version.
 */

/**
 * Sources are cited by document, section or table, and page (docs/domain.md, "Sources"), so a reader can
 * look each value up; a value no document publishes says so (a project default, a figure quoted
 * second-hand). Pages are those of the report's own contents; 陸 is its chapter on the 2028 reductions,
 * one section per sector and one sub-section per measure, each with a 減碳效益 table.
 */
const REPORT = '2027-2028 高雄市碳預算報告書 (草案初稿) (Kaohsiung City 2027–2028 carbon budget report, draft), 高雄市政府';
/** the grid factor's annual notice, by the data year it covers (the ROC year names it: 2023 = 112 年度) */
const gridNotice = (year: number) =>
  `MOEA Energy Administration (經濟部能源署; 經濟部能源局 until 2023-09), annual notice of the electricity emission factor for ${year} (${year - 1911} 年度電力排碳係數), published in ${year + 1}`;
const GRID_SECOND_HAND = (year: number) =>
  `${gridNotice(year)}; value quoted second-hand (docs/domain.md, Factors), to be checked against the notice`;
const GRID_PUBLICATION_NOTE = 'publication date approximate: the notice appears around April-June of the following year';

const gridPublished: Array<[number, number]> = [
  [2015, 0.525],
  [2016, 0.529],
  [2017, 0.554],
  [2018, 0.533],
  [2019, 0.509],
  [2020, 0.502],
  [2021, 0.509],
  [2022, 0.495],
  [2023, 0.494],
  [2024, 0.474],
];

/** The budget's own path for projections: 0.388 (2025) → 0.319 (2030), linear, rounded as the report rounds (0.347 in 2028). */
const gridTargetPath: Array<[number, number]> = [
  [2025, 0.388],
  [2026, 0.374],
  [2027, 0.360],
  [2028, 0.347],
  [2029, 0.333],
  [2030, 0.319],
];

export const BUILTIN_FACTORS: ReadonlyArray<NewFactor> = [
  ...gridPublished.map(([year, value]): NewFactor => ({
    name: 'grid_ef',
    data_year: year,
    value,
    unit: 'kgCO2e/kWh',
    published_at: `${year + 1}-06-30`,
    status: 'published',
    source:
      year === 2023
        ? `${REPORT}, 陸、一、(一) 電力排碳係數, 減碳效益 table (pp. 34–35; 2023 年排碳係數 0.494 公斤 CO2e/度, authority 經濟部能源署), behind table 12's first row; also ${gridNotice(year)}`
        : GRID_SECOND_HAND(year),
    note: GRID_PUBLICATION_NOTE,
  })),
  ...gridTargetPath.map(([year, value]): NewFactor => ({
    name: 'grid_ef',
    variant: 'target_path',
    data_year: year,
    value,
    unit: 'kgCO2e/kWh',
    published_at: '2025-05-06',
    status: 'target_path',
    source: `${REPORT}, 陸、一 能源部門 (p. 34) and the note under the 減碳效益 table of 陸、一、(一) 電力排碳係數: 2025 target 0.388 (第二期溫室氣體階段管制目標, approved 2021-09-29) and 2030 target 0.319 (第三期, approved 2025-05-06), interpolated linearly`,
    note: 'for projections only; never applied to metered energy. The officially gazetted 2025 baseline is 0.424.',
  })),
  { name: 'ch4_gwp', variant: 'ar5', value: 28, unit: 'tCO2e/tCH4', source: `IPCC AR5 GWP100, adopted by Taiwan's Ministry of Environment; used by ${REPORT}, 陸、五、(二) 內門 甲烷處理 (移除甲烷量 × GWP(28), pp. 49–52) and 陸、六、(二) 普及污水下水道`, published_at: '2014-04-13', status: 'published', note: 'default set' },
  { name: 'ch4_gwp', variant: 'ar4', value: 25, unit: 'tCO2e/tCH4', source: 'IPCC AR4 GWP100 (2007)', published_at: '2007-11-17', status: 'published' },
  { name: 'ch4_gwp', variant: 'ar6', value: 27, unit: 'tCO2e/tCH4', source: 'IPCC AR6 WG1 GWP100, non-fossil CH4 27.0 (2021)', published_at: '2021-08-09', status: 'published' },
  { name: 'ch4_density', variant: 'nm3_0c', value: 0.716, unit: 'kg/Nm3', source: 'methane density at 0 °C, 101.325 kPa (Nm3): molar mass 16.04 g/mol ÷ ideal-gas molar volume 22.414 L/mol; docs/domain.md (Factors)', status: 'published' },
  { name: 'ch4_density', variant: 'm3_20c', value: 0.667, unit: 'kg/m3', source: 'methane density at 20 °C, 101.325 kPa: molar mass 16.04 g/mol ÷ ideal-gas molar volume 24.055 L/mol; docs/domain.md (Factors)', status: 'published' },
  { name: 'destruction_efficiency', variant: 'engine', value: 1.0, unit: 'fraction', source: `${REPORT}, 陸、五、(二) 內門畜牧廢水資源化中心 甲烷處理 (pp. 49–52): all treated methane of the Neimen centre (移除甲烷量) is counted as destroyed`, status: 'published' },
  { name: 'destruction_efficiency', variant: 'flare_enclosed', value: 0.9, unit: 'fraction', source: 'CDM methodological tool "Project emissions from flaring", default for enclosed flares', status: 'published' },
  { name: 'destruction_efficiency', variant: 'flare_open', value: 0.5, unit: 'fraction', source: 'CDM methodological tool "Project emissions from flaring", default for open flares', status: 'published' },
  { name: 'vehicle_baseline_kgco2e_per_km', variant: 'car', value: 0.115, unit: 'kgCO2e/km', source: `${REPORT}, 陸、四 運輸部門 (pp. 41–49): 汽車排放量 (passenger car) in (六) 區域接駁車, (七) 捷運 and (十) 輕軌`, status: 'published' },
  { name: 'vehicle_baseline_kgco2e_per_km', variant: 'scooter', value: 0.0951, unit: 'kgCO2e/km', source: `${REPORT}, 陸、四 運輸部門 (pp. 41–49): 機車排放量 (scooter) in (六) 區域接駁車, (七) 捷運 and (十) 輕軌`, status: 'published' },
  { name: 'vehicle_kwh_per_km', variant: 'car', value: 0.17, unit: 'kWh/km', source: 'project default for a compact EV at the plug, not from a report (docs/domain.md, Defaults)', status: 'published' },
  { name: 'vehicle_kwh_per_km', variant: 'scooter', value: 0.04, unit: 'kWh/km', source: 'project default for an e-scooter at the plug, not from a report (docs/domain.md, Defaults)', status: 'published' },
  { name: 'vehicle_annual_emissions', variant: 'petrol_scooter', value: 553.66, unit: 'kgCO2e/yr', source: `${REPORT}, 陸、四、(二) 電動機車補助 and (三) 公務機車汰換為電動機車 (pp. 41–49)`, status: 'published' },
  { name: 'vehicle_annual_emissions', variant: 'e_scooter', value: 119.71, unit: 'kgCO2e/yr', source: `${REPORT}, 陸、四、(二) 電動機車補助 and (三) 公務機車汰換為電動機車 (pp. 41–49)`, status: 'published' },
  { name: 'vehicle_annual_emissions', variant: 'petrol_car', value: 1637.68, unit: 'kgCO2e/yr', source: `${REPORT}, 陸、四、(四) 公務汽車汰換為電動汽車 (pp. 41–49)`, status: 'published' },
  { name: 'vehicle_annual_emissions', variant: 'ev_car', value: 467.51, unit: 'kgCO2e/yr', source: `${REPORT}, 陸、四、(四) 公務汽車汰換為電動汽車 (pp. 41–49)`, status: 'published' },
  { name: 'vehicle_annual_emissions', variant: 'diesel_bus', value: 51.15, unit: 'tCO2e/yr', source: `${REPORT}, 陸、四、(九) 引入電動或低碳能源公車推廣低碳運具 (pp. 41–49)`, status: 'published' },
  { name: 'vehicle_annual_emissions', variant: 'e_bus', value: 20.23, unit: 'tCO2e/yr', source: `${REPORT}, 陸、四、(九) 引入電動或低碳能源公車推廣低碳運具 (pp. 41–49)`, status: 'published' },
  { name: 'fuel_ef', variant: 'diesel_l', value: 2.68, unit: 'kgCO2e/L', source: `${REPORT}, 陸、三、(二) 獎勵休漁計畫 (pp. 40–41)`, status: 'published' },
  { name: 'fuel_ef', variant: 'diesel_l_fishing_boat', value: 3.3, unit: 'kgCO2e/L', source: `${REPORT}, 陸、五、(六) 漁船/筏收購處理計畫 (pp. 49–52)`, status: 'published' },
  { name: 'waste_incineration_ef', value: 0.15, unit: 'kgCO2e/kg', source: `${REPORT}, 陸、二、(二) 廢棄物循環再利用 (0.150 公斤 CO2e/公斤, pp. 36–40); also 陸、六、(一) 資源回收量`, status: 'published' },
  { name: 'coal_to_gas_switch', value: 1.138, unit: 'kgCO2e/kg coal', source: `${REPORT}, 陸、二、(三) 汽電共生減煤 (pp. 36–40)`, status: 'published' },
];
