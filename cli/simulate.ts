import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { createLogger } from '../app/logger.js';
import { zodToFieldErrors } from '../devices/payload.js';
import { SimulatedFleet } from '../devices/simulators/fleet.js';
import { fleetOfSize, type LoadDevice } from '../devices/simulators/load-fleet.js';
import { command, usage, UsageError } from './context.js';

/** A number flag between min and max (a whole one if `int`); the message says the range and what was given. */
const numberIn = (min: number, max: number, unit: string, int = false) => {
  const reason = `must be ${int ? 'a whole number' : 'a number'} from ${min} to ${max}${unit}`;
  return z
    .string()
    .trim()
    .refine((v) => v !== '' && Number.isFinite(Number(v)) && (!int || Number.isInteger(Number(v))) && Number(v) >= min && Number(v) <= max, {
      error: (iss) => `${reason}, got "${String(iss.input)}"`,
    })
    .transform(Number);
};

const flagsSchema = z
  .object({
    devices: numberIn(1, 100_000, '', true),
    interval: numberIn(0.1, 86_400, ' seconds'),
    url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, { error: 'must be an MQTT URL (mqtt://host:port, ws://host:port/mqtt, …)' }),
    backfillHours: numberIn(0, 24 * 366, ' hours'),
    prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/, { error: 'letters, digits, "_", "-", "." (at most 31)' }),
    duration: numberIn(0, 365 * 86_400, ' seconds').optional(),
    api: z.url({ protocol: /^https?$/, error: 'must be the http(s):// URL of a netzero HTTP API (http://127.0.0.1:8080)' }).optional(),
    token: z.string().min(1, { error: 'must not be empty' }).optional(),
    rampUp: numberIn(0, 3600, ' seconds'),
    tsFormat: z.enum(['iso', 'epoch'], { error: 'must be iso or epoch' }),
  })
  .superRefine((f, ctx) => {
    if (f.token !== undefined && f.api === undefined) ctx.addIssue({ code: 'custom', path: ['token'], message: 'is only used with --api (to register the devices first)' });
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
    const body = (await res.json().catch(() => ({}))) as { secret?: string; reason?: string; error?: string; issues?: Array<{ field: string; reason: string }> };
    if (res.status === 409) throw usage('--prefix', `device ${d.id} is already registered at ${api}; choose another --prefix`);
    if (res.status === 401) throw usage('--token', `${api} refused the admin token (401): give it with --token or NETZERO_ADMIN_TOKEN`);
    const why = body.issues?.map((i) => `${i.field}: ${i.reason}`).join('; ') ?? body.reason ?? body.error ?? '';
    if (res.status !== 201 || !body.secret) throw new Error(`registering ${d.id} at ${api} failed: ${res.status} ${why}`);
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
    .action(command('simulate', async (raw) => {
      const parsed = flagsSchema.safeParse(raw);
      if (!parsed.success) {
        throw new UsageError(zodToFieldErrors(parsed.error).map((e) => `--${e.field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${e.reason}`));
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
    }));
}
