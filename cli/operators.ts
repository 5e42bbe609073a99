import type { Command } from 'commander';
import { openServiceState } from '../app/state.js';
import { DuplicateOperatorError, OperatorStore, parseNewOperator } from '../devices/operators.js';
import { command, dataDirOf, openOrCreateState, requireDataDir, usage, UsageError } from './context.js';

const collect = (value: string, previous: string[]) => [...previous, value];
const FLAG_OF: Record<string, string> = { name: '--name', id: '--id', sites: '--site' };
const flagOf = (field: string) => FLAG_OF[field] ?? (field.startsWith('sites[') ? '--site' : `--${field}`);

/**
 * `netzero operators add|list|remove`: site-scoped logins for the operator page `/operators` and the device
 * endpoints (README, "Operators"). They work on the data dir's state database directly, beside a running
 * service: it reads operators at each request, so a removed operator's sessions end at once.
 */
export function registerOperatorCommands(program: Command): void {
  const operators = program.command('operators').description('operators: logins that see and act on the devices of their sites only');

  operators
    .command('add')
    .description('add an operator (prints its id and secret; the secret is shown only once)')
    .requiredOption('--name <name>', 'a human name (a person or a facility company)')
    .option('--site <site>', 'a site the operator may see and act on, repeatable (at least one)', collect, [])
    .option('--id <id>', 'choose the operator id instead of a generated one')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(
      command('operators add', async (opts: { name: string; site: string[]; id?: string; dataDir?: string; json?: boolean }) => {
        const parsed = parseNewOperator({ name: opts.name, sites: opts.site, ...(opts.id !== undefined ? { id: opts.id } : {}) });
        if (!parsed.success) throw new UsageError(parsed.errors.map((e) => `${flagOf(e.field)}: ${e.reason}`));
        const { db } = await openOrCreateState('operators add', dataDirOf(opts), async () => undefined);
        try {
          const { operator, secret } = await new OperatorStore(db).add(parsed.data);
          if (opts.json) process.stdout.write(`${JSON.stringify({ id: operator.id, name: operator.name, sites: operator.sites, secret })}\n`);
          else process.stdout.write(`id      ${operator.id}\nsecret  ${secret}\nsites   ${operator.sites.join(', ')}\n(the secret is shown only this once; log in on /operators with the id and the secret)\n`);
        } catch (err) {
          if (err instanceof DuplicateOperatorError) throw usage('--id', err.message);
          throw err;
        } finally {
          await db.destroy();
        }
      }),
    );

  operators
    .command('list')
    .description('list operators and their sites (no secrets)')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(
      command('operators list', async (opts: { dataDir?: string; json?: boolean }) => {
        const db = await openServiceState(requireDataDir(dataDirOf(opts)));
        try {
          const list = await new OperatorStore(db).list();
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(list.map((o) => ({ id: o.id, name: o.name, sites: o.sites, created_at: o.createdAt })), null, 2)}\n`);
            return;
          }
          const rows = list.map((o) => [o.id, o.name, o.sites.join(',')]);
          const head = ['ID', 'NAME', 'SITES'];
          const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
          for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
          if (rows.length === 0) process.stdout.write('(no operators)\n');
        } finally {
          await db.destroy();
        }
      }),
    );

  operators
    .command('remove')
    .description('remove an operator (its sessions end at its next request)')
    .argument('<id>', 'the operator id')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .action(
      command('operators remove', async (id: string, opts: { dataDir?: string }) => {
        const db = await openServiceState(requireDataDir(dataDirOf(opts)));
        try {
          if (!(await new OperatorStore(db).remove(id))) throw usage('ID', `no operator "${id}" (netzero operators list)`);
          process.stdout.write(`removed operator ${id}\n`);
        } finally {
          await db.destroy();
        }
      }),
    );
}
