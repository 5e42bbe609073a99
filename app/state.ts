import { accountingTables } from '../accounting/accounts.js';
import { operatorTables } from '../devices/operators.js';
import { measureTables, registryTables } from '../devices/registry.js';
import { quarantineTables } from '../ingest/quarantine.js';
import { ocppTables } from '../ingest/sources/ocpp/transactions.js';
import { openStateDb, type StateDb } from '../lib/state-db.js';

/** Every room's tables in the state database, in path order. */
export const STATE_TABLES = [registryTables, measureTables, operatorTables, quarantineTables, ocppTables, ...accountingTables];

/** The state database of a data dir with every room's tables up to date (the service, the CLI and tests use this). */
export function openServiceState(dataDir: string): Promise<StateDb> {
  return openStateDb(dataDir, STATE_TABLES);
}
