// The six sectors of the carbon budget, in the order the sector chart shows them (the budget panel
// falls back to these names when GET /api/budget does not name a sector).

export const SECTORS = [
  { key: 'industry', label: '工業 industry' },
  { key: 'residential_commercial', label: '住商 residential & commercial' },
  { key: 'transport', label: '運輸 transport' },
  { key: 'environment', label: '環境 environment' },
  { key: 'agriculture', label: '農業 agriculture' },
  { key: 'forestry', label: '林業 forestry' },
];
