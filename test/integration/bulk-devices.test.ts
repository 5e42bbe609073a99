import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/mqtt-abuse.js';
import { ADMIN_TOKEN, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * Bulk provisioning against the real service (`node bin/netzero.js start`): `POST /api/devices` with a
 * list of 500 registers all of them in one request, and their secrets log in (MQTT.js and the real
 * mosquitto_pub) and get readings stored; a list with a repeated id, a taken id, a bad item or an
 * operator's item at another site registers nothing; the single form answers as before; and
 * `netzero devices import FILE.csv` through the running service and on a data dir with no service.
 */

const exec = promisify(execFile);
const CLI = path.resolve('bin/netzero.js');
const haveMosquittoPub = fs.existsSync('/usr/bin/mosquitto_pub');

interface Issue {
  index?: number;
  field: string;
  reason: string;
}
interface Refused {
  error: string;
  reason?: string;
  issues: Issue[];
}

let svc: RunningService;
const clients: MqttClient[] = [];
const meter = (id: string, site = 'bulk-a') => ({ id, kind: 'smart_meter', site, sector: 'residential_commercial', measure: 'social-housing-smart-meters' });
const deviceIds = async () => new Set((await svc.api<Array<{ id: string }>>('GET', '/api/devices')).body.map((d) => d.id));
const reading = (seq: number) => JSON.stringify({ ts: new Date(Date.now() - 60_000).toISOString(), seq, import_kwh: 100 + seq, power_w: 500 });
const storedReadings = async (id: string) => (await svc.api<Array<{ seq: number }>>('GET', `/api/readings?device=${id}`)).body;

/** The CLI finds the service by the data dir's ports.json; the test service's admin token is in the environment, not the data dir. */
async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { env: { ...process.env, NETZERO_ADMIN_TOKEN: ADMIN_TOKEN }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  svc = await startService({ env: { NETZERO_LOG_LEVEL: 'warn' } });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  await svc?.stop();
});

describe('POST /api/devices with a list', () => {
  let regs: Registered[];

  it('registers 500 devices in one request, each with its own secret, in order', async () => {
    const list = Array.from({ length: 500 }, (_, i) => (i % 5 === 4 ? { kind: 'pv_inverter', site: 'bulk-a', sector: 'residential_commercial', params: { nameplate_kw: 5 } } : meter(`bulk-${i}`)));
    const r = await svc.api<Registered[]>('POST', '/api/devices', list);
    expect(r.status).toBe(201);
    regs = r.body;
    expect(regs).toHaveLength(500);
    expect(regs[0]).toEqual({ id: 'bulk-0', secret: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/), topic: 'netzero/v1/bulk-a/bulk-0/telemetry' });
    expect(regs[4]!.id).toMatch(/^pv-[0-9a-f]{8}$/);
    expect(new Set(regs.map((x) => x.secret)).size).toBe(500);
    const ids = await deviceIds();
    expect(regs.every((x) => ids.has(x.id))).toBe(true);
  });

  it('the returned secrets log in and their readings are stored (MQTT.js and mosquitto_pub)', async () => {
    const some = [regs[0]!, regs[4]!, regs[250]!, regs[499]!];
    for (const [n, reg] of some.entries()) {
      const c = await connectClient(svc.ports.mqtt!, { username: reg.id, password: reg.secret, clientId: reg.id });
      clients.push(c);
      const payload = reg.id.startsWith('pv-') ? JSON.stringify({ ts: new Date(Date.now() - 60_000).toISOString(), seq: n, energy_kwh: 10 + n, power_w: 100 }) : reading(n);
      await c.publishAsync(reg.topic, payload, { qos: 1 });
      // the PUBACK comes after the commit: the reading is there now
      expect((await storedReadings(reg.id)).map((x) => x.seq)).toEqual([n]);
    }
    const wrong = await connectClient(svc.ports.mqtt!, { username: regs[1]!.id, password: regs[2]!.secret }).catch((e: { code?: number }) => e.code);
    expect(wrong).toBe(5);
    if (haveMosquittoPub) {
      const reg = regs[123]!;
      await exec('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(svc.ports.mqtt), '-u', reg.id, '-P', reg.secret, '-i', reg.id, '-q', '1', '-t', reg.topic, '-m', reading(7)]);
      expect((await waitFor('the mosquitto_pub reading', async () => {
        const got = await storedReadings(reg.id);
        return got.length > 0 ? got : null;
      })).map((x) => x.seq)).toEqual([7]);
    }
  });

  it('registers nothing when an id repeats within the list, naming each later item', async () => {
    const before = await deviceIds();
    const r = await svc.api<Refused>('POST', '/api/devices', [meter('dup-x'), meter('dup-y'), meter('dup-x')]);
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([{ index: 2, field: '[2].id', reason: 'repeats the id "dup-x" of item [0]: each id once' }]);
    expect(await deviceIds()).toEqual(before);
  });

  it('registers nothing when an item is bad, naming every bad item by index and field', async () => {
    const before = await deviceIds();
    const r = await svc.api<Refused>('POST', '/api/devices', [meter('ok-1'), { ...meter('bad-1'), sector: 'houses' }, { ...meter('bad-2'), kind: 'pv_inverter', params: { nameplate_kw: 0 } }, 'x']);
    expect(r.status).toBe(400);
    expect(r.body.issues.map((i) => i.field)).toEqual(['[1].sector', '[2].params.nameplate_kw', '[3]']);
    expect(await deviceIds()).toEqual(before);
  });

  it('registers nothing when an id is already registered: 409 naming the item', async () => {
    const before = await deviceIds();
    const r = await svc.api<Refused>('POST', '/api/devices', [meter('new-1'), meter('bulk-0'), meter('new-2')]);
    expect(r.status).toBe(409);
    expect(r.body.issues).toEqual([{ index: 1, field: '[1].id', reason: '"bulk-0" is already registered' }]);
    expect(await deviceIds()).toEqual(before);
  });

  it('says the bound: at most 20,000 registrations in one request', async () => {
    const r = await svc.api<Refused>('POST', '/api/devices', Array.from({ length: 20_001 }, () => ({ kind: 'smart_meter', site: 's', sector: 'industry' })));
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([{ field: 'body', reason: 'holds 20001 registrations; at most 20000 at once: split the list' }]);
  });

  it('an operator registers a list at its own sites only: one item elsewhere is 403 and nothing is registered', async () => {
    const op = await svc.api<{ id: string; secret: string }>('POST', '/api/operators', { id: 'op-bulk', name: 'Bulk operator', sites: ['bulk-a'] });
    expect(op.status).toBe(201);
    const token = `${op.body.id}:${op.body.secret}`;
    const before = await deviceIds();
    const r = await svc.api<Refused>('POST', '/api/devices', [meter('op-1'), meter('op-2', 'bulk-b'), { role: 'viewer' }], token);
    expect(r.status).toBe(403);
    expect(r.body.issues.map((i) => [i.field, i.reason])).toEqual([
      ['[1].site', 'must be one of your sites: bulk-a'],
      ['[2].role', 'an operator registers devices; viewers are registered by the admin'],
    ]);
    expect(await deviceIds()).toEqual(before);
    const own = await svc.api<Registered[]>('POST', '/api/devices', [meter('op-1'), meter('op-2')], token);
    expect(own.status).toBe(201);
    expect(own.body.map((x) => x.id)).toEqual(['op-1', 'op-2']);
  });

  it('the single form answers as before', async () => {
    const one = await svc.api<Registered>('POST', '/api/devices', meter('single-1'));
    expect(one.status).toBe(201);
    expect(Object.keys(one.body).sort()).toEqual(['id', 'secret', 'topic']);
    const again = await svc.api<{ error: string; reason: string }>('POST', '/api/devices', meter('single-1'));
    expect(again).toEqual({ status: 409, body: { error: 'conflict', reason: 'id "single-1" is already registered' } });
    const bad = await svc.api<Refused>('POST', '/api/devices', { kind: 'pv', site: 's', sector: 'industry' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i) => i.field)).toEqual(['kind']);
    const big = await svc.api<{ error: string }>('POST', '/api/devices', { ...meter('single-2'), name: 'x'.repeat(300_000) });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('Request body is too large');
  });
});

describe('netzero devices import FILE.csv', () => {
  const CSV = 'id,kind,site,sector,measure,name,param.nameplate_kw\n' +
    'csv-pv-1,pv_inverter,bulk-c,residential_commercial,rooftop-pv,"Roof, east",50\n' +
    'csv-sm-1,smart_meter,bulk-c,residential_commercial,,,\n';

  it('through the running service: the credentials once, in a new file of mode 0600, and they log in', async () => {
    const dir = tempDir('netzero-import-');
    fs.writeFileSync(path.join(dir, 'devices.csv'), CSV);
    const out = path.join(dir, 'credentials.csv');
    const r = await cli(['devices', 'import', path.join(dir, 'devices.csv'), '--credentials-out', out, '--data-dir', svc.dataDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`registered 2 devices through the service at ${svc.base}`);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,secret,mqtt_username,topic');
    const [id, secret, username, topic] = lines[1]!.split(',');
    expect([id, username, topic]).toEqual(['csv-pv-1', 'csv-pv-1', 'netzero/v1/bulk-c/csv-pv-1/telemetry']);
    const c = await connectClient(svc.ports.mqtt!, { username, password: secret, clientId: id });
    clients.push(c);
    await c.publishAsync(topic!, JSON.stringify({ ts: new Date(Date.now() - 60_000).toISOString(), seq: 1, energy_kwh: 5, power_w: 100 }), { qos: 1 });
    expect((await storedReadings(id!)).map((x) => x.seq)).toEqual([1]);

    const again = await cli(['devices', 'import', path.join(dir, 'devices.csv'), '--credentials-out', out, '--data-dir', svc.dataDir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`netzero devices import: --credentials-out: ${out} exists; it is never overwritten (it may hold secrets shown only once): name a new file\n`);
    const taken = await cli(['devices', 'import', path.join(dir, 'devices.csv'), '--credentials-out', path.join(dir, 'c2.csv'), '--data-dir', svc.dataDir]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain('line 2, column id: "csv-pv-1" is already registered');
    expect(fs.existsSync(path.join(dir, 'c2.csv'))).toBe(false);
  });

  it('names every bad row by line and column and registers nothing', async () => {
    const dir = tempDir('netzero-import-');
    const file = path.join(dir, 'bad.csv');
    fs.writeFileSync(file, 'id,kind,site,sector,param.nameplate_kw\ncsv-ok,pv_inverter,bulk-c,industry,5\ncsv-bad,pv,bulk-c,houses,-1\n\ncsv-ok,pv_inverter,bulk-c,industry,5\n');
    const before = await deviceIds();
    const r = await cli(['devices', 'import', file, '--credentials-out', path.join(dir, 'c.csv'), '--data-dir', svc.dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'netzero devices import: line 3, column kind: must be one of smart_meter, pv_inverter, biogas, ev_charger, got "pv"',
      expect.stringMatching(/^netzero devices import: line 3, column sector: must be one of industry, .*, got "houses"$/),
      'netzero devices import: line 3, column param.nameplate_kw: must be > 0 (kW)',
      'netzero devices import: line 5, column id: repeats the id "csv-ok" of line 2: each id once',
    ]);
    expect(await deviceIds()).toEqual(before);
    expect(fs.existsSync(path.join(dir, 'c.csv'))).toBe(false);
  });

  it('with no service running, writes a new data dir directly', async () => {
    const dir = tempDir('netzero-import-');
    fs.writeFileSync(path.join(dir, 'devices.csv'), CSV);
    const data = path.join(dir, 'data');
    const r = await cli(['devices', 'import', path.join(dir, 'devices.csv'), '--credentials-out', path.join(dir, 'c.csv'), '--data-dir', data, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ registered: 2, credentials_out: path.join(dir, 'c.csv'), via: 'data-dir' });
    const list = await cli(['devices', 'list', '--data-dir', data, '--json']);
    expect((JSON.parse(list.stdout) as Array<{ id: string; name: string | null }>).map((d) => [d.id, d.name])).toEqual([
      ['csv-pv-1', 'Roof, east'],
      ['csv-sm-1', null],
    ]);
  });
});
