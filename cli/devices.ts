import path from 'node:path';
import type { Command } from 'commander';
import { openServiceState } from '../app/state.js';
import { parseParamFlag } from '../devices/params.js';
import { zodToFieldErrors } from '../devices/payload.js';
import { DeviceRegistry, DuplicateIdError, registrationSchema } from '../devices/registry.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function dataDirOf(opts: { dataDir?: string }): string {
  return path.resolve(opts.dataDir ?? process.env.NETZERO_DATA_DIR ?? './data');
}

/**
 * `netzero devices add|list`: works on the data directory directly (SQLite in WAL mode allows it next to
 * a running service), so operators can register devices before the first start.
 */
export function registerDeviceCommands(program: Command): void {
  const devices = program.command('devices').description('register and list devices');

  devices
    .command('add')
    .description('register a device (prints its id, secret and topic; the secret is shown only once)')
    .option('--kind <kind>', 'smart_meter | pv_inverter | biogas | ev_charger')
    .option('--site <site>', 'site id (one MQTT topic level)')
    .option('--sector <sector>', 'industry | residential_commercial | transport | environment | agriculture | forestry')
    .option('--measure <measure>', 'the budget measure this device reports on')
    .option('--name <name>', 'a human name')
    .option('--id <id>', 'choose the device id instead of a generated one')
    .option('--role <role>', '"viewer" creates a read-only MQTT user instead of a device')
    .option('--param <key=value>', 'a method setting, repeatable (nameplate_kw=100, counter_max=99999, vehicle_class=scooter, …)', collect, [])
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const params = Object.fromEntries((opts.param as string[]).map(parseParamFlag));
      const input =
        opts.role === 'viewer'
          ? { role: 'viewer', id: opts.id, name: opts.name }
          : { kind: opts.kind, site: opts.site, sector: opts.sector, measure: opts.measure, name: opts.name, id: opts.id, params };
      const parsed = registrationSchema.safeParse(input);
      if (!parsed.success) {
        for (const e of zodToFieldErrors(parsed.error)) {
          const flag = e.field.startsWith('params.') ? `--param ${e.field.slice(7)}` : `--${e.field}`;
          process.stderr.write(`netzero devices add: ${flag}: ${e.reason}\n`);
        }
        process.exitCode = 2;
        return;
      }
      const db = await openServiceState(dataDirOf(opts));
      try {
        const reg = await new DeviceRegistry(db).register(parsed.data);
        if (opts.json) process.stdout.write(`${JSON.stringify(reg)}\n`);
        else process.stdout.write(`id      ${reg.id}\nsecret  ${reg.secret}\ntopic   ${reg.topic}\n(the secret is shown only this once)\n`);
      } catch (err) {
        if (err instanceof DuplicateIdError) {
          process.stderr.write(`netzero devices add: --id: ${err.message}\n`);
          process.exitCode = 2;
        } else throw err;
      } finally {
        await db.destroy();
      }
    });

  devices
    .command('list')
    .description('list registered devices (no secrets)')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const db = await openServiceState(dataDirOf(opts));
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
    });
}
