import type { Command } from 'commander';
import { openServiceState } from '../app/state.js';
import { DeviceRegistry } from '../devices/registry.js';
import { topicFor } from '../devices/topics.js';
import { command, dataDirOf, requireDataDir, usage, UsageError } from './context.js';
import { post, runningService, ServiceError } from './service-client.js';

interface Flags {
  dataDir?: string;
  json?: boolean;
}

/**
 * Through the running service when there is one on the data dir (so it closes the device's MQTT and OCPP
 * connections at once), else null: the caller then writes the data dir itself (nothing is connected).
 */
async function viaService(flags: Flags, p: string, body: object): Promise<{ status: number; body: Record<string, unknown> } | null> {
  const ep = await runningService({ dataDir: flags.dataDir });
  if (!ep) return null;
  const a = await post<Record<string, unknown>>(ep, p, JSON.stringify(body), 'application/json');
  if (a.status === 404) throw usage('ID', `no device "${p.split('/')[3]}" is registered (netzero devices list)`);
  if (a.status === 400) {
    const issues = (a.body.issues as Array<{ field: string; reason: string }> | undefined) ?? [];
    throw new UsageError(issues.map((i) => `--${i.field}: ${i.reason}`));
  }
  if (a.status !== 200) throw new ServiceError(`the service answered ${a.status}: ${JSON.stringify(a.body).slice(0, 300)}`);
  return a;
}

/** The data dir's registry, for a device that must exist; closes the database after `fn`. */
async function onDataDir<T>(flags: Flags, id: string, fn: (registry: DeviceRegistry) => Promise<T>): Promise<T> {
  const db = await openServiceState(requireDataDir(dataDirOf(flags)));
  try {
    const registry = new DeviceRegistry(db);
    const device = await registry.get(id);
    if (!device || device.role !== 'device') throw usage('ID', `no device "${id}" is registered (netzero devices list)`);
    return await fn(registry);
  } finally {
    await db.destroy();
  }
}

/**
 * `netzero devices rotate-secret|disable|enable ID`: the same as `POST /api/devices/:id/secret|disable|enable`.
 * With the service running on the data dir they go through it (ports.json and admin-token), so the device's
 * connections are closed at once; with no service running they write the data dir.
 */
export function registerDeviceAdminCommands(program: Command): void {
  const devices = program.commands.find((c) => c.name() === 'devices') ?? program.command('devices');

  devices
    .command('rotate-secret')
    .description('give a device a new secret (printed once); the old one stops working at once and its connections are closed')
    .argument('<id>', 'the device id')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(
      command('devices rotate-secret', async (id: string, flags: Flags) => {
        const answer = await viaService(flags, `/api/devices/${encodeURIComponent(id)}/secret`, {});
        const reg = answer
          ? (answer.body as { id: string; secret: string; topic: string })
          : await onDataDir(flags, id, async (registry) => {
              const secret = await registry.rotateSecret(id);
              const d = (await registry.get(id))!;
              return { id, secret, topic: topicFor(d.site, id, 'telemetry') };
            });
        if (flags.json) process.stdout.write(`${JSON.stringify({ id: reg.id, secret: reg.secret, topic: reg.topic })}\n`);
        else process.stdout.write(`id      ${reg.id}\nsecret  ${reg.secret}\ntopic   ${reg.topic}\n(the new secret is shown only this once; the old one no longer works)\n`);
      }),
    );

  devices
    .command('disable')
    .description("disable a device: its connections are closed and refused, its readings refused; its history stays and still counts")
    .argument('<id>', 'the device id')
    .requiredOption('--reason <text>', 'why (kept with the device and told to whoever looks)')
    .option('--by <name>', 'who disables it (default: admin)')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(
      command('devices disable', async (id: string, flags: Flags & { reason: string; by?: string }) => {
        const reason = flags.reason.trim();
        if (reason.length < 3) throw usage('--reason', 'say why, in a few words');
        if (reason.length > 500) throw usage('--reason', 'must be at most 500 characters');
        const body = { reason, ...(flags.by !== undefined ? { by: flags.by } : {}) };
        const answer = await viaService(flags, `/api/devices/${encodeURIComponent(id)}/disable`, body);
        const disabled = answer
          ? (answer.body.disabled as { at: string; reason: string; by: string })
          : await onDataDir(flags, id, async (registry) => (await registry.setDisabled(id, { reason, by: flags.by?.trim() || 'admin' }))!.disabled!);
        if (flags.json) process.stdout.write(`${JSON.stringify({ id, disabled })}\n`);
        else process.stdout.write(`disabled ${id} at ${disabled.at} by ${disabled.by}: ${disabled.reason}\n`);
      }),
    );

  devices
    .command('enable')
    .description('enable a disabled device again (its secret is unchanged)')
    .argument('<id>', 'the device id')
    .option('--data-dir <dir>', 'data directory (default: NETZERO_DATA_DIR or ./data)')
    .option('--json', 'print JSON')
    .action(
      command('devices enable', async (id: string, flags: Flags) => {
        const answer = await viaService(flags, `/api/devices/${encodeURIComponent(id)}/enable`, {});
        if (!answer) await onDataDir(flags, id, (registry) => registry.setDisabled(id, null));
        if (flags.json) process.stdout.write(`${JSON.stringify({ id, disabled: null })}\n`);
        else process.stdout.write(`enabled ${id}\n`);
      }),
    );
}
