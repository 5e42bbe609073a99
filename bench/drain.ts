/**
 * Spool drain benchmark: how fast readings go from the on-disk spool into InfluxDB (Debian's 1.6.7,
 * v1 API) once it is reachable, with intervals and receipts written alongside. See bench/README.md.
 *
 *   npm run bench:drain                   # 20,000 readings over 20 devices, group commits of 20
 *   BENCH_READINGS=100000 npm run bench:drain
 */
import { pino } from 'pino';
import { linesOf } from '../store/influx/drainer.js';
import { InfluxStore } from '../store/influx/influx-store.js';
import { IntervalTracker } from '../store/influx/interval-tracker.js';
import { InfluxQuery } from '../store/influx/query.js';
import { createLineWriter } from '../store/influx/writer.js';
import type { StoredReading } from '../ingest/reading.js';
import { startInfluxd } from '../test/helpers/influxdb.js';
import { tempDir } from '../test/helpers/service.js';

const READINGS = Number(process.env.BENCH_READINGS ?? 20_000);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 20);
const PER_COMMIT = Number(process.env.BENCH_PER_COMMIT ?? 20);
/** readings per write, as the drainer takes them (store/influx/drainer.ts, drainReadings) */
const DRAIN_READINGS = 5000;

async function main() {
  const influx = await startInfluxd();
  try {
    await influx.createDb('bench');
    const store = new InfluxStore({
      target: { url: influx.url, api: 'v1', db: 'bench' },
      spoolDir: tempDir('netzero-bench-spool-'),
      spoolMaxBytes: 1024 ** 3,
      log: pino({ level: 'error' }),
      // retry often while InfluxDB is down, so the drain starts as soon as it is up (the rate, not the back-off, is timed)
      maxRetryWaitMs: 50,
    });
    // Fill the spool while InfluxDB is down, as after an outage, then time the drain.
    await influx.stop();
    await store.start();
    const t0 = Date.UTC(2026, 9, 1);
    let batch: StoredReading[] = [];
    const all: StoredReading[] = [];
    const fillStart = Date.now();
    for (let i = 0; i < READINGS; i++) {
      const d = i % DEVICES;
      const n = Math.floor(i / DEVICES);
      const r: StoredReading = {
        device: `bench-${d}`, kind: 'smart_meter', site: 'bench', sector: 'industry', params: {},
        ts: t0 + n * 60_000, seq: n, fields: { import_kwh: n * 0.5, power_w: 1000 }, extras: {}, receivedAt: Date.now(),
      };
      batch.push(r);
      all.push(r);
      if (batch.length === PER_COMMIT) {
        await store.writeBatch(batch);
        batch = [];
      }
    }
    if (batch.length) await store.writeBatch(batch);
    const fillS = (Date.now() - fillStart) / 1000;
    const spool = store.spoolStats()!;
    await influx.start();
    const drainStart = Date.now();
    await store.settled(600_000);
    const drainS = (Date.now() - drainStart) / 1000;
    const count = await store.countReadings();
    await store.close();
    // The reference: the same readings, planned the same way, written straight to InfluxDB (another database) in the drain's batch size.
    await influx.createDb('straight');
    const target = { url: influx.url, api: 'v1' as const, db: 'straight' };
    const tracker = new IntervalTracker(new InfluxQuery(target));
    const writer = createLineWriter(target);
    const straightStart = Date.now();
    for (let i = 0; i < all.length; i += DRAIN_READINGS) {
      const outcome = await writer.write(linesOf(await tracker.plan(all.slice(i, i + DRAIN_READINGS)), Date.now()));
      if (outcome.kind !== 'ok') throw new Error(`straight write failed: ${JSON.stringify(outcome)}`);
    }
    const straightS = (Date.now() - straightStart) / 1000;
    process.stdout.write(
      `spool fill: ${READINGS} readings in ${spool.records} records (${(spool.bytes / 1024 / 1024).toFixed(1)} MiB) in ${fillS.toFixed(2)} s = ${(READINGS / fillS).toFixed(0)} readings/s (fsync per record)\n` +
        `drain into InfluxDB: ${drainS.toFixed(2)} s = ${(READINGS / drainS).toFixed(0)} readings/s (each with its interval and receipts); InfluxDB counts ${count}\n` +
        `straight into InfluxDB (reference): ${straightS.toFixed(2)} s = ${(READINGS / straightS).toFixed(0)} readings/s; drain / straight = ${(straightS / drainS).toFixed(2)} (goal ≥ 0.8)\n`,
    );
  } finally {
    await influx.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
