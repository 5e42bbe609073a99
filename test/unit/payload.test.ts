import { describe, expect, it } from 'vitest';
import { counters, declaredFields, KINDS, type Kind } from '../../devices/kinds.js';
import {
  MAX_BATCH,
  MAX_FUTURE_MS,
  MAX_PAYLOAD_BYTES,
  parsePayload,
  type ParsedPayload,
} from '../../devices/payload.js';

/**
 * Payload rules from ../shared/contract.md ("Payload (JSON, UTF-8, at most 64 KiB)"):
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

  it('rejects temp_c at or below absolute zero (-273.15 °C)', () => {
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, temp_c: -273.15 }), 'temp_c', /absolute zero/);
    expectRejected(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, temp_c: -300 }), 'temp_c', /absolute zero/);
    expect(expectAccepted(parse('biogas', { ts: TS, biogas_m3: 1, ch4_pct: 60, temp_c: -273.14 })).fields.temp_c).toBe(-273.14);
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
