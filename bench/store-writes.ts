/**
 * What one reading costs the embedded store's writer (bench/README.md, "npm run bench:store"): the batch
 * writer on a SQLite file in this process (no thread, no MQTT), 50 smart meters each sending one reading
 * after the other, committed in batches of BENCH_STORE_BATCHES readings (default "25,1000": a QoS 1
 * group commit of 50 devices with one message in flight, and a QoS 0 flood). Per batch size: readings/s,
 * the CPU per reading (user and kernel) and the WAL pages each commit writes.
 *
 *   npm run bench:store
 *   BENCH_READINGS=40000 BENCH_STORE_BATCHES=10,25,100 npm run bench:store
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StoredReading } from '../ingest/reading.js';
import { BatchWriter } from '../store/sqlite/batch-writer.js';
import { migrate } from '../store/sqlite/schema.js';

const DEVICES = 50;
const READINGS = Number(process.env.BENCH_READINGS ?? 20_000);
const BATCHES = (process.env.BENCH_STORE_BATCHES ?? '25,1000').split(',').map(Number);
/** SQLite's WAL frame: a 24-byte header and the page */
const PAGE = 4096;
const FRAME = PAGE + 24;

function measure(batch: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-bench-store-'));
  const file = path.join(dir, 'readings.sqlite');
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // no checkpoint while measuring, so the WAL's size tells the pages written
    db.pragma('wal_autocheckpoint = 0');
    migrate(db);
    const writer = new BatchWriter(db);
    const base = Date.UTC(2026, 0, 1);
    const sent = new Array<number>(DEVICES).fill(0);
    let next = 0;
    const reading = (): StoredReading => {
      const d = next++ % DEVICES;
      const k = sent[d]!++;
      return {
        device: `meter-${d}`, kind: 'smart_meter', site: 'bench', sector: 'industry', params: {}, ts: base + k * 60_000, seq: null,
        fields: { import_kwh: 1000 + k * 0.25, export_kwh: 10 + k * 0.01 }, extras: {}, receivedAt: Date.now(),
      };
    };
    // each series started, so what is measured is the steady state
    for (let i = 0; i < 10; i++) writer.write(Array.from({ length: DEVICES }, reading));
    db.pragma('wal_checkpoint(TRUNCATE)');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    let commits = 0;
    while (n < READINGS) {
      const b = Array.from({ length: batch }, reading);
      writer.write(b);
      n += b.length;
      commits++;
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const frames = (fs.statSync(`${file}-wal`).size - 32) / FRAME;
    return [
      `batches of ${batch}`.padEnd(18),
      String(n).padStart(8),
      (n / seconds).toFixed(0).padStart(10),
      (cpu.user / n).toFixed(1).padStart(9),
      (cpu.system / n).toFixed(1).padStart(9),
      (frames / commits).toFixed(1).padStart(12),
      (frames / n).toFixed(2).padStart(12),
    ].join(' ');
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`the store's writer alone: ${DEVICES} smart meters, synchronous=FULL, ${os.cpus().length} cpus, node ${process.version}\n`);
process.stdout.write('scenario           readings  readings/s  user µs   sys µs  pages/commit pages/reading\n');
for (const batch of BATCHES) process.stdout.write(`${measure(batch)}\n`);
