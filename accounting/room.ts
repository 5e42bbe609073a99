import type { Logger } from 'pino';
import type { Room } from '../lib/rooms.js';
import { createAccounts, type Accounts, type AccountsDeps } from './accounts.js';
import { RollupScheduler } from './rollups/scheduler.js';

/**
 * The accounting room of the service: the accounts (factors, budget, ledger, rollups) and the rollup
 * scheduler. Starting writes the built-in factor versions that are missing and starts the scheduler;
 * stopping lets a running rollup finish.
 */
export class AccountingRoom implements Room {
  readonly name = 'accounting';
  readonly accounts: Accounts;
  readonly scheduler: RollupScheduler;

  constructor(deps: AccountsDeps & { lateCheckS: number; log: Logger }) {
    this.accounts = createAccounts(deps);
    this.scheduler = new RollupScheduler(
      { rollups: this.accounts.rollups, store: deps.store, log: deps.log },
      { tz: deps.tz, lateCheckS: deps.lateCheckS },
    );
  }

  async start(): Promise<void> {
    await this.accounts.factors.ensureBuiltins();
    await this.scheduler.start();
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
  }
}
