import path from 'node:path';
import { openAccounts, type Accounts } from '../accounting/accounts.js';
import { MONTH_PATTERN } from '../accounting/periods.js';
import { ConfigError, loadConfig, type Config } from '../app/config.js';
import { DeviceRegistry } from '../devices/registry.js';
import { createLogger } from '../app/logger.js';
import { openReadingStore } from '../store/open-store.js';
import type { ReadingStore } from '../store/types.js';
import type { StateDb } from '../lib/state-db.js';
import { openServiceState } from '../app/state.js';

export interface CliContext {
  config: Config;
  state: StateDb;
  store: ReadingStore;
  registry: DeviceRegistry;
  accounts: Accounts;
  close: () => Promise<void>;
}

/** Settings from the environment (a bad one → exit 2 naming it), with `--data-dir` taking precedence. */
export function cliConfig(opts: { dataDir?: string }): Config {
  try {
    const config = loadConfig();
    return opts.dataDir ? { ...config, dataDir: path.resolve(opts.dataDir) } : config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`netzero: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * Opens the data directory for a command: the state database and the reading store (SQLite in WAL mode
 * allows this beside a running service), and the accounting room on top.
 */
export async function openCliContext(opts: { dataDir?: string }): Promise<CliContext> {
  const config = cliConfig(opts);
  const state = await openServiceState(config.dataDir);
  // Query only: the service (if running) owns the spool; this command reads what reached the store.
  const store = openReadingStore(config, { log: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), queryOnly: true });
  await store.start();
  const registry = new DeviceRegistry(state);
  const accounts = await openAccounts({ state, store, registry, tz: config.timeZone, gwpSet: config.gwpSet });
  return {
    config,
    state,
    store,
    registry,
    accounts,
    close: async () => {
      await store.close();
      await state.destroy();
    },
  };
}

/** A `--month` value: YYYY-MM. */
export function parseMonth(value: string): string {
  if (!MONTH_PATTERN.test(value)) throw new Error(`--month must be YYYY-MM, got "${value}"`);
  return value;
}
