import { randomBytes, scryptSync } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { MqttClient, type IClientOptions } from 'mqtt';
import type { Registered, RunningService } from './service.js';

/**
 * Tools for the broker's abuse tests: clients from chosen loopback addresses (all of 127/8 is
 * loopback on Linux, so a test can be many sites behind many NATs), raw sockets and hand-made
 * CONNECT packets, an honest device that keeps publishing QoS 1 readings and records its PUBACK
 * latency, and the service's /metrics (secret checks, process CPU time).
 */

export type ConnectResult = 'ok' | number | 'closed';

/** An MQTT.js client whose TCP connection leaves from `localAddress` (127.0.0.x). */
export function clientFrom(port: number, localAddress: string | undefined, opts: IClientOptions): MqttClient {
  return new MqttClient(() => net.createConnection({ host: '127.0.0.1', port, localAddress }), {
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...opts,
  });
}

/** Connect, note the outcome (`'ok'` or the CONNACK return code), disconnect. */
export function tryConnect(port: number, opts: IClientOptions & { localAddress?: string }): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const c = clientFrom(port, opts.localAddress, opts);
    const finish = (r: ConnectResult) => {
      c.end(true);
      resolve(r);
    };
    c.once('connect', () => finish('ok'));
    c.once('error', (err: Error & { code?: number | string }) => finish(typeof err.code === 'number' ? err.code : 'closed'));
    c.once('close', () => finish('closed'));
  });
}

/** A connected client, or a rejection carrying the CONNACK code. */
export function connectClient(port: number, opts: IClientOptions & { localAddress?: string }): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = clientFrom(port, opts.localAddress, opts);
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface LatencyStats {
  acks: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
  disconnects: number;
}

/**
 * An honest device publishing QoS 1 readings one after another (each PUBACK awaited, then a short
 * pause) while something else goes on; `window()` marks a stretch and `report()` prints its PUBACK
 * latency.
 */
export class HonestPublisher {
  private latencies: number[] = [];
  private failures = 0;
  private disconnects = 0;
  private running = true;
  private loop?: Promise<void>;
  private seq = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly dev: Registered,
    private readonly intervalMs: number,
  ) {
    client.on('close', () => this.disconnects++);
  }

  static async start(svc: RunningService, dev: Registered, opts: { intervalMs?: number; localAddress?: string } = {}): Promise<HonestPublisher> {
    const client = await connectClient(svc.ports.mqtt!, { username: dev.id, password: dev.secret, clientId: dev.id, localAddress: opts.localAddress });
    const p = new HonestPublisher(client, dev, opts.intervalMs ?? 50);
    p.loop = p.run();
    return p;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.seq++;
      const t0 = performance.now();
      try {
        await this.client.publishAsync(this.dev.topic, JSON.stringify({ ts: Date.now(), seq: this.seq, energy_kwh: this.seq / 10 }), { qos: 1 });
        this.latencies.push(performance.now() - t0);
      } catch {
        this.failures++;
      }
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }

  /** Starts a new measuring stretch. */
  window(): void {
    this.latencies = [];
    this.failures = 0;
    this.disconnects = 0;
  }

  stats(): LatencyStats {
    return {
      acks: this.latencies.length,
      p50: percentile(this.latencies, 50),
      p99: percentile(this.latencies, 99),
      max: this.latencies.length ? Math.max(...this.latencies) : NaN,
      failures: this.failures,
      disconnects: this.disconnects,
    };
  }

  /** Prints the stretch's PUBACK latency and returns it. */
  report(label: string): LatencyStats {
    const s = this.stats();
    console.log(
      `[abuse] ${label}: honest device ${s.acks} PUBACKs, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms, failures ${s.failures}, disconnects ${s.disconnects}`,
    );
    return s;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client.endAsync();
  }
}

export async function metricsText(svc: RunningService): Promise<string> {
  return fetch(`${svc.base}/metrics`).then((r) => r.text());
}

/** A sample's value from Prometheus text (0 when absent); labels must match exactly. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (m && m[1] === name && (m[2] ?? '') === want) return Number(m[3]);
  }
  return 0;
}

/**
 * The service process's CPU time (user + system, all threads, the thread pool's scrypt included),
 * seconds: prom-client's default `process_cpu_seconds_total` under the service's `netzero_process_`
 * prefix, which makes it `netzero_process_process_cpu_seconds_total`.
 */
export async function cpuSeconds(svc: RunningService): Promise<number> {
  const text = await metricsText(svc);
  for (const name of ['netzero_process_process_cpu_seconds_total', 'netzero_process_cpu_seconds_total']) {
    if (new RegExp(`^${name} `, 'm').test(text)) return metricValue(text, name);
  }
  throw new Error('no process CPU counter in /metrics');
}

/**
 * Samples the service's CPU use over `windowMs` stretches until one is below `idleFraction` of a
 * core (or `timeoutMs` passes); returns every stretch's fraction and when idle was reached.
 */
export async function waitForIdleCpu(
  svc: RunningService,
  opts: { windowMs?: number; idleFraction?: number; timeoutMs?: number } = {},
): Promise<{ fractions: number[]; idleAfterMs: number | null }> {
  const windowMs = opts.windowMs ?? 1000;
  const idle = opts.idleFraction ?? 0.15;
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  const start = Date.now();
  const fractions: number[] = [];
  while (Date.now() < deadline) {
    const c0 = await cpuSeconds(svc);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const f = (await cpuSeconds(svc)) - c0;
    fractions.push(f / ((performance.now() - t0) / 1000));
    if (fractions.at(-1)! < idle) return { fractions, idleAfterMs: Date.now() - start };
  }
  return { fractions, idleAfterMs: null };
}

function mqttString(s: string | Buffer): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** An MQTT 3.1.1 CONNECT packet, made by hand (for raw sockets that never read the answer). */
export function connectPacket(opts: { clientId: string; username?: string; password?: string; clean?: boolean; keepalive?: number }): Buffer {
  let flags = opts.clean === false ? 0 : 0x02;
  if (opts.username !== undefined) flags |= 0x80;
  if (opts.password !== undefined) flags |= 0x40;
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(opts.keepalive ?? 30);
  const body = Buffer.concat([
    mqttString('MQTT'),
    Buffer.from([4, flags]),
    keepalive,
    mqttString(opts.clientId),
    ...(opts.username !== undefined ? [mqttString(opts.username)] : []),
    ...(opts.password !== undefined ? [mqttString(opts.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** A raw TCP connection to the broker, with when it was closed by the other side. */
export function rawSocket(port: number, localAddress?: string): Promise<{ socket: net.Socket; closed: Promise<number>; received: () => Buffer }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    const socket = net.createConnection({ host: '127.0.0.1', port, localAddress }, () =>
      resolve({ socket, closed, received: () => Buffer.concat(chunks) }),
    );
    socket.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now() - t0)));
    socket.once('error', (err) => {
      if (!socket.connecting) return; // closed by the broker: `closed` tells
      reject(err);
    });
  });
}

/**
 * Gives devices a legacy scrypt hash, as an old data dir has them: all get the same secret (one
 * scrypt hash, stored for each: the broker's work per CONNECT is the same as with one hash each).
 * Write before the service first looks the devices up (its registry caches a device for 5 s).
 */
export async function setLegacySecret(dataDir: string, ids: readonly string[], secret: string): Promise<void> {
  // the old code's form, written out here (not imported) so these tests also run against the old code
  const salt = randomBytes(16);
  const hash = `scrypt$16384$8$1$${salt.toString('base64url')}$${scryptSync(secret, salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64url')}`;
  const db = new Database(path.join(dataDir, 'state.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    const update = db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?');
    db.transaction(() => ids.forEach((id) => update.run(hash, id)))();
  } finally {
    db.close();
  }
}

/** The stored secret hash of a device, read from the data dir. */
export function storedHash(dataDir: string, id: string): string | undefined {
  const db = new Database(path.join(dataDir, 'state.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get(id) as { secret_hash: string } | undefined)?.secret_hash;
  } finally {
    db.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
