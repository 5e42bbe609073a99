import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRedRoom } from '../../flows/nodered-room.js';
import { ADMIN_TOKEN, freePort, registerDevice, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The flows/ room against real servers: the built service (Node-RED off) and, in this process, the
 * compiled NodeRedRoom on a free port. An operator's flow (http in → vendor adapter → netzero-reading →
 * mqtt out) publishes a vendor inverter's reading with the device's credentials; the service stores
 * the valid one, and the invalid one never leaves Node-RED: the HTTP caller gets the field and reason.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMPILED = path.join(ROOT, 'dist/flows/nodered-room.js');
const SITE = 'kh-school-01';

interface ReadingOut {
  ts: string;
  seq: number | null;
  fields: Record<string, number>;
  extras: Record<string, unknown>;
}
interface FlowNode {
  id: string;
  type: string;
  name?: string;
  func?: string;
  [k: string]: unknown;
}

let svc: RunningService;
let pv: Registered;
let viewer: MqttClient | undefined;
const statusMessages: string[] = [];
let room: NodeRedRoom;
let red: string;

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const readingsOf = async (id: string) => (await svc.api<ReadingOut[]>('GET', `/api/readings?device=${id}&limit=1000`)).body;

/** The vendor adapter of the shipped example flow, so the example's code is what is tested. */
function exampleAdapter(): string {
  const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows/nodes/examples/vendor-inverter-json.json'), 'utf8')) as FlowNode[];
  const fn = flow.find((n) => n.type === 'function' && n.name === 'vendor → contract');
  if (!fn?.func) throw new Error('the example flow has no "vendor → contract" function node');
  return fn.func;
}

/** Taipei wall-clock time without an offset, as the vendor's inverter reports it. */
function taipeiLocal(epochMs: number): string {
  return new Date(epochMs + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

function ingestFlow(dev: Registered, mqttPort: number): FlowNode[] {
  const tab = 'f0000000000000a0';
  const status = `netzero/v1/${SITE}/${dev.id}/status`;
  return [
    { id: tab, type: 'tab', label: 'ingest test' },
    { id: 'f0000000000000a1', type: 'http in', z: tab, name: '', url: '/ingest-test', method: 'post', upload: false, swaggerDoc: '', wires: [['f0000000000000a2']] },
    { id: 'f0000000000000a2', type: 'function', z: tab, name: 'vendor → contract', func: exampleAdapter(), outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['f0000000000000a3']] },
    { id: 'f0000000000000a3', type: 'netzero-reading', z: tab, name: '', kind: 'pv_inverter', site: SITE, device: dev.id, wires: [['f0000000000000a4', 'f0000000000000a5'], ['f0000000000000a6']] },
    { id: 'f0000000000000a4', type: 'mqtt out', z: tab, name: '', topic: '', qos: '', retain: '', broker: 'f0000000000000b1', wires: [] },
    { id: 'f0000000000000a5', type: 'http response', z: tab, name: 'accepted', statusCode: '200', headers: { 'content-type': 'application/json' }, wires: [] },
    { id: 'f0000000000000a6', type: 'http response', z: tab, name: 'rejected', statusCode: '400', headers: {}, wires: [] },
    {
      id: 'f0000000000000b1', type: 'mqtt-broker', name: 'service broker', broker: '127.0.0.1', port: String(mqttPort),
      clientid: `${dev.id}-nodered`, autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true,
      birthTopic: status, birthQos: '1', birthRetain: 'true', birthPayload: 'online', birthMsg: {},
      closeTopic: status, closeQos: '1', closeRetain: 'true', closePayload: 'offline', closeMsg: {},
      willTopic: status, willQos: '1', willRetain: 'true', willPayload: 'offline', willMsg: {},
      // credentials travel in the node's `credentials` property; Node-RED stores them encrypted
      credentials: { user: dev.id, password: dev.secret },
    },
  ];
}

async function postVendor(body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${red}/api/ingest-test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  if (!fs.existsSync(COMPILED)) throw new Error(`${COMPILED} is missing: build first (npx tsc -p tsconfig.build.json)`);
  svc = await startService();
  pv = await registerDevice(svc, { kind: 'pv_inverter', site: SITE, sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 50 } });

  // a read-only MQTT user watches the device's status topic (the flow's broker node sets birth/close messages)
  const v = await registerDevice(svc, { role: 'viewer' });
  viewer = await new Promise<MqttClient>((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: v.id, password: v.secret, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
  viewer.on('message', (_t, payload) => statusMessages.push(payload.toString()));
  await viewer.subscribeAsync(`netzero/v1/${SITE}/${pv.id}/status`, { qos: 1 });

  const mod = (await import(pathToFileURL(COMPILED).href)) as typeof import('../../flows/nodered-room.js');
  room = new mod.NodeRedRoom({
    port: await freePort(),
    host: '127.0.0.1',
    dataDir: tempDir('netzero-nodered-'),
    logger: pino({ level: 'warn' }),
    mqttUrl: `mqtt://127.0.0.1:${svc.ports.mqtt}`,
    adminToken: ADMIN_TOKEN,
  });
  red = `http://127.0.0.1:${await room.start()}`;
});

afterAll(async () => {
  await room?.stop();
  viewer?.end(true);
  const code = await svc?.stop();
  expect(code).toBe(0);
});

describe('the embedded Node-RED', () => {
  it('serves the editor at /', async () => {
    const res = await fetch(`${red}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('<title>netzero · Node-RED</title>');
  });

  it('guards the admin API with the admin token', async () => {
    expect((await fetch(`${red}/flows`)).status).toBe(401);
    expect((await fetch(`${red}/flows`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${red}/flows`, { headers: auth })).status).toBe(200);
  });

  it('loads the project node netzero-reading from flows/nodes', async () => {
    const res = await fetch(`${red}/nodes`, { headers: { ...auth, accept: 'application/json' } });
    const sets = (await res.json()) as Array<{ types: string[]; enabled: boolean; err?: string }>;
    const set = sets.find((s) => s.types.includes('netzero-reading'));
    expect(set, JSON.stringify(sets.map((s) => s.types))).toBeDefined();
    expect(set!.enabled).toBe(true);
    expect(set!.err).toBeUndefined();
  });

  it('refuses a second runtime in the same process', async () => {
    const mod = (await import(pathToFileURL(COMPILED).href)) as typeof import('../../flows/nodered-room.js');
    const second = new mod.NodeRedRoom({ port: 0, host: '127.0.0.1', dataDir: tempDir('netzero-nodered-'), logger: pino({ level: 'silent' }) });
    await expect(second.start()).rejects.toThrow(/already running in this process/);
  });
});

describe('a flow: http in → vendor adapter → netzero-reading → mqtt out', () => {
  beforeAll(async () => {
    const res = await fetch(`${red}/flows`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(ingestFlow(pv, svc.ports.mqtt!)),
    });
    expect(res.status, await res.text()).toBeLessThan(300);
    // the broker node's birth message: Node-RED is connected with the device's credentials
    await waitFor('Node-RED connected to the broker (status "online")', () => statusMessages.at(-1) === 'online', 15_000);
  });

  it('publishes a valid vendor reading, which the service stores', async () => {
    const at = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const res = await postVendor({ Etotal_kWh: 12345.6, Pac_W: 3200, Time: taipeiLocal(at) });
    expect(res.status, res.text).toBe(200);
    const sent = JSON.parse(res.text) as Record<string, unknown>;
    expect(sent).toEqual({ ts: `${taipeiLocal(at).replace(' ', 'T')}+08:00`, energy_kwh: 12345.6, power_w: 3200 });

    const rows = await waitFor('the reading stored', async () => {
      const r = await readingsOf(pv.id);
      return r.length > 0 ? r : null;
    }, 10_000);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ts).toBe(new Date(at).toISOString());
    expect(rows[0]!.fields).toEqual({ energy_kwh: 12345.6, power_w: 3200 });
  });

  it('answers an invalid reading with the field and reason, and publishes nothing', async () => {
    const res = await postVendor({ Etotal_kWh: -5, Pac_W: 0, Time: taipeiLocal(Date.now() - 30_000) });
    expect(res.status, res.text).toBe(400);
    expect(JSON.parse(res.text)).toEqual([{ field: 'energy_kwh', reason: 'must not be negative (cumulative counter)' }]);

    // give a (wrong) publish time to arrive, then check it did not: nothing stored, nothing quarantined
    await new Promise((r) => setTimeout(r, 500));
    expect(await readingsOf(pv.id)).toHaveLength(1);
    const q = await svc.api<unknown[]>('GET', `/api/quarantine?device=${pv.id}`);
    expect(q.status).toBe(200);
    expect(q.body).toEqual([]);
  });

  it('names ts when the vendor time has an unexpected form', async () => {
    const res = await postVendor({ Etotal_kWh: 12346, Time: '22/11/2026 10:00' });
    expect(res.status).toBe(400);
    const errors = JSON.parse(res.text) as Array<{ field: string; reason: string }>;
    expect(errors.map((e) => e.field)).toEqual(['ts']);
  });

  it('stops: the broker node says offline and the port is closed', async () => {
    await room.stop();
    await waitFor('status "offline"', () => statusMessages.at(-1) === 'offline', 10_000);
    await expect(fetch(`${red}/`)).rejects.toThrow();
  });
});

describe('Node-RED inside the service (NETZERO_NODERED_PORT)', () => {
  it('starts with the service, appears in ports.json, and keeps its editor behind the admin token', async () => {
    const own = await startService({ env: { NETZERO_NODERED_PORT: String(await freePort()) } });
    try {
      expect(own.ports).toHaveProperty('nodered');
      const base = `http://127.0.0.1:${own.ports.nodered}`;
      const editor = await fetch(`${base}/`);
      expect(editor.status).toBe(200);
      expect(await editor.text()).toContain('Node-RED');
      expect((await fetch(`${base}/flows`)).status).toBe(401);
      expect((await fetch(`${base}/flows`, { headers: auth })).status).toBe(200);
    } finally {
      expect(await own.stop()).toBe(0);
    }
  });
});
