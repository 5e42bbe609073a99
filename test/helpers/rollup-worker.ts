import readline from 'node:readline';
import { openAccounts } from '../../accounting/accounts.js';
import { monthWindow } from '../../accounting/periods.js';
import { DeviceRegistry } from '../../devices/registry.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { openServiceState } from '../../app/state.js';

/**
 * A second process on a data dir, for test/unit/rollup-concurrency.test.ts: it opens its own state
 * database and reading store and the accounting room on them, as `netzero rollup` does, reads the
 * month once without writing (warm-up), prints `ready`, then for every `go` line on stdin computes
 * the month `calls` times at once and prints one JSON line: each call's revision and whether it
 * wrote one, or its error. `exit` closes and exits.
 *
 * node --import tsx test/helpers/rollup-worker.ts <data dir> <YYYY-MM> <calls>
 */

const [dir, month, callsArg] = process.argv.slice(2);
if (!dir || !month || !callsArg) {
  process.stderr.write('usage: rollup-worker.ts <data dir> <YYYY-MM> <calls>\n');
  process.exit(2);
}
const calls = Number(callsArg);

const state = await openServiceState(dir);
const store = SqliteStore.inDataDir(dir);
await store.start();
const registry = new DeviceRegistry(state);
const tz = 'Asia/Taipei';
const accounts = await openAccounts({ state, store, registry, tz, gwpSet: 'ar5' });
// Warm up without writing (the month's rows and stored rollup), so every computation of a round takes the
// same path at the same pace instead of the first ones paying for loading code and factors.
await accounts.ledger.rowsByMonth(monthWindow(month, tz));
await accounts.rollups.get(month);
process.stdout.write('ready\n');

export type WorkerOutcome = { revision: number; created: boolean } | { error: string };

for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line === 'exit') break;
  if (line !== 'go') continue;
  const settled = await Promise.allSettled(Array.from({ length: calls }, () => accounts.rollups.compute(month, 'manual')));
  const outcomes: WorkerOutcome[] = settled.map((s) =>
    s.status === 'fulfilled' ? { revision: s.value.revision, created: s.value.created } : { error: String(s.reason) },
  );
  process.stdout.write(`${JSON.stringify(outcomes)}\n`);
}
await store.close();
await state.destroy();
