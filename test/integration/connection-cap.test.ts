import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, metricsText, metricValue, tryConnect } from '../helpers/mqtt-abuse.js';
import { registerDevice, startService, type Registered, type RunningService } from '../helpers/service.js';

/**
 * NETZERO_MQTT_MAX_CONNECTIONS: the broker holds at most so many connections (by default what the
 * open-file limit leaves after what HTTP and the store need); a login beyond is refused with CONNACK 3
 * before any look-up, counted, and the device gets in once a place is free. HTTP keeps answering.
 */
describe('the broker holds at most NETZERO_MQTT_MAX_CONNECTIONS connections', () => {
  let svc: RunningService;
  const devices: Registered[] = [];
  beforeAll(async () => {
    svc = await startService({ env: { NETZERO_MQTT_MAX_CONNECTIONS: '2' } });
    for (let i = 0; i < 3; i++) devices.push(await registerDevice(svc, { kind: 'smart_meter', site: 'cap', sector: 'industry', id: `cap-${i}` }));
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('the third login is refused with CONNACK 3 while two are held; once one leaves, it gets in and its reading is stored', async () => {
    const port = svc.ports.mqtt!;
    const [a, b, c] = devices as [Registered, Registered, Registered];
    const first = await connectClient(port, { username: a.id, password: a.secret, clientId: a.id });
    const second = await connectClient(port, { username: b.id, password: b.secret, clientId: b.id });
    expect(await tryConnect(port, { username: c.id, password: c.secret, clientId: c.id })).toBe(3);
    expect(metricValue(await metricsText(svc), 'netzero_mqtt_auth_failures_total', { reason: 'too_many_connections' })).toBe(1);
    expect((await svc.api('GET', '/healthz')).status).toBe(200);
    expect(svc.output()).toMatch(/the broker holds its most connections \(2, NETZERO_MQTT_MAX_CONNECTIONS\)/);

    await first.endAsync();
    await new Promise((r) => setTimeout(r, 200));
    const third = await connectClient(port, { username: c.id, password: c.secret, clientId: c.id });
    await third.publishAsync(c.topic, JSON.stringify({ ts: new Date().toISOString(), import_kwh: 7 }), { qos: 1 });
    const stored = await svc.api<Array<{ fields: { import_kwh: number } }>>('GET', `/api/readings?device=${c.id}`);
    expect(stored.body.map((r) => r.fields.import_kwh)).toEqual([7]);
    await Promise.all([second.endAsync(), third.endAsync()]);
  });
});
