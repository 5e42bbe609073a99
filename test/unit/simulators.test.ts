import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DemoRunner } from '../../devices/simulators/demo-runner.js';
import { KINDS, type Kind } from '../../devices/kinds.js';
import { MAX_BATCH, MAX_PAYLOAD_BYTES, parsePayload } from '../../devices/payload.js';
import { newDeviceSchema, type Device, type NewDevice } from '../../devices/registry.js';
import { DEMO_DEVICES, ensureDemoDevices, type DemoRegistry } from '../../devices/simulators/demo-fleet.js';
import { SimulatedFleet, type FleetDevice } from '../../devices/simulators/fleet.js';
import { fleetOfSize } from '../../devices/simulators/load-fleet.js';
import { modelFor, type DeviceModel, type ModelOptions } from '../../devices/simulators/models.js';
import { isoTaipei } from '../../devices/simulators/models/time.js';

const MIN = 60_000;
const SLOT = 5 * MIN;
const DAY = 24 * 60 * MIN;
const at = (local: string): number => Date.parse(`${local}+08:00`);
const log = pino({ level: 'silent' });

const COUNTERS: Record<Kind, string[]> = {
  smart_meter: ['import_kwh', 'export_kwh'],
  pv_inverter: ['energy_kwh'],
  biogas: ['biogas_m3', 'gen_kwh', 'flare_m3'],
  ev_charger: ['energy_kwh'],
};

const VARIANTS: Array<{ kind: Kind; opts: ModelOptions }> = [
  { kind: 'pv_inverter', opts: {} },
  { kind: 'smart_meter', opts: { profile: 'school' } },
  { kind: 'smart_meter', opts: { profile: 'housing', exportFromPv: 40 } },
  { kind: 'smart_meter', opts: { profile: 'office', exportFromPv: true } },
  { kind: 'biogas', opts: {} },
  { kind: 'ev_charger', opts: {} },
  { kind: 'ev_charger', opts: { vehicleClass: 'bus' } },
  { kind: 'ev_charger', opts: { vehicleClass: 'scooter' } },
];

const num = (r: Record<string, number | string>, f: string): number => {
  const v = r[f];
  if (typeof v !== 'number') throw new Error(`${f} is not a number: ${String(v)}`);
  return v;
};

/** Energy (or volume) counted by `field` over the local day starting at `day`. */
const daily = (m: DeviceModel, field: string, day: string): number =>
  num(m.reading(at(`${day}T00:00:00`) + DAY), field) - num(m.reading(at(`${day}T00:00:00`)), field);

describe('device models', () => {
  const from = at('2026-11-18T00:00:00');
  const to = at('2026-11-22T00:00:00');

  for (const { kind, opts } of VARIANTS) {
    it(`${kind} ${JSON.stringify(opts)}: counters never decrease and every reading passes the schema`, () => {
      const m = modelFor(kind, `test-${kind}`, opts);
      let prev: Record<string, number | string> | undefined;
      let rejected = 0;
      for (let ts = from; ts <= to; ts += SLOT) {
        const r = m.reading(ts);
        const doc = { ts: isoTaipei(ts), seq: Math.floor(ts / 1000), ...r };
        const parsed = parsePayload(kind, JSON.stringify(doc), to + DAY);
        rejected += parsed.rejections.length;
        expect(parsed.readings).toHaveLength(1);
        for (const f of COUNTERS[kind]) {
          if (!(f in r)) continue;
          if (prev) expect(num(r, f), `${f} at ${isoTaipei(ts)}`).toBeGreaterThanOrEqual(num(prev, f));
        }
        prev = r;
      }
      expect(rejected).toBe(0);
      // the counters actually moved over four days
      const first = m.reading(from);
      const last = m.reading(to);
      expect(num(last, COUNTERS[kind][0]!)).toBeGreaterThan(num(first, COUNTERS[kind][0]!));
    });
  }

  it('counters are continuous within a slot and never decrease minute by minute across midnight', () => {
    for (const { kind, opts } of VARIANTS) {
      const m = modelFor(kind, 'minute', opts);
      let prev = -Infinity;
      for (let ts = at('2026-11-20T23:00:00'); ts <= at('2026-11-21T01:00:00'); ts += 7_000) {
        const v = num(m.reading(ts), COUNTERS[kind][0]!);
        expect(v).toBeGreaterThanOrEqual(prev);
        prev = v;
      }
    }
  });

  it('is deterministic: same seed and ts give the same reading, whatever was asked before', () => {
    const ts = [at('2026-11-22T10:03:17'), at('2026-06-01T12:00:00'), at('2026-02-14T23:59:59')];
    for (const { kind, opts } of VARIANTS) {
      const a = modelFor(kind, 'same-seed', opts);
      const b = modelFor(kind, 'same-seed', opts);
      // a walks forward from the commissioning date; b is asked out of order (backfill after live)
      for (let t = at('2026-01-01T00:00:00'); t < at('2026-11-23T00:00:00'); t += 7 * DAY) a.reading(t);
      const fromA = ts.map((t) => a.reading(t));
      const fromB = [...ts].reverse().map((t) => b.reading(t)).reverse();
      expect(fromB).toEqual(fromA);
      expect(a.reading(ts[0]!)).toEqual(fromA[0]);
      // a different seed is a different device
      expect(modelFor(kind, 'other-seed', opts).reading(ts[0]!)).not.toEqual(fromA[0]);
    }
  });

  it('keeps counters flat before the commissioning date', () => {
    const m = modelFor('pv_inverter', 'early', { commissioned: '2026-03-01' });
    const a = m.reading(at('2026-02-10T12:00:00'));
    const b = m.reading(at('2026-02-28T12:00:00'));
    expect(b).toEqual(a);
    expect(num(a, 'power_w')).toBe(0);
    expect(num(m.reading(at('2026-03-02T12:00:00')), 'energy_kwh')).toBeGreaterThan(num(a, 'energy_kwh'));
  });
});

describe('PV inverter', () => {
  it('produces nothing at local midnight and something at local noon', () => {
    for (const seed of ['pv-a', 'pv-b', 'pv-c']) {
      const m = modelFor('pv_inverter', seed);
      expect(num(m.reading(at('2026-11-22T00:00:00')), 'power_w')).toBe(0);
      expect(num(m.reading(at('2026-11-22T03:00:00')), 'power_w')).toBe(0);
      expect(num(m.reading(at('2026-11-22T20:00:00')), 'power_w')).toBe(0);
      expect(num(m.reading(at('2026-11-22T12:00:00')), 'power_w')).toBeGreaterThan(10_000);
    }
  });

  it('never exceeds the nameplate and yields a plausible day and year for 100 kWp', () => {
    for (const seed of ['pv-a', 'pv-b', 'pv-c']) {
      const m = modelFor('pv_inverter', seed, { nameplateKw: 100 });
      // around the equinox even the cloudiest simulated day is well above 150 kWh
      for (const day of ['2026-03-20', '2026-03-21', '2026-03-22']) {
        const kwh = daily(m, 'energy_kwh', day);
        expect(kwh).toBeGreaterThan(150);
        expect(kwh).toBeLessThan(700);
      }
      let peak = 0;
      for (let t = at('2026-06-21T00:00:00'); t < at('2026-06-22T00:00:00'); t += SLOT) peak = Math.max(peak, num(m.reading(t), 'power_w'));
      expect(peak).toBeLessThanOrEqual(100_000);
      expect(peak).toBeGreaterThan(30_000);
      // southern Taiwan: roughly 1,100–1,400 kWh per kWp and year
      const year = num(m.reading(at('2027-01-01T00:00:00')), 'energy_kwh') - num(m.reading(at('2026-01-01T00:00:00')), 'energy_kwh');
      expect(year).toBeGreaterThan(100_000);
      expect(year).toBeLessThan(150_000);
    }
  });
});

describe('smart meter', () => {
  it('school: weekday daytime peak, low at night and at weekends', () => {
    const m = modelFor('smart_meter', 'school', { profile: 'school', baseKw: 20 });
    const w = (t: string) => num(m.reading(at(t)), 'power_w');
    // 2026-11-18 is a Wednesday, 2026-11-22 a Sunday
    expect(w('2026-11-18T11:00:00')).toBeGreaterThan(2 * w('2026-11-18T02:00:00'));
    expect(w('2026-11-18T11:00:00')).toBeGreaterThan(2 * w('2026-11-22T11:00:00'));
  });

  it('social housing: evening peak above the afternoon', () => {
    const m = modelFor('smart_meter', 'housing', { profile: 'housing', baseKw: 10 });
    const w = (t: string) => num(m.reading(at(t)), 'power_w');
    expect(w('2026-11-18T20:00:00')).toBeGreaterThan(1.5 * w('2026-11-18T14:00:00'));
    expect(w('2026-11-18T20:00:00')).toBeGreaterThan(1.5 * w('2026-11-18T03:00:00'));
  });

  it('reports export_kwh only with PV behind the meter, and exports on a sunny weekend', () => {
    expect(modelFor('smart_meter', 'm').reading(at('2026-11-22T12:00:00'))).not.toHaveProperty('export_kwh');
    const m = modelFor('smart_meter', 'm', { profile: 'office', baseKw: 10, exportFromPv: 60 });
    let exported = 0;
    for (const day of ['2026-11-21', '2026-11-22', '2026-11-28', '2026-11-29']) exported += daily(m, 'export_kwh', day);
    expect(exported).toBeGreaterThan(0);
    expect(num(m.reading(at('2026-11-22T02:00:00')), 'power_w')).toBeGreaterThan(0);
  });
});

describe('biogas (Neimen defaults)', () => {
  it('makes ~1,168 m³ a day, ~740 kWh, ~10 % flared, with plausible gas quality', () => {
    const m = modelFor('biogas', 'neimen');
    for (const day of ['2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21']) {
      const m3 = daily(m, 'biogas_m3', day);
      expect(m3).toBeGreaterThan(1168 * 0.8);
      expect(m3).toBeLessThan(1168 * 1.2);
      const kwh = daily(m, 'gen_kwh', day);
      expect(kwh).toBeGreaterThan(740 * 0.7);
      expect(kwh).toBeLessThan(740 * 1.3);
      const flare = daily(m, 'flare_m3', day);
      expect(flare).toBeGreaterThan(0);
      expect(flare).toBeLessThan(0.2 * m3);
    }
    for (let t = at('2026-11-20T00:00:00'); t < at('2026-11-22T00:00:00'); t += SLOT) {
      const r = m.reading(t);
      expect(num(r, 'ch4_pct')).toBeGreaterThanOrEqual(55);
      expect(num(r, 'ch4_pct')).toBeLessThanOrEqual(65);
      expect(num(r, 'temp_c')).toBeGreaterThanOrEqual(25);
      expect(num(r, 'temp_c')).toBeLessThanOrEqual(35);
      expect(num(r, 'pressure_kpa')).toBeGreaterThanOrEqual(101);
      expect(num(r, 'pressure_kpa')).toBeLessThanOrEqual(104);
    }
  });
});

describe('EV charger', () => {
  it('charges in 2–6 sessions a day of 1–3 h at charger power, with stable session ids', () => {
    for (const [vehicleClass, kw] of [['car', 7], ['scooter', 1.5], ['bus', 60]] as const) {
      const m = modelFor('ev_charger', `ev-${vehicleClass}`, { vehicleClass });
      const sessions = new Map<string, { minutes: number; maxW: number }>();
      for (let t = at('2026-11-20T00:00:00'); t < at('2026-11-23T12:00:00'); t += MIN) {
        const r = m.reading(t);
        const id = r.session_id;
        if (typeof id !== 'string') {
          expect(r.power_w).toBe(0);
          continue;
        }
        expect(id).toMatch(new RegExp(`^ev-${vehicleClass}-20261(119|12[0-3])-[1-6]$`));
        const s = sessions.get(id) ?? { minutes: 0, maxW: 0 };
        s.minutes++;
        s.maxW = Math.max(s.maxW, num(r, 'power_w'));
        sessions.set(id, s);
      }
      const started = (d: string) => [...sessions.keys()].filter((k) => k.includes(`-${d}-`)).length;
      for (const d of ['20261120', '20261121', '20261122']) {
        expect(started(d)).toBeGreaterThanOrEqual(2);
        expect(started(d)).toBeLessThanOrEqual(6);
      }
      for (const [id, s] of sessions) {
        if (!/-2026112[12]-/.test(id)) continue; // sessions of the edge days may be cut by the sampled range
        expect(s.minutes, id).toBeGreaterThanOrEqual(60);
        expect(s.minutes, id).toBeLessThanOrEqual(180);
        expect(s.maxW).toBeLessThanOrEqual(kw * 1000);
        expect(s.maxW).toBeGreaterThan(kw * 1000 * 0.8);
      }
    }
  });

  it('charges buses overnight', () => {
    const m = modelFor('ev_charger', 'depot', { vehicleClass: 'bus' });
    expect(daily(m, 'energy_kwh', '2026-11-21')).toBeGreaterThan(0);
    for (let t = at('2026-11-21T07:00:00'); t < at('2026-11-21T21:00:00'); t += SLOT) expect(m.reading(t).power_w).toBe(0);
  });
});

describe('fleetOfSize', () => {
  it('cycles through the four kinds with unique ids', () => {
    const fleet = fleetOfSize(10, { secretFor: (id) => `s-${id}` });
    expect(fleet.map((d) => d.kind)).toEqual([...KINDS, ...KINDS, ...KINDS.slice(0, 2)]);
    expect(new Set(fleet.map((d) => d.id)).size).toBe(10);
    expect(fleet.map((d) => d.id)).toContain('sim-pv-0001');
    expect(fleet.map((d) => d.id)).toContain('sim-sm-0003');
    expect(fleet[0]!.secret).toBe(`s-${fleet[0]!.id}`);
    expect(new Set(fleet.map((d) => d.site))).toEqual(new Set(['sim-site-001']));
    for (const d of fleet) expect(d.model.kind).toBe(d.kind);
  });
});

// ---------------------------------------------------------------------------------------------
// The fleet against a real (embedded, no-auth) aedes broker.

interface TestBroker {
  url: string;
  aedes: Aedes;
  close: () => Promise<void>;
}

async function startBroker(opts: { delayTelemetryAckMs?: number } = {}): Promise<TestBroker> {
  const aedes = await Aedes.createBroker({
    authorizePublish: (_client, packet, cb) => {
      const single = packet.topic.endsWith('/telemetry') && !packet.payload.toString().startsWith('{"readings"');
      if (single && opts.delayTelemetryAckMs) setTimeout(() => cb(null), opts.delayTelemetryAckMs);
      else cb(null);
    },
  });
  const server = net.createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    aedes,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

async function watch(url: string): Promise<{ seen: Seen[]; end: () => Promise<void> }> {
  const seen: Seen[] = [];
  const client = await mqtt.connectAsync(url, { clientId: `watch-${Math.random().toString(16).slice(2)}` });
  client.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync('netzero/v1/#', { qos: 1 });
  return { seen, end: () => client.endAsync(true) };
}

describe('SimulatedFleet', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  const device = (id: string, kind: Kind, opts: ModelOptions = {}): FleetDevice => ({ id, site: 'test-site', kind, model: modelFor(kind, id, opts) });

  it('announces itself, backfills in valid batches on a 5-minute grid, then publishes live, and says offline at stop', async () => {
    const broker = await startBroker();
    cleanup.push(broker.close);
    const w = await watch(broker.url);
    cleanup.push(w.end);
    const devices = [device('t-pv', 'pv_inverter'), device('t-bg', 'biogas')];
    const started = Date.now();
    const fleet = new SimulatedFleet(devices, { url: broker.url, logger: log, intervalS: 1, backfillHours: 100 });
    cleanup.push(() => fleet.stop());
    await fleet.start();
    expect(fleet.active).toBe(true);

    const live = (id: string) => w.seen.filter((m) => m.topic === `netzero/v1/test-site/${id}/telemetry` && !m.payload.startsWith('{"readings"'));
    await until(() => fleet.stats().backfilled === 2 && live('t-pv').length >= 2 && live('t-bg').length >= 2);

    for (const d of devices) {
      const status = w.seen.filter((m) => m.topic === `netzero/v1/test-site/${d.id}/status`);
      expect(status[0]).toMatchObject({ payload: 'online' });
      const batches = w.seen.filter((m) => m.topic === `netzero/v1/test-site/${d.id}/telemetry` && m.payload.startsWith('{"readings"'));
      expect(batches.length).toBeGreaterThanOrEqual(2); // 1,200 readings cannot fit one message
      const stamps: number[] = [];
      for (const b of batches) {
        expect(Buffer.byteLength(b.payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
        const parsed = parsePayload(d.kind, b.payload, Date.now());
        expect(parsed.rejections).toEqual([]);
        expect(parsed.readings.length).toBeLessThanOrEqual(MAX_BATCH);
        for (const r of parsed.readings) {
          expect(r.seq).toBe(Math.floor(r.ts / 1000));
          expect(r.fields).toEqual(d.model.reading(r.ts));
          stamps.push(r.ts);
        }
      }
      // in order, on the grid, covering the last 100 h up to now
      expect(stamps.every((t, i) => t % SLOT === 0 && (i === 0 || t === stamps[i - 1]! + SLOT))).toBe(true);
      expect(stamps[0]!).toBeLessThanOrEqual(started - 100 * 3_600_000 + SLOT);
      expect(stamps.at(-1)!).toBeGreaterThan(started - SLOT);

      for (const m of live(d.id)) {
        const parsed = parsePayload(d.kind, m.payload, Date.now());
        expect(parsed.rejections).toEqual([]);
        const r = parsed.readings[0]!;
        expect(r.ts % 1000).toBe(0);
        expect(r.ts).toBeGreaterThan(stamps.at(-1)!);
        expect(r.seq).toBe(r.ts / 1000);
        expect(r.fields).toEqual(d.model.reading(r.ts));
      }
    }

    // a message on its errors topic is counted (and logged)
    await new Promise<void>((resolve) =>
      broker.aedes.publish(
        { cmd: 'publish', topic: 'netzero/v1/test-site/t-pv/errors', payload: Buffer.from('{"errors":[{"field":"ts","reason":"x"}]}'), qos: 1, retain: false, dup: false },
        () => resolve(),
      ),
    );
    await until(() => fleet.stats().errorsReceived === 1);

    const before = fleet.stats();
    expect(before.connected).toBe(2);
    expect(before.acknowledged).toBeGreaterThanOrEqual(2 * 1200);
    expect(before.failed).toBe(0);

    await fleet.stop();
    expect(fleet.active).toBe(false);
    await until(() => w.seen.filter((m) => m.payload === 'offline').length === 2);
    expect(fleet.stats().connected).toBe(0);
  });

  it('skips a live tick while the previous reading is unacknowledged', async () => {
    const broker = await startBroker({ delayTelemetryAckMs: 2500 });
    cleanup.push(broker.close);
    const fleet = new SimulatedFleet([device('t-ev', 'ev_charger')], { url: broker.url, logger: log, intervalS: 1 });
    cleanup.push(() => fleet.stop());
    await fleet.start();
    await until(() => fleet.stats().acknowledged >= 1 && fleet.stats().skipped >= 2, 10_000);
    const s = fleet.stats();
    expect(s.published - s.acknowledged).toBeLessThanOrEqual(1);
    expect(s.backfilled).toBe(1);
  });

  it('keeps retrying when the broker refuses the credentials, without throwing', async () => {
    const aedes = await Aedes.createBroker({ authenticate: (_c, _u, _p, cb) => cb(null, false) });
    const server = net.createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const fleet = new SimulatedFleet([{ ...device('t-sm', 'smart_meter'), secret: 'wrong' }], {
      url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
      logger: log,
      intervalS: 1,
      reconnectPeriodMs: 200,
    });
    await fleet.start();
    await until(() => fleet.stats().skipped >= 2);
    expect(fleet.stats()).toMatchObject({ connected: 0, published: 0 });
    await fleet.stop();
  });
});

// ---------------------------------------------------------------------------------------------
// Demo fleet and runner, with an in-memory registry.

class FakeRegistry implements DemoRegistry {
  devices = new Map<string, Device>();
  real = 0;
  rotated: string[] = [];

  async list(): Promise<Device[]> {
    return [...this.devices.values()];
  }

  async register(input: NewDevice, opts: { demo?: boolean } = {}) {
    const id = input.id!;
    this.devices.set(id, {
      id, role: 'device', kind: input.kind, site: input.site, sector: input.sector, measure: input.measure ?? null,
      name: input.name ?? null, params: input.params ?? {}, demo: opts.demo === true, createdAt: new Date().toISOString(),
    });
    return { id, secret: `secret-${id}-0`, topic: `netzero/v1/${input.site}/${id}/telemetry` };
  }

  async rotateSecret(id: string): Promise<string> {
    this.rotated.push(id);
    return `secret-${id}-${this.rotated.length}`;
  }

  async countReal(): Promise<number> {
    return this.real;
  }
}

describe('demo fleet', () => {
  it('defines valid registrations for all four kinds', () => {
    expect(DEMO_DEVICES.length).toBeGreaterThanOrEqual(6);
    expect(new Set(DEMO_DEVICES.map((d) => d.kind))).toEqual(new Set(KINDS));
    for (const d of DEMO_DEVICES) {
      const { model: _model, ...registration } = d;
      expect(newDeviceSchema.safeParse(registration).success, d.id).toBe(true);
      expect(d.id.startsWith('demo-') && d.site.startsWith('demo-')).toBe(true);
    }
    const bus = DEMO_DEVICES.find((d) => d.params?.vehicle_class === 'bus');
    expect(bus?.params).toMatchObject({ baseline_kgco2e_per_km: expect.any(Number), kwh_per_km: expect.any(Number) });
  });

  it('stays within the declared nameplate, so the demo data is never flagged implausible', () => {
    for (const d of DEMO_DEVICES) {
      const kw = d.params?.nameplate_kw;
      if (!kw) continue;
      const m = modelFor(d.kind, d.id, d.model);
      const field = d.kind === 'biogas' ? 'gen_kwh' : 'energy_kwh';
      for (const day of ['2026-06-21', '2026-11-21']) expect(daily(m, field, day), d.id).toBeLessThan(kw * 24 * 1.2);
    }
  });

  it('registers missing demo devices as demo and rotates the secrets of existing ones', async () => {
    const reg = new FakeRegistry();
    const first = await ensureDemoDevices(reg);
    expect(first.map((d) => d.id)).toEqual(DEMO_DEVICES.map((d) => d.id));
    expect([...reg.devices.values()].every((d) => d.demo)).toBe(true);
    expect(reg.rotated).toEqual([]);
    const second = await ensureDemoDevices(reg);
    expect(reg.rotated).toEqual(DEMO_DEVICES.map((d) => d.id));
    expect(second.map((d) => d.secret)).not.toEqual(first.map((d) => d.secret));
    expect(second[0]!.model.reading(at('2026-11-22T10:00:00'))).toEqual(first[0]!.model.reading(at('2026-11-22T10:00:00')));
  });

  it('DemoRunner runs only while no real device is registered', async () => {
    const broker = await startBroker();
    try {
      const withReal = new FakeRegistry();
      withReal.real = 1;
      const off = new DemoRunner({ registry: withReal, mqttUrl: broker.url, logger: log });
      await off.start();
      expect(off.active).toBe(false);
      expect(withReal.devices.size).toBe(0);

      const reg = new FakeRegistry();
      const runner = new DemoRunner({ registry: reg, mqttUrl: broker.url, logger: log, intervalS: 1, backfillHours: 1, recheckMs: 50 });
      await runner.start();
      expect(runner.active).toBe(true);
      expect(reg.devices.size).toBe(DEMO_DEVICES.length);
      reg.real = 1;
      await until(() => !runner.active, 5_000);
      await runner.stop();
    } finally {
      await broker.close();
    }
  });
});
