import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoPub } from '../helpers/mosquitto.js';
import { freePort, registerDevice, startService, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The operator's path on the embedded broker: register over HTTP, publish with Debian's mosquitto_pub,
 * see the reading stored; wrong secrets, foreign topics and invalid payloads are refused or
 * quarantined with a reason, and the device's next good reading is stored normally.
 */

interface ReadingOut {
  ts: string;
  seq: number | null;
  fields: Record<string, number>;
  extras: Record<string, unknown>;
}

let svc: RunningService;
let pv: Registered;
let other: Registered;

const readingsOf = async (id: string) => (await svc.api<ReadingOut[]>('GET', `/api/readings?device=${id}&limit=1000`)).body;

function connect(opts: mqtt.IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

beforeAll(async () => {
  svc = await startService({ env: { NETZERO_MQTT_WS_PORT: String(await freePort()) } });
  pv = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-school-01', sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 50 } });
  other = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-housing-02', sector: 'residential_commercial' });
});

afterAll(async () => {
  const code = await svc?.stop();
  expect(code).toBe(0);
});

describe('registration', () => {
  it('returns an id, a secret of at least 128 bits and the telemetry topic', () => {
    expect(pv.topic).toBe(`netzero/v1/kh-school-01/${pv.id}/telemetry`);
    expect(Buffer.from(pv.secret, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
  });

  it('refuses a bad body naming the field, and a missing admin token', async () => {
    const bad = await svc.api<{ issues: Array<{ field: string; reason: string }> }>('POST', '/api/devices', { kind: 'pv_inverter', site: 'a/b', sector: 'industry' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0]!.field).toBe('site');
    const noToken = await svc.api('POST', '/api/devices', { kind: 'pv_inverter', site: 's', sector: 'industry' }, null);
    expect(noToken.status).toBe(401);
  });

  it('lists devices without secrets', async () => {
    const list = await svc.api<Array<Record<string, unknown>>>('GET', '/api/devices');
    expect(list.body.map((d) => d.id)).toEqual(expect.arrayContaining([pv.id, other.id]));
    expect(JSON.stringify(list.body)).not.toContain(pv.secret);
    expect(JSON.stringify(list.body)).not.toContain('scrypt');
  });
});

describe('mosquitto_pub against the embedded broker', () => {
  it('stores a valid reading published at QoS 1', async () => {
    const r = await mosquittoPub({ port: svc.ports.mqtt!, topic: pv.topic, message: '{"ts":"2026-11-20T10:00:00+08:00","seq":1,"energy_kwh":1000.5,"power_w":2000,"firmware":"1.2"}', user: pv.id, password: pv.secret });
    expect(r.code, r.stderr).toBe(0);
    const rows = await readingsOf(pv.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ts).toBe('2026-11-20T02:00:00.000Z');
    expect(rows[0]!.fields).toEqual({ energy_kwh: 1000.5, power_w: 2000 });
    expect(rows[0]!.extras).toEqual({ firmware: '1.2' });
  });

  it('refuses a wrong secret and an unknown device at CONNACK', async () => {
    const wrong = await mosquittoPub({ port: svc.ports.mqtt!, topic: pv.topic, message: '{"ts":1763604000000,"energy_kwh":1}', user: pv.id, password: 'not-the-secret' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/not authori[sz]ed|refused/i);
    const unknown = await mosquittoPub({ port: svc.ports.mqtt!, topic: pv.topic, message: '{"ts":1763604000000,"energy_kwh":1}', user: 'nobody', password: 'x' });
    expect(unknown.code).not.toBe(0);
    expect(await readingsOf(pv.id)).toHaveLength(1);
  });

  it("never stores a publish to another device's topic", async () => {
    await mosquittoPub({ port: svc.ports.mqtt!, topic: other.topic, message: '{"ts":"2026-11-20T10:00:00+08:00","import_kwh":5}', user: pv.id, password: pv.secret });
    // and the right device id under another site
    await mosquittoPub({ port: svc.ports.mqtt!, topic: `netzero/v1/kh-housing-02/${pv.id}/telemetry`, message: '{"ts":"2026-11-20T10:05:00+08:00","energy_kwh":1001}', user: pv.id, password: pv.secret });
    // give the broker time to (wrongly) process it, then check nothing landed
    await new Promise((r) => setTimeout(r, 300));
    expect(await readingsOf(other.id)).toHaveLength(0);
    expect(await readingsOf(pv.id)).toHaveLength(1);
    // each refusal is recorded under the publishing device's id, with the topic and why
    const q = await svc.api<Array<{ topic: string; errors: Array<{ field: string; reason: string }> }>>('GET', `/api/quarantine?device=${pv.id}`);
    expect(q.body.map((e) => [e.topic, e.errors[0]!.field])).toEqual([
      [`netzero/v1/kh-housing-02/${pv.id}/telemetry`, 'topic'],
      [other.topic, 'topic'],
    ]);
  });

  it('reports an invalid payload on the errors topic and in the quarantine, then stores the next valid one', async () => {
    const sub = await connect({ username: pv.id, password: pv.secret, clientId: `${pv.id}-errors` });
    const errorsTopic = `netzero/v1/kh-school-01/${pv.id}/errors`;
    await sub.subscribeAsync(errorsTopic, { qos: 1 });
    const messages: Array<{ errors: Array<{ field: string; reason: string }>; quarantine_ids: number[] }> = [];
    sub.on('message', (_t, payload) => messages.push(JSON.parse(payload.toString())));

    const bad = await mosquittoPub({ port: svc.ports.mqtt!, topic: pv.topic, message: '{"ts":"2026-11-20T10:10:00+08:00","seq":2,"energy_kwh":"lots"}', user: pv.id, password: pv.secret });
    expect(bad.code, 'a rejected reading is still acknowledged').toBe(0);
    const msg = await waitFor('errors message', () => messages[0], 5000);
    expect(msg.errors).toEqual([{ field: 'energy_kwh', reason: 'must be a finite number, got string' }]);

    const all = await svc.api<Array<{ id: number; device: string; errors: Array<{ field: string }>; raw: string }>>('GET', `/api/quarantine?device=${pv.id}`);
    // the refused foreign-topic publishes of the test before are there too; this payload's entry is the newest
    const q = { body: all.body.filter((e) => e.errors[0]!.field !== 'topic') };
    expect(q.body).toHaveLength(1);
    expect(all.body[0]!.id).toBe(q.body[0]!.id);
    expect(q.body[0]!.errors[0]!.field).toBe('energy_kwh');
    expect(q.body[0]!.raw).toContain('"lots"');
    expect(msg.quarantine_ids).toEqual([q.body[0]!.id]);

    const good = await mosquittoPub({ port: svc.ports.mqtt!, topic: pv.topic, message: '{"ts":"2026-11-20T10:15:00+08:00","seq":3,"energy_kwh":1010.5}', user: pv.id, password: pv.secret });
    expect(good.code).toBe(0);
    const rows = await readingsOf(pv.id);
    expect(rows.map((r) => r.seq)).toEqual([1, 3]);
    await sub.endAsync();
  });

  it('turns the readings into an interval and PV avoided emissions', async () => {
    const iv = await svc.api<Array<{ amount: number; quality: string }>>('GET', `/api/intervals?device=${pv.id}`);
    expect(iv.body).toEqual([expect.objectContaining({ amount: 10, quality: 'ok' })]);
    const s = await svc.api<{ energy_kwh: { pv: number }; avoided_tco2e: number; provisional: boolean }>(
      'GET',
      '/api/summary?from=2026-11-20T00:00:00%2B08:00&to=2026-11-21T00:00:00%2B08:00',
      undefined,
      null,
    );
    // 10 kWh in 2026: no 2026 factor is published, so the latest (2024, 0.474 kgCO2e/kWh) stands in, provisional.
    expect(s.body.energy_kwh.pv).toBe(10);
    expect(s.body.avoided_tco2e).toBeCloseTo((10 * 0.474) / 1000, 9);
    expect(s.body.provisional).toBe(true);
  });
});

describe('subscriptions and status', () => {
  it('lets a device subscribe only to its own errors topic', async () => {
    const c = await connect({ username: pv.id, password: pv.secret, clientId: `${pv.id}-sub` });
    const own = await c.subscribeAsync(`netzero/v1/kh-school-01/${pv.id}/errors`);
    expect(own[0]!.qos).toBe(0);
    // a refused filter gets a failure SUBACK (0x80); the connection stays up
    await expect(c.subscribeAsync('netzero/v1/#')).rejects.toThrow(/Subscribe error/);
    await expect(c.subscribeAsync(`netzero/v1/kh-housing-02/${other.id}/errors`)).rejects.toThrow(/Subscribe error/);
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it('gives a viewer read-only access to netzero/v1/# and keeps a device status retained via Last Will', async () => {
    const viewer = await registerDevice(svc, { role: 'viewer' });
    const dev = await connect({
      username: pv.id,
      password: pv.secret,
      clientId: `${pv.id}-will`,
      will: { topic: `netzero/v1/kh-school-01/${pv.id}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await dev.publishAsync(`netzero/v1/kh-school-01/${pv.id}/status`, 'online', { qos: 1, retain: true });
    // Abrupt loss of the connection: the broker publishes the Last Will.
    dev.stream.destroy();

    const statusTopic = `netzero/v1/kh-school-01/${pv.id}/status`;
    const v = await connect({ username: viewer.id, password: viewer.secret, clientId: viewer.id });
    const seen = new Map<string, string>();
    const statuses: string[] = [];
    v.on('message', (t, p) => {
      seen.set(t, p.toString());
      if (t === statusTopic) statuses.push(p.toString());
    });
    const granted = await v.subscribeAsync('netzero/v1/#', { qos: 1 });
    expect(granted[0]!.qos).toBe(1);
    // The Last Will may reach this viewer live or as the retained message, in either order with the older
    // retained "online" (aedes reads retained messages while the subscription is being made): wait for it...
    await waitFor('the Last Will at the viewer', () => statuses.includes('offline'), 20_000);
    // ...then a subscriber arriving afterwards gets "offline" as the retained status.
    const late = await connect({ username: viewer.id, password: viewer.secret, clientId: `${viewer.id}-late` });
    const retained: Array<{ text: string; retain: boolean }> = [];
    late.on('message', (t, p, packet) => t === statusTopic && retained.push({ text: p.toString(), retain: packet.retain }));
    await late.subscribeAsync(statusTopic, { qos: 1 });
    await waitFor('the retained status at a later subscriber', () => retained[0], 20_000);
    expect(retained).toEqual([{ text: 'offline', retain: true }]);
    await late.endAsync();

    // live telemetry reaches the viewer
    await mosquittoPub({ port: svc.ports.mqtt!, topic: pv.topic, message: '{"ts":"2026-11-20T10:20:00+08:00","seq":4,"energy_kwh":1011}', user: pv.id, password: pv.secret });
    await waitFor('telemetry at the viewer', () => seen.get(pv.topic), 5000);

    // and the viewer cannot publish: the broker drops the connection, nothing is stored
    const closed = new Promise<void>((r) => v.once('close', () => r()));
    v.publish(pv.topic, '{"ts":"2026-11-20T10:25:00+08:00","energy_kwh":5000}', { qos: 1 });
    await closed;
    v.end(true);
    expect((await readingsOf(pv.id)).map((r) => r.seq)).toEqual([1, 3, 4]);
  });
});

describe('MQTT over WebSocket', () => {
  it('accepts the same device on ws://…/mqtt and stores its QoS 1 reading', async () => {
    expect(svc.ports.ws).toBeGreaterThan(0);
    const c = await mqtt.connectAsync(`ws://127.0.0.1:${svc.ports.ws}/mqtt`, { username: other.id, password: other.secret, reconnectPeriod: 0 });
    await c.publishAsync(other.topic, JSON.stringify({ ts: '2026-11-20T11:00:00+08:00', seq: 7, import_kwh: 42 }), { qos: 1 });
    await c.endAsync();
    const rows = await readingsOf(other.id);
    expect(rows.map((r) => [r.seq, r.fields.import_kwh])).toEqual([[7, 42]]);
  });
});

describe('service surface', () => {
  it('streams the summary over SSE on /api/live (left open: shutdown must not wait for it)', async () => {
    const res = await fetch(`${svc.base}/api/live`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/^event: summary\ndata: \{/);
    const summary = JSON.parse(text.split('data: ')[1]!.split('\n')[0]!);
    expect(summary).toHaveProperty('avoided_tco2e');
    expect(summary).toHaveProperty('by_sector.residential_commercial');
  });

  it('answers /healthz and /metrics with ingest counters', async () => {
    const h = await svc.api<{ status: string }>('GET', '/healthz', undefined, null);
    expect(h.body.status).toBe('ok');
    const m = await fetch(`${svc.base}/metrics`).then((r) => r.text());
    expect(m).toMatch(/netzero_readings_committed_total \d+/);
    expect(m).toMatch(/netzero_rejected_total\{reason="wrong_type"\} 1/);
    expect(m).toMatch(/netzero_store_commit_seconds_bucket/);
  });
});
