import { describe, expect, it } from 'vitest';
import { intervalAmount, NAMEPLATE_MARGIN, WRAP_WINDOW } from '../../store/intervals.js';

/**
 * Counter rules from ../shared/domain.md ("Methods, per stream", first paragraph, and trap 1):
 * - delta between consecutive readings;
 * - counter goes down → restarted: amount = the new reading (from zero) — quality 'reset';
 * - unless params.counter_max is declared and the previous reading was near it → amount =
 *   counter_max − previous + current — quality 'wrap';
 * - with params.nameplate_kw, an interval needing more than nameplate × hours × 1.2 is 'implausible'.
 */

const H = 3_600_000; // 1 h in ms
const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
const energy = { boundedByNameplate: true };
const volume = { boundedByNameplate: false };

describe('intervalAmount', () => {
  it('normal delta: 1,250.5 → 1,262.75 kWh = 12.25 kWh, ok', () => {
    // 1262.75 − 1250.5 = 12.25 kWh (both exactly representable)
    expect(intervalAmount({ ts: T0, value: 1250.5 }, { ts: T0 + H, value: 1262.75 }, energy, {})).toEqual({
      amount: 12.25,
      quality: 'ok',
    });
  });

  it('no change is a zero amount, ok', () => {
    expect(intervalAmount({ ts: T0, value: 40 }, { ts: T0 + H, value: 40 }, energy, {})).toEqual({ amount: 0, quality: 'ok' });
  });

  it('reset: counter goes down with no counter_max → amount = current reading, quality reset', () => {
    // 5,000 kWh → 3 kWh: the meter restarted at 0, so 3 kWh flowed (domain.md: "the new reading itself")
    expect(intervalAmount({ ts: T0, value: 5000 }, { ts: T0 + H, value: 3 }, energy, {})).toEqual({
      amount: 3,
      quality: 'reset',
    });
  });

  it('wrap: counter_max 99,999, prev 99,990, cur 5 → 99,999 − 99,990 + 5 = 14, quality wrap', () => {
    expect(
      intervalAmount({ ts: T0, value: 99_990 }, { ts: T0 + H, value: 5 }, energy, { counter_max: 99_999 }),
    ).toEqual({ amount: 14, quality: 'wrap' });
  });

  it('wrap at the edge of the window: prev exactly 90 % of counter_max still wraps', () => {
    // WRAP_WINDOW = 0.1 → "near" = prev ≥ 1000 × 0.9 = 900; 1000 − 900 + 10 = 110
    expect(WRAP_WINDOW).toBe(0.1);
    expect(intervalAmount({ ts: T0, value: 900 }, { ts: T0 + H, value: 10 }, volume, { counter_max: 1000 })).toEqual({
      amount: 110,
      quality: 'wrap',
    });
  });

  it('a drop with counter_max declared but prev far from it is a reset', () => {
    // counter_max 99,999, prev 50,000 (50 % of max, outside the 10 % window), cur 10 → reset, amount 10
    expect(
      intervalAmount({ ts: T0, value: 50_000 }, { ts: T0 + H, value: 10 }, energy, { counter_max: 99_999 }),
    ).toEqual({ amount: 10, quality: 'reset' });
    // just below the window: 899 < 900 → reset
    expect(intervalAmount({ ts: T0, value: 899 }, { ts: T0 + H, value: 10 }, volume, { counter_max: 1000 })).toEqual({
      amount: 10,
      quality: 'reset',
    });
  });

  it('implausible: nameplate 10 kW over 1 h allows 10 × 1 × 1.2 = 12 kWh; 13 kWh is implausible', () => {
    expect(NAMEPLATE_MARGIN).toBe(1.2);
    expect(intervalAmount({ ts: T0, value: 100 }, { ts: T0 + H, value: 113 }, energy, { nameplate_kw: 10 })).toEqual({
      amount: 13,
      quality: 'implausible',
    });
  });

  it('exactly nameplate × hours × 1.2 is ok: 10 kW, 1 h, 12 kWh', () => {
    expect(intervalAmount({ ts: T0, value: 100 }, { ts: T0 + H, value: 112 }, energy, { nameplate_kw: 10 })).toEqual({
      amount: 12,
      quality: 'ok',
    });
  });

  it('the bound scales with time: 10 kW over 30 min allows 6 kWh; 6.5 kWh is implausible, 6 is ok', () => {
    // 10 kW × 0.5 h × 1.2 = 6 kWh
    expect(intervalAmount({ ts: T0, value: 0 }, { ts: T0 + H / 2, value: 6.5 }, energy, { nameplate_kw: 10 }).quality).toBe(
      'implausible',
    );
    expect(intervalAmount({ ts: T0, value: 0 }, { ts: T0 + H / 2, value: 6 }, energy, { nameplate_kw: 10 }).quality).toBe('ok');
  });

  it('exactly at the bound is ok for a nameplate whose × 1.2 is not exact in binary: 3 kW, 1 h, 3.6 kWh', () => {
    // domain.md: implausible only when "needing MORE than nameplate × hours × 1.2" = 3 × 1 × 1.2 = 3.6 kWh.
    // In IEEE doubles 3 × 1.2 = 3.5999999999999996 < 3.6, so a naive comparison flags an exact-bound interval.
    expect(intervalAmount({ ts: T0, value: 0 }, { ts: T0 + H, value: 3.6 }, energy, { nameplate_kw: 3 })).toEqual({
      amount: 3.6,
      quality: 'ok',
    });
  });

  it('a reset amount is checked against the nameplate too', () => {
    // reset: amount = cur = 50 kWh; 10 kW × 1 h × 1.2 = 12 kWh < 50 → implausible (kept, flagged)
    expect(intervalAmount({ ts: T0, value: 900 }, { ts: T0 + H, value: 50 }, energy, { nameplate_kw: 10 })).toEqual({
      amount: 50,
      quality: 'implausible',
    });
    // reset of 5 kWh within 12 kWh → still 'reset'
    expect(intervalAmount({ ts: T0, value: 900 }, { ts: T0 + H, value: 5 }, energy, { nameplate_kw: 10 })).toEqual({
      amount: 5,
      quality: 'reset',
    });
  });

  it('nameplate is ignored for m3 counters (spec.boundedByNameplate false)', () => {
    // 10 kW nameplate, 1 h, 1,000 m3 of biogas: a kW limit says nothing about gas volume → ok
    expect(intervalAmount({ ts: T0, value: 0 }, { ts: T0 + H, value: 1000 }, volume, { nameplate_kw: 10 })).toEqual({
      amount: 1000,
      quality: 'ok',
    });
    // the same numbers on an energy counter are implausible (1,000 kWh > 12 kWh)
    expect(intervalAmount({ ts: T0, value: 0 }, { ts: T0 + H, value: 1000 }, energy, { nameplate_kw: 10 }).quality).toBe(
      'implausible',
    );
  });
});
