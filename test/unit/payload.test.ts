import { describe, expect, it } from 'vitest';
import { counters, declaredFields, KINDS, type Kind } from '../../devices/kinds.js';
import {
  MAX_BATCH,
  MAX_FUTURE_MS,
  MAX_PAYLOAD_BYTES,
  parsePayload,
  type ParsedPayload,
} from '../../devices/payload.js';
import {
  MAX_EXTRA_FIELDS,
  MAX_EXTRA_VALUES,
  MAX_FIELD_NAME_LENGTH,
  MAX_STRING_LENGTH,
  zodToFieldErrors,
} from '../../devices/payload.js';
import { deviceParamsSchema } from '../../devices/params.js';

/**
 * Payload rules from docs/contract.md ("Payload (JSON, UTF-8, at most 64 KiB)"):
 * one reading or {"readings":[…]} (≤ 1,000); ts ISO 8601 with offset or epoch ms, ≤ 5 min in the future;
 * seq optional non-negative integer; unknown fields kept; wrong types, missing required fields,
 * non-finite numbers and impossible values rejected with a reason naming the field.
 */

// "now" for every test: 2026-11-22T10:00:00+08:00 = 2026-11-22T02:00:00Z
const NOW = Date.UTC(2026, 10, 22, 2, 0, 0); // 1,795,312,800,000 ms
const TS = NOW - 60_000; // one minute ago, epoch ms

const parse = (kind: Kind, doc: unknown): ParsedPayload => parsePayload(kind, JSON.stringify(doc), NOW);

/** The message is rejected as a whole (index null), nothing accepted, and one error names `field`. */
function expectRejected(res: ParsedPayload, field: string, reason: RegExp, index: number | null = null): string {
  expect(res.readings).toEqual([]);
  expect(res.rejections).toHaveLength(1);
  const rej = res.rejections[0]!;
  expect(rej.index).toBe(index);
  const err = rej.errors.find((e) => e.field === field);
  expect(err, `no error for field ${field}: ${JSON.stringify(rej.errors)}`).toBeDefined();
  expect(err!.reason).toMatch(reason);
  return err!.reason;
}

/** The one reading was accepted. */
function expectAccepted(res: ParsedPayload) {
  expect(res.rejections).toEqual([]);
  expect(res.readings).toHaveLength(1);
  return res.readings[0]!;
}

describe('parsePayload: whole-message rejections', () => {
  it('rejects invalid JSON with field "payload"', () => {
    const res = parsePayload('pv_inverter', '{"ts": 1795312740000, "energy_kwh": 1', NOW);
    expectRejected(res, 'payload', /not valid JSON/);
    // the raw text is kept for the quarantine
    expect(res.rejections[0]!.raw).toBe('{"ts": 1795312740000, "energy_kwh": 1');
  });

  it.each([
    ['an array', '[{"ts":1795312740000,"energy_kwh":1}]'],
    ['a number', '42'],
    ['a string', '"hello"'],
    ['null', 'null'],
  ])('rejects %s at the top level with field "payload"', (_what, text) => {
    const res = parsePayload('pv_inverter', text, NOW);
    expectRejected(res, 'payload', /must be a JSON object/);
  });

  it('rejects a payload over 64 KiB (65,536 bytes) and accepts one of exactly 65,536 bytes', () => {
    const head = `{"ts":${TS},"energy_kwh":1,"pad":"`;
    const tail = '"}';
    // exactly MAX_PAYLOAD_BYTES = 64 × 1024 = 65,536 bytes (ASCII: 1 char = 1 byte)
    const exact = head + 'x'.repeat(MAX_PAYLOAD_BYTES - head.length - tail.length) + tail;
    expect(Buffer.byteLength(exact)).toBe(65_536);
    expectAccepted(parsePayload('pv_inverter', exact, NOW));

    const over = head + 'x'.repeat(MAX_PAYLOAD_BYTES - head.length - tail.length + 1) + tail;
    expect(Buffer.byteLength(over)).toBe(65_537);
    expectRejected(parsePayload('pv_inverter', over, NOW), 'payload', /65537 bytes.*65536/);
    // also as a Buffer (what MQTT hands over)
    expectRejected(parsePayload('pv_inverter', Buffer.from(over), NOW), 'payload', /65537 bytes/);
  });

  it('measures the 64 KiB limit in UTF-8 bytes, not characters', () => {
    // 25,000 × "碳" (3 bytes each in UTF-8) = 75,000 bytes but only ~25,000 characters
    const text = `{"ts":${TS},"energy_kwh":1,"note":"${'碳'.repeat(25_000)}"}`;
    expect(text.length).toBeLessThan(MAX_PAYLOAD_BYTES);
    expectRejected(parsePayload('pv_inverter', text, NOW), 'payload', /bytes/);
  });
});

describe('parsePayload: batch shape', () => {
  it('rejects "readings" that is not an array', () => {
    expectRejected(parse('pv_inverter', { readings: { ts: TS, energy_kwh: 1 } }), 'readings', /must be an array/);
    expectRejected(parse('pv_inverter', { readings: 'x' }), 'readings', /must be an array/);
  });

  it('rejects an empty batch', () => {
    expectRejected(parse('pv_inverter', { readings: [] }), 'readings', /must not be empty/);
  });

  it('rejects a batch of 1,001 readings and accepts one of exactly 1,000', () => {
    const mk = (n: number) => Array.from({ length: n }, (_, i) => ({ ts: TS - i * 1000, energy_kwh: i }));
    expectRejected(parse('pv_inverter', { readings: mk(MAX_BATCH + 1) }), 'readings', /1001.*1000/);

    const ok = parse('pv_inverter', { readings: mk(1000) });
    expect(ok.rejections).toEqual([]);
    expect(ok.readings).toHaveLength(1000);
  });

  it('rejects a batch item that is not an object with field readings[i]', () => {
    const res = parse('pv_inverter', { readings: [{ ts: TS, energy_kwh: 1 }, 7] });
    expect(res.readings).toHaveLength(1);
    expect(res.rejections).toHaveLength(1);
    expect(res.rejections[0]!.index).toBe(1);
    expect(res.rejections[0]!.errors).toEqual([{ field: 'readings[1]', reason: 'must be a JSON object' }]);
  });

  it('accepts the good readings of a batch and rejects only the bad one, naming readings[i].<field>', () => {
    const res = parse('pv_inverter', {
      readings: [
        { ts: TS - 2000, seq: 1, energy_kwh: 10 },
        { ts: TS - 1000, seq: 2, energy_kwh: -5 }, // negative counter
        { ts: TS, seq: 3, energy_kwh: 12 },
      ],
    });
    expect(res.readings.map((r) => r.seq)).toEqual([1, 3]);
    expect(res.readings.map((r) => r.fields.energy_kwh)).toEqual([10, 12]);
    expect(res.rejections).toHaveLength(1);
    const rej = res.rejections[0]!;
    expect(rej.index).toBe(1);
    expect(JSON.parse(rej.raw)).toEqual({ ts: TS - 1000, seq: 2, energy_kwh: -5 });
    expect(rej.errors).toHaveLength(1);
    expect(rej.errors[0]!.field).toBe('readings[1].energy_kwh');
    expect(rej.errors[0]!.reason).toMatch(/negative/);
  });

  it('names the batch path for a bad ts in a batch too', () => {
    const res = parse('smart_meter', {
      readings: [
        { ts: TS, import_kwh: 1 },
        { ts: NOW + MAX_FUTURE_MS + 1, import_kwh: 2 },
      ],
    });
    expect(res.readings).toHaveLength(1);
    expect(res.rejections[0]!.index).toBe(1);
    expect(res.rejections[0]!.errors[0]!.field).toBe('readings[1].ts');
    expect(res.rejections[0]!.errors[0]!.reason).toMatch(/future/);
  });
});

describe('parsePayload: required fields per kind', () => {
  it.each<[Kind, Record<string, unknown>, string]>([
    ['smart_meter', { export_kwh: 1 }, 'import_kwh'],
    ['pv_inverter', { power_w: 100 }, 'energy_kwh'],
    ['biogas', { ch4_pct: 60 }, 'biogas_m3'],
    ['biogas', { biogas_m3: 100 }, 'ch4_pct'],
    ['ev_charger', { power_w: 7000 }, 'energy_kwh'],
  ])('%s without %j is rejected: field %s required', (kind, rest, field) => {
    const reason = expectRejected(parse(kind, { ts: TS, ...rest }), field, /required/);
    expect(reason).toBe('required');
  });

  it('biogas with neither biogas_m3 nor ch4_pct names both fields', () => {
    const res = parse('biogas', { ts: TS });
    const fields = res.rejections[0]!.errors.map((e) => e.field).sort();
    expect(fields).toEqual(['biogas_m3', 'ch4_pct']);
  });

  it('the minimal reading of each kind is accepted', () => {
    const minimal: Record<Kind, Record<string, unknown>> = {
      smart_meter: { import_kwh: 1 },
      pv_inverter: { energy_kwh: 1 },
      biogas: { biogas_m3: 1, ch4_pct: 60 },
      ev_charger: { energy_kwh: 1 },
    };
    for (const kind of KINDS) {
      const r = expectAccepted(parse(kind, { ts: TS, ...minimal[kind] }));
      expect(r.fields).toEqual(minimal[kind]);
      expect(r.seq).toBeNull();
    }
  });
});

describe('parsePayload: wrong types and impossible values', () => {
  it('rejects a string for a number', () => {
    expectRejected(parse('pv_inverter', { ts: TS, energy_kwh: '12.5' }), 'energy_kwh', /finite number, got string/);
  });

  it('rejects a boolean for a number', () => {
    expectRejected(parse('smart_meter', { ts: TS, import_kwh: true }), 'import_kwh', /finite number, got boolean/);
    expectRejected(parse('smart_meter', { ts: TS, import_kwh: 1, power_w: false }), 'power_w', /got boolean/);
  });

  it('rejects null for a number', () => {
    expectRejected(parse('pv_inverter', { ts: TS, energy_kwh: null }), 'energy_kwh', /got null/);
  });

  it('rejects a non-finite number (JSON 1e999 parses to Infinity)', () => {
    expect(JSON.parse('1e999')).toBe(Infinity);
    const res = parsePayload('pv_inverter', `{"ts":${TS},"energy_kwh":1e999}`, NOW);
    expectRejected(res, 'energy_kwh', /finite/);
    const neg = parsePayload('smart_meter', `{"ts":${TS},"import_kwh":1,"power_w":-1e999}`, NOW);
    expectRejected(neg, 'power_w', /finite/);
  });

  it.each<[Kind, string, Record<string, unknown>]>([
    ['smart_meter', 'import_kwh', { import_kwh: -1 }],
    ['smart_meter', 'export_kwh', { import_kwh: 1, export_kwh: -0.5 }],
    ['pv_inverter', 'energy_kwh', { energy_kwh: -0.001 }],
    ['biogas', 'biogas_m3', { biogas_m3: -1, ch4_pct: 60 }],
    ['biogas', 'gen_kwh', { biogas_m3: 1, ch4_pct: 60, gen_kwh: -1 }],
    ['biogas', 'flare_m3', { biogas_m3: 1, ch4_pct: 60, flare_m3: -1 }],
    ['ev_charger', 'energy_kwh', { energy_kwh: -3 }],
  ])('%s: negative counter %s is rejected', (kind, field, rest) => {
    expectRejected(parse(kind, { ts: TS, ...rest }), field, /must not be negative/);
  });

  it('a counter of exactly 0 is accepted', () => {
    expectAccepted(parse('pv_inverter', { ts: TS, energy_kwh: 0 }));
  });

  it('rejects ch4_pct over 100 and below 0; accepts 0 and 100', () => {
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 100.1 }), 'ch4_pct', /between 0 and 100/);
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: -0.1 }), 'ch4_pct', /between 0 and 100/);
    expectAccepted(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 100 }));
    expectAccepted(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 0 }));
  });

  it('rejects temp_c below the gas temperature bound (−50 °C; absolute zero and near it would inflate the normalised volume)', () => {
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, temp_c: -273.15 }), 'temp_c', /at least -50 °C/);
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, temp_c: -273.14 }), 'temp_c', /at least -50 °C/);
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, temp_c: -50.01 }), 'temp_c', /at least -50 °C/);
    expect(expectAccepted(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, temp_c: -50 })).fields.temp_c).toBe(-50);
  });

  it('rejects pressure_kpa of 0 or below', () => {
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, pressure_kpa: 0 }), 'pressure_kpa', /positive/);
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, pressure_kpa: -5 }), 'pressure_kpa', /positive/);
    expectAccepted(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, pressure_kpa: 0.001 }));
  });

  it('rejects a negative or non-integer seq', () => {
    expectRejected(parse('pv_inverter', { ts: TS, seq: -1, energy_kwh: 1 }), 'seq', /non-negative integer/);
    expectRejected(parse('pv_inverter', { ts: TS, seq: 1.5, energy_kwh: 1 }), 'seq', /non-negative integer/);
    expectRejected(parse('pv_inverter', { ts: TS, seq: '3', energy_kwh: 1 }), 'seq', /non-negative integer, got string/);
    expect(expectAccepted(parse('pv_inverter', { ts: TS, seq: 0, energy_kwh: 1 })).seq).toBe(0);
  });

  it('rejects a non-integer or negative connector (ev_charger)', () => {
    expectRejected(parse('ev_charger', { ts: TS, energy_kwh: 1, connector: 1.5 }), 'connector', /integer/);
    expectRejected(parse('ev_charger', { ts: TS, energy_kwh: 1, connector: -1 }), 'connector', /non-negative/);
    expect(expectAccepted(parse('ev_charger', { ts: TS, energy_kwh: 1, connector: 2 })).fields.connector).toBe(2);
  });

  it('rejects a session_id that is not a string (ev_charger)', () => {
    expectRejected(parse('ev_charger', { ts: TS, energy_kwh: 1, session_id: 42 }), 'session_id', /must be a string, got number/);
    const r = expectAccepted(parse('ev_charger', { ts: TS, energy_kwh: 1, session_id: 'S-001' }));
    expect(r.fields.session_id).toBe('S-001');
  });
});

describe('parsePayload: ts', () => {
  it('rejects a missing ts', () => {
    expect(expectRejected(parse('pv_inverter', { energy_kwh: 1 }), 'ts', /required/)).toBe('required');
  });

  it('rejects an ISO time without offset', () => {
    expectRejected(parse('pv_inverter', { ts: '2026-11-22T10:00:00', energy_kwh: 1 }), 'ts', /offset/);
    expectRejected(parse('pv_inverter', { ts: '2026-11-22', energy_kwh: 1 }), 'ts', /offset/);
  });

  it('rejects an invalid date (month 13, hour 25)', () => {
    expectRejected(parse('pv_inverter', { ts: '2026-13-01T10:00:00+08:00', energy_kwh: 1 }), 'ts', /not a valid date/);
    expectRejected(parse('pv_inverter', { ts: '2026-11-22T25:00:00+08:00', energy_kwh: 1 }), 'ts', /not a valid date/);
  });

  it('rejects a calendar-impossible day (2026-02-30, 2026-11-31) instead of rolling it into the next month', () => {
    // V8's Date.parse accepts day 30 in February and returns 2026-03-02; a reading must not silently
    // move to another day (and month: the rollups are monthly).
    expectRejected(parse('pv_inverter', { ts: '2026-02-30T10:00:00+08:00', energy_kwh: 1 }), 'ts', /valid date/);
    expectRejected(parse('pv_inverter', { ts: '2026-11-31T10:00:00+08:00', energy_kwh: 1 }), 'ts', /valid date/);
  });

  it('rejects a ts of the wrong type', () => {
    expectRejected(parse('pv_inverter', { ts: true, energy_kwh: 1 }), 'ts', /ISO 8601.*epoch milliseconds, got boolean/);
  });

  it('rejects epoch seconds (before 2000) with a reason that mentions seconds', () => {
    // 2026-11-22T02:00:00Z in seconds = 1,795,312,800 s, which read as ms is 1970-01-21 (< 2000-01-01)
    expectRejected(parse('pv_inverter', { ts: NOW / 1000, energy_kwh: 1 }), 'ts', /seconds/);
  });

  it('rejects a non-integer epoch ms', () => {
    expectRejected(parse('pv_inverter', { ts: TS + 0.5, energy_kwh: 1 }), 'ts', /integer/);
  });

  it('rejects a ts more than 5 minutes in the future; exactly 5 minutes is accepted', () => {
    // MAX_FUTURE_MS = 5 × 60 × 1000 = 300,000 ms
    expect(MAX_FUTURE_MS).toBe(300_000);
    expectRejected(parse('pv_inverter', { ts: NOW + 300_001, energy_kwh: 1 }), 'ts', /future/);
    expectRejected(parse('pv_inverter', { ts: NOW + 3_600_000, energy_kwh: 1 }), 'ts', /3600 s in the future/);
    expect(expectAccepted(parse('pv_inverter', { ts: NOW + 300_000, energy_kwh: 1 })).ts).toBe(NOW + 300_000);
    // ISO form: 10:05:00+08:00 is exactly +5 min → accepted; 10:05:01+08:00 → rejected
    expectAccepted(parse('pv_inverter', { ts: '2026-11-22T10:05:00+08:00', energy_kwh: 1 }));
    expectRejected(parse('pv_inverter', { ts: '2026-11-22T10:05:01+08:00', energy_kwh: 1 }), 'ts', /future/);
  });

  it('normalises an ISO ts with offset to epoch ms', () => {
    // 2026-11-22T10:00:00+08:00 = 2026-11-22T02:00:00Z = Date.UTC(2026, 10, 22, 2, 0, 0)
    const r = expectAccepted(parse('pv_inverter', { ts: '2026-11-22T10:00:00+08:00', energy_kwh: 1 }));
    expect(r.ts).toBe(Date.UTC(2026, 10, 22, 2, 0, 0));
    // Z and fractional seconds: 01:59:30.250Z
    const z = expectAccepted(parse('pv_inverter', { ts: '2026-11-22T01:59:30.250Z', energy_kwh: 1 }));
    expect(z.ts).toBe(Date.UTC(2026, 10, 22, 1, 59, 30, 250));
    // negative offset: 2026-11-21T20:00:00-05:00 = 2026-11-22T01:00:00Z
    const w = expectAccepted(parse('pv_inverter', { ts: '2026-11-21T20:00:00-05:00', energy_kwh: 1 }));
    expect(w.ts).toBe(Date.UTC(2026, 10, 22, 1, 0, 0));
  });

  it('accepts epoch milliseconds as is', () => {
    expect(expectAccepted(parse('pv_inverter', { ts: TS, energy_kwh: 1 })).ts).toBe(1_795_312_740_000);
  });
});

describe('parsePayload: fields and extras', () => {
  it('keeps unknown fields in extras, never an error, and splits declared fields out', () => {
    const r = expectAccepted(
      parse('smart_meter', {
        ts: TS,
        seq: 7,
        import_kwh: 1234.5,
        export_kwh: 12,
        power_w: 800,
        firmware: '2.1.0',
        phase: { l1: 230.1, l2: null },
        tags: [1, 'a'],
        voltage: 'not-a-number-is-fine-here',
      }),
    );
    expect(r.ts).toBe(TS);
    expect(r.seq).toBe(7);
    expect(r.fields).toEqual({ import_kwh: 1234.5, export_kwh: 12, power_w: 800 });
    expect(r.extras).toEqual({
      firmware: '2.1.0',
      phase: { l1: 230.1, l2: null },
      tags: [1, 'a'],
      voltage: 'not-a-number-is-fine-here',
    });
  });

  it('a field declared for another kind is an extra for this kind', () => {
    // ch4_pct belongs to biogas; on a PV inverter it is just an unknown field (even when out of range)
    const r = expectAccepted(parse('pv_inverter', { ts: TS, energy_kwh: 5, ch4_pct: 500 }));
    expect(r.fields).toEqual({ energy_kwh: 5 });
    expect(r.extras).toEqual({ ch4_pct: 500 });
  });

  it('accepts a Buffer payload (as MQTT delivers it)', () => {
    const r = expectAccepted(
      parsePayload('biogas', Buffer.from(JSON.stringify({ ts: TS, biogas_m3: 10, ch4_pct: 61.5, temp_c: 25 })), NOW),
    );
    expect(r.fields).toEqual({ biogas_m3: 10, ch4_pct: 61.5, temp_c: 25 });
  });
});

describe('devices/kinds.ts', () => {
  it('declares the contract fields of each kind', () => {
    expect([...declaredFields.smart_meter].sort()).toEqual(['export_kwh', 'import_kwh', 'power_w', 'seq', 'ts']);
    expect([...declaredFields.pv_inverter].sort()).toEqual(['energy_kwh', 'power_w', 'seq', 'ts']);
    expect([...declaredFields.biogas].sort()).toEqual(
      ['biogas_m3', 'ch4_pct', 'flare_m3', 'gen_kwh', 'pressure_kpa', 'seq', 'temp_c', 'ts'],
    );
    expect([...declaredFields.ev_charger].sort()).toEqual(['connector', 'energy_kwh', 'power_w', 'seq', 'session_id', 'ts']);
  });

  it('lists the cumulative counters; only energy counters are bounded by nameplate', () => {
    expect(counters.smart_meter.map((c) => c.field)).toEqual(['import_kwh', 'export_kwh']);
    expect(counters.pv_inverter.map((c) => c.field)).toEqual(['energy_kwh']);
    expect(counters.ev_charger.map((c) => c.field)).toEqual(['energy_kwh']);
    expect(counters.biogas).toEqual([
      { field: 'biogas_m3', unit: 'm3', boundedByNameplate: false },
      { field: 'gen_kwh', unit: 'kWh', boundedByNameplate: true },
      { field: 'flare_m3', unit: 'm3', boundedByNameplate: false },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Defects found by an attacker's probe: everything that can throw for one reading, or poison a shared
// computation (the store's group-commit transaction, the public totals), is refused at validation.
// ---------------------------------------------------------------------------------------------------

/** `[[[…1…]]]` nested `n` levels (text, so no recursion builds it). */
const nestedArrays = (n: number): string => '['.repeat(n) + '1' + ']'.repeat(n);
/** `{"a":{"a":…1…}}` nested `n` levels. */
const nestedObjects = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
/** A PV reading (text) with one more member appended, e.g. `"x":[[1]]`. */
const pvWith = (member: string): string => `{"ts":${TS},"energy_kwh":1,${member}}`;

describe('probe 1: extras are bounded (depth, count, size) and checked without recursion', () => {
  it('refuses an extra nested 10,000 levels deep, naming the extra, instead of keeping what JSON.stringify cannot store', () => {
    const text = pvWith(`"x":${nestedArrays(10_000)}`);
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_PAYLOAD_BYTES);
    expect(() => JSON.stringify(JSON.parse(text))).toThrow(RangeError); // what the store's transaction hit
    expectRejected(parsePayload('pv_inverter', text, NOW), 'x', /^nested deeper than 16 levels$/);
  });

  it('refuses 5,000 nested objects the same way', () => {
    expectRejected(parsePayload('pv_inverter', pvWith(`"cfg":${nestedObjects(5_000)}`), NOW), 'cfg', /nested deeper than 16 levels/);
  });

  it('keeps an extra of exactly 16 levels and refuses 17', () => {
    const r = expectAccepted(parsePayload('pv_inverter', pvWith(`"x":${nestedArrays(16)}`), NOW));
    expect(JSON.stringify(r.extras)).toBe(`{"x":${nestedArrays(16)}}`);
    expectRejected(parsePayload('pv_inverter', pvWith(`"x":${nestedArrays(17)}`), NOW), 'x', /nested deeper than 16/);
    // objects count as levels too: {"a":[1]} is two
    expectAccepted(parsePayload('pv_inverter', pvWith(`"x":${nestedObjects(16)}`), NOW));
    expectRejected(parsePayload('pv_inverter', pvWith(`"x":${nestedObjects(17)}`), NOW), 'x', /nested deeper than 16/);
  });

  it('a deep reading in a batch is refused alone, and its raw is kept without overflowing the stack', () => {
    const deep = `{"ts":${TS},"energy_kwh":2,"x":${nestedArrays(20_000)}}`;
    const text = `{"readings":[{"ts":${TS - 1000},"energy_kwh":1},${deep}]}`;
    const res = parsePayload('pv_inverter', text, NOW);
    expect(res.readings).toHaveLength(1);
    expect(res.rejections).toHaveLength(1);
    expect(res.rejections[0]!.index).toBe(1);
    expect(res.rejections[0]!.errors).toEqual([{ field: 'readings[1].x', reason: 'nested deeper than 16 levels' }]);
    expect(res.rejections[0]!.raw).toBe(deep);
  });

  it('a deep item that is not a reading at all ({"readings":[[[[…]]]]}) is refused, not thrown', () => {
    const text = `{"readings":[${nestedArrays(30_000)}]}`;
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_PAYLOAD_BYTES);
    const res = parsePayload('pv_inverter', text, NOW);
    expect(res.readings).toEqual([]);
    expect(res.rejections).toHaveLength(1);
    expect(res.rejections[0]!.index).toBe(0);
    expect(res.rejections[0]!.errors).toEqual([{ field: 'readings[0]', reason: 'must be a JSON object' }]);
    expect(res.rejections[0]!.raw).toBe(nestedArrays(30_000));
  });

  it('deep input anywhere else never throws out of parsePayload: it returns a rejection', () => {
    const cases = [
      '['.repeat(100_000), // 100,000 levels: over 64 KiB
      '['.repeat(60_000), // under 64 KiB, unclosed: invalid JSON
      nestedArrays(30_000), // valid, but not an object
      `{"readings":${nestedArrays(30_000)}}`,
      `{"ts":${TS},"energy_kwh":${nestedArrays(30_000)}}`, // a declared field
      `{"ts":${nestedObjects(10_000)},"energy_kwh":1}`,
      `{"readings":[{"ts":${TS},"energy_kwh":-1,"x":${nestedObjects(10_000)}}]}`,
    ];
    for (const text of cases) {
      let res: ParsedPayload | undefined;
      expect(() => (res = parsePayload('pv_inverter', text, NOW)), text.slice(0, 40)).not.toThrow();
      expect(res!.readings).toEqual([]);
      expect(res!.rejections.length).toBeGreaterThan(0);
      for (const rej of res!.rejections) for (const e of rej.errors) expect(e.field.length * e.reason.length).toBeGreaterThan(0);
    }
  });

  it('refuses more than 256 extra fields, naming the reading', () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `"e${i}":0`).join(',');
    expectAccepted(parsePayload('pv_inverter', pvWith(members(MAX_EXTRA_FIELDS)), NOW));
    expectRejected(parsePayload('pv_inverter', pvWith(members(MAX_EXTRA_FIELDS + 1)), NOW), 'payload', /257 extra fields; at most 256/);
    const batch = parsePayload('pv_inverter', `{"readings":[${pvWith(members(300))}]}`, NOW);
    expect(batch.rejections[0]!.errors).toEqual([{ field: 'readings[0]', reason: 'has 300 extra fields; at most 256 allowed' }]);
  });

  it('refuses more than 4,096 values in the extras of one reading', () => {
    const arr = (n: number) => `[${Array.from({ length: n }, () => '0').join(',')}]`;
    // the array itself is one value, its elements the others
    expectAccepted(parsePayload('pv_inverter', pvWith(`"spectrum":${arr(MAX_EXTRA_VALUES - 1)}`), NOW));
    expectRejected(parsePayload('pv_inverter', pvWith(`"spectrum":${arr(MAX_EXTRA_VALUES)}`), NOW), 'spectrum', /over 4096 values/);
    // across fields: the field that goes over is named
    const two = pvWith(`"a":${arr(3000)},"b":${arr(3000)}`);
    expectRejected(parsePayload('pv_inverter', two, NOW), 'b', /over 4096 values/);
  });

  it('refuses an extra field name over 128 characters, naming its start', () => {
    expectAccepted(parsePayload('pv_inverter', pvWith(`"${'k'.repeat(MAX_FIELD_NAME_LENGTH)}":1`), NOW));
    const res = parsePayload('pv_inverter', pvWith(`"${'k'.repeat(5000)}":1`), NOW);
    expectRejected(res, `${'k'.repeat(64)}…`, /field name of 5000 characters; at most 128/);
  });

  it('keeps a string as long as the payload allows (the 64 KiB limit bounds every string)', () => {
    expect(MAX_STRING_LENGTH).toBe(MAX_PAYLOAD_BYTES);
    const note = 'x'.repeat(60_000);
    expect(expectAccepted(parsePayload('pv_inverter', pvWith(`"note":"${note}"`), NOW)).extras.note).toBe(note);
  });

  it('refuses a non-finite number inside an extra (JSON 1e999 would be stored as null)', () => {
    expectRejected(parsePayload('pv_inverter', pvWith('"x":1e999'), NOW), 'x', /non-finite number \(Infinity\)/);
    expectRejected(parsePayload('pv_inverter', pvWith('"x":{"y":[-1e999]}'), NOW), 'x', /non-finite number \(-Infinity\)/);
  });

  it('an empty extra field name is kept, and named "" when refused', () => {
    expect(expectAccepted(parsePayload('pv_inverter', pvWith('"":1'), NOW)).extras['']).toBe(1);
    expectRejected(parsePayload('pv_inverter', pvWith(`"":${nestedArrays(17)}`), NOW), '""', /nested deeper/);
  });
});

/** The largest value of `ladder` (tried from the top) that `accepts` takes; what the validator lets through. */
function largestAccepted(ladder: readonly number[], accepts: (v: number) => boolean): number {
  const v = [...ladder].sort((a, b) => b - a).find(accepts);
  if (v === undefined) throw new Error('no value of the ladder is accepted');
  return v;
}
const UP = [1, 1e3, 1e6, 1e7, 1e9, 1e10, 1e11, 1e12, 1e13, 1e15, 1e20, 1e50, 1e100, 1e200, 1e300, 1e308, 1.7e308, Number.MAX_VALUE];

describe('probe 2: every numeric field has a physical bound', () => {
  it.each<[Kind, string, Record<string, unknown>]>([
    ['smart_meter', 'import_kwh', {}],
    ['smart_meter', 'export_kwh', { import_kwh: 1 }],
    ['pv_inverter', 'energy_kwh', {}],
    ['biogas', 'biogas_m3', { ch4_pct: 60 }],
    ['biogas', 'gen_kwh', { biogas_m3: 1, ch4_pct: 60 }],
    ['ev_charger', 'energy_kwh', {}],
  ])('%s: counter %s is at most 1e12 (1.7e308 and 1e308 refused)', (kind, field, rest) => {
    const unit = field.endsWith('_m3') ? 'm³' : 'kWh';
    for (const big of [1.7e308, 1e308, 1e13, 1e12 * (1 + 1e-12)]) {
      expectRejected(parse(kind, { ts: TS, ...rest, [field]: big }), field, new RegExp(`at most 1e12 ${unit} \\(cumulative counter bound\\)`));
    }
    expect(expectAccepted(parse(kind, { ts: TS, ...rest, [field]: 1e12 })).fields[field]).toBe(1e12);
  });

  it('biogas: flare_m3 is at most 1e12 m³ too', () => {
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1e12, ch4_pct: 60, flare_m3: 1e308 }), 'flare_m3', /at most 1e12 m³/);
    expectAccepted(parse('biogas', { ts: TS, biogas_m3: 1e12, ch4_pct: 60, flare_m3: 1e12 }));
  });

  it.each<[Kind, Record<string, unknown>]>([
    ['smart_meter', { import_kwh: 1 }],
    ['pv_inverter', { energy_kwh: 1 }],
    ['ev_charger', { energy_kwh: 1 }],
  ])('%s: power_w is within ±1e10 W', (kind, rest) => {
    for (const p of [1e10 + 1, -1e10 - 1, 1.7e308, -1.7e308]) {
      expectRejected(parse(kind, { ts: TS, ...rest, power_w: p }), 'power_w', /between -1e10 and 1e10 W/);
    }
    for (const p of [1e10, -1e10, 0]) expect(expectAccepted(parse(kind, { ts: TS, ...rest, power_w: p })).fields.power_w).toBe(p);
  });

  it('biogas: temp_c at most 200 °C, pressure_kpa at most 50,000 kPa', () => {
    const b = { ts: TS, biogas_m3: 1, ch4_pct: 60 };
    expectRejected(parse('biogas', { ...b, temp_c: 200.01 }), 'temp_c', /at most 200 °C/);
    expectRejected(parse('biogas', { ...b, temp_c: 1e308 }), 'temp_c', /at most 200 °C/);
    expectAccepted(parse('biogas', { ...b, temp_c: 200 }));
    expectRejected(parse('biogas', { ...b, pressure_kpa: 50_000.1 }), 'pressure_kpa', /at most 50000 kPa/);
    expectRejected(parse('biogas', { ...b, pressure_kpa: 1e308 }), 'pressure_kpa', /at most 50000 kPa/);
    expectAccepted(parse('biogas', { ...b, pressure_kpa: 50_000 }));
  });

  it('ev_charger: connector is at most 255', () => {
    expectRejected(parse('ev_charger', { ts: TS, energy_kwh: 1, connector: 256 }), 'connector', /at most 255/);
    // beyond Number.MAX_SAFE_INTEGER zod's integer check speaks first
    expectRejected(parse('ev_charger', { ts: TS, energy_kwh: 1, connector: 1e300 }), 'connector', /non-negative integer/);
    expectAccepted(parse('ev_charger', { ts: TS, energy_kwh: 1, connector: 255 }));
  });

  it('seq stays at most Number.MAX_SAFE_INTEGER', () => {
    expectRejected(parse('pv_inverter', { ts: TS, seq: Number.MAX_SAFE_INTEGER + 1, energy_kwh: 1 }), 'seq', /non-negative integer/);
    expectRejected(parse('pv_inverter', { ts: TS, seq: 1e300, energy_kwh: 1 }), 'seq', /non-negative integer/);
    expectAccepted(parse('pv_inverter', { ts: TS, seq: Number.MAX_SAFE_INTEGER, energy_kwh: 1 }));
  });

  it('params: nameplate_kw ≤ 1e7, counter_max ≤ 1e12, baseline_kgco2e_per_km ≤ 10, kwh_per_km 0.001–10, baseline_kwh_per_month ≤ 1e10', () => {
    const issues = (p: Record<string, unknown>) => {
      const r = deviceParamsSchema.safeParse(p);
      return r.success ? [] : zodToFieldErrors(r.error);
    };
    expect(issues({ nameplate_kw: 1e7, counter_max: 1e12, baseline_kgco2e_per_km: 10, kwh_per_km: 10, baseline_kwh_per_month: 1e10 })).toEqual([]);
    expect(issues({ kwh_per_km: 0.001, baseline_kwh_per_month: 0 })).toEqual([]);
    expect(issues({ nameplate_kw: 1.7e308 })).toEqual([{ field: 'nameplate_kw', reason: 'must be at most 1e7 (kW, 10 GW)' }]);
    expect(issues({ counter_max: 1e13 })).toEqual([{ field: 'counter_max', reason: 'must be at most 1e12 (counter units, the counter bound)' }]);
    expect(issues({ baseline_kgco2e_per_km: 1e308 })).toEqual([{ field: 'baseline_kgco2e_per_km', reason: 'must be at most 10 (kgCO2e/km)' }]);
    expect(issues({ kwh_per_km: 1e-300 })).toEqual([{ field: 'kwh_per_km', reason: 'must be between 0.001 and 10 (kWh/km at the plug)' }]);
    expect(issues({ kwh_per_km: 11 })).toEqual([{ field: 'kwh_per_km', reason: 'must be between 0.001 and 10 (kWh/km at the plug)' }]);
    expect(issues({ baseline_kwh_per_month: 1e308 })).toEqual([{ field: 'baseline_kwh_per_month', reason: 'must be at most 1e10 (kWh a month)' }]);
    // the existing lower bounds still hold
    expect(issues({ nameplate_kw: 0 })).toEqual([{ field: 'nameplate_kw', reason: 'must be > 0 (kW)' }]);
    expect(issues({ baseline_kwh_per_month: -1 })).toEqual([{ field: 'baseline_kwh_per_month', reason: 'must be >= 0 (kWh a month)' }]);
  });

  it('bounds keep every total finite: the largest accepted values, summed over 10 million intervals', () => {
    // Ask the validators for the extremes they let through (on the old code: Number.MAX_VALUE).
    const acceptsReading = (kind: Kind, doc: Record<string, unknown>) => parse(kind, { ts: TS, ...doc }).readings.length === 1;
    const acceptsParam = (name: string, v: number) => deviceParamsSchema.safeParse({ [name]: v }).success;
    const counterKwh = largestAccepted(UP, (v) => acceptsReading('pv_inverter', { energy_kwh: v }));
    const counterM3 = largestAccepted(UP, (v) => acceptsReading('biogas', { biogas_m3: v, ch4_pct: 100 }));
    const flareM3 = largestAccepted(UP, (v) => acceptsReading('biogas', { biogas_m3: counterM3, flare_m3: v, ch4_pct: 100 }));
    const powerW = largestAccepted(UP, (v) => acceptsReading('smart_meter', { import_kwh: 1, power_w: -v }));
    const pressure = largestAccepted(UP, (v) => acceptsReading('biogas', { biogas_m3: 1, ch4_pct: 100, pressure_kpa: v }));
    const tempC = -largestAccepted([273.15, 273.14, 50.01, 50, 0], (v) => acceptsReading('biogas', { biogas_m3: 1, ch4_pct: 100, temp_c: -v })); // the coldest accepted
    expect(tempC).toBe(-50);
    const nameplate = largestAccepted(UP, (v) => acceptsParam('nameplate_kw', v));
    const counterMax = largestAccepted(UP, (v) => acceptsParam('counter_max', v));
    const baselineMonth = largestAccepted(UP, (v) => acceptsParam('baseline_kwh_per_month', v));
    const kgPerKm = largestAccepted(UP, (v) => acceptsParam('baseline_kgco2e_per_km', v));
    const kwhPerKm = 1 / largestAccepted(UP, (v) => acceptsParam('kwh_per_km', 1 / v)); // the smallest accepted

    // Generous bounds for the factors (the registry's are far smaller: EF ≈ 0.5 kg/kWh, GWP 28, density 0.716).
    const EF = 10; // kgCO2e/kWh
    const GWP = 100; // tCO2e/t CH4
    const DENSITY = 1; // kg/Nm³
    // One interval at its worst (store/intervals.ts): a wrap adds counter_max to the new value.
    const kwh = Math.max(counterKwh, flareM3) + counterMax;
    const m3 = counterM3 + counterMax;
    const nm3 = m3 * (pressure / 101.325) * (273.15 / (273.15 + tempC)); // accounting/streams/biogas/method.ts
    const methaneTco2e = ((nm3 * 1 * DENSITY) / 1000) * GWP; // ch4_pct 100 %
    const evTco2e = ((kwh / kwhPerKm) * kgPerKm) / 1000 + (kwh * EF) / 1000; // baseline km × kg/km, plus the grid's
    const savingTco2e = ((baselineMonth + kwh) * EF) / 1000; // |baseline − metered| ≤ baseline + metered
    const hours = (NOW + MAX_FUTURE_MS - Date.UTC(2000, 0, 1)) / 3_600_000; // the longest interval
    const nameplateBound = nameplate * hours * 1.2; // the implausibility check
    for (const x of [kwh, m3, nm3, methaneTco2e, evTco2e, savingTco2e, nameplateBound]) expect(Number.isFinite(x)).toBe(true);

    let sumKwh = 0;
    let sumTco2e = 0;
    let sumPowerW = 0;
    let sumBound = 0;
    for (let i = 0; i < 10_000_000; i++) {
      sumKwh += kwh + m3 + nm3;
      sumTco2e += methaneTco2e + evTco2e + savingTco2e;
      sumPowerW += powerW;
      sumBound += nameplateBound;
    }
    for (const s of [sumKwh, sumTco2e, sumPowerW, sumBound]) {
      expect(Number.isFinite(s), `a sum of 10 million worst-case intervals is ${s}`).toBe(true);
      expect(s).toBeLessThan(1e300); // with room to spare
    }
  });
});

describe('probe 3: reserved names are refused, never silently dropped', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s as an extra field, naming it', (name) => {
    // as text: an object literal's "__proto__" would set the prototype instead of making a key
    const res = parsePayload('pv_inverter', pvWith(`"${name}":{"energy_kwh":5}`), NOW);
    const reason = expectRejected(res, name, /reserved name/);
    expect(reason).toBe('is a reserved name (__proto__, constructor, prototype) and cannot be kept as an extra field');
    const batch = parsePayload('pv_inverter', `{"readings":[${pvWith(`"${name}":1`)}]}`, NOW);
    expect(batch.rejections[0]!.errors).toEqual([{ field: `readings[0].${name}`, reason }]);
  });

  it('refuses a reserved name nested inside an extra too, naming the extra', () => {
    expectRejected(parsePayload('pv_inverter', pvWith('"meta":{"a":[{"__proto__":{"x":1}}]}'), NOW), 'meta', /reserved name "__proto__"/);
  });

  it('builds extras as a null-prototype object, so no key can change its prototype', () => {
    const r = expectAccepted(parsePayload('pv_inverter', pvWith('"toString":1,"hasOwnProperty":"x","valueOf":null'), NOW));
    expect(Object.getPrototypeOf(r.extras)).toBeNull();
    expect(Object.keys(r.extras)).toEqual(['toString', 'hasOwnProperty', 'valueOf']);
    expect(JSON.stringify(r.extras)).toBe('{"toString":1,"hasOwnProperty":"x","valueOf":null}');
  });
});

describe('probe 4: a batch holds only "readings"', () => {
  it('refuses fields beside "readings", naming the stray key', () => {
    const res = parse('pv_inverter', { readings: [{ ts: TS, energy_kwh: 1 }], site: 'x' });
    const reason = expectRejected(res, 'site', /a batch holds only "readings"/);
    expect(reason).toBe('a batch holds only "readings"; put other fields in each reading');
    expect(res.rejections[0]!.raw).toBe(JSON.stringify({ readings: [{ ts: TS, energy_kwh: 1 }], site: 'x' }));
  });

  it('names every stray key (ts beside readings, __proto__ too)', () => {
    const res = parsePayload('pv_inverter', `{"ts":${TS},"energy_kwh":1,"readings":[{"ts":${TS},"energy_kwh":1}],"__proto__":{}}`, NOW);
    expect(res.readings).toEqual([]);
    expect(res.rejections[0]!.errors.map((e) => e.field)).toEqual(['ts', 'energy_kwh', '__proto__']);
  });

  it('still refuses an empty batch and one of 1,001 readings', () => {
    expectRejected(parse('pv_inverter', { readings: [] }), 'readings', /must not be empty/);
    const many = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ ts: TS - i, energy_kwh: 1 }));
    expectRejected(parse('pv_inverter', { readings: many }), 'readings', /1001 readings; at most 1000/);
  });

  it('a reading in a batch cannot carry "readings" (alone it would be a batch)', () => {
    const res = parse('pv_inverter', { readings: [{ ts: TS, energy_kwh: 1, readings: [] }] });
    expect(res.rejections[0]!.errors).toEqual([
      { field: 'readings[0].readings', reason: 'is reserved for a batch ({"readings": [...]}); a reading cannot carry it' },
    ]);
  });
});

describe('probe 5: flare_m3 is part of biogas_m3', () => {
  it('refuses flare_m3 above biogas_m3 in one reading, naming flare_m3', () => {
    const reason = expectRejected(parse('biogas', { ts: TS, biogas_m3: 100, ch4_pct: 60, flare_m3: 100.5 }), 'flare_m3', /biogas_m3/);
    expect(reason).toBe("is 100.5 m³, more than biogas_m3 (100 m³): the flare's gas is part of biogas_m3");
  });

  it('accepts flare_m3 equal to or below biogas_m3', () => {
    expectAccepted(parse('biogas', { ts: TS, biogas_m3: 100, ch4_pct: 60, flare_m3: 100 }));
    expectAccepted(parse('biogas', { ts: TS, biogas_m3: 100, ch4_pct: 60, flare_m3: 0 }));
  });

  it('names only the invalid field when biogas_m3 itself is wrong', () => {
    const res = parse('biogas', { ts: TS, biogas_m3: -1, ch4_pct: 60, flare_m3: 5 });
    expect(res.rejections[0]!.errors.map((e) => e.field)).toEqual(['biogas_m3']);
  });
});
