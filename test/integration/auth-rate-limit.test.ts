import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AUTH_FAILURES_ALLOWED } from '../../broker/auth.js';
import { cpuSeconds, HonestPublisher, metricsText, metricValue, setLegacySecret, storedHash, tryConnect as tryConnectFrom } from '../helpers/mqtt-abuse.js';
import { registerDevice, startService, type Registered, type RunningService } from '../helpers/service.js';

/**
 * Failed-login rate limiting per device id and per client address, and the 64 KiB packet limit (own
 * service: it blocks 127.0.0.1). Other loopback addresses (127.0.0.x) stand for other sites.
 */

let svc: RunningService;
let dev: Registered;
let neighbour: Registered;
let legacy: Registered;
let target: Registered;
let honest: Registered;
const LEGACY_SECRET = 'legacy-secret-from-an-old-data-dir';

beforeAll(async () => {
  svc = await startService();
  dev = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-rl', sector: 'industry' });
  neighbour = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-rl', sector: 'industry' });
  legacy = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-rl-old', sector: 'industry' });
  target = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-rl-flood', sector: 'industry' });
  honest = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-rl-honest', sector: 'industry' });
  // the service has not looked `legacy` up yet: give it a hash as the old code stored it
  await setLegacySecret(svc.dataDir, [legacy.id], LEGACY_SECRET);
  legacy = { ...legacy, secret: LEGACY_SECRET };
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

const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await metricsText(svc), name, labels);

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

it(`after ${AUTH_FAILURES_ALLOWED} failed logins for a device id, refuses wrong secrets as rate-limited (CONNACK 3) and still lets the right secret in`, async () => {
  for (let i = 0; i < AUTH_FAILURES_ALLOWED; i++) expect(await tryConnect(dev.id, 'wrong')).toBe(5);
  // over the limit: a wrong secret is told "server unavailable" (rate-limited), not "not authorized" …
  expect(await tryConnect(dev.id, 'wrong')).toBe(3);
  // … and whoever fails against a known device id cannot lock the device out: its right secret gets in
  expect(await tryConnect(dev.id, dev.secret)).toBe('ok');
  const metrics = await fetch(`${svc.base}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(new RegExp(`netzero_mqtt_auth_failures_total\\{reason="bad_credentials"\\} ${AUTH_FAILURES_ALLOWED}`));
  expect(metrics).toMatch(/netzero_mqtt_auth_failures_total\{reason="rate_limited"\} 1/);
});

it('lets an honest device at the same address in with its right secret while the address is over its failure limit', async () => {
  // 127.0.0.1 has had AUTH_FAILURES_ALLOWED failures: a misconfigured meter behind a site's NAT
  const checks = await metric('netzero_mqtt_secret_checks_total', { scheme: 'hmac-sha256' });
  expect(await tryConnect(neighbour.id, neighbour.secret)).toBe('ok');
  // its secret was checked (cheap), not waved through or refused unchecked
  expect(await metric('netzero_mqtt_secret_checks_total', { scheme: 'hmac-sha256' })).toBe(checks + 1);
  // and a wrong secret from there is still "not authorized", not "unavailable"
  expect(await tryConnect(neighbour.id, 'wrong')).toBe(5);
  expect(await tryConnect(neighbour.id, neighbour.secret)).toBe('ok');
});

it('refuses a legacy (scrypt) hash from an address over its limit without checking it, checks and re-hashes it from elsewhere', async () => {
  expect(storedHash(svc.dataDir, legacy.id)).toMatch(/^scrypt\$/);
  expect(await metric('netzero_mqtt_secret_checks_total', { scheme: 'scrypt' })).toBe(0);
  expect(await tryConnectFrom(svc.ports.mqtt!, { username: legacy.id, password: legacy.secret })).toBe(3);
  expect(await metric('netzero_mqtt_secret_checks_total', { scheme: 'scrypt' })).toBe(0);

  expect(await tryConnectFrom(svc.ports.mqtt!, { username: legacy.id, password: legacy.secret, localAddress: '127.0.0.2' })).toBe('ok');
  expect(await metric('netzero_mqtt_secret_checks_total', { scheme: 'scrypt' })).toBe(1);
  expect(await metric('netzero_mqtt_secret_hash_upgrades_total')).toBe(1);
  expect(storedHash(svc.dataDir, legacy.id)).toMatch(/^hmac-sha256\$/);

  // now cheap to check, so the busy address gets it checked too
  expect(await tryConnectFrom(svc.ports.mqtt!, { username: legacy.id, password: legacy.secret })).toBe('ok');
  expect(await metric('netzero_mqtt_secret_checks_total', { scheme: 'scrypt' })).toBe(1);
});

it(`answers waves of 300 parallel wrong-password CONNECTs with at most ${AUTH_FAILURES_ALLOWED} "not authorized" and no expensive check, logs a bounded number of lines, and an honest device keeps publishing`, async () => {
  // the honest device is at another site here (its neighbours at the flooding address: the test before)
  const publisher = await HonestPublisher.start(svc, honest, { localAddress: '127.0.0.4' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    publisher.window();
    const cpu0 = await cpuSeconds(svc);
    const before = await metricsText(svc);
    const linesBefore = svc.output().split('\n').filter((l) => l.includes('mqtt login refused')).length;
    // three waves of 300 at once, a moment apart (the finding: 262 checks for one wave of 300, limit 10)
    const results: Array<Awaited<ReturnType<typeof tryConnectFrom>>> = [];
    for (let wave = 0; wave < 3; wave++) {
      results.push(
        ...(await Promise.all(
          Array.from({ length: 300 }, () => tryConnectFrom(svc.ports.mqtt!, { username: target.id, password: 'wrong-password', localAddress: '127.0.0.3' })),
        )),
      );
      await new Promise((r) => setTimeout(r, 200));
    }
    const after = await metricsText(svc);
    const cpu = (await cpuSeconds(svc)) - cpu0;
    await new Promise((r) => setTimeout(r, 1000)); // the service's log lines reach us
    const stats = publisher.report('3 × 300 parallel wrong-password CONNECTs');
    const checks = metricValue(after, 'netzero_mqtt_secret_checks_total', { scheme: 'hmac-sha256' }) - metricValue(before, 'netzero_mqtt_secret_checks_total', { scheme: 'hmac-sha256' });
    const codes = results.reduce<Record<string, number>>((acc, r) => ((acc[String(r)] = (acc[String(r)] ?? 0) + 1), acc), {});
    const lines = svc.output().split('\n').filter((l) => l.includes('mqtt login refused')).length - linesBefore;
    console.log(`[abuse] wrong-password flood: ${checks} secret checks for ${results.length} CONNECTs, CONNACK codes ${JSON.stringify(codes)}, ${lines} log lines, service CPU ${cpu.toFixed(2)} s`);

    expect(after).toMatch(/^netzero_mqtt_secret_checks_total\{scheme="hmac-sha256"\} \d+/m);
    // every check is the cheap one (microseconds): none of the expensive legacy kind
    expect(checks).toBeLessThanOrEqual(results.length);
    expect(metricValue(after, 'netzero_mqtt_secret_checks_total', { scheme: 'scrypt' })).toBe(metricValue(before, 'netzero_mqtt_secret_checks_total', { scheme: 'scrypt' }));
    expect(codes['5'] ?? 0).toBeLessThanOrEqual(AUTH_FAILURES_ALLOWED);
    expect((codes['5'] ?? 0) + (codes['3'] ?? 0)).toBe(results.length);
    expect(lines).toBeLessThan(20);
    expect(stats.acks).toBeGreaterThan(0);
    expect(stats.disconnects).toBe(0);
    // and the flood's target, with its right secret, still gets in: the flood cannot lock it out
    expect(await tryConnectFrom(svc.ports.mqtt!, { username: target.id, password: target.secret })).toBe('ok');
  } finally {
    await publisher.stop();
  }
});
