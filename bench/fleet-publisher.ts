/**
 * One publisher process of bench/fleet.ts: a share of the fleet, each device its own MQTT.js client with
 * its own credentials (client id = device id), connecting from `localAddress`.
 *
 * - `fleet` mode: on `connect` (stdin) the devices connect, at most `window` at once; each then publishes
 *   one reading every `periodMs` at QoS 1, its first at a random moment of the period; a lost connection
 *   is retried after the device's own `reconnectPeriod` (1 to 5 s, drawn per device: the jitter real
 *   devices have), and a device that comes back publishes a reading at once. `mark` starts counting which
 *   devices are back: connected again since the mark and holding a PUBACK (which the service sends after
 *   the commit) of a reading sent after that.
 * - `rate` mode: the devices connect, `ready`; on `go` they publish `ratePerS` readings per second in
 *   all (several in flight per device) for `warmupS`, then for `seconds` more, whose readings' PUBACK
 *   latencies are reported.
 *
 * Settings: a JSON file named by BENCH_FLEET_SETTINGS (`FleetPublisherSettings`). Output: JSON lines on
 * stdout: `{"type":"status",…}` every 250 ms, `{"type":"ready"}`, `{"type":"latency",…}`. `end` closes all.
 */
import fs from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';
import { MqttClient } from 'mqtt';
import { percentile } from '../test/helpers/mqtt-abuse.js';

export interface FleetPublisherSettings {
  mode: 'fleet' | 'rate';
  host: string;
  port: number;
  localAddress?: string;
  devices: Array<{ id: string; secret: string; topic: string }>;
  /** connects in flight at once */
  window: number;
  /** fleet: one reading per device this often */
  periodMs: number;
  /** rate: readings per second of this process */
  ratePerS: number;
  /** rate: how long, measured */
  seconds: number;
  /** rate: how long before that at the same rate, not measured (each device's first reading after a start costs more) */
  warmupS: number;
}

const s = JSON.parse(fs.readFileSync(process.env.BENCH_FLEET_SETTINGS!, 'utf8')) as FleetPublisherSettings;
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const n = s.devices.length;
const clients: MqttClient[] = new Array(n);
const seq = new Uint32Array(n);
const everConnected = new Uint8Array(n);
/** after `mark`: 1 once the device connected again, 2 once it also holds a PUBACK of a reading sent after that */
const back = new Uint8Array(n);
let marked = false;
let acks = 0;
let publishErrors = 0;
let connects = 0;
const refusals: Record<string, number> = {};
/** from a device's first try to its first CONNACK */
const connectMs: number[] = [];
/** The counter grows with the clock (0.5 kW), so it never steps back, also across publisher processes. */
const EPOCH = Date.UTC(2026, 0, 1);

function payload(i: number): string {
  const now = Date.now();
  return JSON.stringify({ ts: new Date(now).toISOString(), seq: ++seq[i]!, import_kwh: 1000 + i + Math.round(((now - EPOCH) / 3_600_000) * 0.5 * 1e6) / 1e6, power_w: 500 });
}

function publish(i: number, onAck?: (ms: number) => void): void {
  const c = clients[i]!;
  const countsForMark = marked && back[i] === 1;
  const start = performance.now();
  c.publish(s.devices[i]!.topic, payload(i), { qos: 1 }, (err) => {
    if (err) {
      publishErrors++;
      return;
    }
    acks++;
    if (countsForMark && back[i] === 1) back[i] = 2;
    onAck?.(performance.now() - start);
  });
}

/** Connects device i; resolves on its first CONNACK (or first refusal: it keeps retrying on its own). */
function connect(i: number): Promise<void> {
  const d = s.devices[i]!;
  const started = performance.now();
  return new Promise((resolve) => {
    const c = new MqttClient(() => net.createConnection({ host: s.host, port: s.port, localAddress: s.localAddress }), {
      clientId: d.id,
      username: d.id,
      password: d.secret,
      clean: true,
      keepalive: 60,
      connectTimeout: 30_000,
      reconnectPeriod: s.mode === 'fleet' ? 1000 + Math.floor(Math.random() * 4000) : 0,
    });
    clients[i] = c;
    c.on('connect', () => {
      connects++;
      if (!everConnected[i]) {
        everConnected[i] = 1;
        connectMs.push(performance.now() - started);
        if (s.mode === 'fleet') {
          const first = setTimeout(() => {
            publish(i);
            setInterval(() => publish(i), s.periodMs).unref();
          }, Math.random() * s.periodMs);
          first.unref();
        }
      } else if (marked) {
        if (back[i] === 0) back[i] = 1;
        publish(i);
      }
      resolve();
    });
    c.on('error', (err: Error & { code?: number | string }) => {
      const key = String(err.code ?? err.message);
      refusals[key] = (refusals[key] ?? 0) + 1;
      resolve();
    });
    // closed before a CONNACK (the service at its connection limit): the next device may try meanwhile
    c.on('close', () => resolve());
  });
}

async function connectAll(): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await connect(next++);
  };
  await Promise.all(Array.from({ length: Math.min(s.window, n) }, worker));
}

function status(): void {
  let connected = 0;
  let ever = 0;
  let backCount = 0;
  let reconnected = 0;
  for (let i = 0; i < n; i++) {
    if (clients[i]?.connected) connected++;
    ever += everConnected[i]!;
    if (back[i]! >= 1) reconnected++;
    if (back[i] === 2) backCount++;
  }
  const firstConnect = connectMs.length > 0 ? { p50: percentile(connectMs, 50), p99: percentile(connectMs, 99), max: percentile(connectMs, 100) } : null;
  out({ type: 'status', devices: n, connected, ever, reconnected, back: backCount, acks, publishErrors, connects, refusals, firstConnect });
}

async function rate(): Promise<void> {
  const latencies: number[] = [];
  let sent = 0;
  let measuredSent = 0;
  let acked = 0;
  let next = 0;
  const begin = performance.now();
  const start = begin + s.warmupS * 1000;
  const end = start + s.seconds * 1000;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = Math.min(performance.now(), end);
      const due = Math.floor(((now - begin) / 1000) * s.ratePerS) - sent;
      const measured = now >= start;
      for (let k = 0; k < due; k++) {
        publish(next, (ms) => {
          acked++;
          if (measured) latencies.push(ms);
        });
        next = (next + 1) % n;
        sent++;
        if (measured) measuredSent++;
      }
      if (now >= end) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  const sendSeconds = (performance.now() - start) / 1000;
  const deadline = Date.now() + 60_000;
  while (acked + publishErrors < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  out({ type: 'latency', sent: measuredSent, acked: latencies.length, publishErrors, sendSeconds, lastAckSeconds: (performance.now() - start) / 1000, latencies });
}

const statusTimer = setInterval(status, 250);
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'connect') {
    void connectAll().then(() => {
      if (s.mode === 'rate') out({ type: 'ready' });
    });
  } else if (line === 'mark') {
    back.fill(0);
    marked = true;
    out({ type: 'marked' });
  } else if (line === 'go') {
    void rate();
  } else if (line === 'end') {
    clearInterval(statusTimer);
    for (const c of clients) c?.end(true);
    setTimeout(() => process.exit(0), 200);
  }
});
out({ type: 'loaded' });
