/**
 * Taiwan grid emission factor (電力排碳係數), kgCO2e/kWh, location-based, by the year the energy
 * flowed (data year, not publication year: ../shared/domain.md, trap 6). Published by the energy
 * administration (MOEA 能源署) around April for the year before.
 *
 * The accounting issue replaces this table with the versioned factor registry; until then this is the
 * one place the values live.
 */
export interface GridFactor {
  id: string;
  dataYear: number;
  kgco2ePerKwh: number;
  status: 'published';
  source: string;
}

const SECOND_HAND =
  'MOEA Energy Administration annual grid emission factor notice, as quoted in ../shared/domain.md (second-hand; to be checked against the notice)';

const published: Array<[number, number, string]> = [
  [2015, 0.525, SECOND_HAND],
  [2016, 0.529, SECOND_HAND],
  [2017, 0.554, SECOND_HAND],
  [2018, 0.533, SECOND_HAND],
  [2019, 0.509, SECOND_HAND],
  [2020, 0.502, SECOND_HAND],
  [2021, 0.509, SECOND_HAND],
  [2022, 0.495, SECOND_HAND],
  [
    2023,
    0.494,
    '2027-2028 高雄市碳預算報告書 (草案初稿), table 12 row "電力排碳係數下降" (../shared/seeds/004_fc5686ac73664ea2.txt), citing MOEA Energy Administration',
  ],
  [2024, 0.474, SECOND_HAND],
];

export const GRID_FACTORS: readonly GridFactor[] = published.map(([year, value, source]) => ({
  id: `grid-tw-${year}-v1`,
  dataYear: year,
  kgco2ePerKwh: value,
  status: 'published',
  source,
}));

export interface FactorUse {
  factor: GridFactor;
  /** the year the energy flowed */
  year: number;
  /** true when no factor is published for `year` yet and the latest earlier one stands in */
  provisional: boolean;
}

/**
 * The published factor for the energy's own year; for a year with none yet, the latest published
 * one, marked provisional. Years before the table use its first year, also provisional.
 */
export function gridFactorFor(year: number, table: readonly GridFactor[] = GRID_FACTORS): FactorUse {
  const exact = table.find((f) => f.dataYear === year);
  if (exact) return { factor: exact, year, provisional: false };
  const earlier = table.filter((f) => f.dataYear < year).sort((a, b) => b.dataYear - a.dataYear)[0];
  const fallback = earlier ?? [...table].sort((a, b) => a.dataYear - b.dataYear)[0];
  if (!fallback) throw new Error('no grid factor available');
  return { factor: fallback, year, provisional: true };
}
