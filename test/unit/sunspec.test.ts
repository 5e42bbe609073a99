import { describe, expect, it } from 'vitest';
import { registerReader } from '../../devices/modbus/client.js';
import { decodeRegister, readRegisterMap } from '../../devices/modbus/register-map.js';
import { decodeRegisters, scaled, timesPowerOfTen } from '../../devices/modbus/words.js';
import { findBase, walkModels } from '../../devices/sunspec/chain.js';
import { decodeModel, SunSpecError } from '../../devices/sunspec/decode.js';
import { pointValue } from '../../devices/sunspec/points.js';
import { INVERTER } from '../../devices/sunspec/models.js';
import { readSunSpec } from '../../devices/sunspec/reader.js';
import { commonModel, fakeClient, i16, inverterModel, meterModel, sunspecRegisters, u32, unknownModel } from '../helpers/sunspec.js';

describe('registers to numbers', () => {
  it('reads 16-bit words signed and unsigned', () => {
    expect(decodeRegisters([0xffff], 'uint16')).toBe(65535);
    expect(decodeRegisters([0xffff], 'int16')).toBe(-1);
    expect(decodeRegisters([0x8000], 'int16')).toBe(-32768);
    expect(decodeRegisters([0x7fff], 'int16')).toBe(32767);
  });

  it('reads 32-bit values in either word order', () => {
    // big: high word first: 0x0001 × 65536 + 0x0002 = 65538; little: 0x0002 × 65536 + 0x0001 = 131073
    expect(decodeRegisters([0x0001, 0x0002], 'uint32', 'big')).toBe(65538);
    expect(decodeRegisters([0x0001, 0x0002], 'uint32', 'little')).toBe(131073);
    // 0xFFFFFFFE as int32 is -2; word-swapped it is 0xFFFEFFFF = -65537
    expect(decodeRegisters([0xffff, 0xfffe], 'int32', 'big')).toBe(-2);
    expect(decodeRegisters([0xffff, 0xfffe], 'int32', 'little')).toBe(-65537);
    expect(decodeRegisters([0xffff, 0xffff], 'uint32')).toBe(4294967295);
  });

  it('reads float32 as the decimal the meter meant', () => {
    // 123.4 as float32 is 0x42F6CCCD (123.40000152587890625 exactly); kept as 123.4
    expect(decodeRegisters([0x42f6, 0xcccd], 'float32', 'big')).toBe(123.4);
    expect(decodeRegisters([0xcccd, 0x42f6], 'float32', 'little')).toBe(123.4);
    // 50258.25 = 1.53… × 2^15: exponent 15 + 127 = 0x8E, mantissa 50258.25 × 2^8 = 0xC45240 less the implicit 1: 0x47445240, exact
    expect(decodeRegisters([0x4744, 0x5240], 'float32')).toBe(50258.25);
    expect(decodeRegisters([0x7fc0, 0x0000], 'float32')).toBeNaN();
  });

  it('refuses a register that is not a 16-bit word', () => {
    expect(() => decodeRegisters([70000], 'uint16')).toThrow(/not a 16-bit word/);
    expect(() => decodeRegisters([1], 'uint32')).toThrow(/register 1/);
  });

  it('scales by powers of ten without binary noise', () => {
    // 123456 Wh × 10^1 (WH_SF = 1) ÷ 1000 = 1234.56 kWh: 123456 × 10^-2
    expect(timesPowerOfTen(123456, -2)).toBe(1234.56);
    expect(timesPowerOfTen(21345, -1)).toBe(2134.5);
    expect(timesPowerOfTen(7, 3)).toBe(7000);
    expect(scaled(12345, 0.1)).toBe(1234.5);
    expect(scaled(502580, 0.01)).toBe(5025.8);
    expect(scaled(3, -1)).toBe(-3);
    expect(scaled(100, 0.25)).toBe(25);
    // not a power of ten: 15 significant digits (0.3 × 3 = 0.8999999999999999 in binary)
    expect(scaled(3, 0.3)).toBe(0.9);
  });
});

describe('SunSpec points', () => {
  const block = (words: Record<number, number>) => {
    const b = [103, 50, ...Array.from({ length: 50 }, () => 0)];
    for (const [i, w] of Object.entries(words)) b[Number(i)] = w;
    return b;
  };

  it('treats the unimplemented values as no value, never 0', () => {
    expect(pointValue(block({ 14: 0x8000 }), INVERTER.points.W!, 'W')).toEqual({ none: 'W is 0x8000: not implemented' });
    expect(pointValue(block({ 24: 0, 25: 0 }), INVERTER.points.WH!, 'WH')).toEqual({ none: 'WH is 0x00000000: not accumulated (acc32 not implemented)' });
    expect(pointValue(block({ 15: 0x8000 }), INVERTER.points.W_SF!, 'W_SF')).toEqual({ none: 'W_SF is 0x8000: not implemented' });
    expect(pointValue(block({ 15: 11 }), INVERTER.points.W_SF!, 'W_SF')).toEqual({ none: 'W_SF is 11, outside the scale factors -10…10' });
    expect(pointValue(block({ 15: i16(-3) }), INVERTER.points.W_SF!, 'W_SF')).toEqual({ value: -3 });
    expect(pointValue(block({ 14: i16(-1) }), INVERTER.points.W!, 'W')).toEqual({ value: -1 });
  });

  it('decodes an inverter model with positive and negative scale factors', () => {
    // WH = 123456 with WH_SF = 1: 1,234,560 Wh = 1234.56 kWh; W = 21345 with W_SF = -1: 2134.5 W
    const d = decodeModel('pv_inverter', inverterModel({ W: 21345, W_SF: -1, WH: 123456, WH_SF: 1 }));
    expect(d).toEqual({ model: 103, fields: { energy_kwh: 1234.56, power_w: 2134.5 }, missing: [] });
  });

  it('decodes a meter model: import, export and signed power', () => {
    // TotWhImp 502580 × 10^2 Wh = 50,258,000 Wh = 50258 kWh; TotWhExp 1234 × 10^2 Wh = 123.4 kWh;
    // W = -15234 with W_SF = -1: -1523.4 W (exporting)
    const d = decodeModel('smart_meter', meterModel({ W: -15234, W_SF: -1, TotWhImp: 502580, TotWhExp: 1234, TotWh_SF: 2 }));
    expect(d).toEqual({ model: 203, fields: { import_kwh: 50258, export_kwh: 123.4, power_w: -1523.4 }, missing: [] });
  });

  it('leaves out a field whose point or scale factor is not implemented, with the reason', () => {
    const m = meterModel({ id: 201, W: 0, W_SF: 0, TotWhImp: 502580, TotWhExp: 0, TotWh_SF: 2 });
    m[18] = 0x8000; // W not implemented
    const d = decodeModel('smart_meter', m);
    // W = 0 would be a real 0 W; 0x8000 is none. TotWhExp 0 is an acc32 that never counted: none.
    expect(d.fields).toEqual({ import_kwh: 50258 });
    expect(d.missing.map((x) => [x.field, x.point])).toEqual([['export_kwh', 'TotWhExp'], ['power_w', 'W']]);

    const inv = inverterModel({ W: 100, W_SF: 0, WH: 5000, WH_SF: 0 });
    inv[26] = 0x8000; // WH_SF not implemented: WH has no meaning
    expect(decodeModel('pv_inverter', inv)).toEqual({
      model: 103,
      fields: { power_w: 100 },
      missing: [{ field: 'energy_kwh', point: 'WH', reason: 'WH_SF is 0x8000: not implemented' }],
    });
  });

  it('refuses a block of another model or one too short', () => {
    expect(() => decodeModel('pv_inverter', meterModel({ W: 0, W_SF: 0, TotWhImp: 1, TotWhExp: 1, TotWh_SF: 0 }))).toThrow(/model 203, not one of SunSpec inverter/);
    const short = inverterModel({ W: 1, W_SF: 0, WH: 1, WH_SF: 0 });
    short[1] = 20;
    expect(() => decodeModel('pv_inverter', short)).toThrow(/20 registers long/);
    expect(() => decodeModel('biogas', short)).toThrow(SunSpecError);
  });
});

describe('SunSpec model chain', () => {
  const inverter = () => sunspecRegisters(40000, commonModel('Fronius', 'Symo 10.0-3-M', 'SN-42'), unknownModel(64999, 10), inverterModel({ W: 21345, W_SF: -1, WH: 123456, WH_SF: 1 }));

  it('walks over a model it does not know to the inverter model', async () => {
    const client = fakeClient(inverter());
    const read = registerReader(client);
    expect(await findBase(read)).toBe(40000);
    // SunS at 40000-40001; model 1 at 40002 (2 + 66 registers); model 64999 at 40070 (2 + 10); model 103 at 40082 (2 + 50); end at 40134
    expect(await walkModels(read, 40000)).toEqual([
      { id: 1, address: 40002, length: 66 },
      { id: 64999, address: 40070, length: 10 },
      { id: 103, address: 40082, length: 50 },
    ]);
    const r = await readSunSpec(client, { kind: 'pv_inverter' });
    expect(r.fields).toEqual({ energy_kwh: 1234.56, power_w: 2134.5 });
    expect(r.location).toEqual({
      base: 40000,
      model: { id: 103, address: 40082, length: 50 },
      chain: [1, 64999, 103],
      common: { manufacturer: 'Fronius', model: 'Symo 10.0-3-M', serial: 'SN-42' },
    });
  });

  it('tries 40000, 0 and 50000 in turn: a refused or foreign base is passed over', async () => {
    const meter = sunspecRegisters(50000, meterModel({ W: -15234, W_SF: -1, TotWhImp: 502580, TotWhExp: 1234, TotWh_SF: 2 }));
    const client = fakeClient({ ...meter, '0': [1, 2] }); // 40000: illegal address; 0: not SunS
    const r = await readSunSpec(client, { kind: 'smart_meter' });
    expect(r.location.base).toBe(50000);
    expect(r.fields).toEqual({ import_kwh: 50258, export_kwh: 123.4, power_w: -1523.4 });
    expect(client.reads.slice(0, 3).map((x) => x.address)).toEqual([40000, 0, 50000]);

    const atZero = fakeClient({ ...sunspecRegisters(0, inverterModel({ W: 5, W_SF: 0, WH: 10, WH_SF: 3 })), '40000': [0x5375, 0] });
    // WH = 10 with WH_SF = 3: 10,000 Wh = 10 kWh
    expect((await readSunSpec(atZero, { kind: 'pv_inverter' })).fields).toEqual({ energy_kwh: 10, power_w: 5 });
  });

  it('says what each base held when none is SunSpec', async () => {
    const client = fakeClient({ '0': [0x1234, 0x5678] });
    await expect(readSunSpec(client, { kind: 'pv_inverter' })).rejects.toThrow(/no SunSpec marker "SunS" at 40000, 0, 50000 \(40000: Modbus exception 2: Illegal data address; 0: 1234 5678; 50000: Modbus exception 2/);
  });

  it('names the models found when the kind has none among them', async () => {
    const client = fakeClient(sunspecRegisters(40000, commonModel('X', 'Y', 'Z'), meterModel({ W: 1, W_SF: 0, TotWhImp: 1, TotWhExp: 1, TotWh_SF: 0 })));
    await expect(readSunSpec(client, { kind: 'pv_inverter' })).rejects.toThrow(/no SunSpec inverter models 101\/102\/103 in the chain at 40000 \(models: 1, 203\)/);
  });

  it('stops at a chain that never ends or runs off the register space', async () => {
    // a model of length 0 repeated: the walk stops after 100 models
    const endless = fakeClient({ '40000': [0x5375, 0x6e53, ...Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 64999 : 0))] });
    await expect(walkModels(registerReader(endless), 40000)).rejects.toThrow(/more than 100 models/);
    const past = fakeClient({ '50000': [0x5375, 0x6e53, 64999, 20000] });
    await expect(walkModels(registerReader(past), 50000)).rejects.toThrow(/past register 65535/);
  });

  it('reads the known model directly next time, and finds it again when it moved', async () => {
    const client = fakeClient(inverter());
    const first = await readSunSpec(client, { kind: 'pv_inverter' });
    client.reads.length = 0;
    await readSunSpec(client, { kind: 'pv_inverter', location: first.location });
    expect(client.reads).toEqual([{ table: 'holding', address: 40082, count: 52 }]);

    // new firmware: the vendor model is gone, model 103 now sits right after model 1 (40070)
    const moved = fakeClient(sunspecRegisters(40000, commonModel('Fronius', 'Symo', 'SN-42'), inverterModel({ W: 100, W_SF: 0, WH: 2000, WH_SF: 0 }), unknownModel(64999, 10)));
    moved.set('holding', 40082, [0x1111, 0x2222]);
    const again = await readSunSpec(moved, { kind: 'pv_inverter', location: first.location });
    expect(again.location.model).toEqual({ id: 103, address: 40070, length: 50 });
    expect(again.fields).toEqual({ energy_kwh: 2, power_w: 100 });
  });

  it('reads a meter model of 107 registers in one request of at most 125', async () => {
    const client = fakeClient(sunspecRegisters(40000, meterModel({ W: 1, W_SF: 0, TotWhImp: 1, TotWhExp: 1, TotWh_SF: 0 })));
    await readSunSpec(client, { kind: 'smart_meter' });
    expect(Math.max(...client.reads.map((r) => r.count))).toBe(107);
    // a block longer than 125 registers is split
    const big = fakeClient({ '0': Array.from({ length: 300 }, (_, i) => i) });
    expect(await registerReader(big)(0, 300)).toHaveLength(300);
    expect(big.reads.map((r) => r.count)).toEqual([125, 125, 50]);
  });
});

describe('plain register map', () => {
  it('decodes each type, word order and scale', () => {
    const spec = (type: 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32', word_order: 'big' | 'little', scale: number) => ({ address: 0, function: 'holding' as const, type, word_order, scale });
    // 0x0007 0xAB34 = 502580 (big); × 0.01 = 5025.8 kWh
    expect(decodeRegister(u32(502580), spec('uint32', 'big', 0.01))).toBe(5025.8);
    // little: the same two registers swapped
    expect(decodeRegister([0xab34, 0x0007], spec('uint32', 'little', 0.01))).toBe(5025.8);
    expect(decodeRegister([i16(-1520)], spec('int16', 'big', 1))).toBe(-1520);
    expect(decodeRegister([0xffff, 0xfc18], spec('int32', 'big', 0.1))).toBe(-100); // -1000 × 0.1
    expect(decodeRegister([0x4744, 0x5240], spec('float32', 'big', 1))).toBe(50258.25);
    expect(decodeRegister([0x7fc0, 0x0000], spec('float32', 'big', 1))).toBeNull();
  });

  it('reads each field from its own register, holding or input', async () => {
    const client = fakeClient({ '100': [i16(-1520)] }, { '3000': [0xab34, 0x0007], '3010': [0x42f6, 0xcccd] });
    const r = await readRegisterMap(client, {
      import_kwh: { address: 3000, function: 'input', type: 'uint32', word_order: 'little', scale: 0.01 },
      export_kwh: { address: 3010, function: 'input', type: 'float32', word_order: 'big', scale: 1 },
      power_w: { address: 100, function: 'holding', type: 'int16', word_order: 'big', scale: 1 },
    });
    expect(r).toEqual({ fields: { import_kwh: 5025.8, export_kwh: 123.4, power_w: -1520 }, missing: [] });
    expect(client.reads).toEqual([
      { table: 'input', address: 3000, count: 2 },
      { table: 'input', address: 3010, count: 2 },
      { table: 'holding', address: 100, count: 1 },
    ]);
  });
});
