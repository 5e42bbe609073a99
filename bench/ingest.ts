/**
 * Ingest benchmark: how many readings per second go from MQTT publishers to a committed SQLite row,
 * with QoS 1 (each PUBACK only after the commit), and how long a commit takes. See bench/README.md.
 *
 *   npm run bench                      # all scenarios
 *   BENCH_READINGS=20000 npm run bench # more readings per scenario
 */
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { SqliteStore } from '../store/sqlite-store.js';
import type { StoredReading } from '../ingest/reading.js';
import { registerDevice, startService, tempDir, type RunningService } from '../test/helpers/service.js';

const READINGS = Number(process.env.BENCH_READINGS ?? 10_000);

interface Result {
  scenario: string;
  readings: number;
  seconds: number;
  perSecond: number;
  p50Ms?: number;
  p99Ms?: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function mqttScenario(svc: RunningService, name: string, clients: number, perMessage: number, inflight: number): Promise<Result> {
  const devices = await Promise.all(
    Array.from({ length: clients }, (_, i) => registerDevice(svc, { kind: 'smart_meter', site: 'bench', sector: 'industry', id: `bench-${name}-${i}`, params: { max_readings_per_s: 100_000 } })),
  );
  const conns: MqttClient[] = await Promise.all(
    devices.map((d) => mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: d.id, password: d.secret, reconnectPeriod: 0 })),
  );
  const messagesPerClient = Math.ceil(READINGS / clients / perMessage);
  const latencies: number[] = [];
  const t0 = Date.now();
  const base = Date.UTC(2026, 0, 1);
  await Promise.all(
    conns.map(async (c, ci) => {
      let next = 0;
      const worker = async () => {
        while (next < messagesPerClient) {
          const m = next++;
          const readings = Array.from({ length: perMessage }, (_, k) => {
            const seq = m * perMessage + k;
            return { ts: base + seq * 1000, seq, import_kwh: seq * 0.01 };
          });
          const payload = JSON.stringify(perMessage === 1 ? readings[0] : { readings });
          const start = performance.now();
          await c.publishAsync(devices[ci]!.topic, payload, { qos: 1 });
          latencies.push(performance.now() - start);
        }
      };
      await Promise.all(Array.from({ length: inflight }, worker));
    }),
  );
  const seconds = (Date.now() - t0) / 1000;
  await Promise.all(conns.map((c) => c.endAsync()));
  const readings = messagesPerClient * clients * perMessage;
  return { scenario: name, readings, seconds, perSecond: readings / seconds, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}

async function storeScenario(batch: number): Promise<Result> {
  const store = new SqliteStore(path.join(tempDir('netzero-bench-'), 'readings.sqlite'));
  await store.start();
  const devices = 50;
  const t0 = Date.now();
  let n = 0;
  for (let b = 0; n < READINGS; b++) {
    const rows: StoredReading[] = Array.from({ length: batch }, (_, k) => {
      const i = b * batch + k;
      const device = `d${i % devices}`;
      const seq = Math.floor(i / devices);
      return {
        device, kind: 'pv_inverter', site: 's', sector: 'industry', params: {},
        ts: Date.UTC(2026, 0, 1) + seq * 60_000, seq, fields: { energy_kwh: seq * 0.5 }, extras: {}, receivedAt: Date.now(),
      };
    });
    await store.writeBatch(rows);
    n += batch;
  }
  const seconds = (Date.now() - t0) / 1000;
  await store.close();
  return { scenario: `store only, batches of ${batch}`, readings: n, seconds, perSecond: n / seconds };
}

async function main() {
  process.stdout.write(`ingest benchmark: ${READINGS} readings per scenario, ${os.cpus().length} cores, node ${process.version}\n`);
  const results: Result[] = [];
  results.push(await storeScenario(1));
  results.push(await storeScenario(100));
  results.push(await storeScenario(1000));
  const svc = await startService({ env: { NETZERO_LOG_LEVEL: 'warn' } });
  try {
    results.push(await mqttScenario(svc, 'qos1-single-1client', 1, 1, 1));
    results.push(await mqttScenario(svc, 'qos1-single-20clients', 20, 1, 10));
    results.push(await mqttScenario(svc, 'qos1-batch100-10clients', 10, 100, 2));
    const metrics = await fetch(`${svc.base}/metrics`).then((r) => r.text());
    const sum = Number(/netzero_store_commit_seconds_sum ([\d.e+-]+)/.exec(metrics)?.[1]);
    const count = Number(/netzero_store_commit_seconds_count (\d+)/.exec(metrics)?.[1]);
    const committed = Number(/netzero_readings_committed_total (\d+)/.exec(metrics)?.[1]);
    process.stdout.write(`service: ${committed} readings committed in ${count} transactions, mean commit ${((sum / count) * 1000).toFixed(2)} ms, mean ${(committed / count).toFixed(1)} readings per transaction\n`);
  } finally {
    await svc.stop();
  }
  process.stdout.write('\nscenario                                  readings   seconds   readings/s   ack p50 ms   ack p99 ms\n');
  for (const r of results) {
    process.stdout.write(
      `${r.scenario.padEnd(40)} ${String(r.readings).padStart(9)} ${r.seconds.toFixed(2).padStart(9)} ${r.perSecond.toFixed(0).padStart(12)} ${(r.p50Ms?.toFixed(2) ?? '-').padStart(12)} ${(r.p99Ms?.toFixed(2) ?? '-').padStart(12)}\n`,
    );
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
