import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registerDevice, startService, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * Tell the device and the operator, on the real service: a reading that made an interval that is not ok
 * is accepted and warned about on the device's `errors` topic; a resend with other values is a conflict,
 * quarantined with both values; a publish the broker refuses by closing the connection is recorded under
 * the device id, so the operator can find out why the device keeps reconnecting.
 */

let svc: RunningService;
const clients: MqttClient[] = [];
beforeAll(async () => {
  svc = await startService();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
});
afterAll(async () => {
  await svc?.stop();
});

interface ErrorsMessage {
  accepted?: unknown;
  rejected?: number;
  warnings?: Array<{ counter: string; quality: string; amount: number; counted: number; reason: string; v0: number; v1: number }>;
  errors?: Array<{ field: string; reason: string }>;
  stored?: Record<string, unknown>;
  sent?: Record<string, unknown>;
}

async function device(body: Record<string, unknown>): Promise<{ dev: Registered; c: MqttClient; messages: ErrorsMessage[] }> {
  const dev = await registerDevice(svc, body);
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: dev.id, password: dev.secret, clientId: dev.id, reconnectPeriod: 0 });
  clients.push(c);
  const messages: ErrorsMessage[] = [];
  c.on('message', (_t, p) => messages.push(JSON.parse(p.toString()) as ErrorsMessage));
  await c.subscribeAsync(dev.topic.replace(/telemetry$/, 'errors'));
  return { dev, c, messages };
}

describe('the device and the operator are told', () => {
  it("the finding: 50,258 → 50,249 → 50,260 counts 2 kWh, and the device gets a warning naming the step", async () => {
    const { dev, c, messages } = await device({ kind: 'smart_meter', site: 'told', sector: 'residential_commercial' });
    for (const [seq, ts, kwh] of [[1, '2024-11-10T08:00:00+08:00', 50_258], [2, '2024-11-10T08:30:00+08:00', 50_249], [3, '2024-11-10T09:00:00+08:00', 50_260]] as const) {
      await c.publishAsync(dev.topic, JSON.stringify({ ts, seq, import_kwh: kwh }), { qos: 1 });
    }
    await waitFor('a warning', () => messages.some((m) => m.warnings), 10_000);
    const w = messages.find((m) => m.warnings)!;
    expect(w.accepted).toBe(true);
    expect(w.warnings).toEqual([
      expect.objectContaining({ counter: 'import_kwh', quality: 'step_back', v0: 50_258, v1: 50_249, amount: 0, counted: 0, reason: expect.stringMatching(/9 below the highest reading 50258.*nothing counted/) }),
    ]);
    const s = await svc.api<{ energy_kwh: { consumption: number } }>('GET', '/api/summary?from=2024-11-10T00:00:00%2B08:00&to=2024-11-11T00:00:00%2B08:00', undefined, null);
    expect(s.body.energy_kwh.consumption).toBe(2);
    const metrics = await (await fetch(`${svc.base}/metrics`)).text();
    expect(metrics).toMatch(/netzero_interval_warnings_total\{quality="step_back"\} 1/);
  });

  it('a resend with the same ts and seq but another value is a conflict: quarantined with both values, reported, the stored one stays', async () => {
    const { dev, c, messages } = await device({ kind: 'pv_inverter', site: 'told', sector: 'industry' });
    const ts = '2024-11-10T10:00:00+08:00';
    await c.publishAsync(dev.topic, JSON.stringify({ ts, seq: 7, energy_kwh: 100 }), { qos: 1 });
    await c.publishAsync(dev.topic, JSON.stringify({ ts, seq: 7, energy_kwh: 100 }), { qos: 1 }); // the same: silent
    await c.publishAsync(dev.topic, JSON.stringify({ ts, seq: 7, energy_kwh: 123 }), { qos: 1 });
    await waitFor('the conflict reported', () => messages.some((m) => m.errors), 10_000);
    expect(messages.filter((m) => m.errors)).toEqual([
      expect.objectContaining({ rejected: 1, stored: { energy_kwh: 100 }, sent: { energy_kwh: 123 }, errors: [expect.objectContaining({ field: 'ts', reason: expect.stringMatching(/already stored with other values/) })] }),
    ]);
    const q = await svc.api<Array<{ raw: string; errors: Array<{ reason: string }> }>>('GET', `/api/quarantine?device=${dev.id}`);
    expect(q.body).toHaveLength(1);
    expect(JSON.parse(q.body[0]!.raw)).toMatchObject({ new: { energy_kwh: 123 }, stored: { energy_kwh: 100 } });
    const stored = await svc.api<Array<{ fields: Record<string, number> }>>('GET', `/api/readings?device=${dev.id}&from=2024-11-01T00:00:00%2B08:00`);
    expect(stored.body.map((r) => r.fields.energy_kwh)).toEqual([100]);
  });

  it('an oversize payload and a publish to a foreign topic close the connection and are recorded under the device id', async () => {
    const { dev, c } = await device({ kind: 'pv_inverter', site: 'told', sector: 'industry' });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(dev.topic, 'x'.repeat(70_000), { qos: 1 });
    await closed;
    const { dev: other, c: c2 } = await device({ kind: 'pv_inverter', site: 'told', sector: 'industry' });
    const closed2 = new Promise<void>((r) => c2.once('close', () => r()));
    c2.publish(dev.topic, JSON.stringify({ ts: Date.now(), energy_kwh: 1 }), { qos: 1 });
    await closed2;
    const q1 = await waitFor('the oversize recorded', async () => (await svc.api<Array<{ device: string; errors: Array<{ field: string; reason: string }> }>>('GET', `/api/quarantine?device=${dev.id}`)).body.find((e) => e.errors[0]?.field === 'payload'), 10_000);
    expect(q1.errors[0]!.reason).toMatch(/over the limit .* connection was closed/);
    const q2 = await waitFor('the foreign topic recorded', async () => (await svc.api<Array<{ device: string; topic: string; errors: Array<{ field: string; reason: string }> }>>('GET', `/api/quarantine?device=${other.id}`)).body[0], 10_000);
    expect(q2).toMatchObject({ device: other.id, topic: dev.topic, errors: [{ field: 'topic', reason: expect.stringMatching(/may not publish to .* connection was closed/) }] });
    expect(svc.output()).toMatch(new RegExp(`"device":"${dev.id}".*mqtt packet refused`));
  });
});
