import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { RPCClient } from 'ocpp-rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, registerDevice, startService, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The OCPP 1.6J central system in the real service (`node bin/netzero.js start`), talked to by
 * ocpp-rpc's RPCClient as a scripted charge point: logins refused at the handshake; a full session with
 * a reconnect mid-session; each field trouble (a placeholder meterStart of 0, Wh sent as kWh, a sample
 * without energy, a StopTransaction that never comes, transaction ids across reboots and restarts);
 * connectors with their own registers; frames the OCPP schemas refuse; a flooding charger beside an
 * honest one. Figures are worked by hand in the comments; readings and intervals are read back over
 * the HTTP API with the admin token, connection state from /api/devices/status and, as a viewer, from
 * the retained status topic with Debian's mosquitto_sub.
 */

interface ReadingOut {
  ts: string;
  seq: number | null;
  fields: Record<string, number | string>;
  extras: Record<string, unknown>;
}
interface IntervalOut {
  t0: string;
  t1: string;
  v0: number;
  v1: number;
  amount: number;
  quality: string;
}
interface StatusOut {
  device: string;
  online: boolean;
  source: string;
  detail: Record<string, unknown>;
}
interface QuarantineOut {
  device: string;
  topic: string;
  errors: Array<{ field: string; reason: string }>;
}
type Charger = InstanceType<typeof RPCClient>;

let svc: RunningService;
let ocppPort: number;
const devices: Record<string, Registered> = {};
const open: Charger[] = [];

/** Whole minutes before now, so every timestamp is in the past and readable. */
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 4 * 3_600_000;
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();

const readings = async (id: string) => (await svc.api<ReadingOut[]>('GET', `/api/readings?device=${id}&limit=1000`)).body;
const intervals = async (id: string) => (await svc.api<IntervalOut[]>('GET', `/api/intervals?device=${id}&limit=1000`)).body;
const statusOf = async (id: string) => (await svc.api<StatusOut[]>('GET', '/api/devices/status')).body.find((s) => s.device === id);
const quarantineOf = async (id: string) => (await svc.api<QuarantineOut[]>('GET', `/api/quarantine?device=${id}&limit=100`)).body;
/** (minutes after T0, seq, kWh) of each reading, oldest first. */
const series = (rs: ReadingOut[]) => rs.map((r) => [(Date.parse(r.ts) - T0) / 60_000, r.seq, r.fields.energy_kwh]);

async function charger(id: string, secret = devices[id]!.secret, opts: { strict?: boolean; concurrency?: number } = {}): Promise<Charger> {
  const c = new RPCClient({
    endpoint: `ws://127.0.0.1:${ocppPort}/ocpp`,
    identity: id,
    password: secret,
    protocols: ['ocpp1.6'],
    strictMode: opts.strict ?? true,
    reconnect: false,
    callConcurrency: opts.concurrency ?? 1,
    callTimeoutMs: 15_000,
  } as never);
  await c.connect();
  open.push(c);
  return c;
}

const meterValues = (transactionId: number | undefined, timestamp: string, sampledValue: Array<Record<string, string>>, connectorId = 1) => ({
  connectorId,
  ...(transactionId !== undefined ? { transactionId } : {}),
  meterValue: [{ timestamp, sampledValue }],
});

/** A WebSocket upgrade request by hand: the HTTP status and body of a refusal, or 101. */
function handshake(path: string, opts: { user?: string; password?: string; authorization?: string; protocol?: string | null; from?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
    };
    if (opts.protocol !== null) headers['sec-websocket-protocol'] = opts.protocol ?? 'ocpp1.6';
    if (opts.authorization) headers.authorization = opts.authorization;
    else if (opts.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.password ?? ''}`).toString('base64')}`;
    const req = http.request({ host: '127.0.0.1', port: ocppPort, path, headers, localAddress: opts.from });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The retained message on a topic, read by a viewer with Debian's mosquitto_sub. */
function retained(viewer: Registered, topic: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(svc.ports.mqtt), '-u', viewer.id, '-P', viewer.secret, '-i', viewer.id, '-t', topic, '-C', '1', '-W', '5']);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', () => resolve(out.trim()));
  });
}

async function startWithOcpp(dataDir?: string): Promise<RunningService> {
  return startService({ env: { NETZERO_OCPP_PORT: String(ocppPort) }, ...(dataDir ? { dataDir } : {}) });
}

beforeAll(async () => {
  ocppPort = await freePort();
  svc = await startWithOcpp();
  for (const id of ['ev-a', 'ev-b', 'ev-c', 'ev-c.2', 'ev-f', 'ev-h', 'ev-x']) {
    devices[id] = await registerDevice(svc, { id, kind: 'ev_charger', site: 'kh-park-01', sector: 'transport', measure: 'public-car-park-charging' });
  }
  devices['pv-1'] = await registerDevice(svc, { id: 'pv-1', kind: 'pv_inverter', site: 'kh-school-01', sector: 'residential_commercial', measure: 'rooftop-pv' });
  devices.viewer = await registerDevice(svc, { role: 'viewer' });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.close({ force: true })));
  await svc?.stop();
});

describe('logins at the handshake', () => {
  it('lists the OCPP port in ports.json', () => {
    expect(svc.ports.ocpp).toBe(ocppPort);
  });

  it('refuses a wrong secret, an unknown id, a device that is not a charger, a foreign username, a wrong path, no credentials and no ocpp1.6', async () => {
    const a = devices['ev-a']!;
    expect(await handshake('/ocpp/ev-a', { user: 'ev-a', password: 'wrong-secret' })).toEqual({ status: 401, body: 'unknown charger id or wrong secret' });
    expect(await handshake('/ocpp/ev-nobody', { user: 'ev-nobody', password: a.secret })).toEqual({ status: 401, body: 'unknown charger id or wrong secret' });
    expect(await handshake('/ocpp/pv-1', { user: 'pv-1', password: devices['pv-1']!.secret })).toEqual({ status: 403, body: '"pv-1" is a pv_inverter: the OCPP endpoint is for ev_charger devices' });
    // ev-a's own credentials on ev-b's path: the Basic username is not the path's id
    expect((await handshake('/ocpp/ev-b', { user: 'ev-a', password: a.secret })).status).toBe(401);
    expect(await handshake('/ocpp/ev-a')).toEqual({ status: 401, body: 'HTTP Basic auth is required: username = the charger id, password = its secret' });
    expect(await handshake('/chargers/ev-a', { user: 'ev-a', password: a.secret })).toEqual({ status: 404, body: 'the OCPP endpoint is /ocpp/{charger id}' });
    expect(await handshake('/ocpp/ev-a', { user: 'ev-a', password: a.secret, protocol: 'ocpp2.0.1' })).toEqual({ status: 400, body: 'the WebSocket subprotocol must include ocpp1.6' });
    expect((await handshake('/ocpp/ev-a', { user: 'ev-a', password: a.secret })).status).toBe(101);
    // ocpp-rpc's own client sees the same refusal
    await expect(charger('ev-a', 'wrong-secret')).rejects.toMatchObject({ code: 401 });
  });

  it('limits failed logins per charger id, and the right secret still gets in', async () => {
    const h = devices['ev-h']!;
    const codes: number[] = [];
    // from an address of its own (127.0.0.9), so the other tests' failures from 127.0.0.1 do not count here
    for (let i = 0; i < 12; i++) codes.push((await handshake('/ocpp/ev-h', { user: 'ev-h', password: `guess-${i}`, from: '127.0.0.9' })).status);
    // 10 failures allowed per id and per address in a minute: the 11th and 12th are refused over the limit
    expect(codes).toEqual([...Array<number>(10).fill(401), 429, 429]);
    expect((await handshake('/ocpp/ev-h', { user: 'ev-h', password: h.secret, from: '127.0.0.9' })).status).toBe(101);
  });

  it('keeps one connection per charger: a newer one replaces the older', async () => {
    const first = await charger('ev-x');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => first.once('close', resolve));
    const second = await charger('ev-x');
    expect(await closed).toMatchObject({ code: 1000, reason: 'replaced by a newer connection of this charger' });
    expect(await second.call('Heartbeat', {})).toHaveProperty('currentTime');
    await waitFor('ev-x online', async () => (await statusOf('ev-x'))?.online === true, 5000);
    await second.close();
    await waitFor('ev-x offline', async () => (await statusOf('ev-x'))?.online === false, 5000);
  });

  it('bounds the connections one address may hold (100)', async () => {
    await new Promise((r) => setTimeout(r, 300));
    const sockets: net.Socket[] = [];
    const closedEarly: number[] = [];
    for (let i = 0; i < 101; i++) {
      const s = net.connect(ocppPort, '127.0.0.1');
      s.on('error', () => undefined);
      s.once('close', () => closedEarly.push(i));
      sockets.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    // the earlier tests' connections are closed; this test holds 100, the 101st is closed at once
    await waitFor('the 101st connection closed', () => closedEarly.length > 0, 5000);
    expect(closedEarly).toEqual([100]);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
  });
});

describe('a session', () => {
  it('a full session with a reconnect mid-session loses nothing and doubles nothing', async () => {
    const a = await charger('ev-a');
    expect(await a.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Wallbox 22', firmwareVersion: '1.4.2' })).toMatchObject({ status: 'Accepted', interval: 300 });
    expect(await a.call('Heartbeat', {})).toHaveProperty('currentTime');
    await a.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    expect(await a.call('Authorize', { idTag: 'TAG-A' })).toEqual({ idTagInfo: { status: 'Accepted' } });
    const startTx = { connectorId: 1, idTag: 'TAG-A', meterStart: 12_345_000, timestamp: at(0) };
    const { transactionId: tx } = (await a.call('StartTransaction', startTx)) as { transactionId: number };
    await a.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await a.call('MeterValues', meterValues(tx, at(10), [{ value: '12346500', unit: 'Wh', measurand: 'Energy.Active.Import.Register' }, { value: '7.2', unit: 'kW', measurand: 'Power.Active.Import' }, { value: '230.1', measurand: 'Voltage', phase: 'L1-N', unit: 'V' }]));
    await a.call('MeterValues', meterValues(tx, at(20), [{ value: '12348.0', unit: 'kWh' }]));

    // connector state and the session on the status board, and the retained status topic for a viewer
    const live = await statusOf('ev-a');
    expect(live).toMatchObject({ online: true, source: 'ocpp', detail: { connector_1: 'Charging', connector_1_session: String(tx), vendor: 'ACME', model: 'Wallbox 22', firmware: '1.4.2' } });
    expect(await retained(devices.viewer!, 'netzero/v1/kh-park-01/ev-a/status')).toBe('online');

    // the connection drops while the MeterValues at +30 min is on its way: the charger never learns whether it arrived
    const lost = a.call('MeterValues', meterValues(tx, at(30), [{ value: '12349200' }])).catch(() => 'no answer');
    await a.close({ force: true });
    await lost;
    await waitFor('ev-a offline', async () => (await statusOf('ev-a'))?.online === false, 5000);
    expect(await retained(devices.viewer!, 'netzero/v1/kh-park-01/ev-a/status')).toBe('offline');

    // it reconnects, resends its StartTransaction (the same fields: the same id) and what had no answer, twice
    const a2 = await charger('ev-a');
    expect(await a2.call('StartTransaction', startTx)).toEqual({ transactionId: tx, idTagInfo: { status: 'Accepted' } });
    await a2.call('MeterValues', meterValues(tx, at(30), [{ value: '12349200' }]));
    await a2.call('MeterValues', meterValues(tx, at(30), [{ value: '12349200' }]));
    await a2.call('MeterValues', meterValues(tx, at(40), [{ value: '12350700' }]));
    // transactionData repeats the +40 min sample (stored once) and carries the register at the stop (meterStop then adds nothing)
    expect(
      await a2.call('StopTransaction', {
        transactionId: tx,
        idTag: 'TAG-A',
        meterStop: 12_351_000,
        timestamp: at(45),
        reason: 'EVDisconnected',
        transactionData: [
          { timestamp: at(40), sampledValue: [{ value: '12350700' }] },
          { timestamp: at(45), sampledValue: [{ value: '12351000', context: 'Transaction.End' }] },
        ],
      }),
    ).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect(await retained(devices.viewer!, 'netzero/v1/kh-park-01/ev-a/status')).toBe('online');

    // readings: meterStart 12,345 (seq 11, confirmed by the next value: 1.5 kWh in 10 min), then the samples (seq 10)
    const rs = await readings('ev-a');
    expect(series(rs)).toEqual([
      [0, 11, 12345],
      [10, 10, 12346.5],
      [20, 10, 12348],
      [30, 10, 12349.2],
      [40, 10, 12350.7],
      [45, 10, 12351],
    ]);
    expect(rs[1]).toMatchObject({ fields: { power_w: 7200, session_id: String(tx), connector: 1 }, extras: { 'Voltage.L1-N': { value: 230.1, unit: 'V' } } });
    expect(rs.every((r) => r.fields.session_id === String(tx))).toBe(true);
    // intervals: 1.5 + 1.5 + 1.2 + 1.5 + 0.3 = 6.0 kWh = 12,351 − 12,345: the resends added nothing
    const iv = await intervals('ev-a');
    expect(iv.map((i) => i.quality)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    const amounts = iv.map((i) => i.amount);
    [1.5, 1.5, 1.2, 1.5, 0.3].forEach((x, i) => expect(amounts[i]).toBeCloseTo(x, 9));
    expect(amounts.reduce((s, x) => s + x, 0)).toBeCloseTo(6.0, 9);
    expect((await statusOf('ev-a'))?.detail).toMatchObject({ connector_1_session: null });
    await a2.close();
  });
});

describe('field troubles', () => {
  it('a placeholder 0, Wh sent as kWh, a sample without energy, a StopTransaction that never comes, a reboot', async () => {
    const b = await charger('ev-b');
    await b.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'DC 50' });
    // 1. a session metered by meterStart and meterStop only: 12,345 → 12,350 kWh (5 kWh in 30 min)
    const tx1 = ((await b.call('StartTransaction', { connectorId: 1, idTag: 'TAG-B', meterStart: 12_345_000, timestamp: at(0) })) as { transactionId: number }).transactionId;
    await b.call('StopTransaction', { transactionId: tx1, meterStop: 12_350_000, timestamp: at(30) });

    // 2. an offline start: meterStart 0 and a Transaction.Begin sample of 0 while the register stands at 12,350 kWh
    const tx2 = ((await b.call('StartTransaction', { connectorId: 1, idTag: 'TAG-B', meterStart: 0, timestamp: at(60) })) as { transactionId: number }).transactionId;
    await b.call('MeterValues', meterValues(tx2, at(60), [{ value: '0', context: 'Transaction.Begin' }]));
    await b.call('MeterValues', meterValues(tx2, at(70), [{ value: '12352000' }]));
    await b.call('StopTransaction', { transactionId: tx2, meterStop: 12_353_500, timestamp: at(80) });

    // 3. Wh sent as kWh: "12354.5" declared Wh (12.3545 kWh) is 1000× below the register; then a proper kWh value
    await b.call('MeterValues', meterValues(undefined, at(90), [{ value: '12354.5', unit: 'Wh' }]));
    await b.call('MeterValues', meterValues(undefined, at(100), [{ value: '12355.0', unit: 'kWh' }]));

    // 4. a sample without a register value: 7 kW, no energy
    await b.call('MeterValues', meterValues(undefined, at(105), [{ value: '7000', measurand: 'Power.Active.Import', unit: 'W' }]));
    expect((await statusOf('ev-b'))?.detail).toMatchObject({ connector_1_power_w: 7000, connector_1_power_at: at(105) });

    // 5. a StopTransaction that never comes: tx3 metered to 12,355.6, then a new StartTransaction closes it
    const tx3 = ((await b.call('StartTransaction', { connectorId: 1, idTag: 'TAG-B', meterStart: 12_355_000, timestamp: at(110) })) as { transactionId: number }).transactionId;
    await b.call('MeterValues', meterValues(tx3, at(115), [{ value: '12355600' }]));
    const start4 = { connectorId: 1, idTag: 'TAG-B', meterStart: 12_355_600, timestamp: at(120) };
    const tx4 = ((await b.call('StartTransaction', start4)) as { transactionId: number }).transactionId;
    expect(tx4).not.toBe(tx3);
    // the charger reboots before any register value of tx4: its BootNotification closes tx4, its meterStart unconfirmed
    await b.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'DC 50' });
    // after the reboot it resends tx4's StartTransaction (no answer had reached it): the same id
    expect(await b.call('StartTransaction', start4)).toEqual({ transactionId: tx4, idTagInfo: { status: 'Accepted' } });
    await b.call('MeterValues', meterValues(tx4, at(125), [{ value: '12356100' }]));
    await b.call('StopTransaction', { transactionId: tx4, meterStop: 12_356_400, timestamp: at(130) });

    expect(series(await readings('ev-b'))).toEqual([
      [0, 11, 12345],
      [30, 12, 12350],
      [70, 10, 12352],
      [80, 12, 12353.5],
      [90, 10, 12354.5],
      [100, 10, 12355],
      [110, 11, 12355],
      [115, 10, 12355.6],
      [125, 10, 12356.1],
      [130, 12, 12356.4],
    ]);
    const rs = await readings('ev-b');
    expect(rs[4]!.extras.ocpp_unit_corrected).toMatch(/declared Wh, read as kWh/);
    // 5 + 2 + 1.5 + 1.0 + 0.5 + 0 + 0.6 + 0.5 + 0.3 = 11.4 kWh = 12,356.4 − 12,345: the zeros created nothing
    const iv = await intervals('ev-b');
    expect(iv.every((i) => i.quality === 'ok')).toBe(true);
    [5, 2, 1.5, 1, 0.5, 0, 0.6, 0.5, 0.3].forEach((x, i) => expect(iv[i]!.amount).toBeCloseTo(x, 9));
    expect(iv.reduce((s, i) => s + i.amount, 0)).toBeCloseTo(11.4, 9);

    // what was not a reading is in the quarantine, with the field and the reason
    const q = await quarantineOf('ev-b');
    const said = q.flatMap((e) => e.errors.map((x) => `${e.topic} ${x.field}: ${x.reason}`));
    expect(said).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^ocpp/ev-b/StartTransaction meterStart: transaction ${tx2}: meterStart 0 Wh: 0 is a placeholder`)),
        expect.stringMatching(/^ocpp\/ev-b\/MeterValues meterValue\[0\]: 0 is a placeholder, not a register value: this register was last 12350 kWh/),
        expect.stringMatching(new RegExp(`^ocpp/ev-b/BootNotification meterStart: transaction ${tx4}: meterStart 12355600 Wh is not a reading: the charger rebooted`)),
      ]),
    );
    expect(said.some((s) => s.includes('12354.5') || s.includes('7000'))).toBe(false);
    await b.close();
  });

  it('counts each connector with its own register on its own device; an unregistered one is said once', async () => {
    const c = await charger('ev-c');
    await c.call('MeterValues', meterValues(undefined, at(0), [{ value: '500000' }], 1));
    await c.call('MeterValues', meterValues(undefined, at(0), [{ value: '800000' }], 2));
    await c.call('MeterValues', meterValues(undefined, at(0), [{ value: '100' }], 3));
    const tx = ((await c.call('StartTransaction', { connectorId: 2, idTag: 'TAG-C', meterStart: 800_000, timestamp: at(5) })) as { transactionId: number }).transactionId;
    await c.call('MeterValues', meterValues(undefined, at(10), [{ value: '501000' }], 1));
    await c.call('MeterValues', meterValues(tx, at(10), [{ value: '802000' }], 2));
    await c.call('MeterValues', meterValues(undefined, at(10), [{ value: '200' }], 3));
    await c.call('StopTransaction', { transactionId: tx, meterStop: 802_500, timestamp: at(12) });
    // ev-c: connector 1's register, 500 → 501 (1 kWh); ev-c.2: connector 2's, 800 → 800 → 802 → 802.5 (2.5 kWh)
    expect(series(await readings('ev-c'))).toEqual([
      [0, 10, 500],
      [10, 10, 501],
    ]);
    expect(series(await readings('ev-c.2'))).toEqual([
      [0, 20, 800],
      [5, 21, 800],
      [10, 20, 802],
      [12, 22, 802.5],
    ]);
    expect((await intervals('ev-c')).map((i) => i.amount)).toEqual([1]);
    expect((await intervals('ev-c.2')).reduce((s, i) => s + i.amount, 0)).toBeCloseTo(2.5, 9);
    const q = await quarantineOf('ev-c');
    expect(q).toHaveLength(1);
    expect(q[0]!.errors[0]).toEqual({ field: 'connectorId', reason: expect.stringContaining('connector 3 has its own register; it is counted only on an ev_charger device "ev-c.3"') });
    await c.close();
  });
});

describe('frames and floods', () => {
  it('answers frames the OCPP 1.6 schemas refuse with a CALLERROR naming the field, and goes on', async () => {
    const x = await charger('ev-x', undefined, { strict: false });
    await expect(x.call('MeterValues', meterValues(undefined, at(0), [{ value: '1', unit: 'kWhh' }]))).rejects.toMatchObject({
      rpcErrorCode: 'FormationViolation',
      message: expect.stringContaining('meterValue/0/sampledValue/0/unit must be equal to one of the allowed values'),
    });
    await expect(x.call('StartTransaction', { connectorId: 1, meterStart: 0, timestamp: at(0) })).rejects.toMatchObject({
      rpcErrorCode: 'OccurrenceConstraintViolation',
      message: expect.stringContaining("must have required property 'idTag'"),
    });
    await expect(x.call('MeterValues', meterValues(undefined, at(0), [{ value: '1' }], 300))).rejects.toMatchObject({
      rpcErrorCode: 'PropertyConstraintViolation',
      message: 'connectorId must be an integer from 0 to 255, got 300',
    });
    await expect(x.call('StartTransaction', { connectorId: 0, idTag: 'T', meterStart: 0, timestamp: at(0) })).rejects.toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation' });
    // an action OCPP 1.6 does not have, and one the central system sends rather than takes
    await expect(x.call('GetSomething', {})).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });
    await expect(x.call('Reset', { type: 'Soft' })).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented', message: "Unable to handle 'Reset' calls" });
    x.sendRaw('this is not OCPP-J');
    x.sendRaw('[2,"m1","Heartbeat"');
    expect(await x.call('Heartbeat', {})).toHaveProperty('currentTime');
    // a message over 64 KiB closes the connection (1009); the service goes on
    const closed = new Promise<{ code: number }>((resolve) => x.once('close', resolve));
    x.sendRaw(JSON.stringify([2, 'big', 'DataTransfer', { vendorId: 'x', data: 'y'.repeat(70 * 1024) }]));
    expect((await closed).code).toBe(1009);
    expect((await svc.api('GET', '/healthz', undefined, null)).status).toBe(200);
    expect(await readings('ev-x')).toEqual([]);
  });

  it('one charger flooding is refused over its call limit while another charger is answered at its usual pace', async () => {
    const flood = await charger('ev-f', undefined, { concurrency: 1000 });
    const honest = await charger('ev-h');
    const outcomes = Promise.allSettled(Array.from({ length: 600 }, () => flood.call('Heartbeat', {})));
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await honest.call('MeterValues', meterValues(undefined, at(200 + i), [{ value: String(1_000_000 + i * 100) }]));
      latencies.push(performance.now() - t);
    }
    const settled = await outcomes;
    const refused = settled.filter((s) => s.status === 'rejected');
    // bursts of 100 calls, then 10 a second: most of the 600 are refused with the reason
    expect(refused.length).toBeGreaterThan(400);
    const reasons = refused.map((r) => (r as PromiseRejectedResult).reason as { rpcErrorCode: string; message: string });
    expect(reasons.every((r) => r.rpcErrorCode === 'GenericError')).toBe(true);
    expect(reasons.some((r) => r.message === 'rate limit: a charger may make 10 calls/s (bursts of 100); send it again later')).toBe(true);
    console.log(`honest charger beside a flood: MeterValues answered in max ${Math.max(...latencies).toFixed(1)} ms, median ${latencies.sort((p, q) => p - q)[10]!.toFixed(1)} ms; flood: ${refused.length}/600 refused`);
    expect(Math.max(...latencies)).toBeLessThan(2000);
    expect(await readings('ev-h')).toHaveLength(20);
  });
});

describe('after a restart of the service', () => {
  it('keeps transaction ids and registers: the same StartTransaction gets its id, a placeholder 0 is still refused', async () => {
    const b = await charger('ev-b');
    const start = { connectorId: 1, idTag: 'TAG-B', meterStart: 12_355_600, timestamp: at(120) };
    const before = ((await b.call('StartTransaction', start)) as { transactionId: number }).transactionId;
    await b.close();
    const dataDir = svc.dataDir;
    await svc.stop();
    svc = await startWithOcpp(dataDir);
    expect(svc.ports.ocpp).toBe(ocppPort);
    const b2 = await charger('ev-b');
    expect(((await b2.call('StartTransaction', start)) as { transactionId: number }).transactionId).toBe(before);
    const n = (await readings('ev-b')).length;
    await b2.call('MeterValues', meterValues(undefined, at(140), [{ value: '0' }]));
    expect(await readings('ev-b')).toHaveLength(n);
    await b2.close();
  }, 60_000);
});
