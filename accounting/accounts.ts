import type { DeviceRegistry } from '../devices/registry.js';
import type { StateDb } from '../store/state-db.js';
import type { ReadingStore } from '../store/types.js';
import { loadBudget, type Budget } from './budget/budget.js';
import { budgetProgress, measureInfo } from './budget-progress.js';
import { FactorRegistry } from './factors/registry.js';
import { Ledger } from './ledger/ledger.js';
import { MonthlyRollups } from './rollups/monthly.js';

/** The accounting room, assembled: factor registry, budget, ledgers, rollups. Used by the service and the CLI. */
export interface Accounts {
  factors: FactorRegistry;
  budget: Budget;
  ledger: Ledger;
  rollups: MonthlyRollups;
  progress: (opts?: { year?: number; now?: number }) => ReturnType<typeof budgetProgress>;
}

export async function openAccounts(deps: {
  state: StateDb;
  store: ReadingStore;
  registry: DeviceRegistry;
  tz: string;
  gwpSet: string;
  budgetFile?: string;
}): Promise<Accounts> {
  const factors = new FactorRegistry(deps.state);
  await factors.ensureBuiltins();
  const budget = loadBudget(deps.budgetFile);
  const ledger = new Ledger({ store: deps.store, registry: deps.registry, factors, measures: measureInfo(budget), tz: deps.tz, gwpSet: deps.gwpSet });
  const rollups = new MonthlyRollups(deps.state, ledger);
  return { factors, budget, ledger, rollups, progress: (opts) => budgetProgress(budget, { ledger, rollups }, opts) };
}
