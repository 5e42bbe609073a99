import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AUTH_FAILURES_ALLOWED } from '../../broker/auth.js';
import { registerDevice, startService, type Registered, type RunningService } from '../helpers/service.js';

/** Failed-login rate limiting per client address, and the 64 KiB packet limit (own service: it blocks 127.0.0.1). */

let svc: RunningService;
let dev: Registered;

beforeAll(async () => {
  svc = await startService();
  dev = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-rl', sector: 'industry' });
});
afterAll(async () => {
  await svc?.stop();
});

function tryConnect(username: string, password: string): Promise<'ok' | number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username, password, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => {
      c.end(true);
      resolve('ok');
    });
    c.once('error', (err: Error & { code?: number }) => {
      c.end(true);
      resolve(err.code ?? -1);
    });
  });
}

it('drops a packet over the 64 KiB limit without storing it, and keeps the broker serving others', async () => {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: dev.id, password: dev.secret, reconnectPeriod: 0 });
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  const big = JSON.stringify({ ts: Date.now(), energy_kwh: 1, pad: 'x'.repeat(80 * 1024) });
  c.publish(dev.topic, big, { qos: 1 });
  await closed;
  c.end(true);
  expect((await svc.api<unknown[]>('GET', `/api/readings?device=${dev.id}`)).body).toHaveLength(0);
  expect(await tryConnect(dev.id, dev.secret)).toBe('ok');
});

it(`refuses an address after ${AUTH_FAILURES_ALLOWED} failed logins, even with the right secret`, async () => {
  for (let i = 0; i < AUTH_FAILURES_ALLOWED; i++) expect(await tryConnect(dev.id, 'wrong')).toBe(5);
  expect(await tryConnect(dev.id, dev.secret)).toBe(5);
  const metrics = await fetch(`${svc.base}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(new RegExp(`netzero_mqtt_auth_failures_total\\{reason="bad_credentials"\\} ${AUTH_FAILURES_ALLOWED}`));
  expect(metrics).toMatch(/netzero_mqtt_auth_failures_total\{reason="rate_limited"\} 1/);
});
