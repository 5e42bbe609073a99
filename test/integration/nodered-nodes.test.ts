import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, registerDevice, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The project nodes (flows/nodes) in Node-RED's own node test harness, node-red-node-test-helper,
 * against the real service (built `bin/netzero.js start`: its broker, ingest and store, its HTTP API):
 * netzero-device keeps the secret as a credential; netzero-out publishes a valid reading that the
 * service stores, refuses an invalid one without sending anything, queues while the broker is away and
 * delivers after it comes back; netzero-summary emits the live summary when it changes.
 */

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODES = path.join(ROOT, 'flows/nodes');
const SITE = 'kh-school-01';

type NodeModule = (RED: unknown) => void;
interface SpyCall {
  thisValue: unknown;
  args: unknown[];
}
interface RedNode {
  id: string;
  credentials?: Record<string, unknown>;
  receive(msg: Record<string, unknown>): void;
  on(event: string, fn: (msg: Record<string, unknown>) => void): void;
}
interface Helper {
  init(runtimePath: string, settings?: Record<string, unknown>): void;
  load(nodes: NodeModule[], flow: object[], credentials?: Record<string, object>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): RedNode;
  startServer(done: () => void): void;
  stopServer(done: () => void): void;
  _redNodes: { getFlows(): { flows: object[] } };
  _NodePrototype: Record<'status' | 'error' | 'warn', { getCalls(): SpyCall[] }>;
}

const helper = require('node-red-node-test-helper') as Helper;
const deviceNode = require(path.join(NODES, 'netzero-device.cjs')) as NodeModule;
const outNode = require(path.join(NODES, 'netzero-out.cjs')) as NodeModule;
const summaryNode = require(path.join(NODES, 'netzero-summary.cjs')) as NodeModule;
const sunspecNode = require(path.join(NODES, 'netzero-sunspec.cjs')) as NodeModule;

interface ReadingOut {
  ts: string;
  seq: number | null;
  fields: Record<string, number>;
}
interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}

let svc: RunningService;
let pv: Registered;
let viewer: MqttClient;
/** what the viewer saw: topic and payload text */
const seen: Array<{ topic: string; text: string }> = [];

const readingsOf = async (s: RunningService, id: string) => (await s.api<ReadingOut[]>('GET', `/api/readings?device=${id}&limit=1000`)).body;

/** Every status a node has shown so far, oldest first (the harness spies on Node.prototype). */
const statusesOf = (node: RedNode): Status[] =>
  helper._NodePrototype.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => (c.args[0] ?? {}) as Status);
const lastStatus = (node: RedNode): Status | undefined => statusesOf(node).at(-1);
const errorsOf = (node: RedNode): string[] =>
  helper._NodePrototype.error
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => String(c.args[0] instanceof Error ? c.args[0].message : c.args[0]));

/** The next message a helper node receives. */
function nextMessage(node: RedNode, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message at ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    node.on('input', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** `minutesAgo` minutes before now, whole seconds, as the contract's ISO form with +08:00. */
function taipeiIso(msAgo: number): { iso: string; epoch: number } {
  const epoch = Math.floor((Date.now() - msAgo) / 1000) * 1000;
  const local = new Date(epoch + 8 * 3600_000).toISOString().slice(0, 19);
  return { iso: `${local}+08:00`, epoch };
}

function deviceConfig(id: string, dev: Registered, extra: Record<string, unknown> = {}) {
  return { id, type: 'netzero-device', name: '', device: dev.id, site: SITE, kind: 'pv_inverter', broker: '', announce: true, queue: '', ...extra };
}

/** tab, device config, netzero-out → [acked, feedback], a catch on the tab → caught */
function outFlow(device: object) {
  return [
    { id: 'tab1', type: 'tab', label: 'test' },
    device,
    { id: 'out', z: 'tab1', type: 'netzero-out', name: '', device: 'dev', wires: [['acked'], ['feedback']] },
    { id: 'acked', z: 'tab1', type: 'helper' },
    { id: 'feedback', z: 'tab1', type: 'helper' },
    { id: 'catcher', z: 'tab1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab1', type: 'helper' },
  ];
}

beforeAll(async () => {
  svc = await startService();
  pv = await registerDevice(svc, { kind: 'pv_inverter', site: SITE, sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 50 } });
  const v = await registerDevice(svc, { role: 'viewer' });
  viewer = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: v.id, password: v.secret, reconnectPeriod: 0, connectTimeout: 5000 });
  viewer.on('message', (topic, payload) => seen.push({ topic, text: payload.toString() }));
  await viewer.subscribeAsync('netzero/v1/#', { qos: 1 });

  helper.init(require.resolve('node-red'), {
    functionGlobalContext: { netzero: { mqttUrl: `mqtt://127.0.0.1:${svc.ports.mqtt}`, httpUrl: svc.base, topicRoot: 'netzero/v1' } },
  });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});

afterEach(async () => {
  await helper.unload();
});

afterAll(async () => {
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  viewer?.end(true);
  expect(await svc?.stop()).toBe(0);
});

describe('netzero-device', () => {
  it('keeps the secret as a credential, out of the flow, and connects as the device', async () => {
    const before = seen.length;
    await helper.load([deviceNode, outNode], outFlow(deviceConfig('dev', pv)), { dev: { secret: pv.secret } });
    const dev = helper.getNode('dev');
    expect(dev.credentials).toEqual({ secret: pv.secret });
    // the flow configuration (what is exported and saved to flows.json) never holds it
    expect(JSON.stringify(helper._redNodes.getFlows().flows)).not.toContain(pv.secret);

    const out = helper.getNode('out');
    await waitFor('status "connected"', () => lastStatus(out)?.text === 'connected', 10_000);
    // with "publish online/offline": a retained online on the device's status topic
    await waitFor('online on the status topic', () => seen.slice(before).some((m) => m.topic === `netzero/v1/${SITE}/${pv.id}/status` && m.text === 'online'), 5000);
  });

  it('without a secret: red status naming it, and an input is an error', async () => {
    await helper.load([deviceNode, outNode], outFlow(deviceConfig('dev', pv)), {});
    const out = helper.getNode('out');
    expect(lastStatus(out)).toMatchObject({ fill: 'red', text: expect.stringMatching(/^the secret is not set/) });
    const caught = nextMessage(helper.getNode('caught'));
    out.receive({ payload: { ts: Date.now() - 60_000, energy_kwh: 1 } });
    const msg = await caught;
    expect((msg.error as { message: string }).message).toMatch(/^not sent: the secret is not set/);
  });

  it('a site the device was not registered with: the broker refuses its errors topic and nothing is published', async () => {
    const before = seen.length;
    await helper.load([deviceNode, outNode], outFlow(deviceConfig('dev', pv, { site: 'kh-wrong-site' })), { dev: { secret: pv.secret } });
    const out = helper.getNode('out');
    await waitFor('red status', () => lastStatus(out)?.fill === 'red', 10_000);
    expect(lastStatus(out)!.text).toMatch(/^the broker refused netzero\/v1\/kh-wrong-site\//);
    const caught = nextMessage(helper.getNode('caught'));
    out.receive({ payload: { ts: Date.now() - 60_000, energy_kwh: 1 } });
    expect(((await caught).error as { message: string }).message).toMatch(/is the site the one .* was registered with/);
    expect(seen.slice(before).filter((m) => m.topic.includes('kh-wrong-site'))).toEqual([]);
    expect((await svc.api<unknown[]>('GET', `/api/quarantine?device=${pv.id}`)).body).toEqual([]);
  });

  it('a wrong secret: the status says not authorized', async () => {
    await helper.load([deviceNode, outNode], outFlow(deviceConfig('dev', pv)), { dev: { secret: 'not-the-secret-0123456789' } });
    const out = helper.getNode('out');
    await waitFor('not authorized', () => /not authorized|bad username or password/.test(lastStatus(out)?.text ?? ''), 10_000);
    expect(lastStatus(out)!.fill).toBe('yellow');
  });
});

describe('netzero-out', () => {
  it('publishes a valid reading at QoS 1; after the PUBACK it goes on, and the service has stored it', async () => {
    await helper.load([deviceNode, outNode], outFlow(deviceConfig('dev', pv)), { dev: { secret: pv.secret } });
    const out = helper.getNode('out');
    const at = taipeiIso(120_000);
    const acked = nextMessage(helper.getNode('acked'));
    out.receive({ payload: { ts: at.iso, seq: 1, energy_kwh: 12345.6, power_w: 3200 } });
    const msg = await acked;
    expect(msg.netzero).toMatchObject({ topic: `netzero/v1/${SITE}/${pv.id}/telemetry`, readings: 1 });
    expect(lastStatus(out)).toMatchObject({ fill: 'green', text: expect.stringMatching(/^1 reading acknowledged/) });

    // the PUBACK comes only once the reading is durable: it is in the store now, not eventually
    const rows = await readingsOf(svc, pv.id);
    expect(rows).toEqual([expect.objectContaining({ ts: new Date(at.epoch).toISOString(), seq: 1, fields: { energy_kwh: 12345.6, power_w: 3200 } })]);
  });

  it('publishes a batch (JSON text) as one message; all three readings are stored', async () => {
    await helper.load([deviceNode, outNode], outFlow(deviceConfig('dev', pv)), { dev: { secret: pv.secret } });
    const batch = { readings: [2, 3, 4].map((seq) => ({ ts: taipeiIso(120_000 - seq * 10_000).iso, seq, energy_kwh: 12345.6 + seq / 10 })) };
    const acked = nextMessage(helper.getNode('acked'));
    helper.getNode('out').receive({ payload: JSON.stringify(batch) });
    expect((await acked).netzero).toMatchObject({ readings: 3 });
    const rows = await readingsOf(svc, pv.id);
    expect(rows.map((r) => r.seq).sort()).toEqual([1, 2, 3, 4]);
    expect(rows.find((r) => r.seq === 4)!.fields.energy_kwh).toBe(12346);
  });

  it('refuses an invalid reading: an error a catch node sees, a red status naming the field, nothing sent', async () => {
    await helper.load([deviceNode, outNode], outFlow(deviceConfig('dev', pv)), { dev: { secret: pv.secret } });
    const out = helper.getNode('out');
    await waitFor('connected', () => lastStatus(out)?.text === 'connected', 10_000);
    const before = seen.length;
    const storedBefore = (await readingsOf(svc, pv.id)).length;

    const caught = nextMessage(helper.getNode('caught'));
    out.receive({ payload: { ts: taipeiIso(30_000).iso, energy_kwh: -5 }, _id: 'bad-1' });
    const msg = await caught;
    expect((msg.error as { message: string }).message).toBe(`not sent, invalid pv_inverter reading for ${pv.id}: energy_kwh must not be negative (cumulative counter)`);
    expect(msg.netzero).toEqual({ errors: [{ field: 'energy_kwh', reason: 'must not be negative (cumulative counter)' }] });
    expect(lastStatus(out)).toEqual({ fill: 'red', shape: 'dot', text: 'energy_kwh must not be negative (cumulative counter)' });
    expect(errorsOf(out).at(-1)).toMatch(/energy_kwh must not be negative/);

    // a batch with one bad reading is not sent either; the field is the reading's path
    const caught2 = nextMessage(helper.getNode('caught'));
    out.receive({ payload: { readings: [{ ts: taipeiIso(20_000).iso, energy_kwh: 12347 }, { ts: 'yesterday', energy_kwh: 12348 }] } });
    expect(((await caught2).netzero as { errors: Array<{ field: string }> }).errors.map((e) => e.field)).toEqual(['readings[1].ts']);

    // nothing reached the broker, nothing was stored or quarantined
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.slice(before).filter((m) => m.topic.endsWith('/telemetry'))).toEqual([]);
    expect(await readingsOf(svc, pv.id)).toHaveLength(storedBefore);
    expect((await svc.api<unknown[]>('GET', `/api/quarantine?device=${pv.id}`)).body).toEqual([]);
  });

  it('passes on what only the service can judge: a device registered as a smart meter, configured as an inverter', async () => {
    const meter = await registerDevice(svc, { kind: 'smart_meter', site: SITE, sector: 'residential_commercial' });
    await helper.load([deviceNode, outNode], outFlow(deviceConfig('dev', meter)), { dev: { secret: meter.secret } });
    const out = helper.getNode('out');
    const feedback = nextMessage(helper.getNode('feedback'));
    const caught = nextMessage(helper.getNode('caught'));
    out.receive({ payload: { ts: taipeiIso(60_000).iso, energy_kwh: 10 } });
    const f = await feedback;
    expect(f.topic).toBe(`netzero/v1/${SITE}/${meter.id}/errors`);
    expect(f.payload).toMatchObject({ rejected: 1, errors: [{ field: 'import_kwh', reason: 'required' }] });
    expect(((await caught).error as { message: string }).message).toBe(`the service rejected a reading of ${meter.id}: import_kwh required`);
    expect(lastStatus(out)).toMatchObject({ fill: 'red', text: 'service: import_kwh required' });
  });

  it('queues while the broker is away (bounded), reconnects, and delivers what waited', async () => {
    // a second service on a port of our choosing, with the device registered, then stopped: the broker is away
    const port = await freePort();
    const dataDir = tempDir('netzero-nodered-away-');
    let other = await startService({ dataDir, env: { NETZERO_MQTT_PORT: String(port) } });
    const dev = await registerDevice(other, { kind: 'pv_inverter', site: SITE, sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 50 } });
    expect(await other.stop()).toBe(0);

    try {
      await helper.load([deviceNode, outNode], outFlow(deviceConfig('dev', dev, { broker: `mqtt://127.0.0.1:${port}`, queue: '2' })), { dev: { secret: dev.secret } });
      const out = helper.getNode('out');
      await waitFor('broker unreachable', () => /unreachable|ECONNREFUSED/.test(lastStatus(out)?.text ?? ''), 10_000);

      const acked: Array<Record<string, unknown>> = [];
      helper.getNode('acked').on('input', (m) => acked.push(m));
      const a = taipeiIso(180_000);
      const b = taipeiIso(120_000);
      out.receive({ payload: { ts: a.iso, seq: 1, energy_kwh: 100 } });
      out.receive({ payload: { ts: b.iso, seq: 2, energy_kwh: 100.5 } });
      const caught = nextMessage(helper.getNode('caught'));
      out.receive({ payload: { ts: taipeiIso(60_000).iso, seq: 3, energy_kwh: 101 } });
      expect(((await caught).error as { message: string }).message).toMatch(/^not sent: the queue is full \(2 messages wait for the broker, which is away/);
      await waitFor('2 waiting', () => /^2 waiting for PUBACK, broker away/.test(lastStatus(out)?.text ?? ''), 5000);

      other = await startService({ dataDir, env: { NETZERO_MQTT_PORT: String(port) } });
      await waitFor('both acknowledged after the reconnect', () => acked.length === 2, 45_000);
      expect(acked.map((m) => (m.payload as { seq: number }).seq)).toEqual([1, 2]);
      const rows = await readingsOf(other, dev.id);
      expect(rows.map((r) => [r.ts, r.seq, r.fields.energy_kwh])).toEqual([
        [new Date(a.epoch).toISOString(), 1, 100],
        [new Date(b.epoch).toISOString(), 2, 100.5],
      ]);
    } finally {
      expect(await other.stop()).toBe(0);
    }
  });
});

describe('netzero-summary', () => {
  interface Summary {
    to: string;
    energy_kwh: { pv: number };
    avoided_tco2e: number;
  }

  it('emits the live summary, and again when a reading changes it', async () => {
    const roof = await registerDevice(svc, { kind: 'pv_inverter', site: SITE, sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 50 } });
    const flow = [
      { id: 'tab1', type: 'tab', label: 'test' },
      { id: 'sum', z: 'tab1', type: 'netzero-summary', name: '', url: '', live: true, wires: [['got']] },
      { id: 'got', z: 'tab1', type: 'helper' },
    ];
    const got: Summary[] = [];
    await helper.load([summaryNode], flow);
    helper.getNode('got').on('input', (m) => got.push(m.payload as Summary));
    await waitFor('the first summary', () => got.length >= 1, 15_000);
    const before = got.at(-1)!;

    // two readings of the new inverter two minutes apart: 1 kWh (30 kW average, under its 50 kW nameplate)
    const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: roof.id, password: roof.secret, reconnectPeriod: 0 });
    const topic = `netzero/v1/${SITE}/${roof.id}/telemetry`;
    await dev.publishAsync(topic, JSON.stringify({ ts: taipeiIso(180_000).iso, energy_kwh: 500 }), { qos: 1 });
    await dev.publishAsync(topic, JSON.stringify({ ts: taipeiIso(60_000).iso, energy_kwh: 501 }), { qos: 1 });
    await dev.endAsync();

    const after = await waitFor('a summary with 1 kWh more PV', () => got.find((s) => Math.abs(s.energy_kwh.pv - before.energy_kwh.pv - 1) < 1e-9), 15_000);
    expect(after.avoided_tco2e).toBeGreaterThan(before.avoided_tco2e);
    // only changes are sent: no two in a row alike (the moving `to` aside)
    const keys = got.map((s) => JSON.stringify({ ...s, to: undefined }));
    expect(new Set(keys).size).toBe(keys.length);
    expect(lastStatus(helper.getNode('sum'))?.fill).toBe('green');
  });

  it('on input asks GET /api/summary for a period; a bad one is an error naming the field', async () => {
    const flow = [
      { id: 'tab1', type: 'tab', label: 'test' },
      { id: 'sum', z: 'tab1', type: 'netzero-summary', name: '', url: svc.base, live: false, wires: [['got']] },
      { id: 'got', z: 'tab1', type: 'helper' },
      { id: 'catcher', z: 'tab1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab1', type: 'helper' },
    ];
    await helper.load([summaryNode], flow);
    const sum = helper.getNode('sum');
    const got = nextMessage(helper.getNode('got'));
    sum.receive({ payload: { from: '2026-01-01T00:00:00+08:00', to: '2026-02-01T00:00:00+08:00' } });
    expect((await got).payload).toMatchObject({ from: '2026-01-01T00:00:00+08:00', to: '2026-02-01T00:00:00+08:00', energy_kwh: { pv: 0 } });

    const caught = nextMessage(helper.getNode('caught'));
    sum.receive({ from: '2026-02-30T00:00:00+08:00' });
    expect(((await caught).error as { message: string }).message).toMatch(/^GET \/api\/summary answered 400: from /);
  });
});

describe('netzero-sunspec', () => {
  const flow = (address: string) => [
    { id: 'tab1', type: 'tab', label: 'test' },
    { id: 'ss', z: 'tab1', type: 'netzero-sunspec', name: '', address, port: '', unit: '', kind: 'pv_inverter', timeout: '2', wires: [['got']] },
    { id: 'got', z: 'tab1', type: 'helper' },
    { id: 'catcher', z: 'tab1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab1', type: 'helper' },
  ];

  it('an address left as ${NETZERO_…} (no such variable) says which variable to set', async () => {
    await helper.load([sunspecNode], flow('${NETZERO_NO_SUCH_ADDRESS}'));
    expect(lastStatus(helper.getNode('ss'))).toEqual({ fill: 'red', shape: 'ring', text: "set NETZERO_NO_SUCH_ADDRESS in the service's environment" });
  });

  it('a device that is not there: an error naming the address, within the timeout', async () => {
    const port = await freePort();
    await helper.load([sunspecNode], flow(`127.0.0.1:${port}`));
    const caught = nextMessage(helper.getNode('caught'), 5000);
    const started = Date.now();
    helper.getNode('ss').receive({});
    expect(((await caught).error as { message: string }).message).toMatch(new RegExp(`^SunSpec read of 127\\.0\\.0\\.1:${port} unit 1 failed: .*ECONNREFUSED`));
    expect(Date.now() - started).toBeLessThan(2500);
  });
});
