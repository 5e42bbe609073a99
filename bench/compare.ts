/**
 * Side-by-side benchmark (issue: city-scale speed): each figure of the project is measured in the same
 * run as its reference, with the same publishers (MQTT.js, in their own processes), so the ratio holds on
 * a noisy machine. See bench/README.md.
 *
 *   npm run bench:compare                         # 3 runs of each pair, medians
 *   BENCH_RUNS=5 BENCH_QOS0_PER_DEVICE=2000 npm run bench:compare
 *
 * Figures:
 * - qos0: readings/s validated and durable in the embedded store, against Debian's Mosquitto relaying
 *   the same messages from the same publishers to one subscriber;
 * - qos1: readings/s acknowledged after the commit, 50 devices one message in flight each, against bare
 *   aedes (no auth, no processing) acknowledging the same publishes;
 * - the same two with InfluxDB as the store (Debian's influxd; durable in the spool), BENCH_INFLUX=0 leaves them out;
 * - beside each, the CPU the server process used per 1,000 readings (user and kernel, from /proc).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { startInfluxd } from '../test/helpers/influxdb.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { registerDevice, startService, waitFor, type RunningService } from '../test/helpers/service.js';
import type { PublisherSettings } from './publisher.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 2);
const QOS0_PER_DEVICE = Number(process.env.BENCH_QOS0_PER_DEVICE ?? 1000);
const QOS1_PER_DEVICE = Number(process.env.BENCH_QOS1_PER_DEVICE ?? 400);
/** BENCH_INFLUX=0 leaves out the two InfluxDB figures */
const WITH_INFLUX = process.env.BENCH_INFLUX !== '0';
const TIMEOUT_MS = 180_000;

type Device = PublisherSettings['devices'][number];

interface Measured {
  readings: number;
  seconds: number;
  per_s: number;
  p50_ms?: number | null;
  p99_ms?: number | null;
  /** readings that did not arrive (QoS 0 may drop) */
  missing?: number;
  /** CPU the server process (ours, Mosquitto or bare aedes) used per 1,000 readings, ms */
  server_cpu_ms_per_1k?: number;
  /** of which in the kernel (socket writes, fsync, the WAL's page writes) */
  server_sys_ms_per_1k?: number;
  /**
   * our service only: group commits handed to the store during the measurement (mean readings in each, mean
   * time from hand-over to durable), and the store's transactions (the embedded store's writer thread
   * commits the group commits waiting together)
   */
  commits?: { count: number; mean_readings: number; mean_ms: number; transactions?: number; readings_per_transaction?: number };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Starts the publisher processes with the devices split between them; resolves once all are connected. */
async function publishers(url: string, devices: Device[], qos: 0 | 1, perDevice: number, inflight: number, base: number) {
  const procs: ChildProcess[] = [];
  const results: Array<Promise<{ messages: number; seconds: number; p50_ms: number | null; p99_ms: number | null }>> = [];
  const ready: Array<Promise<void>> = [];
  for (let p = 0; p < PUBLISHERS; p++) {
    const mine = devices.filter((_, i) => i % PUBLISHERS === p);
    const settings: PublisherSettings = { url, devices: mine, qos, perDevice, inflight, base };
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'publisher.ts')], {
      env: { ...process.env, BENCH_PUBLISHER: JSON.stringify(settings) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    procs.push(proc);
    const lines = readline.createInterface({ input: proc.stdout! });
    let signalReady: () => void;
    ready.push(new Promise<void>((r) => (signalReady = r)));
    results.push(
      new Promise((resolve, reject) => {
        lines.on('line', (line) => {
          if (line === 'ready') signalReady();
          else if (line.startsWith('{')) resolve(JSON.parse(line));
        });
        proc.once('exit', (code) => reject(new Error(`publisher exited with ${code}`)));
      }),
    );
  }
  await Promise.all(ready);
  return {
    go: () => procs.forEach((p) => p.stdin!.write('go\n')),
    done: async () => {
      const r = await Promise.all(results);
      procs.forEach((p) => p.stdin!.end());
      return r;
    },
  };
}

/** CPU time (every thread) a process has used so far, ms, in user space and in the kernel: /proc/<pid>/stat, in clock ticks of 10 ms. */
function cpuMs(pid: number | undefined): { user: number; sys: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
}

/** Runs a measurement and adds the CPU the server process spent per 1,000 readings (less moved by a busy machine than readings/s). */
async function withCpu(pid: number | undefined, measure: () => Promise<Measured>): Promise<Measured> {
  const before = cpuMs(pid);
  const m = await measure();
  const after = cpuMs(pid);
  const per1k = (ms: number) => (ms * 1000) / Math.max(1, m.readings);
  return { ...m, server_cpu_ms_per_1k: per1k(after.user - before.user + after.sys - before.sys), server_sys_ms_per_1k: per1k(after.sys - before.sys) };
}

/** The group commit's counters from /metrics: transactions, readings in them, seconds spent committing. */
async function commitCounters(svc: RunningService): Promise<{ count: number; readings: number; seconds: number; transactions: number; transactionReadings: number }> {
  const text = await (await fetch(`${svc.base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([\\d.e+-]+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    count: value('netzero_store_batch_readings_count'),
    readings: value('netzero_store_batch_readings_sum'),
    seconds: value('netzero_store_commit_seconds_sum'),
    transactions: value('netzero_store_transaction_readings_count'),
    transactionReadings: value('netzero_store_transaction_readings_sum'),
  };
}

/** Runs a measurement of our service and adds how its readings were committed. */
async function withCommits(svc: RunningService, measure: () => Promise<Measured>): Promise<Measured> {
  const before = await commitCounters(svc);
  const m = await measure();
  const after = await commitCounters(svc);
  const count = after.count - before.count;
  const transactions = after.transactions - before.transactions;
  return {
    ...m,
    commits: {
      count,
      mean_readings: (after.readings - before.readings) / Math.max(1, count),
      mean_ms: ((after.seconds - before.seconds) * 1000) / Math.max(1, count),
      ...(transactions > 0 ? { transactions, readings_per_transaction: (after.transactionReadings - before.transactionReadings) / transactions } : {}),
    },
  };
}

async function committed(svc: RunningService): Promise<number> {
  const text = await (await fetch(`${svc.base}/metrics`)).text();
  return Number(/^netzero_readings_committed_total (\d+)/m.exec(text)?.[1] ?? 0);
}

async function newDevices(svc: RunningService, label: string): Promise<Device[]> {
  const out: Device[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const d = await registerDevice(svc, { kind: 'smart_meter', site: 'bench', sector: 'industry', id: `${label}-${i}`, params: { max_readings_per_s: 100_000 } });
    out.push({ id: d.id, secret: d.secret, topic: d.topic });
  }
  return out;
}

const BASE = Date.UTC(2025, 0, 1);

/** QoS 0 into the service: from "go" until the store has committed every reading. */
async function ourQos0(svc: RunningService, run: number): Promise<Measured> {
  const devices = await newDevices(svc, `q0r${run}`);
  const n = DEVICES * QOS0_PER_DEVICE;
  const before = await committed(svc);
  const pub = await publishers(`mqtt://127.0.0.1:${svc.ports.mqtt}`, devices, 0, QOS0_PER_DEVICE, 1, BASE);
  const t0 = performance.now();
  pub.go();
  let last = before;
  await waitFor('every reading committed', async () => (last = await committed(svc)) - before >= n, TIMEOUT_MS, 20).catch(() => undefined);
  const seconds = (performance.now() - t0) / 1000;
  await pub.done();
  const got = last - before;
  return { readings: got, seconds, per_s: got / seconds, missing: n - got };
}

/** QoS 0 through a plain broker (Mosquitto, or bare aedes for the ceiling): from "go" until one subscriber has every message. */
async function relayQos0(port: number, run: number, label: string): Promise<Measured> {
  const devices: Device[] = Array.from({ length: DEVICES }, (_, i) => ({ id: `${label}0r${run}-${i}`, topic: `bench/r${run}/${i}/telemetry` }));
  const n = DEVICES * QOS0_PER_DEVICE;
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  await sub.subscribeAsync(`bench/r${run}/#`, { qos: 0 });
  let got = 0;
  let t0 = 0;
  let t1 = 0;
  const all = new Promise<void>((resolve) =>
    sub.on('message', () => {
      if (++got === n) {
        t1 = performance.now();
        resolve();
      }
    }),
  );
  const pub = await publishers(`mqtt://127.0.0.1:${port}`, devices, 0, QOS0_PER_DEVICE, 1, BASE);
  t0 = performance.now();
  pub.go();
  await Promise.race([all, new Promise((r) => setTimeout(r, TIMEOUT_MS))]);
  const seconds = ((t1 || performance.now()) - t0) / 1000;
  await pub.done();
  await sub.endAsync();
  return { readings: got, seconds, per_s: got / seconds, missing: n - got };
}

/** QoS 1, one in flight per device: from "go" until the last PUBACK. */
async function qos1(url: string, devices: Device[]): Promise<Measured> {
  const pub = await publishers(url, devices, 1, QOS1_PER_DEVICE, 1, BASE);
  const t0 = performance.now();
  pub.go();
  const r = await pub.done();
  const seconds = (performance.now() - t0) / 1000;
  const n = r.reduce((s, x) => s + x.messages, 0);
  return { readings: n, seconds, per_s: n / seconds, p50_ms: median(r.map((x) => x.p50_ms ?? NaN)), p99_ms: Math.max(...r.map((x) => x.p99_ms ?? NaN)) };
}

async function startBareAedes(): Promise<{ port: number; pid: number | undefined; stop: () => void }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'bare-aedes.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    readline.createInterface({ input: proc.stdout! }).once('line', (l) => resolve((JSON.parse(l) as { port: number }).port));
    proc.once('exit', (code) => reject(new Error(`bare aedes exited with ${code}`)));
  });
  return { port, pid: proc.pid, stop: () => proc.stdin!.end() };
}

function versions() {
  const first = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? '').split('\n')[0]!.trim() || 'unknown';
    }
  };
  const pkg = (name: string) => (JSON.parse(fs.readFileSync(path.join(HERE, '..', 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  return { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30), mosquitto: first('mosquitto', ['-h']), aedes: pkg('aedes'), mqtt: pkg('mqtt') };
}

async function main() {
  const machine = versions();
  process.stdout.write(`side-by-side benchmark: ${RUNS} runs, ${DEVICES} devices in ${PUBLISHERS} publisher processes; ${JSON.stringify(machine)}\n`);
  // BENCH_SERVICE_NODE_ARGS: node flags for the service only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it
  const nodeArgs = process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean);
  const svc = await startService({ env: { NETZERO_LOG_LEVEL: 'warn' }, nodeArgs });
  // The same service with InfluxDB as the store (Debian's influxd on a free port): readings are durable in the on-disk spool in front of it.
  const influx = WITH_INFLUX ? await startInfluxd() : undefined;
  const svcInflux = influx ? await startService({ env: { NETZERO_LOG_LEVEL: 'warn', INFLUX_URL: influx.url, INFLUX_API: 'v1', INFLUX_DB: 'bench' }, nodeArgs }) : undefined;
  const mosquitto = await startMosquitto();
  const aedes = await startBareAedes();
  const runs: Array<Record<string, Measured>> = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const r: Record<string, Measured> = {};
      // each figure next to its reference, so a change in the machine's load moves both alike
      r.qos0_ours = await withCpu(svc.proc.pid, () => ourQos0(svc, run));
      r.qos0_mosquitto = await withCpu(mosquitto.proc.pid, () => relayQos0(mosquitto.port, run, 'm'));
      // the ceiling of the QoS 0 goal: aedes itself, doing what Mosquitto does (no auth, no store), against Mosquitto
      r.qos0_aedes = await withCpu(aedes.pid, () => relayQos0(aedes.port, run, 'a'));
      if (svcInflux) r.qos0_influx = await withCpu(svcInflux.proc.pid, () => ourQos0(svcInflux, run));
      const q1devices = await newDevices(svc, `q1r${run}`);
      const q1influx = svcInflux ? await newDevices(svcInflux, `q1r${run}`) : [];
      r.qos1_ours = await withCpu(svc.proc.pid, () => withCommits(svc, () => qos1(`mqtt://127.0.0.1:${svc.ports.mqtt}`, q1devices)));
      r.qos1_aedes = await withCpu(aedes.pid, () => qos1(`mqtt://127.0.0.1:${aedes.port}`, Array.from({ length: DEVICES }, (_, i) => ({ id: `a1r${run}-${i}`, topic: `bench/r${run}/${i}/telemetry` }))));
      if (svcInflux) r.qos1_influx = await withCpu(svcInflux.proc.pid, () => qos1(`mqtt://127.0.0.1:${svcInflux.ports.mqtt}`, q1influx));
      runs.push(r);
      process.stdout.write(`run ${run + 1}: ${Object.entries(r).map(([k, v]) => `${k} ${v.per_s.toFixed(0)}/s${v.missing ? ` (${v.missing} missing)` : ''}`).join(', ')}\n`);
    }
  } finally {
    aedes.stop();
    await mosquitto.stop();
    await svc.stop();
    await svcInflux?.stop();
    await influx?.stop();
  }
  const med = (key: string) => median(runs.map((r) => r[key]!.per_s));
  const rows = [
    { figure: 'readings/s durable, QoS 0, embedded store', ours: med('qos0_ours'), reference: 'Mosquitto relay to one subscriber', ref: med('qos0_mosquitto'), goal: 0.7 },
    { figure: `readings/s PUBACK after commit, QoS 1, ${DEVICES} devices × 1 in flight`, ours: med('qos1_ours'), reference: 'bare aedes', ref: med('qos1_aedes'), goal: 0.7 },
    ...(svcInflux
      ? [
          { figure: 'the same QoS 0, InfluxDB store (durable in the spool)', ours: med('qos0_influx'), reference: 'Mosquitto relay to one subscriber', ref: med('qos0_mosquitto'), goal: 0.7 },
          { figure: 'the same QoS 1, InfluxDB store (PUBACK after the spool)', ours: med('qos1_influx'), reference: 'bare aedes', ref: med('qos1_aedes'), goal: 0.7 },
        ]
      : []),
  ];
  process.stdout.write('\nfigure                                                      ours/s   reference/s   ratio   goal   reference\n');
  for (const row of rows) {
    const ratio = row.ours / row.ref;
    process.stdout.write(`${row.figure.padEnd(58)} ${row.ours.toFixed(0).padStart(8)} ${row.ref.toFixed(0).padStart(13)} ${ratio.toFixed(2).padStart(7)} ${('≥ ' + row.goal).padStart(6)}   ${row.reference}${ratio >= row.goal ? '' : '  (below goal)'}\n`);
  }
  process.stdout.write(
    `ceiling: bare aedes relaying the same QoS 0 messages ${med('qos0_aedes').toFixed(0)}/s, ${(med('qos0_aedes') / med('qos0_mosquitto')).toFixed(2)} of Mosquitto\n`,
  );
  const cpu = (key: string) =>
    `${median(runs.map((r) => r[key]!.server_cpu_ms_per_1k ?? NaN)).toFixed(0)} (kernel ${median(runs.map((r) => r[key]!.server_sys_ms_per_1k ?? NaN)).toFixed(0)})`;
  process.stdout.write(
    `server CPU ms per 1,000 readings: QoS 0 ours ${cpu('qos0_ours')}, Mosquitto ${cpu('qos0_mosquitto')}, bare aedes ${cpu('qos0_aedes')}; QoS 1 ours ${cpu('qos1_ours')}, bare aedes ${cpu('qos1_aedes')}\n`,
  );
  const qos1Ours = runs.map((r) => r.qos1_ours!);
  process.stdout.write(`QoS 1 PUBACK latency (ours): p50 ${median(qos1Ours.map((m) => m.p50_ms ?? NaN)).toFixed(2)} ms, p99 ${median(qos1Ours.map((m) => m.p99_ms ?? NaN)).toFixed(2)} ms\n`);
  process.stdout.write(
    `QoS 1 commits (ours): group commits of ${median(qos1Ours.map((m) => m.commits?.mean_readings ?? NaN)).toFixed(1)} readings, ${median(qos1Ours.map((m) => m.commits?.mean_ms ?? NaN)).toFixed(2)} ms from hand-over to durable; store transactions of ${median(qos1Ours.map((m) => m.commits?.readings_per_transaction ?? NaN)).toFixed(1)} readings\n`,
  );
  const dir = path.join(HERE, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `compare-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine, settings: { RUNS, DEVICES, PUBLISHERS, QOS0_PER_DEVICE, QOS1_PER_DEVICE }, runs, rows }, null, 2));
  process.stdout.write(`written ${path.relative(process.cwd(), file)}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
