import type { DeviceRegistry } from '../devices/registry.js';
import type { StateDb, TableSet } from '../lib/state-db.js';
import type { ReadingStore } from '../store/types.js';
import { loadBudget, type Budget } from './budget/budget.js';
import { budgetProgress, measureInfo } from './budget-progress.js';
import { factorTables, FactorRegistry } from './factors/registry.js';
import { Ledger } from './ledger/ledger.js';
import { MonthlyRollups, rollupTables } from './rollups/monthly.js';
import { ReviewDecisions, reviewTables } from './review/decisions.js';
import { ReviewQueue } from './review/queue.js';
import { AnnualReports, annualReportTables } from './reports/annual/revisions.js';
import { annualSources } from './reports/annual/sources.js';

/** The accounting room's tables in the state database. */
export const accountingTables: readonly TableSet[] = [factorTables, rollupTables, reviewTables, annualReportTables];

/** The accounting room, assembled: factor registry, budget, ledgers, rollups. Used by the service and the CLI. */
export interface Accounts {
  factors: FactorRegistry;
  budget: Budget;
  ledger: Ledger;
  rollups: MonthlyRollups;
  reviews: ReviewDecisions;
  /** held-out intervals and the decisions on them */
  queue: ReviewQueue;
  /** the annual progress report's revisions (accounting/reports/annual/) */
  annual: AnnualReports;
  progress: (opts?: { year?: number; now?: number; signal?: AbortSignal }) => ReturnType<typeof budgetProgress>;
}

export interface AccountsDeps {
  state: StateDb;
  store: ReadingStore;
  registry: DeviceRegistry;
  tz: string;
  gwpSet: string;
  budgetFile?: string;
}

/** The accounting room's parts, wired (reads the budget file; touches no database). */
export function createAccounts(deps: AccountsDeps): Accounts {
  const factors = new FactorRegistry(deps.state);
  const budget = loadBudget(deps.budgetFile);
  const reviews = new ReviewDecisions(deps.state);
  const queue = new ReviewQueue({ store: deps.store, decisions: reviews, tz: deps.tz });
  const ledger = new Ledger({ store: deps.store, registry: deps.registry, factors, measures: measureInfo(budget), tz: deps.tz, gwpSet: deps.gwpSet, reviews });
  const rollups = new MonthlyRollups(deps.state, ledger, factors);
  const annual = new AnnualReports(deps.state, annualSources({ store: deps.store, registry: deps.registry, budget, factors, rollups, reviews, queue, ledger, tz: deps.tz, gwpSet: deps.gwpSet }));
  return { factors, budget, ledger, rollups, reviews, queue, annual, progress: (opts) => budgetProgress(budget, { ledger, rollups }, opts) };
}

/** The accounting room for a command or a test: wired, with the built-in factor versions written. */
export async function openAccounts(deps: AccountsDeps): Promise<Accounts> {
  const accounts = createAccounts(deps);
  await accounts.factors.ensureBuiltins();
  return accounts;
}
