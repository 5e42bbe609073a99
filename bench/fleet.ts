/**
 * The fleet (issue: city-scale speed), against the real service (`node bin/netzero.js start` on free ports,
 * temp data dir), with devices provisioned in one `POST /api/devices` list each 20,000:
 *
 * 1. held connections: BENCH_FLEET_DEVICES (default 20,000) devices connect with their own credentials from
 *    BENCH_FLEET_PUBLISHERS processes (default 4, `bench/fleet-publisher.ts`), each device then publishing
 *    one reading every BENCH_FLEET_PERIOD_S (60) at QoS 1, spread over the period; how long connecting
 *    took, and the service's resident memory (VmRSS) once all are connected and at most over
 *    BENCH_FLEET_HOLD_S (60) of holding them. Goal: 20,000 held, RSS < 1 GiB.
 * 2. reconnect storm: the service is stopped (SIGTERM) with all connected and started again on the same
 *    ports and data dir; the devices retry after their own 1-5 s; timed until every device is connected
 *    again and holds a PUBACK (sent after the commit) of a reading sent since, and
 *    `netzero_readings_committed_total` has grown by as many. Goal: < 60 s.
 * 3. latency: BENCH_LATENCY_DEVICES (1,000) devices publish BENCH_RATE (10,000) readings/s in all at QoS 1
 *    for BENCH_SECONDS (20) after BENCH_WARMUP_S (5) at that rate, not measured; publish → PUBACK p50/p99 of
 *    the measured readings (the PUBACK comes after the commit). Goal: p99 < 100 ms.
 *
 * BENCH_PHASES (default "held,storm,latency") picks phases; BENCH_SERVICE_NODE_ARGS passes node flags to the
 * service (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). The service can hold no more connections than its
 * open-file limit allows: the number held is lowered to fit, and said. See bench/README.md.
 */
import { connectionCap, RESERVED_DESCRIPTORS } from '../broker/connection-cap.js';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { percentile } from '../test/helpers/mqtt-abuse.js';
import { startService, tempDir, waitFor, type Registered, type RunningService } from '../test/helpers/service.js';
import type { FleetPublisherSettings } from './fleet-publisher.js';
import { cpuSeconds, machine, pressure, rssMiB, serviceNodeArgs, threadCpuSeconds, threadShares, writeResult } from './machine.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const DEVICES = env('BENCH_FLEET_DEVICES', 20_000);
const PUBLISHERS = env('BENCH_FLEET_PUBLISHERS', 4);
const PERIOD_S = env('BENCH_FLEET_PERIOD_S', 60);
const HOLD_S = env('BENCH_FLEET_HOLD_S', 60);
const WINDOW = env('BENCH_CONNECT_WINDOW', 100);
const RATE = env('BENCH_RATE', 10_000);
const SECONDS = env('BENCH_SECONDS', 20);
const WARMUP_S = env('BENCH_WARMUP_S', 5);
const LATENCY_DEVICES = env('BENCH_LATENCY_DEVICES', 1000);
const PHASES = new Set((process.env.BENCH_PHASES ?? 'held,storm,latency').split(','));
const TIMEOUT_MS = env('BENCH_FLEET_TIMEOUT_S', 300) * 1000;

interface Status {
  devices: number;
  connected: number;
  ever: number;
  reconnected: number;
  back: number;
  acks: number;
  publishErrors: number;
  connects: number;
  refusals: Record<string, number>;
  firstConnect?: { p50: number; p99: number; max: number } | null;
}
interface Latency {
  sent: number;
  acked: number;
  publishErrors: number;
  sendSeconds: number;
  lastAckSeconds: number;
  latencies: number[];
}

/** The publisher processes of one phase. */
class Publishers {
  private readonly procs: ChildProcess[] = [];
  private readonly status: Status[] = [];
  private readonly waiting = new Map<string, Array<() => void>>();
  private readonly latency: Latency[] = [];

  constructor(dir: string, mode: FleetPublisherSettings['mode'], port: number, devices: Registered[]) {
    for (let p = 0; p < PUBLISHERS; p++) {
      const mine = devices.filter((_, i) => i % PUBLISHERS === p);
      const settings: FleetPublisherSettings = {
        mode, host: '127.0.0.1', port, localAddress: `127.0.0.${2 + p}`, devices: mine, window: WINDOW,
        periodMs: PERIOD_S * 1000, ratePerS: RATE / PUBLISHERS, seconds: SECONDS, warmupS: WARMUP_S,
      };
      const file = path.join(dir, `${mode}-publisher-${p}.json`);
      fs.writeFileSync(file, JSON.stringify(settings));
      const proc = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'fleet-publisher.ts')], {
        env: { ...process.env, BENCH_FLEET_SETTINGS: file },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      this.procs.push(proc);
      this.status.push({ devices: mine.length, connected: 0, ever: 0, reconnected: 0, back: 0, acks: 0, publishErrors: 0, connects: 0, refusals: {} });
      readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { type: string } & Partial<Status> & Partial<Latency>;
        if (msg.type === 'status') this.status[p] = msg as unknown as Status;
        else if (msg.type === 'latency') this.latency[p] = msg as unknown as Latency;
        this.waiting.get(`${msg.type}:${p}`)?.splice(0).forEach((fn) => fn());
      });
      proc.once('exit', (code) => {
        if (code !== 0) process.stderr.write(`publisher ${p} exited with ${code}\n`);
      });
    }
  }

  /** Resolves once every process has said `type`. */
  all(type: string): Promise<void> {
    return Promise.all(
      this.procs.map((_, p) => new Promise<void>((resolve) => this.waiting.set(`${type}:${p}`, [...(this.waiting.get(`${type}:${p}`) ?? []), resolve]))),
    ).then(() => undefined);
  }

  send(cmd: string): void {
    for (const p of this.procs) p.stdin!.write(`${cmd}\n`);
  }

  total(): Status {
    const t: Status = { devices: 0, connected: 0, ever: 0, reconnected: 0, back: 0, acks: 0, publishErrors: 0, connects: 0, refusals: {} };
    for (const s of this.status) {
      for (const k of ['devices', 'connected', 'ever', 'reconnected', 'back', 'acks', 'publishErrors', 'connects'] as const) t[k] += s[k];
      for (const [k, v] of Object.entries(s.refusals)) t.refusals[k] = (t.refusals[k] ?? 0) + v;
    }
    const first = this.status.flatMap((s) => (s.firstConnect ? [s.firstConnect] : []));
    if (first.length > 0) t.firstConnect = { p50: Math.max(...first.map((f) => f.p50)), p99: Math.max(...first.map((f) => f.p99)), max: Math.max(...first.map((f) => f.max)) };
    return t;
  }

  latencies(): Latency[] {
    return this.latency;
  }

  memoryMiB(): number {
    return this.procs.reduce((sum, p) => sum + (rssMiB(p.pid!) ?? 0), 0);
  }

  cpuSeconds(): number {
    return this.procs.reduce((sum, p) => sum + (cpuSeconds(p.pid!) ?? 0), 0);
  }

  async end(): Promise<void> {
    const live = this.procs.filter((p) => p.exitCode === null && p.stdin!.writable);
    for (const p of live) p.stdin!.end('end\n');
    await Promise.all(live.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once('exit', r)))));
  }
}

/** The pid of the service running on a data dir (the restarted one is found before its start resolves). */
function findServicePid(dataDir: string): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmd.includes('netzero.js\0start')) continue;
      if (fs.readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`NETZERO_DATA_DIR=${dataDir}\0`)) return Number(entry);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return undefined;
}

/** The kernel's count of connections dropped because a listen queue was full (all sockets of the machine). */
function listenOverflows(): number {
  const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf('ListenOverflows')] ?? 0);
}

/** Unlabelled series of the service's /metrics. */
async function metrics(base: string, names: readonly string[]): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Object.fromEntries(names.map((n) => [n, Number(new RegExp(`^${n} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? 0)]));
}

async function committed(base: string): Promise<number> {
  return (await metrics(base, ['netzero_readings_committed_total'])).netzero_readings_committed_total!;
}

const STORE_METRICS = ['netzero_store_commit_seconds_sum', 'netzero_store_commit_seconds_count', 'netzero_store_batch_readings_sum', 'netzero_store_batch_readings_count'] as const;

/** The store's commits between two readings of its metrics: how many, mean time, mean readings each. */
function commits(before: Record<string, number>, after: Record<string, number>) {
  const d = (k: (typeof STORE_METRICS)[number]) => after[k]! - before[k]!;
  const n = d('netzero_store_commit_seconds_count');
  return { commits: n, mean_commit_ms: n ? (d('netzero_store_commit_seconds_sum') / n) * 1000 : null, mean_readings_per_commit: n ? d('netzero_store_batch_readings_sum') / d('netzero_store_batch_readings_count') : null };
}

/** The service's open-file limit (soft) and the descriptors it holds now. */
function fds(pid: number): { limit: number; open: number } {
  const limit = Number(/^Max open files\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ?? Infinity);
  return { limit, open: fs.readdirSync(`/proc/${pid}/fd`).length };
}

async function provision(svc: RunningService, n: number): Promise<Registered[]> {
  const regs: Registered[] = [];
  for (let from = 0; from < n; from += 20_000) {
    const list = Array.from({ length: Math.min(20_000, n - from) }, (_, k) => ({ id: `fleet-${from + k}`, kind: 'smart_meter', site: `fleet-site-${(from + k) % 200}`, sector: 'residential_commercial' }));
    const r = await svc.api<Registered[]>('POST', '/api/devices', list);
    if (r.status !== 201) throw new Error(`provisioning answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
    regs.push(...r.body);
  }
  return regs;
}

const seconds = (fromMs: number) => (performance.now() - fromMs) / 1000;
const log = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
  log(`fleet benchmark: ${DEVICES} devices in ${PUBLISHERS} publisher processes, phases ${[...PHASES].join(', ')}; ${JSON.stringify(machine())}; pressure ${JSON.stringify(pressure())}`);
  const dir = tempDir('netzero-bench-fleet-');
  const nodeArgs = serviceNodeArgs();
  let svc = await startService({ env: { NETZERO_LOG_LEVEL: 'warn' }, nodeArgs });
  const result: Record<string, unknown> = { settings: { DEVICES, PUBLISHERS, PERIOD_S, HOLD_S, WINDOW, RATE, SECONDS, WARMUP_S, LATENCY_DEVICES, phases: [...PHASES] } };
  const rows: Array<{ figure: string; value: string; goal: string; met?: boolean }> = [];
  const running: Publishers[] = [];
  try {
    let t = performance.now();
    const regs = await provision(svc, Math.max(DEVICES, LATENCY_DEVICES));
    log(`provisioned ${regs.length} devices in one POST /api/devices per 20,000: ${seconds(t).toFixed(2)} s`);

    if (PHASES.has('held') || PHASES.has('storm')) {
      const f = fds(svc.proc.pid!);
      // the broker's own cap (NETZERO_MQTT_MAX_CONNECTIONS, by default the open-file limit less what HTTP and the store keep)
      const held = Math.min(DEVICES, connectionCap(undefined, f.limit).cap ?? DEVICES);
      if (held < DEVICES) log(`the service may open ${f.limit} files: its broker holds at most ${held} connections (keeping ${RESERVED_DESCRIPTORS} descriptors), not ${DEVICES}; ${held} connect`);
      result.fd = { ...f, held };
      const fleet = new Publishers(dir, 'fleet', svc.ports.mqtt!, regs.slice(0, held));
      running.push(fleet);
      await fleet.all('loaded');
      t = performance.now();
      const overflows = listenOverflows();
      const cpu0 = { service: cpuSeconds(svc.proc.pid!)!, publishers: fleet.cpuSeconds() };
      fleet.send('connect');
      await waitFor('every device connected', () => fleet.total().connected >= held, TIMEOUT_MS, 100);
      const connectS = seconds(t);
      const rssConnected = rssMiB(svc.proc.pid!);
      const connectOverflows = listenOverflows() - overflows;
      const connectCpu = { service_s: cpuSeconds(svc.proc.pid!)! - cpu0.service, publishers_s: fleet.cpuSeconds() - cpu0.publishers };
      log(`${held} connected in ${connectS.toFixed(2)} s (listen queue overflows ${connectOverflows}; CPU: service ${connectCpu.service_s.toFixed(1)} s = ${((connectCpu.service_s / held) * 1000).toFixed(2)} ms per connection, publishers ${connectCpu.publishers_s.toFixed(1)} s); service RSS ${rssConnected?.toFixed(0)} MiB; ${JSON.stringify(fleet.total())}`);
      let rssPeak = rssConnected ?? 0;
      const committedBefore = await committed(svc.base);
      const holdUntil = Date.now() + HOLD_S * 1000;
      while (Date.now() < holdUntil) {
        await new Promise((r) => setTimeout(r, 1000));
        rssPeak = Math.max(rssPeak, rssMiB(svc.proc.pid!) ?? 0);
      }
      const hold = { ...fleet.total(), committed: (await committed(svc.base)) - committedBefore, rss_peak_mib: rssPeak, publishers_rss_mib: fleet.memoryMiB() };
      log(`held ${HOLD_S} s: ${JSON.stringify(hold)}`);
      result.held = { pressure_after: pressure(), devices: held, requested: DEVICES, connect_s: connectS, listen_overflows: connectOverflows, cpu: connectCpu, first_connect_ms: fleet.total().firstConnect, rss_connected_mib: rssConnected, hold };
      rows.push({ figure: `devices held at once (requested ${DEVICES})`, value: String(hold.connected), goal: '20,000', met: hold.connected >= 20_000 });
      rows.push({ figure: `time until all ${held} had connected`, value: `${connectS.toFixed(1)} s`, goal: '' });
      rows.push({ figure: `service RSS, all ${held} connected`, value: `${rssConnected?.toFixed(0)} MiB`, goal: '< 1,024 MiB', met: (rssConnected ?? Infinity) < 1024 });
      rows.push({ figure: `service RSS, peak over ${HOLD_S} s of 1 reading/device/${PERIOD_S} s`, value: `${rssPeak.toFixed(0)} MiB`, goal: '< 1,024 MiB', met: rssPeak < 1024 });

      if (PHASES.has('storm')) {
        fleet.send('mark');
        await fleet.all('marked');
        const ports = { NETZERO_MQTT_PORT: String(svc.ports.mqtt), NETZERO_HTTP_PORT: String(svc.ports.http) };
        const stormOverflows = listenOverflows();
        const publishersCpu0 = fleet.cpuSeconds();
        const tStop = performance.now();
        await svc.stop();
        const stopS = seconds(tStop);
        const tStart = performance.now();
        const restarted = startService({ dataDir: svc.dataDir, env: { NETZERO_LOG_LEVEL: 'warn', ...ports }, nodeArgs });
        // every second: devices connected and back, refusals so far, listen queue overflows, the service's CPU
        const timeline: Array<Record<string, number>> = [];
        let cpuBefore = 0;
        let pid: number | undefined;
        const sampler = setInterval(() => {
          pid ??= findServicePid(svc.dataDir);
          const cpu = pid ? (cpuSeconds(pid) ?? cpuBefore) : 0;
          const st = fleet.total();
          timeline.push({ t: Math.round(seconds(tStart)), connected: st.connected, back: st.back, refusals: Object.values(st.refusals).reduce((a, b) => a + b, 0), overflows: listenOverflows() - stormOverflows, cpu_pct: Math.round((cpu - cpuBefore) * 100) });
          cpuBefore = cpu;
          if (timeline.length % 5 === 0) log(`  storm ${JSON.stringify(timeline[timeline.length - 1])}`);
        }, 1000);
        let connectedS: number;
        let backS: number;
        try {
          await waitFor('every device connected again', () => fleet.total().reconnected >= held && fleet.total().connected >= held, TIMEOUT_MS, 100);
          connectedS = seconds(tStart);
          await waitFor('every device with a committed reading since', () => fleet.total().back >= held, TIMEOUT_MS, 100);
          backS = seconds(tStart);
        } finally {
          clearInterval(sampler);
          svc = await restarted;
        }
        const committedAfter = await committed(svc.base);
        // the restarted service's CPU since it was spawned (its start included), and the publishers' meanwhile
        const stormCpu = { service_s: cpuSeconds(svc.proc.pid!), service_threads_s: threadCpuSeconds(svc.proc.pid!), publishers_s: fleet.cpuSeconds() - publishersCpu0 };
        const storm = { pressure_after: pressure(), cpu: stormCpu, timeline, stop_s: stopS, connected_again_s: connectedS, all_back_s: backS, since_sigterm_s: seconds(tStop), committed_since_restart: committedAfter, listen_overflows: listenOverflows() - stormOverflows, ...fleet.total() };
        log(`reconnect storm: ${JSON.stringify({ ...storm, timeline: undefined })}`);
        if (committedAfter < held) throw new Error(`the restarted service has committed ${committedAfter} readings, fewer than the ${held} devices that hold a PUBACK`);
        result.storm = storm;
        rows.push({ figure: `reconnect storm: restart → all ${held} connected again`, value: `${connectedS.toFixed(1)} s`, goal: '' });
        rows.push({ figure: `reconnect storm: restart → each has a committed reading`, value: `${backS.toFixed(1)} s`, goal: '< 60 s', met: backS < 60 });
        rows.push({ figure: 'reconnect storm: SIGTERM → service stopped', value: `${stopS.toFixed(1)} s`, goal: '' });
      }
      await fleet.end();
    }

    if (PHASES.has('latency')) {
      const pub = new Publishers(dir, 'rate', svc.ports.mqtt!, regs.slice(0, LATENCY_DEVICES));
      running.push(pub);
      await pub.all('loaded');
      pub.send('connect');
      await pub.all('ready');
      const before = await committed(svc.base);
      const store0 = await metrics(svc.base, STORE_METRICS);
      const cpu0 = { service: threadCpuSeconds(svc.proc.pid!), publishers: pub.cpuSeconds() };
      const t0 = performance.now();
      pub.send('go');
      await pub.all('latency');
      const wall = seconds(t0);
      const cpu = { service_threads_pct: threadShares(cpu0.service, threadCpuSeconds(svc.proc.pid!), wall), publishers_pct: Math.round(((pub.cpuSeconds() - cpu0.publishers) / wall) * 100) };
      const all = pub.latencies();
      const latencies = all.flatMap((l) => l.latencies);
      const acked = latencies.length;
      const sendSeconds = Math.max(...all.map((l) => l.sendSeconds));
      const lastAck = Math.max(...all.map((l) => l.lastAckSeconds));
      const latency = {
        sent: all.reduce((s, l) => s + l.sent, 0), acked, publish_errors: all.reduce((s, l) => s + l.publishErrors, 0),
        send_s: sendSeconds, last_ack_s: lastAck, acked_per_s: acked / lastAck, committed_with_warmup: (await committed(svc.base)) - before,
        pressure_after: pressure(), cpu_of_a_core: cpu, store: commits(store0, await metrics(svc.base, STORE_METRICS)), p50_ms: percentile(latencies, 50), p90_ms: percentile(latencies, 90), p99_ms: percentile(latencies, 99), max_ms: percentile(latencies, 100),
      };
      await pub.end();
      log(`latency at ${RATE}/s: ${JSON.stringify(latency)}`);
      result.latency = latency;
      rows.push({ figure: `readings acknowledged per second (asked ${RATE}/s, ${LATENCY_DEVICES} devices, ${SECONDS} s after ${WARMUP_S} s)`, value: latency.acked_per_s.toFixed(0), goal: `${RATE}`, met: latency.acked_per_s >= RATE * 0.98 });
      rows.push({ figure: 'QoS 1 publish → PUBACK (after the commit), p50', value: `${latency.p50_ms.toFixed(1)} ms`, goal: '' });
      rows.push({ figure: 'QoS 1 publish → PUBACK (after the commit), p99', value: `${latency.p99_ms.toFixed(1)} ms`, goal: '< 100 ms', met: latency.p99_ms < 100 });
    }
  } finally {
    for (const p of running) await p.end();
    await svc.stop();
    fs.rmSync(svc.dataDir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }

  log('\nfigure                                                                          measured        goal');
  for (const r of rows) log(`${r.figure.padEnd(78)} ${r.value.padStart(10)}   ${r.goal.padEnd(12)}${r.met === false ? ' (missed)' : ''}`);
  log(`written ${writeResult('fleet', { ...result, rows })}`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
