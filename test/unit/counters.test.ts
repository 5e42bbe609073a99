import { describe, expect, it } from 'vitest';
import {
  counterRule,
  DEFAULT_MAX_PER_HOUR,
  firstState,
  NAMEPLATE_MARGIN,
  nextStep,
  RESET_FRACTION,
  STEP_TOLERANCE,
  WRAP_WINDOW,
  type CounterRule,
  type SeriesPoint,
} from '../../store/counter-rules.js';

/**
 * Counter rules (store/counter-rules.ts; store/README.md "Counter rules"), worked by hand. A series is
 * read in time order; each reading's interval is computed from the state after the previous one.
 */

const H = 3_600_000; // 1 h in ms
const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
const energy = { field: 'energy_kwh', boundedByNameplate: true };
const volume = { field: 'biogas_m3', boundedByNameplate: false };

/** A rule with a bound per hour (and a rollover value). */
const rule = (maxPerHour: number, counterMax?: number): CounterRule => ({ maxPerHour, boundFrom: `test ${maxPerHour}`, unit: 'kWh', counterMax });

/** Runs a series of [hours from T0, value] through the rules: each interval's amount and quality. */
function series(points: Array<[number, number]>, r: CounterRule): Array<[number, string]> {
  const pts: SeriesPoint[] = points.map(([h, value]) => ({ ts: T0 + h * H, value }));
  let state = firstState(pts[0]!);
  const out: Array<[number, string]> = [];
  for (let i = 1; i < pts.length; i++) {
    const step = nextStep(pts[i - 1]!, state, pts[i]!, r);
    out.push([Number(step.amount.toFixed(9)), step.quality]);
    state = step.state;
  }
  return out;
}

const one = (from: number, to: number, r: CounterRule, hours = 1) => series([[0, from], [hours, to]], r)[0]!;

describe('the rules, one interval at a time', () => {
  it('a rise within the bound is ok: 1,250.5 → 1,262.75 kWh = 12.25 kWh; no change is 0, ok', () => {
    expect(one(1250.5, 1262.75, rule(100))).toEqual([12.25, 'ok']);
    expect(one(40, 40, rule(100))).toEqual([0, 'ok']);
  });

  it('reset: 5,000 → 3 kWh in 1 h (3 is below half of 5,000 and within the bound): 3 kWh from zero', () => {
    expect(RESET_FRACTION).toBe(0.5);
    expect(one(5000, 3, rule(100))).toEqual([3, 'reset']);
  });

  it('rollover: counter_max 99,999, 99,990 → 5 = 99,999 − 99,990 + 5 = 14; at the window edge 900 → 10 of 1,000 = 110', () => {
    expect(WRAP_WINDOW).toBe(0.1);
    expect(one(99_990, 5, rule(100, 99_999))).toEqual([14, 'wrap']);
    expect(one(900, 10, rule(1000, 1000))).toEqual([110, 'wrap']);
  });

  it('a drop with counter_max declared but the register far from it is a reset: 50,000 → 10, and 899 → 10 of 1,000', () => {
    expect(one(50_000, 10, rule(100, 99_999))).toEqual([10, 'reset']);
    expect(one(899, 10, rule(1000, 1000))).toEqual([10, 'reset']);
  });

  it('implausible: 10 kW over 1 h allows 10 × 1 × 1.2 = 12 kWh: 13 is implausible (kept), 12 is ok', () => {
    expect(NAMEPLATE_MARGIN).toBe(1.2);
    expect(one(100, 113, rule(10))).toEqual([13, 'implausible']);
    expect(one(100, 112, rule(10))).toEqual([12, 'ok']);
  });

  it('the bound scales with time: 10 kW over 30 min allows 6 kWh; 6.5 is implausible', () => {
    expect(one(0, 6.5, rule(10), 0.5)).toEqual([6.5, 'implausible']);
    expect(one(0, 6, rule(10), 0.5)).toEqual([6, 'ok']);
  });

  it('exactly at the bound is ok when × 1.2 is not exact in binary: 3 kW, 1 h, 3.6 kWh (3 × 1.2 = 3.5999…)', () => {
    expect(one(0, 3.6, rule(3))).toEqual([3.6, 'ok']);
  });

  it('a drop to a value too large to have flowed since a reset is not a reset but a jump: 900 → 50 with 10 kW over 1 h (12 kWh allowed)', () => {
    expect(one(900, 50, rule(10))).toEqual([0, 'jump']);
    expect(one(900, 5, rule(10))).toEqual([5, 'reset']);
  });
});

describe('backwards steps never create energy, and never count it twice', () => {
  it("the finding: 50,258 → 50,249 → 50,260 (half-hourly) counts 0 then 2 kWh, not 50,249", () => {
    expect(STEP_TOLERANCE).toBe(0.05);
    expect(series([[0, 50_258], [0.5, 50_249], [1, 50_260]], rule(10_000))).toEqual([[0, 'step_back'], [2, 'ok']]);
  });

  it('jitter around a register: 100 → 99.9 → 100.1 → 100.0 → 100.2 counts 0 + 0.1 + 0 + 0.1 = 0.2, the true rise', () => {
    expect(series([[0, 100], [1, 99.9], [2, 100.1], [3, 100], [4, 100.2]], rule(100))).toEqual([[0, 'step_back'], [0.1, 'ok'], [0, 'step_back'], [0.1, 'ok']]);
  });

  it('an older value resent: 1,000 → 1,010 → 1,002 (resent) → 1,012 counts 10 + 0 + 2', () => {
    expect(series([[0, 1000], [1, 1010], [2, 1002], [3, 1012]], rule(100))).toEqual([[10, 'ok'], [0, 'step_back'], [2, 'ok']]);
  });
});

describe('jumps to an unrelated value are not credited; the next reading decides', () => {
  it('a meter swapped for one whose register reads 31,000: not credited, then counted from the new register once confirmed (31,010: 10)', () => {
    // 31,000 is neither within 5 % below 50,000 (a step) nor below half of it (a reset)
    expect(series([[0, 50_000], [1, 31_000], [2, 31_010], [3, 31_030]], rule(100))).toEqual([[0, 'jump'], [10, 'ok'], [20, 'ok']]);
  });

  it('a glitch: 50,000 → 20,000 → 50,010: the series continues from the old register (10 over the 2 h since 50,000)', () => {
    expect(series([[0, 50_000], [1, 20_000], [2, 50_010]], rule(100))).toEqual([[0, 'jump'], [10, 'ok']]);
  });

  it('two unrelated values in a row are both jumps; the third confirms the second', () => {
    expect(series([[0, 50_000], [1, 31_000], [2, 9_000], [3, 9_005]], rule(100))).toEqual([[0, 'jump'], [0, 'jump'], [5, 'ok']]);
  });
});

describe('the bound always applies', () => {
  it("the finding's reset: 50,249 → 12.5 in 30 min with no nameplate is a reset of 12.5 kWh under the smart meter default (10,000 kWh/h)", () => {
    const r = counterRule('smart_meter', { field: 'import_kwh', boundedByNameplate: true }, {});
    expect(r.maxPerHour).toBe(DEFAULT_MAX_PER_HOUR.smart_meter.import_kwh);
    expect(series([[0, 50_258], [0.5, 50_249], [1, 12.5]], r)).toEqual([[0, 'step_back'], [12.5, 'reset']]);
  });

  it('without a nameplate, a per-kind default: 50,249 kWh in 30 min at a smart meter (10 MW default: 6,000 kWh) is implausible', () => {
    const r = counterRule('smart_meter', { field: 'import_kwh', boundedByNameplate: true }, {});
    expect(one(0, 50_249, r, 0.5)).toEqual([50_249, 'implausible']);
  });

  it('the nameplate where declared; params.max_flow_m3_per_h for gas; a nameplate says nothing about gas volume', () => {
    expect(counterRule('pv_inverter', energy, { nameplate_kw: 50 }).maxPerHour).toBe(50);
    expect(counterRule('biogas', volume, { nameplate_kw: 10 }).maxPerHour).toBe(DEFAULT_MAX_PER_HOUR.biogas.biogas_m3);
    expect(counterRule('biogas', volume, { max_flow_m3_per_h: 200 }).maxPerHour).toBe(200);
    // 1,000 m³ of gas in 1 h: ok under the gas default; the same numbers on a 10 kW energy counter are implausible
    expect(one(0, 1000, counterRule('biogas', volume, { nameplate_kw: 10 }))).toEqual([1000, 'ok']);
    expect(one(0, 1000, counterRule('pv_inverter', energy, { nameplate_kw: 10 }))).toEqual([1000, 'implausible']);
  });
});
