import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startInfluxd, type Influxd } from '../helpers/influxdb.js';
import { registerDevice, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * InfluxDB as the store, with the spool in front (Debian's InfluxDB 1.6.7, v1 API): an outage, a
 * service crash during an outage, and a full spool. In each, every acknowledged reading reaches
 * InfluxDB exactly once: counted and summed with InfluxQL.
 */

const DB = 'netzero';
let influx: Influxd | undefined;
let svc: RunningService | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await svc?.stop();
  svc = undefined;
  await influx?.destroy();
  influx = undefined;
});

async function setUp(env: Record<string, string> = {}, dataDir?: string): Promise<RunningService> {
  influx ??= await startInfluxd();
  await influx.createDb(DB);
  return startService({ dataDir, env: { INFLUX_URL: influx.url, INFLUX_API: 'v1', INFLUX_DB: DB, NETZERO_LOG_LEVEL: 'warn', ...env } });
}

interface Publisher {
  dev: Registered;
  acked: Set<number>;
  sent: () => number;
  stop: () => void;
  client: MqttClient;
}

/** Streams QoS 1 readings (seq n, import_kwh = n) at `perSecond`; MQTT.js resends unacknowledged ones after reconnecting. */
function stream(s: RunningService, dev: Registered, perSecond: number): Publisher {
  const client = mqtt.connect(`mqtt://127.0.0.1:${s.ports.mqtt}`, { clientId: `${dev.id}-pub`, username: dev.id, password: dev.secret, clean: false, reconnectPeriod: 200 });
  clients.push(client);
  const acked = new Set<number>();
  let n = 0;
  const t0 = Date.UTC(2026, 9, 1);
  const timer = setInterval(() => {
    const seq = ++n;
    client.publish(dev.topic, JSON.stringify({ ts: t0 + seq * 60_000, seq, import_kwh: seq }), { qos: 1 }, (err) => {
      if (!err) acked.add(seq);
    });
  }, 1000 / perSecond);
  return { dev, acked, sent: () => n, stop: () => clearInterval(timer), client };
}

async function countAndSum(device: string): Promise<{ count: number; sum: number }> {
  const r = await influx!.query(`SELECT count(seq) AS n, sum(seq) AS s FROM smart_meter WHERE device = '${device}'`, DB);
  const row = r.results?.[0]?.series?.[0]?.values?.[0];
  return { count: Number(row?.[1] ?? 0), sum: Number(row?.[2] ?? 0) };
}

async function healthz(s: RunningService) {
  return (await s.api<{ status: string; influx_reachable: boolean; spool: { records: number; bytes: number } }>('GET', '/healthz', undefined, null)).body;
}

/** Every acknowledged seq is in InfluxDB once: count equals the acknowledged set and sum(seq) equals theirs. */
async function expectExactlyOnce(p: Publisher): Promise<void> {
  const expected = { count: p.acked.size, sum: [...p.acked].reduce((a, b) => a + b, 0) };
  const got = await countAndSum(p.dev.id);
  expect(got).toEqual(expected);
}

describe('InfluxDB store with the spool', () => {
  it('keeps a steady QoS 1 stream through a 30 s InfluxDB outage, exactly once, and drains the spool', async () => {
    svc = await setUp();
    const devs = await Promise.all([0, 1].map((i) => registerDevice(svc!, { kind: 'smart_meter', site: 'kh-outage', sector: 'industry', id: `outage-${i}` })));
    const pubs = devs.map((d) => stream(svc!, d, 50));
    await waitFor('readings in InfluxDB', async () => (await countAndSum(devs[0]!.id)).count > 50, 20_000, 200);

    await influx!.stop();
    const outageStart = Date.now();
    const ackedBefore = pubs.map((p) => p.acked.size);
    await new Promise((r) => setTimeout(r, 30_000));
    // Acknowledgements went on during the outage: the readings are in the spool.
    pubs.forEach((p, i) => expect(p.acked.size).toBeGreaterThan(ackedBefore[i]! + 1000));
    const during = await healthz(svc);
    expect(during.status).toBe('ok');
    expect(during.influx_reachable).toBe(false);
    expect(during.spool.records).toBeGreaterThan(0);

    await influx!.start();
    const restarted = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    pubs.forEach((p) => p.stop());
    await waitFor('every sent reading acknowledged', () => pubs.every((p) => p.acked.size === p.sent()), 30_000, 100);
    let drainedAt = 0;
    await waitFor('spool drained', async () => {
      const h = await healthz(svc!);
      if (h.spool.records === 0) drainedAt = Date.now();
      return h.spool.records === 0;
    }, 60_000, 100);
    for (const p of pubs) await expectExactlyOnce(p);
    const total = pubs.reduce((a, p) => a + p.acked.size, 0);
    const backlog = pubs.reduce((a, p) => a + p.acked.size, 0) - ackedBefore.reduce((a, b) => a + b, 0);
    process.stdout.write(
      `outage ${(restarted - outageStart) / 1000} s: ${total} readings acknowledged, ${backlog} since the outage began; spool drained ${(drainedAt - restarted) / 1000} s after InfluxDB came back\n`,
    );
  }, 180_000);

  it('delivers everything acknowledged exactly once after a SIGKILL of the service during an outage', async () => {
    const dataDir = tempDir();
    svc = await setUp({}, dataDir);
    const dev = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-crash', sector: 'industry', id: 'crash-1' });
    const { mqtt: mqttPort, http: httpPort } = svc.ports;
    await influx!.stop();
    const p = stream(svc, dev, 100);
    await waitFor('readings acknowledged into the spool', () => p.acked.size > 500, 20_000, 100);
    await svc.kill();
    svc = await startService({
      dataDir,
      env: { INFLUX_URL: influx!.url, INFLUX_API: 'v1', INFLUX_DB: DB, NETZERO_LOG_LEVEL: 'warn', NETZERO_MQTT_PORT: String(mqttPort), NETZERO_HTTP_PORT: String(httpPort) },
    });
    await new Promise((r) => setTimeout(r, 2000));
    p.stop();
    await waitFor('every sent reading acknowledged after the restart', () => p.acked.size === p.sent(), 30_000, 100);
    expect((await healthz(svc)).spool.records).toBeGreaterThan(0);
    await influx!.start();
    await waitFor('spool drained', async () => (await healthz(svc!)).spool.records === 0, 60_000, 100);
    await expectExactlyOnce(p);
  }, 180_000);

  it('stops acknowledging when the spool budget is full, loses nothing, and resumes when InfluxDB is back', async () => {
    svc = await setUp({ NETZERO_SPOOL_MAX_BYTES: '64KiB' });
    const dev = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-full', sector: 'industry', id: 'full-1' });
    await influx!.stop();
    const p = stream(svc, dev, 200);
    // The spool fills; then acknowledgements stop while the publisher keeps sending.
    let stalledAt = 0;
    await waitFor(
      'acknowledgements to stop',
      async () => {
        const before = p.acked.size;
        await new Promise((r) => setTimeout(r, 1500));
        const stalled = before > 0 && p.acked.size === before && p.sent() > before + 100;
        if (stalled) stalledAt = p.acked.size;
        return stalled;
      },
      60_000,
      0,
    );
    const h = await healthz(svc);
    expect(h.spool.bytes).toBeGreaterThan(32 * 1024);
    expect(h.spool.bytes).toBeLessThanOrEqual(64 * 1024);
    p.stop();
    await influx!.start();
    await waitFor('acknowledgements to resume and finish', () => p.acked.size === p.sent(), 60_000, 100);
    expect(p.acked.size).toBeGreaterThan(stalledAt);
    await waitFor('spool drained', async () => (await healthz(svc!)).spool.records === 0, 60_000, 100);
    await expectExactlyOnce(p);
  }, 180_000);
});
