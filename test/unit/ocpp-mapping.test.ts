import { describe, expect, it } from 'vitest';
import { payloads } from '../../ingest/sources/ocpp/charger.js';
import {
  confirmMeterStart,
  judgeEnergy,
  meterStartOnArrival,
  readingsFromSamples,
  registerReading,
  seqFor,
} from '../../ingest/sources/ocpp/mapping.js';
import { MAX_EXTRA_SAMPLES, readSamples, type SampledValue } from '../../ingest/sources/ocpp/meter-values.js';

/** OCPP sampled values → ev_charger readings: units, measurands, the seq scheme and the field troubles, by hand-worked numbers. */

const T0 = Date.parse('2026-11-20T10:00:00+08:00');
const iso = (min: number) => new Date(T0 + min * 60_000).toISOString();

describe('sampled values (units and measurands)', () => {
  it('reads the register in Wh when no unit is given, and applies kWh when it is', () => {
    // OCPP 1.6 §7.31: a sample without a measurand is Energy.Active.Import.Register, without a unit it is Wh
    expect(readSamples([{ value: '12345678' }]).energyKwh).toBe(12345.678);
    expect(readSamples([{ value: '12345678' }]).energyUnit).toBe('Wh');
    expect(readSamples([{ value: '12345.678', unit: 'kWh', measurand: 'Energy.Active.Import.Register' }]).energyKwh).toBe(12345.678);
    expect(readSamples([{ value: '500', unit: 'Wh', measurand: 'Energy.Active.Import.Register' }]).energyKwh).toBe(0.5);
  });

  it('reads active power in W or kW, W when no unit is given', () => {
    expect(readSamples([{ value: '7.2', measurand: 'Power.Active.Import', unit: 'kW' }]).powerW).toBe(7200);
    expect(readSamples([{ value: '3680', measurand: 'Power.Active.Import' }]).powerW).toBe(3680);
  });

  it('never takes a per-phase register or an interval energy for the register: those are extras', () => {
    const s = readSamples([
      { value: '4100', measurand: 'Energy.Active.Import.Register', phase: 'L1', unit: 'Wh' },
      { value: '120', measurand: 'Energy.Active.Import.Interval', unit: 'Wh' },
      { value: '230.4', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
      { value: '16', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
      { value: '61', measurand: 'SoC', location: 'EV', unit: 'Percent' },
      { value: '1200', measurand: 'Power.Active.Import', phase: 'L2', unit: 'W' },
    ]);
    expect(s.energyKwh).toBeNull();
    expect(s.powerW).toBeNull();
    expect(s.extras).toEqual({
      'Energy.Active.Import.Register.L1': { value: 4100, unit: 'Wh' },
      'Energy.Active.Import.Interval': { value: 120, unit: 'Wh' },
      'Voltage.L1-N': { value: 230.4, unit: 'V' },
      'Current.Import.L1': { value: 16, unit: 'A' },
      'SoC@EV': { value: 61, unit: 'Percent' },
      'Power.Active.Import.L2': { value: 1200, unit: 'W' },
    });
  });

  it('prefers the outlet register to the inlet one, and keeps the other as an extra', () => {
    const s = readSamples([
      { value: '10020', unit: 'Wh', location: 'Inlet' },
      { value: '10000', unit: 'Wh', location: 'Outlet' },
    ]);
    expect(s.energyKwh).toBe(10);
    expect(s.extras).toEqual({ 'Energy.Active.Import.Register@Inlet': { value: 10020, unit: 'Wh' } });
  });

  it('names a sample it cannot read with the field and the reason, and skips signed values', () => {
    const s = readSamples([{ value: 'twelve' }, { value: '5', unit: 'W', measurand: 'Energy.Active.Import.Register' }, { value: 'AbC=', format: 'SignedData' }], 'meterValue[0].sampledValue');
    expect(s.energyKwh).toBeNull();
    expect(s.problems).toEqual([
      { field: 'meterValue[0].sampledValue[0].value', reason: 'must be a decimal number (Energy.Active.Import.Register), got "twelve"' },
      { field: 'meterValue[0].sampledValue[1].unit', reason: 'must be Wh or kWh for Energy.Active.Import.Register, got "W"' },
    ]);
    expect(s.skipped).toBe(1);
  });

  it(`keeps at most ${MAX_EXTRA_SAMPLES} extra measurands and counts the rest`, () => {
    // 2 measurands × 10 phases × 2 locations = 40 distinct keys
    const distinct: SampledValue[] = Array.from({ length: 40 }, (_, i) => ({ value: String(i), measurand: i < 20 ? 'Voltage' : 'Current.Import', phase: (['L1', 'L2', 'L3', 'N', 'L1-N', 'L2-N', 'L3-N', 'L1-L2', 'L2-L3', 'L3-L1'] as const)[i % 10], location: i % 20 < 10 ? 'Outlet' : 'Inlet' }));
    const s = readSamples(distinct);
    expect(Object.keys(s.extras)).toHaveLength(MAX_EXTRA_SAMPLES);
    expect(s.skipped).toBe(40 - MAX_EXTRA_SAMPLES);
  });
});

describe('seq scheme', () => {
  it('is 10 × connector + source: 0 a sample, 1 meterStart, 2 meterStop', () => {
    expect(seqFor(1, 'sample')).toBe(10);
    expect(seqFor(1, 'meterStart')).toBe(11);
    expect(seqFor(1, 'meterStop')).toBe(12);
    expect(seqFor(2, 'sample')).toBe(20);
    expect(seqFor(255, 'meterStop')).toBe(2552);
    expect(registerReading(2, 'meterStop', T0, 800.5, '7')).toEqual({ ts: T0, seq: 22, energy_kwh: 800.5, session_id: '7', connector: 2 });
  });

  it('gives a MeterValues resent unchanged the same readings (stored once), and merges entries of one timestamp', () => {
    const mv = [
      { timestamp: iso(10), sampledValue: [{ value: '12346500', unit: 'Wh' }] },
      { timestamp: iso(10), sampledValue: [{ value: '7.2', unit: 'kW', measurand: 'Power.Active.Import' }] },
      { timestamp: iso(5), sampledValue: [{ value: '12345.8', unit: 'kWh' }] },
    ];
    const first = readingsFromSamples({ connector: 1, sessionId: '41', meterValue: mv, path: 'meterValue', last: undefined });
    const again = readingsFromSamples({ connector: 1, sessionId: '41', meterValue: mv, path: 'meterValue', last: undefined });
    expect(first.readings).toEqual([
      { ts: T0 + 5 * 60_000, seq: 10, energy_kwh: 12345.8, session_id: '41', connector: 1 },
      { ts: T0 + 10 * 60_000, seq: 10, energy_kwh: 12346.5, power_w: 7200, session_id: '41', connector: 1 },
    ]);
    expect(again.readings).toEqual(first.readings);
    expect(first.last).toEqual({ kwh: 12346.5, ts: T0 + 10 * 60_000 });
  });
});

describe('field troubles', () => {
  const last = { kwh: 12345, ts: T0 - 3_600_000 };

  it('a register of 0 where the register stands at 12,345 kWh is a placeholder, never a reading', () => {
    expect(judgeEnergy(0, 'Wh', last)).toEqual({ refused: expect.stringMatching(/^0 is a placeholder.*12345 kWh/) });
    // a charger never seen before: nothing to judge against, the store's rules decide
    expect(judgeEnergy(0, 'Wh', undefined)).toEqual({ kwh: 0 });
    const out = readingsFromSamples({
      connector: 1,
      sessionId: '3',
      meterValue: [{ timestamp: iso(0), sampledValue: [{ value: '0', context: 'Transaction.Begin' }] }, { timestamp: iso(10), sampledValue: [{ value: '12346500' }] }],
      path: 'meterValue',
      last,
    });
    expect(out.readings.map((r) => r.energy_kwh)).toEqual([12346.5]);
    expect(out.notes).toEqual([{ outcome: 'placeholder', ts: T0, field: 'meterValue[0]', reason: expect.stringContaining('placeholder') }]);
  });

  it('Wh sent as kWh, or kWh declared Wh, is read in the unit that continues the register, and says so', () => {
    // 12,354.5 kWh sent as "12354.5" with unit Wh reads as 12.3545 kWh: ×1000 continues 12,345 kWh
    const wh = judgeEnergy(12.3545, 'Wh', last);
    expect(wh).toEqual({ kwh: 12354.5, corrected: expect.stringContaining('declared Wh, read as kWh') });
    // 12,354,500 Wh sent with unit kWh: ÷1000 continues it
    expect(judgeEnergy(12354500, 'kWh', last)).toEqual({ kwh: 12354.5, corrected: expect.stringContaining('declared kWh, read as Wh') });
    // a drop to about half is no unit slip: left to the store's counter rules (a reset, a jump)
    expect(judgeEnergy(6000, 'Wh', last)).toEqual({ kwh: 6000 });
    // a young register (below 1 kWh) cannot tell a slip from its rise: as declared
    expect(judgeEnergy(0.5, 'kWh', { kwh: 0.2, ts: 0 })).toEqual({ kwh: 0.5 });

    const out = readingsFromSamples({ connector: 1, meterValue: [{ timestamp: iso(90), sampledValue: [{ value: '12354.5', unit: 'Wh' }] }], path: 'meterValue', last });
    expect(out.readings).toEqual([{ ts: T0 + 90 * 60_000, seq: 10, energy_kwh: 12354.5, connector: 1, ocpp_unit_corrected: expect.stringContaining('×1000') }]);
    expect(out.notes.map((n) => n.outcome)).toEqual(['unit_corrected']);
  });

  it('a sample without a register value is not a reading: its power is returned, no energy invented', () => {
    const out = readingsFromSamples({ connector: 1, meterValue: [{ timestamp: iso(105), sampledValue: [{ value: '7000', measurand: 'Power.Active.Import', unit: 'W' }] }], path: 'meterValue', last });
    expect(out.readings).toEqual([]);
    expect(out.notes).toEqual([{ outcome: 'no_energy', ts: T0 + 105 * 60_000, field: 'meterValue[0]', reason: expect.stringContaining('none is invented'), powerW: 7000 }]);
    expect(out.last).toEqual(last);
  });

  it('an unreadable timestamp is named and skipped', () => {
    const out = readingsFromSamples({ connector: 1, meterValue: [{ timestamp: '2026-02-30T10:00:00Z', sampledValue: [{ value: '1' }] }], path: 'transactionData', last: undefined });
    expect(out.readings).toEqual([]);
    expect(out.notes[0]).toMatchObject({ outcome: 'unreadable', field: 'transactionData[0].timestamp' });
  });

  it('a meterStart of 0 on a charger at 12,345 kWh is dropped on arrival; one that continues the register waits for confirmation', () => {
    expect(meterStartOnArrival(0, T0, last)).toEqual({ dropped: expect.stringContaining('placeholder') });
    // 11,000 kWh is more than 5 % below the 12,345 kWh read an hour before the start
    expect(meterStartOnArrival(11_000_000, T0, last)).toEqual({ dropped: expect.stringContaining('below the register') });
    expect(meterStartOnArrival(12_345_000, T0, last)).toEqual({ pending: 12345 });
    expect(meterStartOnArrival(0, T0, undefined)).toEqual({ pending: 0 });
  });

  it('a pending meterStart is believed only when the next register value continues it within the power bound', () => {
    // 0 → 12,346.5 kWh in 10 min: 12,346.5 kWh > 350 kW × 1/6 h × 1.2 = 70 kWh: a placeholder
    const placeholder = confirmMeterStart({ kwh: 0, ts: T0 }, { kwh: 12346.5, ts: T0 + 600_000 }, 350);
    expect(placeholder).toEqual({ ok: false, reason: expect.stringContaining('70 kWh') });
    // 0 → 0.014 kWh in 1.5 s (a new meter: the simulator's): 0.014 ≤ 350 × 1/60 h × 1.2 = 7 kWh
    expect(confirmMeterStart({ kwh: 0, ts: T0 }, { kwh: 0.014, ts: T0 + 1500 }, 350)).toEqual({ ok: true });
    // 12,345 → 12,346.5 kWh in 10 min at a 22 kW nameplate: 1.5 ≤ 22 × 1/6 × 1.2 = 4.4 kWh
    expect(confirmMeterStart({ kwh: 12345, ts: T0 }, { kwh: 12346.5, ts: T0 + 600_000 }, 22)).toEqual({ ok: true });
    // a meterStart above the register's next value (more than 1 Wh of rounding) is not a reading
    expect(confirmMeterStart({ kwh: 12347, ts: T0 }, { kwh: 12346.5, ts: T0 + 600_000 }, 22)).toMatchObject({ ok: false });
  });
});

describe('payloads to the pipeline', () => {
  it('splits many readings into contract batches under the payload limits', () => {
    const readings = Array.from({ length: 1200 }, (_, i) => ({ ts: T0 + i * 1000, seq: 10, energy_kwh: i, connector: 1 }));
    const out = payloads(readings);
    expect(out.map((p) => (JSON.parse(p) as { readings: unknown[] }).readings.length)).toEqual([500, 500, 200]);
    expect(out.every((p) => p.length < 60 * 1024)).toBe(true);
  });
});
