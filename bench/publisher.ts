/**
 * One publisher process of bench/compare.ts: connects its devices, says `ready`, waits for `go` on stdin,
 * then publishes `perDevice` single-reading messages from each device (`inflight` at once per device;
 * at QoS 1 each waits for its PUBACK) and prints one JSON line: messages, seconds, ack latency p50/p99.
 * Settings come as JSON in BENCH_PUBLISHER (see `PublisherSettings`).
 */
import readline from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { percentile } from '../test/helpers/mqtt-abuse.js';

export interface PublisherSettings {
  url: string;
  devices: Array<{ id: string; secret?: string; topic: string }>;
  qos: 0 | 1;
  perDevice: number;
  inflight: number;
  /** first `ts` (ms); each device's readings are a minute apart */
  base: number;
}

const s = JSON.parse(process.env.BENCH_PUBLISHER ?? '{}') as PublisherSettings;

const clients: MqttClient[] = await Promise.all(
  s.devices.map((d) =>
    mqtt.connectAsync(s.url, { username: d.secret ? d.id : undefined, password: d.secret, clientId: `${d.id}-bench`, reconnectPeriod: 0, connectTimeout: 60_000 }),
  ),
);
process.stdout.write('ready\n');
await new Promise<void>((resolve) => readline.createInterface({ input: process.stdin }).once('line', () => resolve()));

const latencies: number[] = [];
const t0 = performance.now();
await Promise.all(
  clients.map(async (c, ci) => {
    const device = s.devices[ci]!;
    let next = 0;
    const worker = async () => {
      while (next < s.perDevice) {
        const seq = next++;
        const payload = JSON.stringify({ ts: new Date(s.base + seq * 60_000).toISOString(), seq, import_kwh: Math.round(seq * 12.5) / 100, power_w: 7500 });
        const start = performance.now();
        await c.publishAsync(device.topic, payload, { qos: s.qos });
        if (s.qos === 1) latencies.push(performance.now() - start);
      }
    };
    await Promise.all(Array.from({ length: s.inflight }, worker));
  }),
);
const seconds = (performance.now() - t0) / 1000;
await Promise.all(clients.map((c) => c.endAsync()));
process.stdout.write(`${JSON.stringify({ messages: s.devices.length * s.perDevice, seconds, p50_ms: latencies.length ? percentile(latencies, 50) : null, p99_ms: latencies.length ? percentile(latencies, 99) : null })}\n`);
