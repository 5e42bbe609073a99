import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Kind } from '../kinds.js';
import { topicFor } from '../topics.js';
import { backfill, type BackfillRuntime } from './backfill.js';
import type { DeviceModel } from './models.js';
import { isoTaipei } from './models/time.js';

/** One simulated device: MQTT identity plus the model that produces its readings. */
export interface FleetDevice {
  id: string;
  site: string;
  kind: Kind;
  /** MQTT password; omitted for brokers that allow anonymous clients */
  secret?: string;
  model: DeviceModel;
}

export interface FleetOptions {
  /** broker URL, e.g. mqtt://127.0.0.1:1883 */
  url: string;
  logger: Logger;
  /** live publish period in seconds; readings are stamped on multiples of it (default 60) */
  intervalS?: number;
  /** on start, publish the last H hours on a 5-minute grid as batches (default 0 = none) */
  backfillHours?: number;
  /** `iso` (with +08:00) or `epoch` milliseconds in `ts` (default iso) */
  tsFormat?: 'iso' | 'epoch';
  /** spread the first connections evenly over this many seconds (default 0: all at once) */
  rampUpS?: number;
  /** MQTT.js reconnect period, ms (default 5000) */
  reconnectPeriodMs?: number;
  /** MQTT.js connect timeout, ms (default 30000) */
  connectTimeoutMs?: number;
  /** wait this long for graceful disconnects in stop(), ms (default 5000) */
  stopTimeoutMs?: number;
  /** clock, for tests (default Date.now) */
  now?: () => number;
}

export interface FleetStats {
  devices: number;
  connected: number;
  /** devices whose backfill has finished (all of them when backfillHours is 0) */
  backfilled: number;
  /** readings sent (each reading of a batch counts) */
  published: number;
  /** readings whose PUBACK arrived */
  acknowledged: number;
  /** live ticks skipped: previous publish unacknowledged, not connected, or backfill still running */
  skipped: number;
  /** readings whose publish failed */
  failed: number;
  /** messages received on the devices' errors topics */
  errorsReceived: number;
}

/** A device while the fleet runs: its topics, its client, and where its backfill and live publishing stand. */
interface Runtime extends BackfillRuntime {
  device: FleetDevice;
  telemetry: string;
  status: string;
  errors: string;
  client?: MqttClient;
  liveInFlight: boolean;
  lastError?: string;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(resolve, reject).finally(() => clearTimeout(t));
  });
}

/**
 * A fleet of simulated devices, each with its own MQTT connection, speaking the contract:
 * Last Will `offline`, retained `online`, errors topic watched, backfill batches then live readings.
 */
export class SimulatedFleet {
  private readonly runtimes: Runtime[];
  private readonly opts: Required<Omit<FleetOptions, 'logger'>>;
  private readonly log: Logger;
  private readonly counts = { published: 0, acknowledged: 0, skipped: 0, failed: 0, errorsReceived: 0 };
  private timer: NodeJS.Timeout | undefined;
  private readonly rampTimers = new Set<NodeJS.Timeout>();
  private running = false;

  constructor(devices: readonly FleetDevice[], options: FleetOptions) {
    const intervalS = options.intervalS ?? 60;
    if (!(intervalS > 0)) throw new Error(`intervalS must be > 0, got ${intervalS}`);
    const backfillHours = options.backfillHours ?? 0;
    if (!(backfillHours >= 0)) throw new Error(`backfillHours must be >= 0, got ${backfillHours}`);
    this.opts = {
      url: options.url,
      intervalS,
      backfillHours,
      tsFormat: options.tsFormat ?? 'iso',
      rampUpS: options.rampUpS ?? 0,
      reconnectPeriodMs: options.reconnectPeriodMs ?? 5000,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 5000,
      now: options.now ?? Date.now,
    };
    this.log = options.logger;
    this.runtimes = devices.map((device) => ({
      device,
      telemetry: topicFor(device.site, device.id, 'telemetry'),
      status: topicFor(device.site, device.id, 'status'),
      errors: topicFor(device.site, device.id, 'errors'),
      backfill: backfillHours > 0 ? 'pending' : 'done',
      liveInFlight: false,
    }));
  }

  get active(): boolean {
    return this.running;
  }

  /** Opens the connections (spread over rampUpS) and starts the live timer; does not wait for them. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { url, intervalS, backfillHours, rampUpS } = this.opts;
    this.log.info({ devices: this.runtimes.length, url, intervalS, backfillHours }, 'simulated fleet starting');
    const n = this.runtimes.length;
    this.runtimes.forEach((rt, i) => {
      const delay = rampUpS > 0 && n > 1 ? Math.round((i * rampUpS * 1000) / n) : 0;
      if (delay === 0) {
        this.connect(rt);
        return;
      }
      const t = setTimeout(() => {
        this.rampTimers.delete(t);
        if (this.running) this.connect(rt);
      }, delay);
      this.rampTimers.add(t);
    });
    this.schedule();
  }

  /** Publishes `offline` (retained) and disconnects every device. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    for (const t of this.rampTimers) clearTimeout(t);
    this.rampTimers.clear();
    await Promise.all(this.runtimes.map((rt) => this.disconnect(rt)));
    this.log.info(this.stats(), 'simulated fleet stopped');
  }

  stats(): FleetStats {
    return {
      devices: this.runtimes.length,
      connected: this.runtimes.filter((rt) => rt.client?.connected).length,
      backfilled: this.runtimes.filter((rt) => rt.backfill === 'done').length,
      ...this.counts,
    };
  }

  private connect(rt: Runtime): void {
    const { id } = rt.device;
    const client = mqtt.connect(this.opts.url, {
      clientId: `sim-${id}`,
      username: id,
      ...(rt.device.secret !== undefined ? { password: rt.device.secret } : {}),
      clean: false,
      reconnectPeriod: this.opts.reconnectPeriodMs,
      connectTimeout: this.opts.connectTimeoutMs,
      will: { topic: rt.status, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    rt.client = client;

    client.on('connect', () => {
      rt.lastError = undefined;
      this.log.debug({ device: id }, 'simulated device connected');
      client.publishAsync(rt.status, 'online', { qos: 1, retain: true }).catch((err: unknown) => this.warn(rt, 'status publish failed', err));
      client.subscribeAsync(rt.errors, { qos: 1 }).catch((err: unknown) => this.warn(rt, 'errors subscribe failed', err));
      if (rt.backfill === 'pending') void this.backfill(rt);
    });
    client.on('message', (topic, payload) => {
      if (topic !== rt.errors) return;
      this.counts.errorsReceived++;
      let error: unknown = payload.toString('utf8');
      try {
        error = JSON.parse(error as string);
      } catch {
        // not JSON: log the text as it came
      }
      this.log.warn({ device: id, error }, 'simulated device: message rejected by the pipeline');
    });
    client.on('error', (err) => this.warn(rt, 'mqtt error', err));
    client.on('offline', () => this.log.debug({ device: id }, 'simulated device offline'));
  }

  private async disconnect(rt: Runtime): Promise<void> {
    const client = rt.client;
    if (!client) return;
    const timeout = this.opts.stopTimeoutMs;
    try {
      if (client.connected) {
        await withTimeout(client.publishAsync(rt.status, 'offline', { qos: 1, retain: true }), timeout);
        await withTimeout(client.endAsync(false), timeout);
      } else {
        await client.endAsync(true);
      }
    } catch (err) {
      this.log.debug({ device: rt.device.id, err: String(err) }, 'simulated device: forced disconnect');
      client.end(true);
    }
  }

  /** Logs a warning, but only when it differs from the previous one of this device (no reconnect floods). */
  private warn(rt: Runtime, msg: string, err: unknown): void {
    const text = err instanceof Error ? err.message : String(err);
    if (!this.running) {
      this.log.debug({ device: rt.device.id, err: text }, msg);
      return;
    }
    if (rt.lastError === `${msg}: ${text}`) return;
    rt.lastError = `${msg}: ${text}`;
    this.log.warn({ device: rt.device.id, err: text }, `simulated device: ${msg}`);
  }

  private payload(rt: Runtime, ts: number): string {
    const stamp = this.opts.tsFormat === 'epoch' ? ts : isoTaipei(ts);
    return JSON.stringify({ ts: stamp, seq: Math.floor(ts / 1000), ...rt.device.model.reading(ts) });
  }

  /** Publishes the last backfillHours as batches (see backfill.ts); resumes at the next connect after a failure. */
  private backfill(rt: Runtime): Promise<void> {
    return backfill(rt, {
      hours: this.opts.backfillHours,
      now: () => this.opts.now(),
      running: () => this.running,
      payload: (ts) => this.payload(rt, ts),
      counts: this.counts,
      log: this.log,
      warn: (msg, err) => this.warn(rt, msg, err),
    });
  }

  /** Next tick on a multiple of intervalS; recomputed from the clock each time, so it does not drift. */
  private schedule(): void {
    if (!this.running) return;
    const period = this.opts.intervalS * 1000;
    const now = Date.now();
    const next = Math.floor(now / period) * period + period;
    this.timer = setTimeout(() => {
      try {
        this.tick(next);
      } catch (err) {
        this.log.error({ err }, 'simulated fleet: tick failed');
      }
      this.schedule();
    }, next - now);
  }

  private tick(ts: number): void {
    for (const rt of this.runtimes) {
      try {
        this.publishLive(rt, ts);
      } catch (err) {
        this.log.error({ device: rt.device.id, err }, 'simulated device: live reading failed');
      }
    }
  }

  private publishLive(rt: Runtime, ts: number): void {
    const client = rt.client;
    const reason = !client?.connected
      ? 'not connected'
      : rt.backfill !== 'done'
        ? 'backfill still running'
        : rt.liveInFlight
          ? 'previous reading not acknowledged yet'
          : undefined;
    if (reason || !client) {
      this.counts.skipped++;
      this.log.debug({ device: rt.device.id, ts, reason }, 'simulated device: tick skipped');
      return;
    }
    const body = this.payload(rt, ts);
    rt.liveInFlight = true;
    this.counts.published++;
    client
      .publishAsync(rt.telemetry, body, { qos: 1 })
      .then(() => {
        this.counts.acknowledged++;
      })
      .catch((err: unknown) => {
        this.counts.failed++;
        this.warn(rt, 'live publish failed', err);
      })
      .finally(() => {
        rt.liveInFlight = false;
      });
  }
}
