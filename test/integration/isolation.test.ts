import fs from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredReading } from '../../ingest/reading.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { HonestPublisher } from '../helpers/mqtt-abuse.js';
import { registerDevice, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * One device or one request never spoils the rest, on the real service: a poison payload, a flooding
 * device and an anonymous request for a long period each meet a limit, and honest devices publishing
 * at the same time keep getting their acknowledgements (their PUBACK latency is printed, not asserted).
 */

const T0 = Date.UTC(2026, 10, 1);

function client(svc: RunningService, dev: Registered): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: dev.id, password: dev.secret, clientId: dev.id, reconnectPeriod: 0, connectTimeout: 10_000 });
}

function errorsOf(c: MqttClient, dev: Registered): Array<{ rejected: number; errors: Array<{ field: string; reason: string }> }> {
  const got: Array<{ rejected: number; errors: Array<{ field: string; reason: string }> }> = [];
  c.on('message', (topic, payload) => {
    if (topic.endsWith('/errors')) got.push(JSON.parse(payload.toString()) as (typeof got)[number]);
  });
  void c.subscribeAsync(dev.topic.replace(/telemetry$/, 'errors'), { qos: 0 });
  return got;
}

describe('one device never spoils the rest', () => {
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

  it('a poison payload (an extra field nested 10,000 deep) is refused with a reason and acknowledged; an honest device meanwhile loses nothing', async () => {
    const honest = await registerDevice(svc, { kind: 'pv_inverter', site: 'iso', sector: 'industry' });
    const bad = await registerDevice(svc, { kind: 'pv_inverter', site: 'iso', sector: 'industry' });
    const bc = await client(svc, bad);
    clients.push(bc);
    const errors = errorsOf(bc, bad);
    const pub = await HonestPublisher.start(svc, honest, { intervalMs: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const nested = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    for (let i = 0; i < 5; i++) {
      // the PUBACK comes (publishAsync resolves): the device is not left resending forever
      await bc.publishAsync(bad.topic, `{"ts":${T0 + i * 60_000},"seq":${i},"energy_kwh":${i},"x":${nested}}`, { qos: 1 });
    }
    const stats = pub.report('poison payloads');
    await pub.stop();
    expect(stats.failures + stats.disconnects).toBe(0);
    await waitFor('errors messages for the poison device', () => errors.length >= 5, 10_000);
    expect(errors[0]!.rejected).toBe(1);
    expect(errors[0]!.errors[0]).toMatchObject({ field: 'x', reason: expect.stringMatching(/nested|deep/) });
    const q = await svc.api<Array<{ device: string }>>('GET', `/api/quarantine?device=${bad.id}&limit=100`);
    expect(q.body.length).toBe(5);
    const stored = await svc.api<unknown[]>('GET', `/api/readings?device=${honest.id}&from=${T0}&limit=10000`);
    expect(stored.body.length).toBe(pub.stats().acks);
    expect((await svc.api('GET', '/healthz', undefined, null)).status).toBe(200);
  });

  it('a device over its rate limit is held back, then told why; an honest device meanwhile is served', async () => {
    const honest = await registerDevice(svc, { kind: 'pv_inverter', site: 'iso', sector: 'industry' });
    const flood = await registerDevice(svc, { kind: 'smart_meter', site: 'iso', sector: 'industry', params: { max_readings_per_s: 1 } });
    const fc = await client(svc, flood);
    clients.push(fc);
    const errors = errorsOf(fc, flood);
    const pub = await HonestPublisher.start(svc, honest, { intervalMs: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const batch = (start: number) => JSON.stringify({ readings: Array.from({ length: 1000 }, (_, i) => ({ ts: T0 + (start + i) * 1000, seq: start + i, import_kwh: start + i })) });
    // 1 reading/s with a burst of 1,000: the first batch passes, the next two would wait 1,000 s and are refused
    for (const start of [0, 1000, 2000]) await fc.publishAsync(flood.topic, batch(start), { qos: 1 });
    const stats = pub.report('flooding device');
    await pub.stop();
    expect(stats.failures + stats.disconnects).toBe(0);
    await waitFor('rate-limit reasons', () => errors.length >= 2, 10_000);
    expect(errors[0]!.errors[0]).toMatchObject({ field: 'payload', reason: expect.stringMatching(/^rate limit: this device may send 1 readings\/s/) });
    expect(errors[0]!.rejected).toBe(1000);
    const count = async (id: string) => (await svc.api<unknown[]>('GET', `/api/readings?device=${id}&from=${T0 - 1}&limit=10000`)).body.length;
    expect(await count(flood.id)).toBe(1000);
    expect(await count(honest.id)).toBe(pub.stats().acks);
    const metrics = await (await fetch(`${svc.base}/metrics`)).text();
    expect(metrics).toMatch(/netzero_rejected_total\{reason="rate_limited"\} 2000/);
  });
});

describe('one request never spoils the rest', () => {
  let svc: RunningService;
  let dir: string;
  beforeAll(async () => {
    // A data dir with 26 years of readings from 40 meters (every ~9 days: 41,000 readings), written before the start.
    dir = tempDir();
    const store = SqliteStore.inDataDir(dir);
    await store.start();
    const from = Date.UTC(2000, 0, 1);
    const to = Date.UTC(2026, 0, 1);
    const step = Math.floor((to - from) / 1000);
    for (let d = 0; d < 40; d++) {
      const readings: StoredReading[] = Array.from({ length: 1000 }, (_, i) => ({
        device: `old-${d}`, kind: 'smart_meter', site: 'old', sector: 'industry', params: {}, ts: from + i * step, seq: null,
        fields: { import_kwh: i * 10 }, extras: {}, receivedAt: Date.now(),
      }));
      await store.writeBatch(readings);
    }
    await store.close();
    svc = await startService({ dataDir: dir, env: { NETZERO_SUMMARY_MAX_DAYS: '12000', NETZERO_HTTP_QUERY_BUDGET_S: '2' } });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('a summary of 26 years runs off the main thread: PUBACKs and /healthz answer while it runs, and its time budget stops it', async () => {
    const honest = await registerDevice(svc, { kind: 'pv_inverter', site: 'iso', sector: 'industry' });
    const c = await client(svc, honest);
    try {
      const order: string[] = [];
      const summary = fetch(`${svc.base}/api/summary?from=${Date.UTC(2000, 0, 1)}&to=${Date.UTC(2026, 0, 1)}`).then(async (r) => {
        order.push(`summary ${r.status}`);
        return { status: r.status, body: (await r.json()) as { reason?: string } };
      });
      await new Promise((r) => setTimeout(r, 100));
      const t = performance.now();
      await c.publishAsync(honest.topic, JSON.stringify({ ts: T0, seq: 1, energy_kwh: 1 }), { qos: 1 });
      order.push('puback');
      const ackMs = performance.now() - t;
      const health = await fetch(`${svc.base}/healthz`);
      order.push(`healthz ${health.status}`);
      const s = await summary;
      console.log(`[isolation] 26-year summary: ${order.join(' → ')}; PUBACK in ${ackMs.toFixed(1)} ms`);
      expect(order.slice(0, 2)).toEqual(['puback', 'healthz 200']);
      if (s.status === 503) expect(s.body.reason).toMatch(/budget of 2 s/);
      else expect(s.status).toBe(200);
    } finally {
      await c.endAsync(true);
    }
  });

  it('refuses a period longer than allowed, and times outside 2000–2100, naming the parameter', async () => {
    const longer = await svc.api<{ issues: Array<{ field: string; reason: string }> }>('GET', `/api/summary?from=${Date.UTC(2000, 0, 1)}&to=${Date.UTC(2040, 0, 1)}`, undefined, null);
    expect(longer.status).toBe(400);
    expect(longer.body.issues[0]).toMatchObject({ field: 'from', reason: expect.stringMatching(/longer than 12000 days/) });
    const far = await svc.api<{ issues: Array<{ field: string }> }>('GET', '/api/summary?to=8640000000000000', undefined, null);
    expect(far.status).toBe(400);
    expect(far.body.issues[0]!.field).toBe('to');
  });

  it('sends security headers, and keeps the databases readable by their owner only', async () => {
    const page = await fetch(`${svc.base}/`);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    for (const f of ['state.sqlite', 'readings.sqlite', 'state.sqlite-wal', 'readings.sqlite-wal']) {
      const file = path.join(dir, f);
      if (fs.existsSync(file)) expect((fs.statSync(file).mode & 0o777).toString(8), f).toBe('600');
    }
  });
});
