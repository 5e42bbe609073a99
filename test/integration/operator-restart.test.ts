import { afterAll, expect, it } from 'vitest';
import { mosquittoPub } from '../helpers/mosquitto.js';
import { registerDevice, startService, waitFor, type RunningService } from '../helpers/service.js';

/**
 * The operator view after a restart of the service: the 24 h counts start again (they are kept in
 * memory, `counted_since` says from when), but a device's latest reading is read back from the store,
 * so the table does not say "none yet" for a device whose readings are stored. Real service, the same
 * data dir twice, readings sent with Debian's mosquitto_pub.
 */

interface Row {
  id: string;
  accepted_24h: number;
  counted_since: string;
  last_reading: { ts: string; seq: number | null; values: Record<string, unknown> } | null;
}

let svc: RunningService | undefined;
afterAll(async () => {
  await svc?.stop();
});

it('shows the latest stored reading after a restart, with the counts started again', async () => {
  svc = await startService();
  const dataDir = svc.dataDir;
  const meter = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-restart', sector: 'residential_commercial' });
  const quiet = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-restart', sector: 'residential_commercial' });
  const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
  // sent out of order: the latest by ts is seq 2, not the last one sent
  for (const [seq, ts, kwh] of [[1, at(30), 100], [2, at(10), 104], [3, at(20), 102]] as const) {
    const r = await mosquittoPub({ port: svc.ports.mqtt!, topic: meter.topic, user: meter.id, password: meter.secret, message: JSON.stringify({ ts, seq, import_kwh: kwh }) });
    expect(r.code).toBe(0);
  }
  await waitFor('three readings stored', async () => (await svc!.api<unknown[]>('GET', `/api/readings?device=${meter.id}`)).body.length === 3);
  const before = (await svc.api<{ devices: Row[] }>('GET', '/api/operators/devices?site=kh-restart')).body.devices.find((d) => d.id === meter.id)!;
  expect(before).toMatchObject({ accepted_24h: 3, last_reading: { seq: 2, values: { import_kwh: 104 } } });
  await svc.stop();

  const startedAgain = Date.now();
  svc = await startService({ dataDir });
  const rows = (await svc.api<{ devices: Row[] }>('GET', '/api/operators/devices?site=kh-restart')).body.devices;
  const after = rows.find((d) => d.id === meter.id)!;
  expect(after.accepted_24h).toBe(0);
  expect(Date.parse(after.counted_since)).toBeGreaterThanOrEqual(startedAgain - 1_000);
  expect(after.last_reading).toMatchObject({ seq: 2, ts: before.last_reading!.ts, values: { import_kwh: 104 } });
  expect(rows.find((d) => d.id === quiet.id)!.last_reading).toBeNull();
  const detail = await svc.api<{ device: Row }>('GET', `/api/operators/devices/${meter.id}`);
  expect(detail.body.device.last_reading).toMatchObject({ seq: 2 });
}, 90_000);
