import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mosquittoPub, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { registerDevice, startService, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * External mode: ingest is an MQTT.js client of a real Mosquitto (NETZERO_MQTT_URL, shared
 * subscription); devices publish to Mosquitto with mosquitto_pub.
 */

let broker: Mosquitto;
let svc: RunningService;
let dev: Registered;

beforeAll(async () => {
  broker = await startMosquitto();
  svc = await startService({ env: { NETZERO_MQTT_URL: `mqtt://127.0.0.1:${broker.port}` } });
  dev = await registerDevice(svc, { kind: 'ev_charger', site: 'kh-depot', sector: 'transport', params: { vehicle_class: 'scooter' } });
});

afterAll(async () => {
  await svc?.stop();
  await broker?.stop();
});

const readingsOf = async (id: string) => (await svc.api<Array<{ seq: number }>>('GET', `/api/readings?device=${id}`)).body;

it('runs without the embedded broker and stores what arrives through Mosquitto', async () => {
  expect(svc.ports.mqtt).toBeUndefined();
  const r = await mosquittoPub({ port: broker.port, topic: dev.topic, message: '{"ts":"2026-11-20T08:00:00+08:00","seq":1,"energy_kwh":10,"session_id":"s-1","connector":1}' });
  expect(r.code, r.stderr).toBe(0);
  await waitFor('reading stored', async () => (await readingsOf(dev.id)).length === 1, 10_000);
});

it('reports an invalid payload on the errors topic through Mosquitto and stores the next valid one', async () => {
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { reconnectPeriod: 0 });
  const got: Array<{ errors: Array<{ field: string; reason: string }> }> = [];
  sub.on('message', (_t, p) => got.push(JSON.parse(p.toString())));
  await sub.subscribeAsync(`netzero/v1/kh-depot/${dev.id}/errors`, { qos: 1 });

  await mosquittoPub({ port: broker.port, topic: dev.topic, message: '{"ts":"2026-11-20T08:05:00+08:00","seq":2}' });
  const msg = await waitFor('errors message', () => got[0], 10_000);
  expect(msg.errors).toEqual([{ field: 'energy_kwh', reason: 'required' }]);
  const q = await svc.api<Array<{ errors: Array<{ field: string }> }>>('GET', `/api/quarantine?device=${dev.id}`);
  expect(q.body[0]!.errors[0]!.field).toBe('energy_kwh');

  await mosquittoPub({ port: broker.port, topic: dev.topic, message: '{"ts":"2026-11-20T08:10:00+08:00","seq":3,"energy_kwh":12.5}' });
  await waitFor('second reading stored', async () => (await readingsOf(dev.id)).length === 2, 10_000);
  expect((await readingsOf(dev.id)).map((x) => x.seq)).toEqual([1, 3]);
  await sub.endAsync();
});

it('quarantines telemetry for a device that is not registered', async () => {
  await mosquittoPub({ port: broker.port, topic: 'netzero/v1/kh-depot/ghost-01/telemetry', message: '{"ts":"2026-11-20T08:00:00+08:00","energy_kwh":1}' });
  const q = await waitFor(
    'quarantine entry',
    async () => (await svc.api<Array<{ errors: Array<{ reason: string }> }>>('GET', '/api/quarantine?device=ghost-01')).body[0],
    10_000,
  );
  expect(q.errors[0]!.reason).toMatch(/not registered/);
});
