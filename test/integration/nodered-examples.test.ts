import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, freePort, registerDevice, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';
import { commonModel, inverterModel, startModbusServer, sunspecRegisters, type ModbusServer } from '../helpers/sunspec.js';

/**
 * The example flows as an operator uses them: the service started with Node-RED on (its embedded
 * runtime, NETZERO_NODERED_PORT), each example taken from the editor's Import → Examples listing,
 * its device filled in, deployed through the admin API, and fed the way it is fed in the field
 * (an inverter's HTTP endpoint, a CSV file dropped in a folder, devices falling silent). Each ends
 * with the expected readings in the store, and the alert with its webhook call.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLES = path.join(ROOT, 'flows/nodes/examples');
const MODULE = 'node-red-contrib-netzero';
const SITE = 'kh-school-01';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface FlowNode {
  id: string;
  type: string;
  name?: string;
  env?: Array<{ name: string; value: string; type: string }>;
  credentials?: Record<string, string>;
  [k: string]: unknown;
}
interface ReadingOut {
  ts: string;
  seq: number | null;
  fields: Record<string, number>;
}

let svc: RunningService;
let red: string;
let csvDir: string;
let inverter: http.Server;
let hook: http.Server;
/** a SunSpec inverter: Debian's pymodbus serving model 1 and model 103 */
let modbus: ModbusServer;
/** what the fake inverter answered, newest last */
const served: Array<{ Etotal_kWh: number; Pac_W: number; Time: string }> = [];
/** alerts the webhook received, with the time they arrived */
const alerts: Array<{ at: number; body: Record<string, unknown> }> = [];

const readingsOf = async (id: string) => (await svc.api<ReadingOut[]>('GET', `/api/readings?device=${id}&limit=5000`)).body;

/** Taipei wall-clock time without an offset, as a vendor device or a data logger writes it. */
const taipeiLocal = (epochMs: number, sep = ' ') => new Date(epochMs + 8 * 3600_000).toISOString().slice(0, 19).replace('T', sep);

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** An example as the editor's Import → Examples gets it. */
async function example(name: string): Promise<FlowNode[]> {
  const res = await fetch(`${red}/library/examples/flows/${MODULE}/${name}`, { headers: auth });
  expect(res.status).toBe(200);
  return (await res.json()) as FlowNode[];
}

/** Full deploy through the admin API, as the editor's Deploy button does. */
async function deploy(flow: FlowNode[]): Promise<void> {
  const res = await fetch(`${red}/flows`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flow),
  });
  expect(res.status, await res.text()).toBeLessThan(300);
}

/** The example's netzero-device filled in as the README says: id and site as registered, the secret as a credential. */
function withDevice(flow: FlowNode[], dev: Registered): FlowNode[] {
  return flow.map((n) => (n.type === 'netzero-device' ? { ...n, device: dev.id, site: SITE, credentials: { secret: dev.secret } } : n));
}

beforeAll(async () => {
  csvDir = tempDir('netzero-csv-drop-');
  inverter = http.createServer((_req, res) => {
    const reading = { Etotal_kWh: 12345.6 + served.length / 10, Pac_W: 3200, Time: taipeiLocal(Math.floor(Date.now() / 1000) * 1000 - 5000) };
    served.push(reading);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reading));
  });
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      alerts.push({ at: Date.now(), body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  const [inverterPort, hookPort, noderedPort] = await Promise.all([listen(inverter), listen(hook), freePort()]);
  // 3,200 W now, 12,345,600 Wh so far (scale factors 0) → power_w 3200, energy_kwh 12345.6
  modbus = await startModbusServer({ unit_id: 1, holding: sunspecRegisters(40000, commonModel('Example', 'PV-10', 'SN-0001'), inverterModel({ W: 3200, W_SF: 0, WH: 12_345_600, WH_SF: 0 })) });
  svc = await startService({
    env: {
      NETZERO_NODERED_PORT: String(noderedPort),
      NETZERO_INVERTER_URL: `http://127.0.0.1:${inverterPort}/api/realtime.json`,
      NETZERO_CSV_DIR: csvDir,
      NETZERO_ALERT_WEBHOOK: `http://127.0.0.1:${hookPort}/alert`,
      NETZERO_SUNSPEC_ADDRESS: `127.0.0.1:${modbus.port}`,
    },
  });
  red = `http://127.0.0.1:${svc.ports.nodered}`;
});

afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
  inverter?.close();
  hook?.close();
  await modbus?.stop();
});

describe('the project module in the embedded Node-RED', () => {
  it('loads node-red-contrib-netzero from flows/nodes with every node', async () => {
    const res = await fetch(`${red}/nodes`, { headers: { ...auth, accept: 'application/json' } });
    const sets = (await res.json()) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
    const ours = sets.filter((s) => s.module === MODULE);
    expect(ours.flatMap((s) => s.types).sort()).toEqual(['netzero-device', 'netzero-out', 'netzero-reading', 'netzero-summary', 'netzero-sunspec']);
    expect(ours.every((s) => s.enabled && !s.err)).toBe(true);
  });

  it('offers the examples in the editor\'s Import → Examples listing, each one the file shipped', async () => {
    const modules = (await (await fetch(`${red}/library/examples/flows/`, { headers: auth })).json()) as string[];
    expect(modules).toContain(MODULE);
    const listed = (await (await fetch(`${red}/library/examples/flows/${MODULE}`, { headers: auth })).json()) as Array<{ fn: string }>;
    expect(listed.map((e) => e.fn).sort()).toEqual(['csv-drop-folder-backfill', 'silent-device-alert', 'sunspec-inverter', 'vendor-inverter-json']);
    for (const { fn } of listed) {
      expect(await example(fn)).toEqual(JSON.parse(fs.readFileSync(path.join(EXAMPLES, `${fn}.json`), 'utf8')));
    }
  });

  it('no example names a host or a port: the service\'s addresses come from the global context and NETZERO_* variables', () => {
    for (const file of fs.readdirSync(EXAMPLES)) {
      const text = fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
      expect(text, file).not.toMatch(/localhost|\b\d{1,3}(\.\d{1,3}){3}\b/);
      expect(text, file).not.toMatch(/"port":\s*"?\d/);
      expect(text, file).not.toMatch(/[a-z]+:\/\/[A-Za-z0-9.-]+:\d+/);
    }
  });
});

describe('example: vendor inverter JSON → contract', () => {
  let pv: Registered;

  beforeAll(async () => {
    pv = await registerDevice(svc, { kind: 'pv_inverter', site: SITE, sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 50 } });
    await deploy(withDevice(await example('vendor-inverter-json'), pv));
  });

  it('polls the inverter at NETZERO_INVERTER_URL and the service stores the mapped reading', async () => {
    const rows = await waitFor('the polled reading stored', async () => {
      const r = await readingsOf(pv.id);
      return r.length > 0 ? r : null;
    }, 20_000);
    const first = served[0]!;
    // "2026-12-02 14:41:20" Taipei time, no offset → +08:00 → 06:41:20Z
    expect(rows[0]).toMatchObject({ ts: new Date(`${first.Time.replace(' ', 'T')}+08:00`).toISOString(), fields: { energy_kwh: 12345.6, power_w: 3200 } });
  });

  it('keeps the device secret only encrypted with the runtime\'s credential secret', () => {
    const userDir = path.join(svc.dataDir, 'nodered');
    const raw = fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
    expect(raw).not.toContain(pv.secret);
    expect(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')).not.toContain(pv.secret);
    // Node-RED's format: {"$": <16-byte IV, hex><AES-256-CTR ciphertext, base64>}, key = SHA-256 of the secret
    const sealed = (JSON.parse(raw) as { $: string }).$;
    const key = crypto.createHash('sha256').update(fs.readFileSync(path.join(userDir, '.credential-secret'), 'utf8').trim()).digest();
    const decipher = crypto.createDecipheriv('aes-256-ctr', key, Buffer.from(sealed.slice(0, 32), 'hex'));
    const creds = JSON.parse(decipher.update(sealed.slice(32), 'base64', 'utf8') + decipher.final('utf8')) as Record<string, { secret?: string }>;
    expect(creds.a1f0c0de000000b1).toEqual({ secret: pv.secret });
  });

  it('never hands the secret back to the editor', async () => {
    const res = await fetch(`${red}/credentials/netzero-device/a1f0c0de000000b1`, { headers: auth });
    expect(await res.json()).toEqual({ has_secret: true });
    expect(await (await fetch(`${red}/flows`, { headers: auth })).text()).not.toContain(pv.secret);
  });
});

describe('example: SunSpec inverter (Modbus TCP) → pv_inverter', () => {
  it('reads the inverter at NETZERO_SUNSPEC_ADDRESS and the service stores its reading', async () => {
    const pv = await registerDevice(svc, { kind: 'pv_inverter', site: SITE, sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 10 } });
    const before = Date.now();
    await deploy(withDevice(await example('sunspec-inverter'), pv));
    const rows = await waitFor('the SunSpec reading stored', async () => {
      const r = await readingsOf(pv.id);
      return r.length > 0 ? r : null;
    }, 20_000);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.fields).toEqual({ energy_kwh: 12345.6, power_w: 3200 });
    expect(Date.parse(rows[0]!.ts)).toBeGreaterThanOrEqual(before);
  });
});

describe('example: CSV drop folder → backfill', () => {
  let meter: Registered;

  beforeAll(async () => {
    meter = await registerDevice(svc, { kind: 'smart_meter', site: SITE, sector: 'residential_commercial' });
    await deploy(withDevice(await example('csv-drop-folder-backfill'), meter));
  });

  /**
   * Drops a file and waits until the meter has `count` readings; drops it again every 5 s meanwhile
   * (the watch may start a moment after the deploy answers; a file read twice is stored once).
   */
  async function dropUntilStored(name: string, text: string, count: number): Promise<ReadingOut[]> {
    return waitFor(`${count} readings stored`, async () => {
      drop(name, text);
      return waitFor('stored', async () => {
        const r = await readingsOf(meter.id);
        return r.length === count ? r : null;
      }, 5000, 250).catch(() => null);
    }, 60_000, 0);
  }

  /** Written beside the folder and moved in, as the example's comment asks. */
  function drop(name: string, text: string): void {
    const tmp = path.join(path.dirname(csvDir), `.${path.basename(csvDir)}-${name}`);
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, path.join(csvDir, name));
  }

  it('publishes 2,500 quarter-hours from one file in batches within the contract\'s limits; the service stores every row', async () => {
    const v = await registerDevice(svc, { role: 'viewer' });
    const viewer = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: v.id, password: v.secret, reconnectPeriod: 0 });
    const sent: string[] = [];
    viewer.on('message', (_t, payload) => sent.push(payload.toString()));
    await viewer.subscribeAsync(`netzero/v1/${SITE}/${meter.id}/telemetry`, { qos: 1 });

    // 2,500 readings every 15 minutes, ending an hour ago, Taipei local time; 0.25 kWh a quarter-hour
    const end = Math.floor(Date.now() / 900_000) * 900_000 - 3600_000;
    const start = end - 2499 * 900_000;
    const lines = ['ts,import_kwh,export_kwh'];
    for (let i = 0; i < 2500; i++) lines.push(`${taipeiLocal(start + i * 900_000).slice(0, 16)},${50000 + i * 0.25},${i === 0 ? '' : 12.5}`);
    const rows = await dropUntilStored('logger-2026.csv', `${lines.join('\n')}\n`, 2500);
    const byTs = rows.sort((a, b) => a.ts.localeCompare(b.ts));
    expect(byTs[0]).toMatchObject({ ts: new Date(start).toISOString(), fields: { import_kwh: 50000 } });
    expect(byTs[0]!.fields).not.toHaveProperty('export_kwh'); // an empty cell is left out
    expect(byTs[2499]).toMatchObject({ ts: new Date(end).toISOString(), fields: { import_kwh: 50624.75, export_kwh: 12.5 } });

    // what went over MQTT: batches of at most 1,000 readings and 60,000 bytes (the contract: 1,000 and 64 KiB)
    await viewer.endAsync();
    const batches = sent.map((text) => ({ bytes: Buffer.byteLength(text), readings: (JSON.parse(text) as { readings: Array<{ ts: string }> }).readings }));
    expect(batches.length).toBeGreaterThanOrEqual(3);
    for (const b of batches) {
      expect(b.readings.length).toBeLessThanOrEqual(1000);
      expect(b.bytes).toBeLessThanOrEqual(60_000);
    }
    expect(new Set(batches.flatMap((b) => b.readings.map((r) => r.ts))).size).toBe(2500);
  });

  it('a file with a bad row is refused whole; a .txt file is ignored; a good file dropped after them is stored', async () => {
    const before = (await readingsOf(meter.id)).length;
    const t = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    drop('bad.csv', `ts,import_kwh\n${taipeiLocal(t)},60000\nyesterday,60001\n`);
    drop('notes.txt', `ts,import_kwh\n${taipeiLocal(t + 20_000)},60002\n`);
    // the folder is read in the order things arrive: once the good file is in, the others were judged
    const rows = await dropUntilStored('good.csv', `ts,import_kwh\n${taipeiLocal(t + 40_000)},60003\n`, before + 1);
    expect(rows.filter((r) => Date.parse(r.ts) >= t)).toEqual([expect.objectContaining({ ts: new Date(t + 40_000).toISOString(), fields: { import_kwh: 60003 } })]);
    expect((await svc.api<unknown[]>('GET', `/api/quarantine?device=${meter.id}`)).body).toEqual([]);
  });
});

describe('example: alert when a device is silent for N minutes', () => {
  let quiet: Registered;
  let chatty: Registered;

  /** One reading, as the device, at QoS 1 (resolves on the PUBACK: stored). */
  const publish = async (dev: Registered, site: string, body: object) => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: dev.id, password: dev.secret, reconnectPeriod: 0 });
    await c.publishAsync(`netzero/v1/${site}/${dev.id}/telemetry`, JSON.stringify(body), { qos: 1 });
    await c.endAsync();
  };

  beforeAll(async () => {
    const viewer = await registerDevice(svc, { role: 'viewer' });
    quiet = await registerDevice(svc, { kind: 'pv_inverter', site: SITE, sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 50 } });
    chatty = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-housing-02', sector: 'residential_commercial' });
    const flow = (await example('silent-device-alert')).map((n) => {
      // the operator's two settings: the viewer's credentials, and SILENT_MINUTES (0.05 min = 3 s here)
      if (n.type === 'mqtt-broker') return { ...n, credentials: { user: viewer.id, password: viewer.secret } };
      if (n.type === 'tab') return { ...n, env: [{ name: 'SILENT_MINUTES', value: '0.05', type: 'num' }] };
      return n;
    });
    await deploy(flow);
    // the example's broker node is `${NETZERO_FLOWS_MQTT_URL}`; once a first device's alert comes, the viewer is subscribed
    const warm = await registerDevice(svc, { kind: 'smart_meter', site: SITE, sector: 'residential_commercial' });
    await waitFor('a first alert (the viewer is subscribed)', async () => {
      await publish(warm, SITE, { ts: Date.now() - 1000, import_kwh: 1 });
      return waitFor('alert', () => alerts.some((a) => a.body.device === warm.id), 6000).catch(() => false);
    }, 30_000);
  });

  it('alerts for a device 3 s after its last reading, not while it keeps sending', async () => {
    const quietAt = Date.now();
    await publish(quiet, SITE, { ts: quietAt - 1000, energy_kwh: 42 });
    // the chatty meter sends every second for 5 s
    let lastChatty = 0;
    for (let i = 0; i < 5; i++) {
      await publish(chatty, 'kh-housing-02', { ts: Date.now() - 1000, import_kwh: 100 + i });
      lastChatty = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
    }

    const q = await waitFor('the alert for the quiet device', () => alerts.find((a) => a.body.device === quiet.id), 15_000);
    expect(q.body).toMatchObject({ alert: 'device silent', device: quiet.id, site: SITE, silent_minutes: 0.05 });
    expect(q.at - quietAt).toBeGreaterThanOrEqual(3000);
    expect(Date.parse(q.body.last_seen as string)).toBeGreaterThanOrEqual(quietAt - 100);

    const c = await waitFor('the alert for the chatty meter once it stopped', () => alerts.find((a) => a.body.device === chatty.id), 15_000);
    // timed from its last reading (the viewer has it a moment before the PUBACK that set lastChatty)
    expect(c.at - lastChatty).toBeGreaterThanOrEqual(2900);
    expect(alerts.filter((a) => a.body.device === chatty.id)).toHaveLength(1);

    // the readings the alert watched are in the store
    expect((await readingsOf(quiet.id)).map((r) => r.fields)).toEqual([{ energy_kwh: 42 }]);
    expect(await readingsOf(chatty.id)).toHaveLength(5);
  });
});
