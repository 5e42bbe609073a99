import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { createLogger } from '../app/logger.js';
import { zodToFieldErrors } from '../devices/payload.js';
import { SimulatedFleet } from '../devices/simulators/fleet.js';
import { fleetOfSize, type LoadDevice } from '../devices/simulators/load-fleet.js';

const flagsSchema = z.object({
  devices: z.coerce.number().int().min(1).max(100_000),
  interval: z.coerce.number().min(0.1).max(86_400),
  url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, { error: 'must be an MQTT URL (mqtt://host:port, ws://host:port/mqtt, …)' }),
  backfillHours: z.coerce.number().min(0).max(24 * 366),
  prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/, { error: 'letters, digits, "_", "-", "." (at most 31)' }),
  duration: z.coerce.number().min(0).optional(),
  api: z.string().url().optional(),
  token: z.string().optional(),
  rampUp: z.coerce.number().min(0).max(3600),
  tsFormat: z.enum(['iso', 'epoch']),
});

/** Registers the load devices through the HTTP API and returns their secrets. */
async function registerAll(devices: LoadDevice[], api: string, token: string | undefined): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  for (const [i, d] of devices.entries()) {
    const res = await fetch(new URL('/api/devices', api), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ id: d.id, kind: d.kind, site: d.site, sector: d.sector }),
    });
    const body = (await res.json().catch(() => ({}))) as { secret?: string; reason?: string; error?: string };
    if (res.status === 409) throw new Error(`device ${d.id} is already registered; choose another --prefix`);
    if (res.status !== 201 || !body.secret) throw new Error(`registering ${d.id} failed: ${res.status} ${body.reason ?? body.error ?? ''}`);
    secrets.set(d.id, body.secret);
    if ((i + 1) % 100 === 0) process.stderr.write(`registered ${i + 1}/${devices.length}\n`);
  }
  return secrets;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run simulated devices (PV, smart meters, biogas, EV chargers) against any MQTT broker; doubles as a load generator')
    .option('--devices <n>', 'number of devices, cycling through the four kinds', '10')
    .option('--interval <seconds>', 'live publishing period per device', '10')
    .option('--url <url>', 'broker URL', 'mqtt://127.0.0.1:1883')
    .option('--backfill-hours <h>', 'first publish the last H hours as batches', '0')
    .option('--prefix <prefix>', 'device id prefix (ids are PREFIX-pv-0001, …)', 'sim')
    .option('--duration <seconds>', 'stop after this long (default: until Ctrl-C)')
    .option('--api <url>', 'register the devices first through this netzero HTTP API (e.g. http://127.0.0.1:8080)')
    .option('--token <token>', 'admin token for --api (default: NETZERO_ADMIN_TOKEN)')
    .option('--ramp-up <seconds>', 'spread the first connections over this many seconds', '0')
    .option('--ts-format <format>', 'iso (with +08:00) or epoch (milliseconds)', 'iso')
    .action(async (raw) => {
      const parsed = flagsSchema.safeParse(raw);
      if (!parsed.success) {
        for (const e of zodToFieldErrors(parsed.error)) {
          process.stderr.write(`netzero simulate: --${e.field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${e.reason}\n`);
        }
        process.exitCode = 2;
        return;
      }
      const f = parsed.data;
      const log = createLogger(process.env.NETZERO_LOG_LEVEL ?? 'info', 'netzero-simulate');
      // Counters start from the first day of last month (stable for a month of restarts, and a device's
      // first reading integrates only a few weeks), or earlier if the backfill reaches further back.
      const since = DateTime.now().setZone('Asia/Taipei').minus({ hours: f.backfillHours }).startOf('month').minus({ months: 1 });
      const model = { commissioned: since.toISODate()! };
      let devices = fleetOfSize(f.devices, { prefix: f.prefix, model });
      if (f.api) {
        const secrets = await registerAll(devices, f.api, f.token ?? process.env.NETZERO_ADMIN_TOKEN);
        devices = fleetOfSize(f.devices, { prefix: f.prefix, model, secretFor: (id) => secrets.get(id) });
      }
      const fleet = new SimulatedFleet(devices, {
        url: f.url,
        logger: log,
        intervalS: f.interval,
        backfillHours: f.backfillHours,
        rampUpS: f.rampUp,
        tsFormat: f.tsFormat,
      });
      const started = Date.now();
      const report = () => {
        const s = fleet.stats();
        const secs = (Date.now() - started) / 1000;
        process.stderr.write(
          `${secs.toFixed(0)} s: ${s.connected}/${s.devices} connected, ${s.published} readings published, ${s.acknowledged} acknowledged ` +
            `(${(s.acknowledged / Math.max(secs, 1)).toFixed(1)}/s), ${s.skipped} ticks skipped, ${s.failed} failed, ${s.errorsReceived} error messages\n`,
        );
      };
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        clearInterval(progress);
        await fleet.stop();
        report();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
      const progress = setInterval(report, 10_000);
      await fleet.start();
      if (f.duration !== undefined) setTimeout(() => void stop(), f.duration * 1000);
    });
}
