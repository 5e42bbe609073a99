import type { Command } from 'commander';
import { loadBudget } from '../accounting/budget/budget.js';
import { openServiceState } from '../app/state.js';
import { parseParamFlag } from '../devices/params.js';
import { DeviceRegistry, DuplicateIdError, knownMeasures, parseRegistration } from '../devices/registry.js';
import { command, dataDirOf, openOrCreateState, requireDataDir, usage, UsageError } from './context.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** The flag of each registration field, to name it in an error. */
const FLAG_OF: Record<string, string> = { kind: '--kind', site: '--site', sector: '--sector', measure: '--measure', name: '--name', id: '--id', role: '--role' };

/** A registration error's field as the flag the operator typed: `--kind`, `--param nameplate_kw`. */
export function flagOf(field: string): string {
  if (field === 'params') return '--param';
  if (field.startsWith('params.')) return `--param ${field.slice('params.'.length)}`;
  return FLAG_OF[field] ?? `--${field}`;
}

/** `--param k=v`… as params: each must be key=value, each key given once (else a line in `errors`). */
function paramsOf(flags: string[], errors: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const flag of flags) {
    if (flag.indexOf('=') <= 0) {
      errors.push(`--param: must be key=value (nameplate_kw=50), got "${flag}"`);
      continue;
    }
    const [key, value] = parseParamFlag(flag);
    const problem = setParam(params, key, value);
    if (problem) errors.push(`--param ${key}: ${problem}`);
  }
  return params;
}

/**
 * Sets `key` in `params`; a dotted key sets a nested one (`modbus.host=10.0.0.5` → params.modbus.host).
 * Returns why it cannot be set, or null.
 */
export function setParam(params: Record<string, unknown>, key: string, value: unknown): string | null {
  const path = key.split('.');
  if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) return 'each part of a dotted key must be a name (modbus.host=…)';
  let into = params;
  for (const [i, part] of path.slice(0, -1).entries()) {
    const next = Object.hasOwn(into, part) ? into[part] : (into[part] = {});
    if (typeof next !== 'object' || next === null || Array.isArray(next)) return `${path.slice(0, i + 1).join('.')} is already given as a value`;
    into = next as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (Object.hasOwn(into, last)) return typeof into[last] === 'object' ? `${key} is already given as an object (${key}.…)` : 'given twice';
  into[last] = value;
  return null;
}

/**
 * `netzero devices add|list`: works on the data directory directly (SQLite in WAL mode allows it next to
 * a running service). `devices add` may create the data dir, so operators can register devices before
 * the first start; `devices list` needs an existing one.
 */
export function registerDeviceCommands(program: Command): void {
  const devices = program.command('devices').description('register and list devices');

  devices
    .command('add')
    .description('register a device (prints its id, secret and topic; the secret is shown only once); creates the data dir on a new install')
    .option('--kind <kind>', 'smart_meter | pv_inverter | biogas | ev_charger')
    .option('--site <site>', 'site id (one MQTT topic level)')
    .option('--sector <sector>', 'industry | residential_commercial | transport | environment | agriculture | forestry')
    .option('--measure <measure>', 'the measure this device reports on: a budget measure or another known one (netzero measures list)')
    .option('--name <name>', 'a human name')
    .option('--id <id>', 'choose the device id instead of a generated one')
    .option('--role <role>', '"viewer" creates a read-only MQTT user instead of a device')
    .option('--param <key=value>', 'a method setting, repeatable (nameplate_kw=100, counter_max=99999, vehicle_class=scooter, …); a dotted key sets a nested one (modbus.host=10.0.0.5, modbus.poll_s=60)', collect, [])
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(
      command('devices add', async (opts) => {
        const choice = dataDirOf(opts);
        const flags = opts.param as string[];
        const paramErrors: string[] = [];
        // Only the flags given: a viewer refuses device flags by name, a device its missing ones.
        const given = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
        const input =
          opts.role !== undefined
            ? given({ role: opts.role, id: opts.id, name: opts.name, kind: opts.kind, site: opts.site, sector: opts.sector, measure: opts.measure, params: flags.length > 0 ? {} : undefined })
            : given({ kind: opts.kind, site: opts.site, sector: opts.sector, measure: opts.measure, name: opts.name, id: opts.id, params: paramsOf(flags, paramErrors) });
        const budget = loadBudget().measures;
        const { db, checked } = await openOrCreateState('devices add', choice, async (existing) => {
          const known = knownMeasures(budget, existing ? await new DeviceRegistry(existing).addedMeasures() : []);
          const parsed = parseRegistration(input, known);
          if (!parsed.success || paramErrors.length > 0) {
            const errors = parsed.success ? [] : parsed.errors;
            const badRole = errors.some((e) => e.field === 'role');
            // With --role viewer, device flags are refused by name; with another --role, only the role is the problem.
            const lines = errors
              .filter((e) => !(badRole && e.reason.startsWith('is not a field of a viewer')))
              .map((e) => `${flagOf(e.field)}: ${e.reason.startsWith('is not a field of a viewer') ? 'not allowed with --role viewer' : e.reason}`);
            throw new UsageError([...paramErrors, ...lines]);
          }
          return parsed.data;
        });
        try {
          const reg = await new DeviceRegistry(db).register(checked);
          if (opts.json) process.stdout.write(`${JSON.stringify(reg)}\n`);
          else process.stdout.write(`id      ${reg.id}\nsecret  ${reg.secret}\ntopic   ${reg.topic}\n(the secret is shown only this once)\n`);
        } catch (err) {
          if (err instanceof DuplicateIdError) throw usage('--id', err.message);
          throw err;
        } finally {
          await db.destroy();
        }
      }),
    );

  devices
    .command('list')
    .description('list registered devices (no secrets)')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(
      command('devices list', async (opts: { dataDir?: string; json?: boolean }) => {
        const db = await openServiceState(requireDataDir(dataDirOf(opts)));
        try {
          const list = await new DeviceRegistry(db).list();
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
            return;
          }
          const rows = list.map((d) => [d.id, d.role === 'viewer' ? 'viewer' : (d.kind ?? ''), d.site, d.sector ?? '', d.measure ?? '', d.demo ? 'demo' : '']);
          const head = ['ID', 'KIND', 'SITE', 'SECTOR', 'MEASURE', ''];
          const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
          for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
          if (rows.length === 0) process.stdout.write('(no devices registered)\n');
        } finally {
          await db.destroy();
        }
      }),
    );
}
