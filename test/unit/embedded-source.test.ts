import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { AuthorizedTelemetry, TelemetryHandler } from '../../broker/auth.js';
import type { EmbeddedBroker } from '../../broker/broker.js';
import type { Device } from '../../devices/registry.js';
import { createIngestMetrics } from '../../ingest/metrics.js';
import type { IngestPipeline } from '../../ingest/pipeline.js';
import { EARLY_PER_DEVICE, EmbeddedSource } from '../../ingest/sources/embedded.js';

/**
 * When the broker may read a device's next packet: a QoS 1 message only once it is durable (its PUBACK
 * goes out then); a QoS 0 message at once, up to EARLY_PER_DEVICE waiting for their commit per device,
 * beyond which it waits like QoS 1 (the device's connection holds the rest back). The pipeline is a
 * stand-in whose commits the test settles by hand.
 */

function setup() {
  let handler: TelemetryHandler | undefined;
  const broker = { setTelemetryHandler: (h: TelemetryHandler | undefined) => (handler = h), publish: () => {} } as unknown as EmbeddedBroker;
  const commits: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const pipeline = {
    accept: () =>
      new Promise((resolve, reject) => commits.push({ resolve: () => resolve({ accepted: 1, rejected: 0 }), reject })),
  } as unknown as IngestPipeline;
  const registry = new Registry();
  const source = new EmbeddedSource({ broker, pipeline, metrics: createIngestMetrics(registry), log: pino({ level: 'silent' }) });
  const device = (id: string) => ({ id, site: 's' }) as Device;
  const send = (id: string, qos: 0 | 1) => handler!({ topic: `netzero/v1/s/${id}/telemetry`, payload: Buffer.from('{}'), device: device(id), qos } as AuthorizedTelemetry);
  return { source, commits, registry, send };
}

/** Whether the promise has settled after the pending microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('EmbeddedSource: when the broker may go on', () => {
  it('QoS 1 waits for its commit; QoS 0 goes on at once', async () => {
    const { source, commits, send } = setup();
    await source.start();
    const q1 = send('a', 1);
    const q0 = send('a', 0);
    expect(await settled(q1)).toBe(false);
    expect(await settled(q0)).toBe(true);
    commits[0]!.resolve();
    expect(await settled(q1)).toBe(true);
  });

  it(`a device with ${EARLY_PER_DEVICE} QoS 0 messages waiting for their commit is held back; another device is not`, async () => {
    const { source, commits, send } = setup();
    await source.start();
    for (let i = 0; i < EARLY_PER_DEVICE; i++) expect(await settled(send('flood', 0))).toBe(true);
    const held = send('flood', 0);
    expect(await settled(held)).toBe(false);
    expect(await settled(send('quiet', 0))).toBe(true);
    // the held message goes on when its own commit is done
    commits[EARLY_PER_DEVICE]!.resolve();
    expect(await settled(held)).toBe(true);
    // once the first ones are committed, the device is let go at once again
    for (let i = 0; i < EARLY_PER_DEVICE; i++) commits[i]!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(await settled(send('flood', 0))).toBe(true);
  });

  it('a QoS 0 message let go whose commit then fails is counted, and stop() waits for it', async () => {
    const { source, commits, registry, send } = setup();
    await source.start();
    expect(await settled(send('a', 0))).toBe(true);
    const stopping = source.stop();
    expect(await settled(stopping)).toBe(false);
    commits[0]!.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    await stopping;
    expect(await registry.getSingleMetricAsString('netzero_qos0_messages_unstored_total')).toMatch(/ 1$/m);
  });
});
