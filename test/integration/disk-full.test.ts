import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startInfluxd, type Influxd } from '../helpers/influxdb.js';
import { registerDevice, startService, tempDir, waitFor, type RunningService } from '../helpers/service.js';

/**
 * The data dir on a small filesystem that fills up (a tmpfs the test mounts): nothing acknowledged is
 * lost, /healthz says the store is down and why (not "ok", not "InfluxDB unavailable"), and everything
 * recovers without a restart when space returns.
 */

const T0 = Date.UTC(2026, 10, 1, 2);

/** Whether this machine lets the test mount a tmpfs (root with CAP_SYS_ADMIN; CI runs as root). */
function canMountTmpfs(): { ok: boolean; why?: string } {
  const probe = tempDir('netzero-tmpfs-probe-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, why: (r.stderr || r.error?.message || 'mount failed').trim() };
  spawnSync('umount', [probe]);
  return { ok: true };
}
const mountable = canMountTmpfs();
if (!mountable.ok) console.log(`[disk-full] skipped: cannot mount a tmpfs here (${mountable.why})`);

const mounted: string[] = [];
function smallDisk(sizeMb: number): string {
  const dir = tempDir('netzero-small-disk-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`);
  mounted.push(dir);
  return dir;
}

/** Fills the filesystem of `dir` with a file until it is full; returns the file (delete it to free the space). */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 9, 1]) {
      const buf = Buffer.alloc(size, 1);
      for (;;) {
        try {
          fs.writeSync(fd, buf);
        } catch {
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

let svc: RunningService | undefined;
let influx: Influxd | undefined;
let c: MqttClient | undefined;
afterEach(async () => {
  await c?.endAsync(true).catch(() => undefined);
  c = undefined;
  await svc?.stop();
  svc = undefined;
  await influx?.destroy();
  influx = undefined;
  for (const d of mounted.splice(0)) spawnSync('umount', ['-l', d]);
});

interface Health {
  status: string;
  store: boolean;
  store_error?: { reason: string };
  spool_error?: string;
  influx_reachable?: boolean;
  disk_free_bytes?: number;
}

async function fullDiskRoundTrip(env: Record<string, string>, sizeMb: number, expectCause: RegExp): Promise<Health> {
  const dataDir = smallDisk(sizeMb);
  svc = await startService({ dataDir, env });
  const dev = await registerDevice(svc, { kind: 'pv_inverter', site: 'disk', sector: 'industry' });
  c = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: dev.id, password: dev.secret, clientId: dev.id, clean: false, reconnectPeriod: 300 });
  await c.publishAsync(dev.topic, JSON.stringify({ ts: T0, seq: 1, energy_kwh: 1 }), { qos: 1 });
  if (env.INFLUX_URL) {
    // InfluxDB counts as reachable once it has answered a write: the first reading drained, before the disk fills
    await waitFor('the first reading drained to InfluxDB', async () => ((await (await fetch(`${svc!.base}/healthz`)).json()) as Health).influx_reachable === true, 30_000);
  }

  const filler = fill(dataDir);
  // Readings large enough that the store must grow its files; the PUBACK does not come while the disk is full.
  const big = 'x'.repeat(8000);
  let acked = 0;
  const pending = Array.from({ length: 20 }, (_, i) =>
    c!.publishAsync(dev.topic, JSON.stringify({ ts: T0 + (i + 2) * 60_000, seq: i + 2, energy_kwh: i + 2, note: big }), { qos: 1 }).then(() => acked++),
  );
  const down = await waitFor(
    '/healthz reporting the store down',
    async () => {
      const r = await fetch(`${svc!.base}/healthz`);
      const body = (await r.json()) as Health;
      return r.status === 503 && body.store === false ? body : undefined;
    },
    30_000,
  );
  console.log(`[disk-full] /healthz while full: ${JSON.stringify(down)}; acknowledged meanwhile: ${acked} of 20`);
  expect(JSON.stringify(down)).toMatch(expectCause);

  fs.rmSync(filler);
  await Promise.all(pending);
  await waitFor('/healthz back to ok', async () => (await fetch(`${svc!.base}/healthz`)).status === 200, 30_000);
  return down;
}

describe.skipIf(!mountable.ok)('a full disk under the data dir', () => {
  it('SQLite: nothing acknowledged while full, /healthz names the cause, every reading stored once when space returns', async () => {
    const down = await fullDiskRoundTrip({}, 16, /SQLITE_FULL|disk is full|ENOSPC/);
    expect(down.store_error?.reason).toBeDefined();
    const stored = await svc!.api<Array<{ seq: number }>>('GET', `/api/readings?device=${(await svc!.api<Array<{ id: string }>>('GET', '/api/devices')).body[0]!.id}&from=${T0 - 1}&limit=100`);
    expect(stored.body.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  });

  it('InfluxDB with the spool on the full disk: /healthz blames the spool\'s disk, not InfluxDB, and recovers', async () => {
    influx = await startInfluxd();
    await influx.createDb('netzero');
    const down = await fullDiskRoundTrip({ INFLUX_URL: influx.url, INFLUX_API: 'v1', INFLUX_DB: 'netzero' }, 16, /ENOSPC|no space/);
    expect(down.influx_reachable).toBe(true);
    await waitFor(
      'all 21 readings in InfluxDB',
      async () => {
        const r = await influx!.query('SELECT count(energy_kwh) FROM pv_inverter', 'netzero');
        return r.results?.[0]?.series?.[0]?.values?.[0]?.[1] === 21;
      },
      30_000,
    );
  });
});
