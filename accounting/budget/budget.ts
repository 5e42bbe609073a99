import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { STREAM_IDS } from '../streams/ids.js';
import { SECTORS } from '../../devices/kinds.js';

/**
 * A city carbon-budget period as data (accounting/budget/README.md): sector baselines, caps and the
 * concrete reduction measures of the report's table 12, each with its formula, inputs and whether a
 * meter in this system can feed it.
 *
 * Units: every quantity is stored twice, `*_10kt` exactly as the report prints it (萬噸 CO2e =
 * 10,000 t) and `*_tco2e` (tonnes). The schema checks that each pair agrees.
 */

export const BUDGET_FILE_NAME = 'kaohsiung-2027-2028.json';

/** The device streams a budget measure can be fed by. `generation`: a plain generation meter (small hydro). */

export const SCOPES = ['1', '2', '1&2'] as const;

const num = () => z.number().finite();
const text = () => z.string().trim().min(1, { error: 'must not be empty' });
const isoDate = () => z.iso.date({ error: 'must be a date YYYY-MM-DD' });
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export const inputSchema = z.strictObject({
  /** the letter the report's formula uses, e.g. "a"; null for context figures not in the formula */
  symbol: z.string().min(1).nullable(),
  label_zh: text(),
  label_en: text(),
  /** in `unit`, converted from the printed figure (e.g. 25 萬度 → 250000 kWh) */
  value: num(),
  unit: text(),
  /** the figure exactly as the report prints it */
  as_printed: text(),
});

export const measureSchema = z.strictObject({
  id: z.string().regex(KEBAB, { error: 'must be kebab-case (a-z, 0-9, single hyphens)' }),
  /** 1-based row number in table 12 */
  table12_row: z.number().int().min(1),
  /** the 部門 column of table 12 as printed (能源, 工業, 住商, 運輸, 農業, 環境) */
  table12_sector_zh: text(),
  name_zh: text(),
  name_en: text(),
  /** 主管機關 as printed; null where table 12 prints "-" */
  agency_zh: text().nullable(),
  agency_en: text().nullable(),
  /** null: the energy-sector grid-factor row, which is split over sectors by the 能源部門分配 rows */
  sector: z.enum(SECTORS).nullable(),
  scope: z.enum(SCOPES),
  reduction_2028_10kt: num().min(0),
  reduction_2028_tco2e: num().min(0),
  metered: z.boolean(),
  stream: z.enum(STREAM_IDS).nullable(),
  metering_note: text().optional(),
  report_section: text(),
  formula: text(),
  inputs: z.array(inputSchema),
  /** for the 能源部門分配 rows: which measure they are a share of */
  allocation: z
    .strictObject({
      of: text(),
      share_printed_pct: num(),
      sector_scope2_10kt: num(),
      total_scope2_10kt: num(),
    })
    .optional(),
  /** the same measure printed with another value elsewhere in the report */
  printed_elsewhere: z
    .array(z.strictObject({ where: text(), value_10kt: num(), note: text().optional() }))
    .optional(),
  /** tonnes also claimed (or applied for) as carbon credits: must not be counted twice */
  sold_as_credits: z.boolean(),
  credits_note: text().optional(),
  notes: text().optional(),
});

const tableRef = z.strictObject({
  table: text(),
  caption_zh: text(),
  used_for: text(),
  note: text().optional(),
});

export const sectorSchema = z.strictObject({
  id: z.enum(SECTORS),
  name_zh: text(),
  name_en: text(),
  actual_2023_10kt: num(),
  actual_2023_tco2e: num(),
  baseline_2028_10kt: num(),
  baseline_2028_tco2e: num(),
  /** 具體措施 of the sector-budget table (2 decimals); 0 where it prints "-" (forestry) */
  measures_10kt: num().min(0),
  measures_tco2e: num().min(0),
  /** 合計 column of table 12 (3 decimals); 0 where the sector has no row (forestry) */
  table12_total_10kt: num().min(0),
  table12_total_tco2e: num().min(0),
  budget_10kt: num(),
  budget_tco2e: num(),
});

export const totalsSchema = z.strictObject({
  base_year: z.number().int(),
  base_year_net_10kt: num(),
  base_year_net_tco2e: num(),
  actual_2023_gross_10kt: num(),
  actual_2023_gross_tco2e: num(),
  actual_2023_net_10kt: num(),
  actual_2023_net_tco2e: num(),
  baseline_2028_gross_10kt: num(),
  baseline_2028_gross_tco2e: num(),
  baseline_2028_net_10kt: num(),
  baseline_2028_net_tco2e: num(),
  measures_10kt: num(),
  measures_tco2e: num(),
  table12_total_10kt: num(),
  table12_total_tco2e: num(),
  budget_gross_10kt: num(),
  budget_gross_tco2e: num(),
  budget_net_10kt: num(),
  budget_net_tco2e: num(),
  /** the ± band on the net budget */
  uncertainty_10kt: num().min(0),
  uncertainty_tco2e: num().min(0),
  uncertainty_note: text(),
  baseline_vs_base_year_pct: num(),
  budget_vs_base_year_pct: num(),
  budget_vs_base_year_uncertainty_pct: num().min(0),
});

const budgetObject = z.strictObject({
  $comment: z.string().optional(),
  id: z.string().regex(KEBAB, { error: 'must be kebab-case (a-z, 0-9, single hyphens)' }),
  name: z.strictObject({ zh: text(), en: text() }),
  period: z.strictObject({ from: isoDate(), to: isoDate() }),
  target_year: z.number().int(),
  unit_note: text(),
  source: z.strictObject({
    title_zh: text(),
    title_en: text(),
    publisher_zh: text().optional(),
    status: text().optional(),
    /** relative to the repository root */
    file: text(),
    tables: z.array(tableRef).min(1),
    sections: text().optional(),
  }),
  sectors: z.array(sectorSchema).min(1),
  totals: totalsSchema,
  measures: z.array(measureSchema).min(1),
});

/** 萬噸 → t; a pair agrees when within 0.01 t (both are transcriptions of one printed figure) */
const TONNES_PER_10KT = 10_000;
const pairAgrees = (tenKt: number | null, t: number | null): boolean =>
  tenKt === null || t === null ? tenKt === t : Math.abs(tenKt * TONNES_PER_10KT - t) < 0.01;

/** every `<x>_10kt` key of `obj` with a `<x>_tco2e` sibling */
function checkPairs(obj: Record<string, unknown>, at: (string | number)[], ctx: z.RefinementCtx): void {
  for (const key of Object.keys(obj)) {
    if (!key.endsWith('_10kt')) continue;
    const tKey = `${key.slice(0, -'_10kt'.length)}_tco2e`;
    if (!(tKey in obj)) continue;
    const tenKt = obj[key] as number | null;
    const t = obj[tKey] as number | null;
    if (!pairAgrees(tenKt, t)) {
      ctx.addIssue({
        code: 'custom',
        path: [...at, tKey],
        message: `must equal ${key} × 10,000 (${key} = ${String(tenKt)} 萬噸 → ${tenKt === null ? 'null' : tenKt * TONNES_PER_10KT} t), got ${String(t)}`,
      });
    }
  }
}

export const budgetSchema = budgetObject.superRefine((b, ctx) => {
  if (b.period.from > b.period.to) {
    ctx.addIssue({ code: 'custom', path: ['period', 'to'], message: `must not be before period.from (${b.period.from})` });
  }
  const fromYear = Number(b.period.from.slice(0, 4));
  const toYear = Number(b.period.to.slice(0, 4));
  if (b.target_year < fromYear || b.target_year > toYear) {
    ctx.addIssue({ code: 'custom', path: ['target_year'], message: `must lie within the period ${fromYear}–${toYear}` });
  }

  checkPairs(b.totals as Record<string, unknown>, ['totals'], ctx);

  const sectorIds = new Set<string>();
  b.sectors.forEach((s, i) => {
    if (sectorIds.has(s.id)) ctx.addIssue({ code: 'custom', path: ['sectors', i, 'id'], message: `duplicate sector "${s.id}"` });
    sectorIds.add(s.id);
    checkPairs(s as Record<string, unknown>, ['sectors', i], ctx);
  });
  for (const id of SECTORS) {
    if (!sectorIds.has(id)) ctx.addIssue({ code: 'custom', path: ['sectors'], message: `missing sector "${id}"` });
  }

  const ids = new Set<string>();
  const rows = new Set<number>();
  b.measures.forEach((m, i) => {
    if (ids.has(m.id)) ctx.addIssue({ code: 'custom', path: ['measures', i, 'id'], message: `duplicate measure id "${m.id}"` });
    ids.add(m.id);
    if (rows.has(m.table12_row)) {
      ctx.addIssue({ code: 'custom', path: ['measures', i, 'table12_row'], message: `duplicate table-12 row ${m.table12_row}` });
    }
    rows.add(m.table12_row);
    checkPairs(m as Record<string, unknown>, ['measures', i], ctx);
    if (m.sector !== null && !sectorIds.has(m.sector)) {
      ctx.addIssue({ code: 'custom', path: ['measures', i, 'sector'], message: `"${m.sector}" is not in sectors[]` });
    }
    if (m.stream !== null && !m.metered) {
      ctx.addIssue({ code: 'custom', path: ['measures', i, 'metered'], message: `must be true when stream is set ("${m.stream}")` });
    }
    if (m.sold_as_credits && !m.credits_note) {
      ctx.addIssue({ code: 'custom', path: ['measures', i, 'credits_note'], message: 'required when sold_as_credits is true' });
    }
  });
  b.measures.forEach((m, i) => {
    if (m.allocation && !ids.has(m.allocation.of)) {
      ctx.addIssue({ code: 'custom', path: ['measures', i, 'allocation', 'of'], message: `no measure "${m.allocation.of}"` });
    }
  });
});

export type Budget = z.infer<typeof budgetSchema>;
export type BudgetMeasure = Budget['measures'][number];
export type BudgetSector = Budget['sectors'][number];
export type BudgetInput = z.infer<typeof inputSchema>;

/** The repository root: the first folder above `from` holding a package.json (works from accounting/budget/ and dist/accounting/budget/). */
function repoRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}: cannot find the project root`);
    dir = up;
  }
}

/**
 * The source copy of the default budget file. tsc does not copy .json into dist/, so this resolves
 * against the repository root, not against the compiled module's folder.
 */
export function defaultBudgetFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.join(repoRoot(here), 'accounting', 'budget', BUDGET_FILE_NAME);
}

/** "measures[3] (enterprise-voluntary-targets).reduction_2028_tco2e" */
function formatPath(p: readonly PropertyKey[], data: unknown): string {
  let out = '';
  let node: unknown = data;
  for (const key of p) {
    if (typeof key === 'number') {
      out += `[${key}]`;
      node = Array.isArray(node) ? node[key] : undefined;
      const id = node && typeof node === 'object' ? (node as { id?: unknown }).id : undefined;
      if (typeof id === 'string') out += ` (${id})`;
    } else {
      out += out ? `.${String(key)}` : String(key);
      node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    }
  }
  return out || '(top level)';
}

export class BudgetValidationError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid budget file:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BudgetValidationError';
  }
}

/** Validate already-parsed JSON; `label` names it in errors. Throws BudgetValidationError naming each bad field. */
export function parseBudget(data: unknown, label = '<budget>'): Budget {
  const result = budgetSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((iss) => `${formatPath(iss.path, data)}: ${iss.message}`);
  throw new BudgetValidationError(label, problems);
}

/** Read and validate a budget file (default: accounting/budget/kaohsiung-2027-2028.json in the source tree). */
export function loadBudget(file: string = defaultBudgetFile()): Budget {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read budget file: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  return parseBudget(data, file);
}

/** The measure with this id, or undefined. */
export function measureById(b: Budget, id: string): BudgetMeasure | undefined {
  return b.measures.find((m) => m.id === id);
}
