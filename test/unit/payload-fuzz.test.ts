import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KINDS, type Kind } from '../../devices/kinds.js';
import { parsePayload, type ParsedPayload, type ValidReading } from '../../devices/payload.js';

/**
 * Property-based fuzzing of `parsePayload` (devices/payload.ts) for every kind and for the batch form:
 * arbitrary bytes and JSON, deep nesting, huge and tiny numbers, NaN-like strings, odd keys, wrong types,
 * mixed valid and invalid batches. A failure prints fast-check's seed and the shrunk counterexample; the
 * seed is fixed, so a run is repeatable (change SEED locally to explore further).
 *
 * Accepted readings are checked against the documented bounds (devices/README.md, "Payload rules"),
 * written out below on purpose: independent assertions, not the validator called a second time.
 */

const SEED = 20261122;
/** Runs per property; the whole file takes a few seconds on a 2-core machine. */
const RUNS = 200;

// "now" for every parse: 2026-11-22T10:00:00+08:00
const NOW = Date.UTC(2026, 10, 22, 2, 0, 0);

const BOUND = {
  minTs: Date.UTC(2000, 0, 1),
  maxTs: NOW + 5 * 60 * 1000,
  counter: 1e12,
  power: 1e10,
  ch4: [0, 100],
  tempMin: -50,
  tempMax: 200,
  pressureMax: 50_000,
  connectorMax: 255,
  sessionId: 128,
  extraFields: 256,
  extraValues: 4096,
  extraDepth: 16,
  fieldName: 128,
  string: 64 * 1024,
  payloadBytes: 64 * 1024,
} as const;

const RESERVED = ['__proto__', 'constructor', 'prototype'];

const SPEC: Record<Kind, { required: string[]; counters: string[]; all: string[] }> = {
  smart_meter: { required: ['import_kwh'], counters: ['import_kwh', 'export_kwh'], all: ['import_kwh', 'export_kwh', 'power_w'] },
  pv_inverter: { required: ['energy_kwh'], counters: ['energy_kwh'], all: ['energy_kwh', 'power_w'] },
  biogas: {
    required: ['biogas_m3', 'ch4_pct'],
    counters: ['biogas_m3', 'gen_kwh', 'flare_m3'],
    all: ['biogas_m3', 'ch4_pct', 'temp_c', 'pressure_kpa', 'gen_kwh', 'flare_m3'],
  },
  ev_charger: { required: ['energy_kwh'], counters: ['energy_kwh'], all: ['energy_kwh', 'power_w', 'session_id', 'connector'] },
};
const ALL_DECLARED = [...new Set(['ts', 'seq', ...KINDS.flatMap((k) => SPEC[k].all)])];

// ---------------------------------------------------------------------------------------------------
// Independent checks
// ---------------------------------------------------------------------------------------------------

const num = (v: unknown, what: string): number => {
  expect(typeof v, `${what} is a number`).toBe('number');
  expect(Number.isFinite(v), `${what} is finite`).toBe(true);
  return v as number;
};

/** Walks a value without recursion: its depth in arrays/objects, how many values it holds, and what is wrong. */
function measure(value: unknown): { depth: number; values: number; problems: string[] } {
  let depth = 0;
  let values = 0;
  const problems: string[] = [];
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    values++;
    if (typeof v === 'number' && !Number.isFinite(v)) problems.push(`non-finite ${v}`);
    else if (typeof v === 'string' && v.length > BOUND.string) problems.push(`string of ${v.length}`);
    else if (typeof v === 'object' && v !== null) {
      depth = Math.max(depth, d + 1);
      if (Array.isArray(v)) for (const x of v) stack.push([x, d + 1]);
      else {
        for (const [k, x] of Object.entries(v)) {
          if (RESERVED.includes(k)) problems.push(`reserved key ${k}`);
          if (k.length > BOUND.string) problems.push(`key of ${k.length}`);
          stack.push([x, d + 1]);
        }
        if (Object.getPrototypeOf(v) !== Object.prototype) problems.push('object with a foreign prototype');
      }
    } else if (!['string', 'number', 'boolean'].includes(typeof v) && v !== null) problems.push(`a ${typeof v}`);
  }
  return { depth, values, problems };
}

/** Every accepted reading within the documented bounds, its extras storable. */
function checkAccepted(kind: Kind, r: ValidReading): void {
  expect(Number.isInteger(r.ts)).toBe(true);
  expect(r.ts).toBeGreaterThanOrEqual(BOUND.minTs);
  expect(r.ts).toBeLessThanOrEqual(BOUND.maxTs);
  if (r.seq !== null) {
    expect(Number.isSafeInteger(r.seq)).toBe(true);
    expect(r.seq).toBeGreaterThanOrEqual(0);
  }
  const spec = SPEC[kind];
  for (const k of Object.keys(r.fields)) expect(spec.all, `field ${k} of ${kind}`).toContain(k);
  for (const k of spec.required) expect(r.fields, `required ${k}`).toHaveProperty(k);
  const f = r.fields;
  for (const c of spec.counters) {
    if (f[c] === undefined) continue;
    const v = num(f[c], c);
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThanOrEqual(BOUND.counter);
  }
  if (f.power_w !== undefined) expect(Math.abs(num(f.power_w, 'power_w'))).toBeLessThanOrEqual(BOUND.power);
  if (kind === 'biogas') {
    const ch4 = num(f.ch4_pct, 'ch4_pct');
    expect(ch4 >= BOUND.ch4[0] && ch4 <= BOUND.ch4[1]).toBe(true);
    if (f.temp_c !== undefined) {
      const t = num(f.temp_c, 'temp_c');
      expect(t >= BOUND.tempMin && t <= BOUND.tempMax).toBe(true);
    }
    if (f.pressure_kpa !== undefined) {
      const p = num(f.pressure_kpa, 'pressure_kpa');
      expect(p > 0 && p <= BOUND.pressureMax).toBe(true);
    }
    if (f.flare_m3 !== undefined) expect(num(f.flare_m3, 'flare_m3')).toBeLessThanOrEqual(num(f.biogas_m3, 'biogas_m3'));
  }
  if (kind === 'ev_charger') {
    if (f.connector !== undefined) {
      const c = num(f.connector, 'connector');
      expect(Number.isInteger(c) && c >= 0 && c <= BOUND.connectorMax).toBe(true);
    }
    if (f.session_id !== undefined) {
      expect(typeof f.session_id).toBe('string');
      expect((f.session_id as string).length).toBeLessThanOrEqual(BOUND.sessionId);
    }
  }

  // extras: a null-prototype object of storable values
  expect(Object.getPrototypeOf(r.extras)).toBeNull();
  const keys = Object.keys(r.extras);
  expect(keys.length).toBeLessThanOrEqual(BOUND.extraFields);
  let values = 0;
  for (const k of keys) {
    expect(['ts', 'seq', ...spec.all]).not.toContain(k); // a field of another kind may be an extra
    expect(RESERVED).not.toContain(k);
    expect(k).not.toBe('readings');
    expect(k.length).toBeLessThanOrEqual(BOUND.fieldName);
    const m = measure(r.extras[k]);
    expect(m.depth, `depth of extra ${k.slice(0, 40)}`).toBeLessThanOrEqual(BOUND.extraDepth);
    expect(m.problems).toEqual([]);
    values += m.values;
  }
  expect(values).toBeLessThanOrEqual(BOUND.extraValues);
  const json = JSON.stringify(r.extras); // must not throw
  expect(JSON.stringify(JSON.parse(json))).toBe(json); // and reads back the same (-0 is JSON's 0 both ways)
}

/** Every outcome well formed: each rejection has fields and reasons, each accepted reading its bounds. */
function checkResult(kind: Kind, res: ParsedPayload): void {
  for (const rej of res.rejections) {
    expect(typeof rej.raw).toBe('string');
    expect(rej.index === null || Number.isInteger(rej.index)).toBe(true);
    expect(rej.errors.length).toBeGreaterThan(0);
    for (const e of rej.errors) {
      expect(typeof e.field === 'string' && e.field.length > 0, `field of ${JSON.stringify(e)}`).toBe(true);
      expect(typeof e.reason === 'string' && e.reason.length > 0, `reason of ${JSON.stringify(e)}`).toBe(true);
    }
  }
  for (const r of res.readings) checkAccepted(kind, r);
}

/** Parses with `parsePayload`, failing the property (not the process) if it throws. */
function parseChecked(kind: Kind, payload: Buffer | string): ParsedPayload {
  let res: ParsedPayload;
  try {
    res = parsePayload(kind, payload, NOW);
  } catch (err) {
    throw new Error(`parsePayload threw: ${(err as Error).message}`);
  }
  checkResult(kind, res);
  return res;
}

// ---------------------------------------------------------------------------------------------------
// Arbitraries: JSON texts built by hand, so that 1e999, -0, duplicate keys and "__proto__" survive
// ---------------------------------------------------------------------------------------------------

const nestedText = fc
  .tuple(fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 20 }) }, fc.integer({ min: 21, max: 12_000 })), fc.boolean())
  .map(([n, obj]) => (obj ? '{"a":'.repeat(n) + '1' + '}'.repeat(n) : '['.repeat(n) + '1' + ']'.repeat(n)));

const numberText = fc
  .oneof(fc.double(), fc.integer(), fc.double({ min: -1e13, max: 1e13 }))
  .map((n) => (Number.isFinite(n) ? JSON.stringify(n) : Number.isNaN(n) ? '"NaN"' : n > 0 ? '1e999' : '-1e999'));

const edgeNumberText = fc.constantFrom(
  '1e999', '-1e999', '1.7e308', '-1.7e308', '1e308', '5e-324', '-0', '0', '1e-400', '1e12', '1000000000000.0001',
  '1e13', '1e10', '-1e10', '10000000001', '-10000000001', '255', '256', '200', '200.01', '-273.15', '-273.14',
  '-273.1499999999999', '50000', '50000.5', '0.001', '100', '100.1', '-0.1', '9007199254740991', '9007199254740992',
);

/** Per declared field: values at, just inside and just past its documented bound (JSON text). */
const COUNTER_EDGES = ['0', '-0.001', '1e12', '999999999999.9999', '1000000000000.0001', '1e13', '1.7e308'];
const FIELD_EDGES: Record<string, readonly string[]> = {
  ts: [String(BOUND.minTs), String(BOUND.minTs - 1), String(BOUND.maxTs), String(BOUND.maxTs + 1), '1.5', '1e300', '"2026-02-30T10:00:00+08:00"'],
  seq: ['0', '-1', '1.5', '9007199254740991', '9007199254740992', '1e300'],
  import_kwh: COUNTER_EDGES,
  export_kwh: COUNTER_EDGES,
  energy_kwh: COUNTER_EDGES,
  biogas_m3: COUNTER_EDGES,
  gen_kwh: COUNTER_EDGES,
  flare_m3: COUNTER_EDGES,
  power_w: ['1e10', '-1e10', '10000000000.000002', '-10000000000.000002', '1e308', '-1e308'],
  ch4_pct: ['0', '100', '100.00000000000001', '-5e-324', '1e308'],
  temp_c: ['-273.14', '-273.15', '-50', '-50.00000000000001', '-49.99', '200', '200.00000000000003', '1e308', '-1e308'],
  pressure_kpa: ['0', '5e-324', '50000', '50000.00000000001', '1e308'],
  connector: ['0', '255', '256', '1.5', '-1', '1e300'],
  session_id: [JSON.stringify('s'.repeat(128)), JSON.stringify('s'.repeat(129)), '""', '12'],
};

const nanLikeText = fc.constantFrom(
  '"NaN"', '"Infinity"', '"-Infinity"', '"1e999"', '"0x10"', '" 1"', '""', '"12.5"', 'null', 'true', 'false', '[]', '{}', '[1]',
  '{"valueOf":1}',
);

const longStringText = fc.integer({ min: 100, max: 66_000 }).map((n) => JSON.stringify('x'.repeat(n)));

const valueText = fc.oneof(
  { weight: 4, arbitrary: numberText },
  { weight: 4, arbitrary: edgeNumberText },
  { weight: 3, arbitrary: nanLikeText },
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: nestedText },
  { weight: 1, arbitrary: longStringText },
);

const oddKey = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '__proto__', 'constructor', 'prototype', '', 'readings', 'toString', 'hasOwnProperty', 'valueOf', 'énergie',
      '碳排放', '🔋', 'a.b', 'x[0]', '\u0000', '\ud800', ' ', ...ALL_DECLARED,
    ),
  },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer({ min: 120, max: 400 }).map((n) => 'k'.repeat(n)) },
);

/** Benign extras: short ASCII keys (never declared or reserved) with small JSON values. */
const benignExtra = fc.tuple(
  fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/).filter((k) => !ALL_DECLARED.includes(k) && !RESERVED.includes(k) && k !== 'readings'),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);

type Pair = [string, string]; // key, value as JSON text

const counterText = fc.oneof(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.constantFrom(0, 1e12)).map((v) => JSON.stringify(v));
const powerText = fc.oneof(fc.double({ min: -1e10, max: 1e10, noNaN: true }), fc.constantFrom(-1e10, 1e10)).map((v) => JSON.stringify(v));
const tsText = fc.oneof(
  fc.integer({ min: BOUND.minTs, max: BOUND.maxTs }).map(String),
  fc.integer({ min: BOUND.minTs, max: BOUND.maxTs }).map((ms) => JSON.stringify(new Date(ms).toISOString())),
);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** The declared members of a reading of `kind`, every value inside its bounds. */
function validPairs(kind: Kind): fc.Arbitrary<Pair[]> {
  const head = fc.tuple(tsText, opt(fc.maxSafeNat().map(String)));
  const withHead = (a: fc.Arbitrary<Array<Pair | undefined>>) =>
    fc.tuple(head, a).map(([[ts, seq], rest]) =>
      [['ts', ts] as Pair, ...(seq === undefined ? [] : [['seq', seq] as Pair]), ...rest].filter((p): p is Pair => p !== undefined),
    );
  const o = (key: string, a: fc.Arbitrary<string>) => opt(a.map((v): Pair => [key, v]));
  switch (kind) {
    case 'smart_meter':
      return withHead(fc.tuple(counterText.map((v): Pair => ['import_kwh', v]), o('export_kwh', counterText), o('power_w', powerText)));
    case 'pv_inverter':
      return withHead(fc.tuple(counterText.map((v): Pair => ['energy_kwh', v]), o('power_w', powerText)));
    case 'ev_charger':
      return withHead(
        fc.tuple(
          counterText.map((v): Pair => ['energy_kwh', v]),
          o('power_w', powerText),
          o('session_id', fc.string({ maxLength: 128 }).map((s) => JSON.stringify(s))),
          o('connector', fc.integer({ min: 0, max: 255 }).map(String)),
        ),
      );
    case 'biogas':
      return withHead(
        fc
          .tuple(
            fc.double({ min: 0, max: 1e12, noNaN: true }),
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.boolean(),
            fc.double({ min: 0, max: 100, noNaN: true }),
            opt(fc.double({ min: -50, max: 200, noNaN: true })),
            opt(fc.double({ min: 1e-3, max: 50_000, noNaN: true })),
            opt(fc.double({ min: 0, max: 1e12, noNaN: true })),
          )
          .map(([m3, share, flare, ch4, t, p, kwh]): Array<Pair | undefined> => [
            ['biogas_m3', JSON.stringify(m3)],
            ['ch4_pct', JSON.stringify(ch4)],
            t === undefined ? undefined : ['temp_c', JSON.stringify(t)],
            p === undefined ? undefined : ['pressure_kpa', JSON.stringify(p)],
            kwh === undefined ? undefined : ['gen_kwh', JSON.stringify(kwh)],
            flare ? ['flare_m3', JSON.stringify(m3 * share)] : undefined,
          ]),
      );
  }
}

const objectText = (pairs: readonly Pair[]): string => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/** A reading of `kind` as JSON text: valid, valid with benign extras, or valid and then mangled. */
function readingText(kind: Kind): fc.Arbitrary<string> {
  const valid = validPairs(kind);
  return fc.oneof(
    { weight: 2, arbitrary: valid.map(objectText) },
    { weight: 2, arbitrary: fc.tuple(valid, fc.array(benignExtra, { maxLength: 6 })).map(([a, b]) => objectText([...a, ...b])) },
    {
      // a declared field of this kind (or ts, seq) overridden by a value at or just past its bound, another
      // edge number, a wrong type or a NaN-like string (a later duplicate key wins in JSON.parse)
      weight: 4,
      arbitrary: fc
        .tuple(
          valid,
          fc.array(
            fc.constantFrom('ts', 'seq', ...SPEC[kind].all).chain((f) =>
              fc.tuple(fc.constant(f), fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...FIELD_EDGES[f]!) }, edgeNumberText, numberText, nanLikeText)),
            ),
            { minLength: 1, maxLength: 2 },
          ),
        )
        .map(([a, b]) => objectText([...a, ...b])),
    },
    {
      // extras at their limits: the number of fields, and the number of values
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.integer({ min: 250, max: 262 }), fc.integer({ min: 4085, max: 4100 }), fc.boolean())
        .map(([a, fields, values, manyFields]) =>
          objectText([
            ...a,
            ...(manyFields
              ? Array.from({ length: fields }, (_, i): Pair => [`e${i}`, '0'])
              : [['a', `[${Array(values - 1 - Math.floor(values / 2)).fill('0').join(',')}]`] as Pair, ['b', `[${Array(Math.floor(values / 2) - 1).fill('0').join(',')}]`] as Pair]),
          ]),
        ),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(valid, fc.array(fc.tuple(oddKey, valueText), { minLength: 1, maxLength: 5 }), fc.nat(), fc.boolean())
        .map(([a, odd, at, drop]) => {
          const pairs: Pair[] = [...a];
          if (drop) pairs.splice(at % pairs.length, 1); // lose a member (perhaps a required one)
          return objectText([...pairs, ...odd]); // odd keys after: a declared name overrides its valid value
        }),
    },
  );
}

const anyKind = fc.constantFrom(...KINDS);

// ---------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------

describe('parsePayload fuzz: never throws, every outcome well formed', () => {
  it('random bytes (invalid UTF-8 included)', () => {
    fc.assert(
      fc.property(anyKind, fc.uint8Array({ maxLength: 512 }), (kind, bytes) => {
        const res = parseChecked(kind, Buffer.from(bytes));
        expect(res.readings.length + res.rejections.length).toBeGreaterThan(0);
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it('readings with single bytes flipped', () => {
    fc.assert(
      fc.property(
        anyKind.chain((k) => fc.tuple(fc.constant(k), readingText(k))),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        ([kind, text], flips) => {
          const buf = Buffer.from(text);
          for (const [at, byte] of flips) buf[at % buf.length] = byte;
          parseChecked(kind, buf);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('arbitrary JSON values, with and without a "readings" member', () => {
    fc.assert(
      fc.property(anyKind, fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (kind, v, wrap) => {
        parseChecked(kind, JSON.stringify(wrap ? { readings: v } : v));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('deep nesting anywhere: top level, batch, a declared field, an extra', () => {
    fc.assert(
      fc.property(anyKind, nestedText, fc.integer({ min: 0, max: 3 }), (kind, deep, where) => {
        const text = [deep, `{"readings":[${deep}]}`, `{"readings":${deep}}`, `{"ts":${NOW},"x":${deep}}`][where]!;
        parseChecked(kind, text);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe.each(KINDS)('parsePayload fuzz: %s readings', (kind) => {
  it('accepted readings satisfy every bound; output is deterministic', () => {
    fc.assert(
      fc.property(readingText(kind), (text) => {
        const res = parseChecked(kind, text);
        expect(res.readings.length + res.rejections.length).toBe(1);
        expect(parsePayload(kind, text, NOW)).toEqual(res);
        const buf = Buffer.from(text);
        expect(parsePayload(kind, buf, NOW)).toEqual(parsePayload(kind, buf, NOW));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a reading with every value inside the documented bounds is accepted (the bounds are not too tight)', () => {
    fc.assert(
      fc.property(validPairs(kind), fc.array(benignExtra, { maxLength: 4 }), (pairs, extras) => {
        const res = parseChecked(kind, objectText([...pairs, ...extras]));
        expect(res.rejections).toEqual([]);
        expect(res.readings).toHaveLength(1);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('in a batch, the valid readings are exactly those that pass alone', () => {
    const item = fc.oneof(
      { weight: 6, arbitrary: readingText(kind) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: nestedText },
    );
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 12 }), (items) => {
        const text = `{"readings":[${items.join(',')}]}`;
        fc.pre(Buffer.byteLength(text) <= BOUND.payloadBytes);
        const batch = parseChecked(kind, text);
        const rejected = new Map(batch.rejections.map((r) => [r.index, r]));
        expect(rejected.size).toBe(batch.rejections.length);
        expect(batch.readings.length + rejected.size).toBe(items.length);
        let next = 0;
        items.forEach((itemText, i) => {
          // alone: a batch of one
          const alone = parsePayload(kind, `{"readings":[${itemText}]}`, NOW);
          const rej = rejected.get(i);
          if (rej === undefined) {
            expect(alone.rejections).toEqual([]);
            expect(batch.readings[next++]).toEqual(alone.readings[0]);
          } else {
            expect(alone.readings).toEqual([]);
            const renamed = alone.rejections[0]!.errors.map((e) => ({ ...e, field: e.field.replace(/^readings\[0\]/, `readings[${i}]`) }));
            expect(rej.errors).toEqual(renamed);
            expect(rej.raw).toBe(alone.rejections[0]!.raw);
          }
          // alone: the same reading as a message of its own (when it is an object, and not itself a batch)
          const parsed: unknown = JSON.parse(itemText);
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && !Object.hasOwn(parsed, 'readings')) {
            const single = parsePayload(kind, itemText, NOW);
            if (rej === undefined) expect(single.readings).toEqual([batch.readings[next - 1]]);
            else {
              const unprefixed = rej.errors.map((e) => ({
                ...e,
                field: e.field === `readings[${i}]` ? 'payload' : e.field.replace(`readings[${i}].`, ''),
              }));
              expect(single.rejections[0]?.errors).toEqual(unprefixed);
            }
          }
        });
        expect(next).toBe(batch.readings.length);
      }),
      { seed: SEED, numRuns: Math.round(RUNS / 2) },
    );
  });

  it('a batch with any member beside "readings" is refused whole, naming the stray key', () => {
    fc.assert(
      fc.property(fc.array(readingText(kind), { minLength: 1, maxLength: 3 }), oddKey, valueText, fc.boolean(), (items, key, value, first) => {
        fc.pre(key !== 'readings');
        const list = `"readings":[${items.join(',')}]`;
        const stray = `${JSON.stringify(key)}:${value}`;
        const text = first ? `{${stray},${list}}` : `{${list},${stray}}`;
        fc.pre(Buffer.byteLength(text) <= BOUND.payloadBytes);
        const res = parseChecked(kind, text);
        expect(res.readings).toEqual([]);
        expect(res.rejections).toHaveLength(1);
        expect(res.rejections[0]!.index).toBeNull();
        const e = res.rejections[0]!.errors[0]!;
        expect(e.reason).toBe('a batch holds only "readings"; put other fields in each reading');
        const shown = key === '' ? '""' : key.length > 128 ? `${key.slice(0, 64)}…` : key;
        expect(e.field).toBe(shown);
      }),
      { seed: SEED, numRuns: Math.round(RUNS / 2) },
    );
  });
});
