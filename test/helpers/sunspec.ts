import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './service.js';

/**
 * SunSpec-shaped registers, written out by hand from the SunSpec model definitions (sunspec/models,
 * json/model_1.json, model_103.json, model_203.json), independently of devices/sunspec/, and the
 * pymodbus server (sunspec_server.py) that serves them.
 */

/** "SunS" */
export const SUNS = [0x5375, 0x6e53];
/** the end of the model chain: ID 0xFFFF, L 0 */
export const END = [0xffff, 0];

/** An acc32/uint32 as two registers, high word first (SunSpec's word order). */
export const u32 = (v: number): [number, number] => [Math.floor(v / 0x10000), v % 0x10000];
/** An int16 or sunssf as its register. */
export const i16 = (v: number): number => (v < 0 ? v + 0x10000 : v);
/** A string point: two ASCII characters a register, NUL-padded to `words` registers. */
export const str = (s: string, words: number): number[] =>
  Array.from({ length: words }, (_, i) => ((s.charCodeAt(2 * i) || 0) << 8) | (s.charCodeAt(2 * i + 1) || 0));

/** Model 1 (Common), L = 66: Mn at offset 2, Md at 18, Opt 34, Vr 42, SN at 50 (16 registers each, Opt and Vr 8), DA 66, Pad 67. */
export function commonModel(mn: string, md: string, sn: string): number[] {
  return [1, 66, ...str(mn, 16), ...str(md, 16), ...str('', 8), ...str('1.0', 8), ...str(sn, 16), 1, 0x8000];
}

/** A model this service does not know (a vendor model): `length` registers of anything. */
export function unknownModel(id: number, length: number): number[] {
  return [id, length, ...Array.from({ length }, (_, i) => (i * 7919) % 0x10000)];
}

/**
 * Inverter model 101/102/103, L = 50. Offsets from ID: W 14 (int16), W_SF 15, WH 24–25 (acc32), WH_SF 26.
 * Every other point reads as not implemented (0xFFFF, int16 0x8000).
 */
export function inverterModel(p: { id?: number; W: number; W_SF: number; WH: number; WH_SF: number }): number[] {
  const m = [p.id ?? 103, 50, ...Array.from({ length: 50 }, () => 0xffff)];
  m[14] = i16(p.W);
  m[15] = i16(p.W_SF);
  [m[24], m[25]] = u32(p.WH);
  m[26] = i16(p.WH_SF);
  return m;
}

/** Meter model 201–204, L = 105. Offsets from ID: W 18 (int16), W_SF 22, TotWhExp 38–39, TotWhImp 46–47 (acc32), TotWh_SF 54. */
export function meterModel(p: { id?: number; W: number; W_SF: number; TotWhImp: number; TotWhExp: number; TotWh_SF: number }): number[] {
  const m = [p.id ?? 203, 105, ...Array.from({ length: 105 }, () => 0xffff)];
  m[18] = i16(p.W);
  m[22] = i16(p.W_SF);
  [m[38], m[39]] = u32(p.TotWhExp);
  [m[46], m[47]] = u32(p.TotWhImp);
  m[54] = i16(p.TotWh_SF);
  return m;
}

/** A SunSpec device's holding registers: the marker at `base`, the models in order, the end marker. */
export function sunspecRegisters(base: number, ...models: number[][]): Record<string, number[]> {
  return { [String(base)]: [...SUNS, ...models.flat(), ...END] };
}

/** In-memory registers for unit tests: reading an address nobody set is a Modbus "illegal data address", as on a device. */
export function fakeClient(holding: Record<string, number[]>, input: Record<string, number[]> = {}) {
  const table = (blocks: Record<string, number[]>) => {
    const m = new Map<number, number>();
    for (const [start, words] of Object.entries(blocks)) words.forEach((w, i) => m.set(Number(start) + i, w));
    return m;
  };
  const tables = { holding: table(holding), input: table(input) };
  const reads: { table: string; address: number; count: number }[] = [];
  const read = (name: 'holding' | 'input') => async (address: number, count: number) => {
    reads.push({ table: name, address, count });
    if (count > 125) throw Object.assign(new Error('Modbus exception 3: Illegal data value'), { modbusCode: 3 });
    const data: number[] = [];
    for (let a = address; a < address + count; a++) {
      const w = tables[name].get(a);
      if (w === undefined) throw Object.assign(new Error('Modbus exception 2: Illegal data address'), { modbusCode: 2 });
      data.push(w);
    }
    return { data };
  };
  return { readHoldingRegisters: read('holding'), readInputRegisters: read('input'), reads, set: (name: 'holding' | 'input', address: number, words: number[]) => words.forEach((w, i) => tables[name].set(address + i, w)) };
}

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sunspec_server.py');

export interface ModbusServer {
  port: number;
  proc: ChildProcess;
  /** Changes registers while it runs. */
  set: (table: 'holding' | 'input', address: number, words: number[]) => Promise<void>;
  /** Accepts connections and requests, answers none (a hung device). */
  pause: () => Promise<void>;
  resume: () => Promise<void>;
  /** Requests answered so far. */
  requests: () => Promise<number>;
  stop: () => Promise<void>;
  stderr: () => string;
}

/** Starts sunspec_server.py (Debian's python3-pymodbus) on a free port with these registers. */
export async function startModbusServer(layout: { unit_id?: number; holding?: Record<string, number[]>; input?: Record<string, number[]> }): Promise<ModbusServer> {
  const file = path.join(tempDir('netzero-modbus-'), 'layout.json');
  fs.writeFileSync(file, JSON.stringify(layout));
  const proc = spawn('/usr/bin/python3', [SERVER, file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const waiting: ((line: Record<string, unknown>) => void)[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
      buf = buf.slice(i + 1);
      waiting.shift()?.(line);
    }
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sunspec_server.py did not answer within 10 s: ${err.slice(-2000)}`)), 10_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => waiting.splice(0).forEach((w) => w({ ok: false, error: `exited: ${err.slice(-2000)}` })));
  const first = await next();
  if (typeof first.port !== 'number') throw new Error(`sunspec_server.py did not start: ${JSON.stringify(first)} ${err}`);
  const command = async (cmd: Record<string, unknown>) => {
    const answer = next();
    proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
    const a = await answer;
    if (a.ok !== true) throw new Error(`sunspec_server.py refused ${JSON.stringify(cmd)}: ${String(a.error)}`);
    return a;
  };
  return {
    port: first.port,
    proc,
    set: async (table, address, words) => void (await command({ cmd: 'set', table, address, words })),
    pause: async () => void (await command({ cmd: 'pause' })),
    resume: async () => void (await command({ cmd: 'resume' })),
    requests: async () => Number((await command({ cmd: 'stats' })).requests),
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.stdin!.end();
      const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
    stderr: () => err,
  };
}
