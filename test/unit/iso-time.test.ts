import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseIsoWithOffset } from '../../lib/time.js';

/** What luxon alone answers: the reference the fast path must agree with. */
function byLuxon(v: string): number | 'invalid' {
  const dt = DateTime.fromISO(v, { setZone: true });
  return dt.isValid ? dt.toMillis() : 'invalid';
}

const two = (n: number) => String(n).padStart(2, '0');

describe('parseIsoWithOffset', () => {
  it('hand-worked instants, and impossible dates refused with the reason', () => {
    expect(parseIsoWithOffset('2026-11-22T10:00:00+08:00')).toEqual({ ms: Date.UTC(2026, 10, 22, 2, 0, 0) });
    expect(parseIsoWithOffset('2026-11-22T10:00Z')).toEqual({ ms: Date.UTC(2026, 10, 22, 10, 0) });
    expect(parseIsoWithOffset('2024-02-29T23:59:59.9999-0530')).toEqual({ ms: Date.UTC(2024, 2, 1, 5, 29, 59, 999) });
    expect(parseIsoWithOffset('2026-02-29T00:00:00+08:00')).toMatchObject({ reason: expect.stringMatching(/^is not a valid date: "2026-02-29T00:00:00\+08:00"/) });
    expect(parseIsoWithOffset('2026-02-30T00:00:00+08:00')).toMatchObject({ reason: expect.stringMatching(/not a valid date/) });
    expect(parseIsoWithOffset('2026-11-22 10:00:00')).toMatchObject({ reason: expect.stringMatching(/must be ISO 8601 with an offset/) });
  });

  it('agrees with luxon on every string of the accepted shape, in range or not', () => {
    const part = (max: number) => fc.integer({ min: 0, max });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }), part(19), part(39), part(29), part(69), fc.option(part(69)), fc.option(fc.stringMatching(/^\d{1,9}$/)),
        fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), part(29), part(69), fc.boolean()).map(([s, h, m, colon]) => `${s}${two(h)}${colon ? ':' : ''}${two(m)}`)),
        (y, mo, d, h, mi, s, frac, off) => {
          const v = `${String(y).padStart(4, '0')}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}${s === null ? '' : `:${two(s)}${frac === null ? '' : `.${frac}`}`}${off}`;
          const ours = parseIsoWithOffset(v);
          const ref = byLuxon(v);
          if (ref === 'invalid') expect('reason' in ours, v).toBe(true);
          else expect(ours, v).toEqual({ ms: ref });
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
