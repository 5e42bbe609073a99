import fc from 'fast-check';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePayload } from '../../devices/payload.js';
import { HonestPublisher } from '../helpers/mqtt-abuse.js';
import { registerDevice, startService, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * Fuzzed telemetry over MQTT against the real service while an honest device publishes: every message
 * is acknowledged, every reading the contract accepts is stored (each batch reading judged alone), every
 * rejection reaches the device's `errors` topic with a field and a reason, and the honest device loses
 * nothing. Payload rules are fuzzed in depth at unit level (test/unit/payload-fuzz.test.ts).
 */

const SEED = 20261202;
const NOW = Date.now();
const T0 = Date.UTC(2026, 9, 1);

let svc: RunningService;
let dev: Registered;
let honest: Registered;
beforeAll(async () => {
  svc = await startService();
  dev = await registerDevice(svc, { kind: 'pv_inverter', site: 'fuzz', sector: 'industry', params: { max_readings_per_s: 100_000 } });
  honest = await registerDevice(svc, { kind: 'pv_inverter', site: 'fuzz', sector: 'industry' });
});
afterAll(async () => {
  await svc?.stop();
});

/** A reading: mostly right, sometimes wrong in the ways field devices and attackers are. */
const oddValue = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(1e308, -1, 'lots', null, [], {}, 1e12, 1e12 + 1));
const extras = fc.dictionary(fc.oneof(fc.constantFrom('note', 'fw', '__proto__', 'constructor', 'x'), fc.string({ maxLength: 10 })), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 });
function reading(seq: number) {
  return fc.record({
    energy: fc.oneof({ weight: 4, arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }) }, { weight: 1, arbitrary: oddValue }),
    ts: fc.oneof({ weight: 4, arbitrary: fc.constant(T0 + seq * 60_000) }, { weight: 1, arbitrary: fc.constantFrom('2026-02-30T00:00:00Z', NOW + 3_600_000, 946684799999, 'yesterday') }),
    extras,
  }).map((r) => ({ ts: r.ts, seq, energy_kwh: r.energy, ...r.extras }));
}
let nextSeq = 1;
const message = fc.integer({ min: 1, max: 12 }).chain((n) => {
  const first = nextSeq;
  nextSeq += n;
  return fc.tuple(...Array.from({ length: n }, (_, i) => reading(first + i))).map((readings) => (readings.length === 1 ? readings[0] : { readings }));
});

describe('fuzzed telemetry over MQTT', () => {
  it('acknowledges every message, stores every accepted reading, reports every rejection with a field and a reason', async () => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: dev.id, password: dev.secret, clientId: dev.id, reconnectPeriod: 0 });
    // the errors topic carries rejections ({errors}) and, for stored readings whose interval is not ok
    // (random counters step back and jump), warnings ({accepted: true, warnings})
    const errors: Array<{ errors: Array<{ field: string; reason: string }> }> = [];
    const warnings: Array<{ quality: string; reason: string }> = [];
    c.on('message', (_t, p) => {
      const m = JSON.parse(p.toString()) as { errors?: Array<{ field: string; reason: string }>; warnings?: typeof warnings };
      if (m.warnings) warnings.push(...m.warnings);
      else errors.push(m as (typeof errors)[number]);
    });
    await c.subscribeAsync(dev.topic.replace(/telemetry$/, 'errors'));
    const pub = await HonestPublisher.start(svc, honest, { intervalMs: 20 });
    let expectStored = 0;
    let expectRejectedMessages = 0;
    try {
      await fc.assert(
        fc.asyncProperty(message, async (m) => {
          const text = JSON.stringify(m);
          // the contract's own judgement of this payload: how many readings it accepts
          const judged = parsePayload('pv_inverter', Buffer.from(text), Date.now());
          expectStored += new Set(judged.readings.map((r) => `${r.ts}|${r.seq}`)).size;
          if (judged.rejections.length > 0) expectRejectedMessages++;
          await c.publishAsync(dev.topic, text, { qos: 1 }); // resolves on the PUBACK: nothing left resending
        }),
        { seed: SEED, numRuns: 150 },
      );
      await waitFor('an errors message for each rejection', () => errors.length >= expectRejectedMessages, 10_000);
    } finally {
      await c.endAsync(true);
    }
    const stats = pub.report('fuzzed telemetry');
    await pub.stop();
    const stored = await svc.api<unknown[]>('GET', `/api/readings?device=${dev.id}&from=${T0 - 1}&limit=10000`);
    console.log(`[fuzz] ${nextSeq - 1} readings in 150 messages: ${expectStored} accepted and stored, ${errors.length} rejection messages, ${warnings.length} warnings`);
    expect(stored.body.length).toBe(expectStored);
    expect(errors.length).toBe(expectRejectedMessages);
    for (const e of errors) for (const x of e.errors) expect(x.field.length > 0 && x.reason.length > 0, JSON.stringify(x)).toBe(true);
    for (const w of warnings) expect(['reset', 'wrap', 'step_back', 'jump', 'implausible'].includes(w.quality) && w.reason.length > 0, JSON.stringify(w)).toBe(true);
    expect(stats.failures + stats.disconnects).toBe(0);
    expect((await svc.api<unknown[]>('GET', `/api/readings?device=${honest.id}&limit=10000`)).body.length).toBe(pub.stats().acks);
    expect((await svc.api('GET', '/healthz', undefined, null)).status).toBe(200);
  });
});
