import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { RPCClient } from 'ocpp-rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/mqtt-abuse.js';
import { freePort, registerDevice, startService, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * Operators, device secret rotation and disabling, against the real service (`node bin/netzero.js start`):
 * site-scoped operator logins (bearer and session cookie) that see and act on their sites' devices only;
 * the login limits; rotation that ends an MQTT session and an OCPP connection at once and refuses the old
 * secret (MQTT.js: CONNACK 5; ocpp-rpc: 401); disabling that closes and refuses (CONNACK 5 with the reason
 * in the quarantine, 403 at the OCPP handshake, 409 for a CSV import, `device disabled` for a reading in
 * flight) while the history stays; the overview's counts, status and latest reading; the CLI commands.
 */

interface OverviewRow {
  id: string;
  site: string;
  status: string;
  status_source: string | null;
  accepted_24h: number;
  rejected_24h: number;
  warned_24h: number;
  last_reading: { ts: string; seq: number | null; values: Record<string, unknown> } | null;
  last_seen: string | null;
  disabled: { at: string; reason: string; by: string } | null;
  programme: string | null;
  review_open: number | null;
}
interface Overview {
  total: number;
  sites: string[];
  devices: OverviewRow[];
}
interface Detail {
  device: OverviewRow;
  rejections: Array<{ errors: Array<{ field: string; reason: string }>; raw: string }>;
}
interface Issues {
  issues: Array<{ field: string; reason: string }>;
}

const exec = promisify(execFile);
const CLI = path.resolve('bin/netzero.js');

let svc: RunningService;
let ocppPort: number;
let pvA: Registered;
let pvB: Registered;
let evA: Registered;
const ops: Record<string, { id: string; secret: string }> = {};
const clients: MqttClient[] = [];
const chargers: Array<InstanceType<typeof RPCClient>> = [];

const bearer = (op: { id: string; secret: string }) => `${op.id}:${op.secret}`;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

async function connect(id: string, secret: string): Promise<MqttClient> {
  const c = await connectClient(svc.ports.mqtt!, { username: id, password: secret, clientId: id, connectTimeout: 5000 });
  clients.push(c);
  return c;
}

/** The CONNACK return code of a login that must be refused. */
async function refusedCode(id: string, secret: string): Promise<number | undefined> {
  try {
    const c = await connect(id, secret);
    c.end(true);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

const closed = (c: MqttClient) => new Promise<void>((resolve) => (c.disconnected ? resolve() : c.once('close', () => resolve())));

async function charger(id: string, secret: string) {
  const c = new RPCClient({ endpoint: `ws://127.0.0.1:${ocppPort}/ocpp`, identity: id, password: secret, protocols: ['ocpp1.6'], strictMode: true, reconnect: false, callTimeoutMs: 15_000 } as never);
  await c.connect();
  chargers.push(c);
  return c;
}

/** The HTTP status of an OCPP handshake (101 when accepted). */
function handshake(id: string, secret: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: ocppPort, path: `/ocpp/${id}`,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'), 'sec-websocket-protocol': 'ocpp1.6', authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const overview = async (token: string | null = undefined as never) => (await svc.api<Overview>('GET', '/api/operators/devices', undefined, token)).body;
const row = async (id: string) => (await overview()).devices.find((d) => d.id === id)!;

beforeAll(async () => {
  ocppPort = await freePort();
  svc = await startService({ env: { NETZERO_OCPP_PORT: String(ocppPort) } });
  pvA = await registerDevice(svc, { kind: 'pv_inverter', site: 'site-a', sector: 'residential_commercial', id: 'pv-a', params: { nameplate_kw: 50 } });
  pvB = await registerDevice(svc, { kind: 'pv_inverter', site: 'site-b', sector: 'residential_commercial', id: 'pv-b', params: { nameplate_kw: 50 } });
  evA = await registerDevice(svc, { kind: 'ev_charger', site: 'site-a', sector: 'transport', id: 'ev-a' });
  for (const [name, sites] of [['op-a', ['site-a']], ['op-b', ['site-b']], ['op-c', ['site-c']]] as const) {
    const r = await svc.api<{ id: string; secret: string; sites: string[] }>('POST', '/api/operators', { id: name, name: `Operator ${name}`, sites });
    expect(r.status).toBe(201);
    expect(r.body.sites).toEqual(sites);
    ops[name] = r.body;
  }
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  for (const c of chargers) await c.close({ force: true }).catch(() => undefined);
  await svc?.stop();
});

describe('operators', () => {
  it('refuses a bad operator by field, and lists operators without secrets', async () => {
    const none = await svc.api<Issues>('POST', '/api/operators', { name: 'x' });
    expect(none.status).toBe(400);
    expect(none.body.issues.map((i) => i.field)).toEqual(['sites']);
    const bad = await svc.api<Issues>('POST', '/api/operators', { name: '', sites: ['ok', 'a/b'], colour: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i) => i.field).sort()).toEqual(['colour', 'name', 'sites[1]']);
    const dup = await svc.api('POST', '/api/operators', { id: 'op-a', name: 'again', sites: ['site-a'] });
    expect(dup.status).toBe(409);
    const list = await svc.api<Array<Record<string, unknown>>>('GET', '/api/operators');
    expect(list.body.map((o) => o.id)).toEqual(['op-a', 'op-b', 'op-c']);
    expect(JSON.stringify(list.body)).not.toContain('secret');
    expect((await svc.api('GET', '/api/operators', undefined, bearer(ops['op-a']!))).status).toBe(401);
  });

  it('an operator sees and acts on its own sites only: 404 for another site\'s device, 403 for another site', async () => {
    const a = bearer(ops['op-a']!);
    const devices = await svc.api<Array<{ id: string }>>('GET', '/api/devices', undefined, a);
    expect(devices.body.map((d) => d.id).sort()).toEqual(['ev-a', 'pv-a']);
    const o = await overview(a);
    expect(o.sites).toEqual(['site-a']);
    expect(o.devices.map((d) => d.id).sort()).toEqual(['ev-a', 'pv-a']);
    expect((await svc.api('GET', '/api/operators/devices?site=site-b', undefined, a)).status).toBe(403);
    for (const [method, p, body] of [
      ['GET', '/api/operators/devices/pv-b', undefined],
      ['GET', '/api/readings?device=pv-b', undefined],
      ['GET', '/api/intervals?device=pv-b', undefined],
      ['GET', '/api/quarantine?device=pv-b', undefined],
      ['GET', '/api/intervals/review?device=pv-b', undefined],
      ['POST', '/api/devices/pv-b/secret', undefined],
      ['POST', '/api/devices/pv-b/disable', { reason: 'not mine' }],
      ['POST', '/api/devices/pv-b/enable', {}],
    ] as const) {
      const r = await svc.api(method, p, body, a);
      expect(r.status, `${method} ${p}`).toBe(404);
    }
    const imp = await fetch(`${svc.base}/api/devices/pv-b/import`, { method: 'POST', headers: { authorization: `Bearer ${a}`, 'content-type': 'text/csv' }, body: 'ts,energy_kwh\n2026-01-01T00:00:00+08:00,1\n' });
    expect(imp.status).toBe(404);
    const reg = await svc.api<Issues>('POST', '/api/devices', { kind: 'pv_inverter', site: 'site-b', sector: 'residential_commercial' }, a);
    expect(reg.status).toBe(403);
    expect(reg.body.issues[0]!.field).toBe('site');
    const viewer = await svc.api<Issues>('POST', '/api/devices', { role: 'viewer' }, a);
    expect(viewer.status).toBe(403);
    const own = await svc.api<{ id: string }>('POST', '/api/devices', { kind: 'smart_meter', site: 'site-a', sector: 'residential_commercial', id: 'sm-a' }, a);
    expect(own.status).toBe(201);
    // the admin still sees everything, and the pv-b secret was not touched
    expect((await overview()).devices.map((d) => d.id).sort()).toEqual(['ev-a', 'pv-a', 'pv-b', 'sm-a']);
    (await connect(pvB.id, pvB.secret)).end(true);
    // admin-only endpoints stay admin-only
    expect((await svc.api('POST', '/api/factors', {}, a)).status).toBe(401);
  });

  it('a session cookie: HttpOnly, SameSite=Strict, 8 h; logout ends it; bad input is 400 by field', async () => {
    const bad = await svc.api<Issues>('POST', '/api/operators/session', { id: 'op-a' }, null);
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i) => i.field)).toEqual(['secret']);
    const odd = await svc.api<Issues>('POST', '/api/operators/session', { id: 'op-a', secret: 'x', extra: 1 }, null);
    expect(odd.body.issues.map((i) => i.field)).toEqual(['extra']);
    const res = await fetch(`${svc.base}/api/operators/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'op-b', secret: ops['op-b']!.secret }) });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^netzero_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=28800$/);
    const who = (await res.json()) as { role: string; sites: string[]; expires_at: string; listeners: { mqtt: number } };
    expect(who).toMatchObject({ role: 'operator', sites: ['site-b'], listeners: { mqtt: svc.ports.mqtt } });
    expect(Date.parse(who.expires_at) - Date.now()).toBeGreaterThan(8 * 3_600_000 - 60_000);
    const jar = cookie.split(';')[0]!;
    const list = await fetch(`${svc.base}/api/operators/devices`, { headers: { cookie: jar } });
    expect(((await list.json()) as Overview).devices.map((d) => d.id)).toEqual(['pv-b']);
    expect((await fetch(`${svc.base}/api/operators/session`, { method: 'DELETE', headers: { cookie: jar } })).status).toBe(204);
    const after = await fetch(`${svc.base}/api/operators/devices`, { headers: { cookie: jar } });
    expect(after.status).toBe(401);
    // the admin token logs in too
    const admin = await svc.api<{ role: string }>('POST', '/api/operators/session', { token: 'test-admin-token-0123456789abcdef' }, null);
    expect(admin.body.role).toBe('admin');
  });

  it('limits failed logins per operator id and per address; the right secret still gets in', async () => {
    const login = (id: string, secret: string) => svc.api<{ reason: string }>('POST', '/api/operators/session', { id, secret }, null);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await login('op-c', 'wrong')).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    const limited = await fetch(`${svc.base}/api/operators/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'op-c', secret: 'wrong' }) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login('op-c', ops['op-c']!.secret)).status).toBe(200);
    // the address is over its limit too (the same 10 failures): another id's wrong secret is 429, its right one gets in
    expect((await login('op-b', 'wrong')).status).toBe(429);
    expect((await login('op-b', ops['op-b']!.secret)).status).toBe(200);
    // bearer credentials for scripts go through the same limits
    expect((await svc.api('GET', '/api/operators/devices', undefined, 'op-c:wrong')).status).toBe(429);
    expect((await svc.api('GET', '/api/operators/devices', undefined, bearer(ops['op-c']!))).status).toBe(200);
  });
});

describe('rotate and disable', () => {
  it('counts what a device sends and shows its retained status, latest reading and rejections', async () => {
    const c = await connect(pvA.id, pvA.secret);
    await c.publishAsync(`netzero/v1/site-a/pv-a/status`, 'online', { qos: 1, retain: true });
    await c.publishAsync(pvA.topic, JSON.stringify({ ts: minutesAgo(30), seq: 1, energy_kwh: 100, power_w: 1000 }), { qos: 1 });
    await c.publishAsync(pvA.topic, JSON.stringify({ ts: minutesAgo(20), seq: 2, energy_kwh: 101.5, power_w: 1200 }), { qos: 1 });
    await c.publishAsync(pvA.topic, JSON.stringify({ ts: minutesAgo(10), seq: 3, energy_kwh: 'lots' }), { qos: 1 });
    const r = await waitFor('pv-a counted', async () => {
      const x = await row('pv-a');
      return x.rejected_24h === 1 && x.status === 'online' ? x : null;
    }, 10_000);
    expect(r).toMatchObject({ accepted_24h: 2, rejected_24h: 1, warned_24h: 0, status: 'online', status_source: 'mqtt' });
    expect(r.last_reading).toMatchObject({ seq: 2, values: { energy_kwh: 101.5, power_w: 1200 } });
    const detail = (await svc.api<Detail>('GET', '/api/operators/devices/pv-a', undefined, bearer(ops['op-a']!))).body;
    expect(detail.rejections[0]!.errors[0]).toMatchObject({ field: 'energy_kwh' });
    expect(detail.rejections[0]!.raw).toContain('"lots"');
    c.end(true);
  });

  it('rotation ends the MQTT session using the old secret; the old one gets CONNACK 5, the new one works', async () => {
    const old = await connect(pvA.id, pvA.secret);
    const gone = closed(old);
    const r = await svc.api<{ id: string; secret: string; topic: string }>('POST', '/api/devices/pv-a/secret', undefined, bearer(ops['op-a']!));
    expect(r.status).toBe(200);
    expect(r.body.secret).not.toBe(pvA.secret);
    expect(r.body.topic).toBe(pvA.topic);
    await gone;
    expect(await refusedCode(pvA.id, pvA.secret)).toBe(5);
    const fresh = await connect(pvA.id, r.body.secret);
    await fresh.publishAsync(pvA.topic, JSON.stringify({ ts: minutesAgo(5), seq: 4, energy_kwh: 102 }), { qos: 1 });
    fresh.end(true);
    pvA = { ...pvA, secret: r.body.secret };
    const readings = (await svc.api<Array<{ seq: number }>>('GET', '/api/readings?device=pv-a')).body;
    expect(readings.map((x) => x.seq)).toEqual([1, 2, 4]);
  });

  it('disabling closes and refuses the device with the reason, keeps its history, refuses imports; enabling lets it in again', async () => {
    const c = await connect(pvA.id, pvA.secret);
    const gone = closed(c);
    const bad = await svc.api<Issues>('POST', '/api/devices/pv-a/disable', { reason: '' }, bearer(ops['op-a']!));
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0]!.field).toBe('reason');
    const r = await svc.api<OverviewRow>('POST', '/api/devices/pv-a/disable', { reason: 'inverter replaced' }, bearer(ops['op-a']!));
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('disabled');
    expect(r.body.disabled).toMatchObject({ reason: 'inverter replaced', by: 'Operator op-a (operator op-a)' });
    await gone;
    expect(await refusedCode(pvA.id, pvA.secret)).toBe(5);
    const q = await waitFor('the refusal in the quarantine', async () => {
      const list = (await svc.api<Array<{ errors: Array<{ field: string; reason: string }> }>>('GET', '/api/quarantine?device=pv-a')).body;
      return list.find((e) => e.errors[0]!.field === 'device');
    }, 5000);
    expect(q.errors[0]!.reason).toMatch(/device disabled since .* inverter replaced/);
    const imp = await fetch(`${svc.base}/api/devices/pv-a/import`, { method: 'POST', headers: { authorization: `Bearer ${bearer(ops['op-a']!)}`, 'content-type': 'text/csv' }, body: `ts,energy_kwh\n${minutesAgo(60)},99\n` });
    expect(imp.status).toBe(409);
    expect(((await imp.json()) as { reason: string }).reason).toMatch(/disabled.*inverter replaced/);
    // history kept: the readings are still there and still in the summary's energy
    expect((await svc.api<unknown[]>('GET', '/api/readings?device=pv-a')).body).toHaveLength(3);
    expect((await row('pv-a')).status).toBe('disabled');
    const en = await svc.api<OverviewRow>('POST', '/api/devices/pv-a/enable', {}, bearer(ops['op-a']!));
    expect(en.body.disabled).toBeNull();
    (await connect(pvA.id, pvA.secret)).end(true);
  });

  it('readings already on their way through the pipeline when the device is disabled are refused with "device disabled"', async () => {
    // one long CSV import (30,000 rows of 5-minute readings, sent in batches of 1,000 through the pipeline);
    // the device is disabled while it runs: the batches after that are refused by the pipeline, named by line
    const start = Date.now() - 200 * 86_400_000;
    const lines = ['ts,energy_kwh'];
    for (let i = 0; i < 30_000; i++) lines.push(`${new Date(start + i * 300_000).toISOString()},${(1000 + i * 0.01).toFixed(2)}`);
    const importing = fetch(`${svc.base}/api/devices/${evA.id}/import`, { method: 'POST', headers: { authorization: 'Bearer test-admin-token-0123456789abcdef', 'content-type': 'text/csv' }, body: `${lines.join('\n')}\n` });
    await waitFor('the import under way', async () => (await row(evA.id)).accepted_24h >= 1000, 20_000, 20);
    await svc.api('POST', `/api/devices/${evA.id}/disable`, { reason: 'cut mid-import' });
    const res = await importing;
    expect(res.status).toBe(200);
    const report = (await res.json()) as { imported: number; rejected: number; rejected_rows: Array<{ line: number; field: string; reason: string }> };
    expect(report.imported).toBeGreaterThanOrEqual(1000);
    expect(report.rejected).toBeGreaterThan(0);
    expect(report.imported + report.rejected).toBe(30_000);
    expect(report.rejected_rows[0]).toMatchObject({ field: 'device' });
    expect(report.rejected_rows[0]!.reason).toMatch(/^device disabled since .* cut mid-import/);
    // what was imported before stays
    expect((await svc.api<unknown[]>('GET', `/api/readings?device=${evA.id}&limit=10000`)).body.length).toBe(Math.min(10_000, report.imported));
    await svc.api('POST', `/api/devices/${evA.id}/enable`, {});
  }, 60_000);

  it('an OCPP charger: rotation closes its connection and refuses the old secret (401); disabled it is refused at the handshake (403)', async () => {
    const c = await charger(evA.id, evA.secret);
    await c.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'T1' });
    const closedOnce = new Promise<{ code: number }>((resolve) => c.once('close', resolve as never));
    const r = await svc.api<{ secret: string }>('POST', `/api/devices/${evA.id}/secret`, undefined, bearer(ops['op-a']!));
    expect((await closedOnce).code).toBe(1008);
    expect(await handshake(evA.id, evA.secret)).toBe(401);
    evA = { ...evA, secret: r.body.secret };
    const again = await charger(evA.id, evA.secret);
    const closedTwice = new Promise<{ code: number }>((resolve) => again.once('close', resolve as never));
    await svc.api('POST', `/api/devices/${evA.id}/disable`, { reason: 'vandalised' });
    expect((await closedTwice).code).toBe(1008);
    expect(await handshake(evA.id, evA.secret)).toBe(403);
    await svc.api('POST', `/api/devices/${evA.id}/enable`, {});
    expect(await handshake(evA.id, evA.secret)).toBe(101);
  });

  it('the CLI rotates, disables and enables through the running service', async () => {
    const env = { ...process.env, NETZERO_DATA_DIR: svc.dataDir, NETZERO_ADMIN_TOKEN: 'test-admin-token-0123456789abcdef' };
    const c = await connect(pvA.id, pvA.secret);
    const gone = closed(c);
    const rot = await exec(process.execPath, [CLI, 'devices', 'rotate-secret', 'pv-a', '--json'], { env });
    const { secret } = JSON.parse(rot.stdout) as { secret: string };
    await gone;
    expect(await refusedCode(pvA.id, pvA.secret)).toBe(5);
    pvA = { ...pvA, secret };
    const dis = await exec(process.execPath, [CLI, 'devices', 'disable', 'pv-a', '--reason', 'site closed'], { env });
    expect(dis.stdout).toMatch(/^disabled pv-a at .* by admin: site closed/);
    expect(await refusedCode(pvA.id, secret)).toBe(5);
    await exec(process.execPath, [CLI, 'devices', 'enable', 'pv-a'], { env });
    (await connect(pvA.id, secret)).end(true);
    const noReason = await exec(process.execPath, [CLI, 'devices', 'disable', 'pv-a', '--reason', ''], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(noReason).toMatchObject({ code: 2 });
    const unknown = await exec(process.execPath, [CLI, 'devices', 'enable', 'nope'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(unknown).toMatchObject({ code: 2 });
    expect((unknown as { stderr: string }).stderr).toContain('no device "nope"');
  });

  it('the CLI adds, lists and removes operators; a removed operator\'s session ends', async () => {
    const env = { ...process.env, NETZERO_DATA_DIR: svc.dataDir };
    const add = await exec(process.execPath, [CLI, 'operators', 'add', '--name', 'Solar Co', '--site', 'site-a', '--site', 'site-b', '--id', 'op-cli', '--json'], { env });
    const op = JSON.parse(add.stdout) as { id: string; secret: string; sites: string[] };
    expect(op.sites).toEqual(['site-a', 'site-b']);
    expect((await overview(bearer(op))).devices.map((d) => d.id).sort()).toEqual(['ev-a', 'pv-a', 'pv-b', 'sm-a']);
    const list = await exec(process.execPath, [CLI, 'operators', 'list'], { env });
    expect(list.stdout).toMatch(/op-cli\s+Solar Co\s+site-a,site-b/);
    const noSite = await exec(process.execPath, [CLI, 'operators', 'add', '--name', 'X'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(noSite).toMatchObject({ code: 2 });
    expect((noSite as { stderr: string }).stderr).toContain('--site: ');
    const login = await fetch(`${svc.base}/api/operators/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: op.id, secret: op.secret }) });
    const jar = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${svc.base}/api/operators/devices`, { headers: { cookie: jar } })).status).toBe(200);
    await exec(process.execPath, [CLI, 'operators', 'remove', 'op-cli'], { env });
    const after = await fetch(`${svc.base}/api/operators/devices`, { headers: { cookie: jar } });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { reason: string }).reason).toContain('no longer exists');
  });
});
