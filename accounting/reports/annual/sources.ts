import { createHash } from 'node:crypto';
import type { DeviceRegistry } from '../../../devices/registry.js';
import type { ReadingStore, Window } from '../../../store/types.js';
import type { Budget } from '../../budget/budget.js';
import { FactorSet } from '../../factors/factor-set.js';
import type { FactorRegistry } from '../../factors/registry.js';
import type { Ledger } from '../../ledger/ledger.js';
import { monthWindow } from '../../periods.js';
import type { ReviewDecisions } from '../../review/decisions.js';
import type { ReviewQueue } from '../../review/queue.js';
import type { MonthlyRollup, MonthlyRollups } from '../../rollups/monthly.js';
import { readCoverage, type CoverageDevice } from './coverage.js';
import { buildAnnualModel, type AnnualBudget, type OtherMeasure } from './model.js';
import type { AnnualBasis, AnnualSources } from './revisions.js';

/** Where the annual report's input comes from: the accounting room's parts and the store (coverage), read for one basis. */

export interface AnnualSourceDeps {
  store: ReadingStore;
  registry: DeviceRegistry;
  budget: Budget;
  factors: FactorRegistry;
  rollups: MonthlyRollups;
  reviews: ReviewDecisions;
  queue: ReviewQueue;
  ledger: Ledger;
  tz: string;
  gwpSet: string;
}

/** Held-out intervals read for the review section, at most (the queue's own bound). */
const REVIEW_LIMIT = 10_000;

export const monthsOfYear = (year: number): string[] => Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, '0')}`);

/** The calendar year in `tz`. */
export function yearWindow(year: number, tz: string): Window {
  return { from: monthWindow(`${year}-01`, tz).from, to: monthWindow(`${year}-12`, tz).to };
}

/** The budget file's measures and sectors as the annual report shows them. */
export function annualBudget(b: Budget): AnnualBudget {
  return {
    id: b.id,
    name_zh: b.name.zh,
    name_en: b.name.en,
    period: { from: b.period.from, to: b.period.to },
    target_year: b.target_year,
    source: `${b.source.title_zh} (${b.source.title_en})`,
    measures: b.measures.map((m) => {
      const a = m.inputs.find((i) => i.symbol === 'a');
      return {
        id: m.id,
        table12_row: m.table12_row,
        name_zh: m.name_zh,
        name_en: m.name_en,
        agency_zh: m.agency_zh,
        agency_en: m.agency_en,
        sector: m.sector,
        scope: m.scope,
        stream: m.stream,
        metered: m.metered,
        sold_as_credits: m.sold_as_credits,
        target_tco2e: m.reduction_2028_tco2e,
        indicator: a ? { label_zh: a.label_zh, label_en: a.label_en, unit: a.unit } : null,
      };
    }),
    sectors: b.sectors.map((s) => ({ id: s.id, name_zh: s.name_zh, name_en: s.name_en, cap_tco2e: s.budget_tco2e })),
  };
}

export function annualSources(deps: AnnualSourceDeps): AnnualSources {
  const budgetFingerprint = createHash('sha256').update(JSON.stringify(deps.budget)).digest('hex').slice(0, 12);
  return {
    async basis(year: number): Promise<AnnualBasis> {
      const months = [];
      for (const month of monthsOfYear(year)) months.push({ month, revision: (await deps.rollups.latestRevision(month)) ?? null });
      const [newest] = await deps.reviews.history(yearWindow(year, deps.tz), 1);
      return {
        months,
        factor_stamp: await deps.factors.stamp(),
        review_decision: newest?.id ?? 0,
        measures: (await deps.registry.addedMeasures()).map((m) => m.id).sort(),
        budget: budgetFingerprint,
      };
    },

    async model(year: number, basis: AnnualBasis, signal?: AbortSignal) {
      const months: Array<{ month: string; rollup: MonthlyRollup | null }> = [];
      for (const m of basis.months) {
        const rollup = m.revision === null ? undefined : await deps.rollups.get(m.month, m.revision);
        if (m.revision !== null && !rollup) throw new Error(`${m.month} has no rollup revision ${m.revision}`);
        months.push({ month: m.month, rollup: rollup ?? null });
      }
      const used = months.filter((m) => m.rollup !== null);
      const factors = await deps.factors.list();
      const others: OtherMeasure[] = (await deps.registry.knownMeasures(deps.budget.measures))
        .filter((m) => m.source !== 'budget')
        .map((m) => ({ id: m.id, name: m.name, source: m.source as OtherMeasure['source'] }));
      const coverage = await readCoverage(deps.store, await coverageDevices(deps.ledger, used), used.map((m) => monthWindow(m.month, deps.tz)), { tz: deps.tz, signal });
      const reviews = await deps.queue.list(yearWindow(year, deps.tz), { status: 'all', limit: REVIEW_LIMIT, signal });
      const grid = new FactorSet(factors).grid(year);
      return buildAnnualModel({
        year,
        tz: deps.tz,
        gwpSet: deps.gwpSet,
        months,
        factors,
        budget: annualBudget(deps.budget),
        otherMeasures: others,
        coverage,
        reviews,
        gridFactor: { id: grid.version.id, value: grid.version.value, provisional: grid.provisional },
      });
    },
  };
}

/** The devices in the accounts (with their registration time), and any device of the rows no longer among them. */
async function coverageDevices(ledger: Ledger, months: ReadonlyArray<{ rollup: MonthlyRollup | null }>): Promise<CoverageDevice[]> {
  const out = new Map<string, CoverageDevice>();
  for (const d of (await ledger.accountedDevices()).values()) {
    out.set(d.id, { device: d.id, site: d.site, kind: d.kind ?? '', registeredAt: Date.parse(d.createdAt) || null });
  }
  for (const m of months) for (const r of m.rollup?.rows ?? []) if (!out.has(r.device)) out.set(r.device, { device: r.device, site: r.site, kind: r.kind, registeredAt: null });
  return [...out.values()];
}
