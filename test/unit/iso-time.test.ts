import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { ISO_WITH_OFFSET, parseIsoWithOffset } from '../../lib/time.js';

/** What luxon alone answers: the reference the fast path must agree with. */
function byLuxon(v: string): number | 'invalid' {
  const dt = DateTime.fromISO(v, { setZone: true });
  return dt.isValid ? dt.toMillis() : 'invalid';
}

const two = (n: number) => String(n).padStart(2, '0');

/** The whole answer as it was before the character-by-character fast path: the regular expression, then luxon. */
function reference(v: string): { ms: number } | { reason: string } {
  if (!ISO_WITH_OFFSET.test(v)) return { reason: `must be ISO 8601 with an offset (e.g. 2026-11-22T10:00:00+08:00), got "${v.slice(0, 40)}"` };
  const dt = DateTime.fromISO(v, { setZone: true });
  if (!dt.isValid) return { reason: `is not a valid date: "${v.slice(0, 40)}" (${dt.invalidExplanation ?? dt.invalidReason})` };
  return { ms: dt.toMillis() };
}

/** A string of the accepted shape (parts in range or not), as a device would send it. */
const shaped = fc
  .tuple(
    fc.integer({ min: 0, max: 9999 }),
    fc.integer({ min: 0, max: 19 }),
    fc.integer({ min: 0, max: 39 }),
    fc.integer({ min: 0, max: 29 }),
    fc.integer({ min: 0, max: 69 }),
    fc.option(fc.integer({ min: 0, max: 69 })),
    fc.option(fc.stringMatching(/^\d{1,10}$/)),
    fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 69 }), fc.boolean()).map(([s, h, m, colon]) => `${s}${two(h)}${colon ? ':' : ''}${two(m)}`)),
  )
  .map(([y, mo, d, h, mi, s, frac, off]) => `${String(y).padStart(4, '0')}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}${s === null ? '' : `:${two(s)}${frac === null ? '' : `.${frac}`}`}${off}`);

/** One edit of a string: a character replaced, inserted or removed, or the string cut short. */
const EDIT_CHARS = ['0', '5', '9', ':', '-', '+', '.', 'T', 'Z', 't', 'z', ' ', '/', '\u0663', 'a', ''];
const edited = fc
  .tuple(shaped, fc.array(fc.tuple(fc.constantFrom('replace', 'insert', 'remove', 'cut'), fc.nat(40), fc.constantFrom(...EDIT_CHARS)), { minLength: 1, maxLength: 3 }))
  .map(([v, edits]) => {
    for (const [what, at, c] of edits) {
      const i = at % (v.length + 1);
      if (what === 'replace') v = v.slice(0, i) + c + v.slice(i + 1);
      else if (what === 'insert') v = v.slice(0, i) + c + v.slice(i);
      else if (what === 'remove') v = v.slice(0, i) + v.slice(i + 1);
      else v = v.slice(0, i);
    }
    return v;
  });

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

  it('gives exactly the answer of the regular expression and luxon on valid, malformed and random strings', () => {
    fc.assert(
      fc.property(fc.oneof(shaped, edited, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 30 })), (v) => {
        expect(parseIsoWithOffset(v), v).toEqual(reference(v));
      }),
      { numRuns: 50_000 },
    );
    for (const v of ['2026-11-22T10:00', '2026-11-22T10:00:', '2026-11-22T10:00:00.', '2026-11-22T10:00:00.0123456789Z', '2026-11-22T10:00.5Z', '2026-11-22T10:00:00+08:0', '2026-11-22T10:00:00+0800Z', '2026-11-22T10:00:00+08:000', '2026-11-22T24:00:00Z', '0999-01-01T00:00Z', '2000-02-29T00:00Z', '1900-02-29T00:00Z', '2026-11-22T10:00:00+14:59', '2026-11-22T10:00:00+15:00']) {
      expect(parseIsoWithOffset(v), v).toEqual(reference(v));
    }
  });
});
