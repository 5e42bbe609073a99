import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modbusSettings } from '../../devices/modbus/params.js';
import { knownMeasures, parseRegistration } from '../../devices/registry.js';
import { PollTimeout, withModbus } from '../../ingest/sources/modbus/connection.js';
import { failureReason, pollDevice } from '../../ingest/sources/modbus/poll.js';
import { backoffMs, firstSlot, JITTER, nextSeq, nextSlot, withJitter } from '../../ingest/sources/modbus/schedule.js';
import { commonModel, inverterModel, startModbusServer, sunspecRegisters, type ModbusServer } from '../helpers/sunspec.js';

const known = knownMeasures([], []);
const register = (params: unknown, kind = 'pv_inverter') => parseRegistration({ kind, site: 'kh-1', sector: 'industry', params }, known);
const errorsOf = (params: unknown, kind?: string) => {
  const r = register(params, kind);
  return r.success ? [] : r.errors;
};

describe('params.modbus', () => {
  it('takes a SunSpec device with only a host, and fills the defaults', () => {
    const r = register({ modbus: { host: '10.0.0.5' } });
    expect(r.success).toBe(true);
    expect(modbusSettings({ host: '10.0.0.5' })).toEqual({ host: '10.0.0.5', port: 502, unitId: 1, pollMs: 60_000, timeoutMs: 5_000, offlineAfter: 3, map: undefined });
    expect(modbusSettings({ host: 'inv.plant.lan', port: 1502, unit_id: 126, poll_s: 5, timeout_s: 1.5, offline_after: 2 })).toMatchObject({ port: 1502, unitId: 126, pollMs: 5000, timeoutMs: 1500, offlineAfter: 2 });
  });

  it('names each bad field and why', () => {
    expect(errorsOf({ modbus: { host: 'not a host', port: 0, unit_id: 256, poll_s: 4, timeout_s: 0.1, offline_after: 0 } })).toEqual([
      { field: 'params.modbus.host', reason: 'must be a host name or IP address (10.0.0.5, inverter-3.plant.lan), got "not a host"' },
      { field: 'params.modbus.port', reason: 'must be a whole number 1-65535 (TCP port)' },
      { field: 'params.modbus.unit_id', reason: 'must be a whole number 0-255 (Modbus unit id)' },
      { field: 'params.modbus.poll_s', reason: 'must be from 5 to 3600 (seconds between polls)' },
      { field: 'params.modbus.timeout_s', reason: 'must be from 0.5 to 60 (seconds a poll may take, connecting included)' },
      { field: 'params.modbus.offline_after', reason: 'must be a whole number 1-100 (failed polls in a row before the device is shown offline)' },
    ]);
    expect(errorsOf({ modbus: { host: '10.0.0.5', poll: 60 } })).toEqual([
      { field: 'params.modbus.poll', reason: 'is not a field of params.modbus (host, port, unit_id, poll_s, timeout_s, offline_after, map)' },
    ]);
    expect(errorsOf({ modbus: { port: 502 } })).toEqual([{ field: 'params.modbus.host', reason: "required: the device's host name or IP address" }]);
    expect(errorsOf({ modbus: { host: 'h', poll_s: 10, timeout_s: 20 } })).toEqual([{ field: 'params.modbus.timeout_s', reason: 'must not be longer than poll_s (10 s)' }]);
    expect(errorsOf({ modbus: [] })[0]).toMatchObject({ field: 'params.modbus' });
  });

  it('allows SunSpec only for inverters and meters, and a map only of the kind\'s numeric fields', () => {
    expect(errorsOf({ modbus: { host: 'h' } }, 'biogas')).toEqual([
      { field: 'params.modbus', reason: 'a biogas has no SunSpec model (SunSpec devices: pv_inverter, smart_meter); declare its registers in params.modbus.map' },
    ]);
    expect(errorsOf({ modbus: { host: 'h', map: { power_w: { address: 1 } } } }, 'smart_meter')).toEqual([
      { field: 'params.modbus.map', reason: 'must map import_kwh (required in a smart_meter reading)' },
    ]);
    expect(errorsOf({ modbus: { host: 'h', map: { import_kwh: { address: 1 }, energy_kwh: { address: 2 } } } }, 'smart_meter')).toEqual([
      { field: 'params.modbus.map.energy_kwh', reason: 'is not a numeric field of a smart_meter (import_kwh, export_kwh, power_w)' },
    ]);
    expect(errorsOf({ modbus: { host: 'h', map: { biogas_m3: { address: 1, type: 'float32' }, ch4_pct: { address: 3, function: 'input', scale: 0.1 } } } }, 'biogas')).toEqual([]);
  });

  it('checks each register of a map', () => {
    expect(errorsOf({ modbus: { host: 'h', map: { energy_kwh: { function: 'coil', type: 'uint64', word_order: 'middle', scale: 0, unit: 'kWh' } } } })).toEqual([
      { field: 'params.modbus.map.energy_kwh.function', reason: 'must be holding (function 3) or input (function 4), got "coil"' },
      { field: 'params.modbus.map.energy_kwh.type', reason: 'must be one of uint16, int16, uint32, int32, float32, got "uint64"' },
      { field: 'params.modbus.map.energy_kwh.word_order', reason: 'must be big (high word first) or little (low word first), got "middle"' },
      { field: 'params.modbus.map.energy_kwh.scale', reason: 'must be between 1e-9 and 1e9 in size, either sign (not 0)' },
    ]);
    expect(errorsOf({ modbus: { host: 'h', map: { energy_kwh: { address: 65535, type: 'uint32', unit: 'kWh' } } } })).toEqual([
      { field: 'params.modbus.map.energy_kwh.unit', reason: 'is not a field of a register (address, function, type, word_order, scale)' },
      { field: 'params.modbus.map.energy_kwh.address', reason: 'a uint32 at 65535 runs past register 65535' },
    ]);
    expect(errorsOf({ modbus: { host: 'h', map: { energy_kwh: { type: 'uint32' } } } })).toEqual([
      { field: 'params.modbus.map.energy_kwh.address', reason: 'required: the register address (0-65535, zero-based as on the wire)' },
    ]);
  });
});

describe('poll schedule', () => {
  it('polls on a fixed grid, skipping slots a late poll missed', () => {
    expect(nextSlot(10_000, 5_000, 12_000)).toBe(15_000);
    // a poll that finished at 27 s (slots 15 and 20 and 25 missed): the next is 30 s, not a burst
    expect(nextSlot(10_000, 5_000, 27_000)).toBe(30_000);
    expect(nextSlot(10_000, 5_000, 15_000)).toBe(20_000);
  });

  it('spreads first polls over the period and jitters each by at most 10 %', () => {
    expect(firstSlot(1000, 60_000, () => 0)).toBe(1000);
    expect(firstSlot(1000, 60_000, () => 0.999)).toBe(60_940);
    expect(withJitter(5000, 60_000, () => 0.5)).toBe(8000);
    expect(withJitter(5000, 60_000, () => 0.9999) - 5000).toBeLessThan(JITTER * 60_000);
  });

  it('backs off exponentially after failures, capped at max(period, 5 min)', () => {
    // period 5 s: 5, 10, 20, 40, 80, 160, then 300 s (the cap)
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffMs(n, 5_000) / 1000)).toEqual([5, 10, 20, 40, 80, 160, 300, 300]);
    // period 1 h: never more often than the period, never longer either
    expect([1, 2, 9].map((n) => backoffMs(n, 3_600_000) / 1000)).toEqual([3600, 3600, 3600]);
  });

  it('numbers readings by their second, always increasing', () => {
    expect(nextSeq(0, 1_764_650_000_123)).toBe(1_764_650_000);
    expect(nextSeq(1_764_650_000, 1_764_650_005_000)).toBe(1_764_650_005);
    // the clock stepped back 10 s: seq still goes up
    expect(nextSeq(1_764_650_005, 1_764_649_995_000)).toBe(1_764_650_006);
  });
});

describe('one poll against pymodbus', () => {
  let server: ModbusServer;
  beforeAll(async () => {
    server = await startModbusServer({ unit_id: 3, holding: sunspecRegisters(40000, commonModel('SMA', 'STP 25000TL-30', '3005067415'), inverterModel({ W: 21345, W_SF: -1, WH: 123456, WH_SF: 1 })) });
  });
  afterAll(async () => server?.stop());

  it('reads a SunSpec inverter over TCP with its unit id', async () => {
    const settings = modbusSettings({ host: '127.0.0.1', port: server.port, unit_id: 3, timeout_s: 2 });
    const r = await pollDevice('pv_inverter', settings, undefined);
    // WH 123456 × 10^1 Wh = 1234.56 kWh; W 21345 × 10^-1 = 2134.5 W
    expect(r.fields).toEqual({ energy_kwh: 1234.56, power_w: 2134.5 });
    expect(r.location?.common).toEqual({ manufacturer: 'SMA', model: 'STP 25000TL-30', serial: '3005067415' });
  });

  it('cuts a device that stops answering at the timeout', async () => {
    await server.pause();
    try {
      const t0 = Date.now();
      const err = await pollDevice('pv_inverter', modbusSettings({ host: '127.0.0.1', port: server.port, unit_id: 3, timeout_s: 0.5 }), undefined).catch((e: unknown) => e);
      const took = Date.now() - t0;
      expect(failureReason(err)).toBe('timeout');
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(1500);
    } finally {
      await server.resume();
    }
  });

  it('a wrong unit id is no answer (the server ignores unknown units): a timeout', async () => {
    const err = await pollDevice('pv_inverter', modbusSettings({ host: '127.0.0.1', port: server.port, unit_id: 9, timeout_s: 0.5 }), undefined).catch((e: unknown) => e);
    expect(failureReason(err)).toBe('timeout');
  });
});

describe('connections', () => {
  it('cuts a TCP connect that hangs (a listener whose accept queue is full drops the SYN)', async () => {
    // A Python listener that never accepts, backlog 0; two connections fill its queue, so the third connect hangs.
    const py = spawn('/usr/bin/python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve) => py.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      const fillers = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
      fillers.forEach((f) => f.on('error', () => undefined));
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      const err = await withModbus({ host: '127.0.0.1', port, unitId: 1 }, 700, (c) => c.readHoldingRegisters(40000, 2)).catch((e: unknown) => e);
      const took = Date.now() - t0;
      fillers.forEach((f) => f.destroy());
      expect(failureReason(err)).toBe('timeout');
      expect(took).toBeGreaterThanOrEqual(650);
      expect(took).toBeLessThan(2000);
    } finally {
      py.stdin!.end();
      py.kill();
    }
  });

  it('a refused connection fails at once as "connect"', async () => {
    const s = net.createServer();
    const port = await new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)));
    await new Promise((r) => s.close(r));
    const t0 = Date.now();
    const err = await withModbus({ host: '127.0.0.1', port, unitId: 1 }, 5000, (c) => c.readHoldingRegisters(0, 1)).catch((e: unknown) => e);
    expect(failureReason(err)).toBe('connect');
    expect(Date.now() - t0).toBeLessThan(2500); // well before the 5 s timeout
  });

  it('stops at once when the service stops (abort)', async () => {
    const s = net.createServer(() => undefined); // accepts, never answers
    const port = await new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)));
    try {
      const ac = new AbortController();
      const t0 = Date.now();
      const p = withModbus({ host: '127.0.0.1', port, unitId: 1 }, 30_000, (c) => c.readHoldingRegisters(0, 1), ac.signal).catch((e: unknown) => e);
      setTimeout(() => ac.abort(), 200);
      const err = await p;
      expect(err).toBeInstanceOf(PollTimeout);
      expect(Date.now() - t0).toBeLessThan(5000); // the abort, not the 30 s timeout
    } finally {
      s.close();
    }
  });
});
