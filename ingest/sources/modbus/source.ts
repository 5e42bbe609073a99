import type { Logger } from 'pino';
import { modbusParamsSchema, modbusSettings, type ModbusSettings } from '../../../devices/modbus/params.js';
import type { Device, DeviceRegistry } from '../../../devices/registry.js';
import type { SunSpecLocation } from '../../../devices/sunspec/reader.js';
import { topicFor } from '../../../devices/topics.js';
import type { RoomHealth } from '../../../lib/rooms.js';
import type { DeviceStatusBoard } from '../../device-status.js';
import type { IngestPipeline } from '../../pipeline.js';
import type { IngestSource } from '../source.js';
import type { ModbusMetrics } from './metrics.js';
import { failureReason, pollDevice, type PollResult } from './poll.js';
import { backoffMs, firstSlot, nextSeq, nextSlot, withJitter } from './schedule.js';

/**
 * How often the registry is read again: a device registered by the CLI (another process), removed or
 * changed is picked up within this; one registered over HTTP (this process) at once.
 */
export const RESCAN_MS = 10_000;
/** Polls (open Modbus connections) at once; a device due while all are busy waits for one. */
export const MAX_CONCURRENT_POLLS = 16;
/** A device found while running is first polled within this (or its period, if shorter); at start, first polls spread over a whole period. */
const NEW_DEVICE_SPREAD_MS = 5_000;

interface Polled {
  device: Device;
  /** kind, site and params.modbus as registered: when it changes, the device starts over */
  key: string;
  settings: ModbusSettings;
  /** the grid point of the next poll (before jitter) */
  slot: number;
  due: number;
  timer?: NodeJS.Timeout;
  failures: number;
  offline: boolean;
  lastSeq: number;
  location?: SunSpecLocation;
  gone: boolean;
}

/** A fixed number of poll slots; a poll waits for a free one. */
class Slots {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * Ingest from devices the service polls over Modbus TCP (`params.modbus`): SunSpec inverters and meters,
 * and plain meters by a register map. Each poll becomes a reading `{ts: poll time, seq, …fields}` on the
 * device's telemetry topic through `IngestPipeline.accept`, like a device's own MQTT message: the same
 * validation, quarantine, durable write and accounting.
 *
 * Every device has its own timer, so a dead device never delays another; a poll (connect and reads) is
 * cut at the device's timeout; at most MAX_CONCURRENT_POLLS run at once. After `offline_after` failed
 * polls in a row the device is shown offline on the status board (and its retained `status` topic) with
 * the last error, and online again at the next success; failed polls back off exponentially.
 */
export class ModbusSource implements IngestSource {
  readonly name = 'ingest:modbus';
  private readonly devices = new Map<string, Polled>();
  private readonly invalid = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly slots: Slots;
  private readonly abort = new AbortController();
  private rescanTimer?: NodeJS.Timeout;
  private offRegistered?: () => void;
  private offChanged?: () => void;
  private scanning?: Promise<void>;
  private scanAgain = false;
  private stopping = false;
  private offlineCount = 0;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(
    private readonly deps: {
      registry: DeviceRegistry;
      pipeline: IngestPipeline;
      statusBoard: DeviceStatusBoard;
      metrics: ModbusMetrics;
      log: Logger;
      rescanMs?: number;
      maxConcurrent?: number;
      now?: () => number;
      random?: () => number;
    },
  ) {
    this.slots = new Slots(deps.maxConcurrent ?? MAX_CONCURRENT_POLLS);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
  }

  async start(): Promise<void> {
    await this.rescan(true);
    this.rescanTimer = setInterval(() => this.scanSoon(), this.deps.rescanMs ?? RESCAN_MS);
    this.offRegistered = this.deps.registry.onRegistered(() => this.scanSoon());
    this.offChanged = this.deps.registry.onChanged(() => this.scanSoon());
  }

  /** A rescan now, or right after the one running (it may have read the list before the registration). */
  private scanSoon(): void {
    if (this.stopping) return;
    if (this.scanning) {
      this.scanAgain = true;
      return;
    }
    this.scanning = this.rescan(false).finally(() => {
      this.scanning = undefined;
      if (this.scanAgain) {
        this.scanAgain = false;
        this.scanSoon();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.offRegistered?.();
    this.offChanged?.();
    clearInterval(this.rescanTimer);
    for (const s of this.devices.values()) clearTimeout(s.timer);
    this.abort.abort();
    await this.scanning;
    // Polls are cut at once; readings already read still go through the pipeline (durable before ingest stops).
    await Promise.allSettled([...this.inFlight]);
  }

  /** Not part of the up/down verdict: a device that does not answer is the device's problem, shown on the status board. */
  health(): RoomHealth {
    return { details: { modbus: { devices: this.devices.size, offline: this.offlineCount } } };
  }

  /** Reads the registry: starts polling new devices, restarts changed ones, stops removed ones. */
  private async rescan(atStart: boolean): Promise<void> {
    let list: Device[];
    try {
      list = await this.deps.registry.list();
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'modbus: could not read the device registry; keeping the devices known so far');
      return;
    }
    if (this.stopping) return;
    const seen = new Set<string>();
    for (const device of list) {
      // a disabled device is not polled (dropped below like a removed one); its status says disabled (GET /api/operators/devices)
      if (device.role !== 'device' || !device.kind || device.params?.modbus === undefined || device.disabled) continue;
      seen.add(device.id);
      const key = JSON.stringify([device.kind, device.site, device.params.modbus]);
      const known = this.devices.get(device.id);
      if (known?.key === key) continue;
      if (known) this.drop(known);
      const parsed = modbusParamsSchema.safeParse(device.params.modbus);
      if (!parsed.success) {
        if (!this.invalid.has(key)) this.deps.log.warn({ device: device.id, issues: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`) }, 'modbus: params.modbus is not valid; device not polled');
        this.invalid.add(key);
        continue;
      }
      const settings = modbusSettings(parsed.data);
      const now = this.now();
      const slot = firstSlot(now, atStart ? settings.pollMs : Math.min(settings.pollMs, NEW_DEVICE_SPREAD_MS), this.random);
      const s: Polled = { device, key, settings, slot, due: slot, failures: 0, offline: false, lastSeq: 0, gone: false };
      this.devices.set(device.id, s);
      this.arm(s, slot);
      this.deps.log.info({ device: device.id, host: settings.host, port: settings.port, unit_id: settings.unitId, poll_s: settings.pollMs / 1000, mode: settings.map ? 'register map' : 'SunSpec' }, 'modbus: polling device');
    }
    for (const s of this.devices.values()) {
      if (seen.has(s.device.id)) continue;
      this.drop(s);
      this.deps.statusBoard.forget(s.device.id);
      this.deps.log.info({ device: s.device.id }, 'modbus: device no longer registered with params.modbus, or disabled; polling stopped');
    }
    this.deps.metrics.devices.set(this.devices.size);
  }

  private drop(s: Polled): void {
    s.gone = true;
    clearTimeout(s.timer);
    if (s.offline) this.setOffline(s, false);
    this.devices.delete(s.device.id);
  }

  private arm(s: Polled, at: number): void {
    clearTimeout(s.timer);
    s.due = at;
    s.timer = setTimeout(() => {
      const p = this.pollOnce(s).catch((err: Error) => this.deps.log.error({ device: s.device.id, err: err.message }, 'modbus: poll failed unexpectedly'));
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }, Math.max(0, at - this.now()));
  }

  private async pollOnce(s: Polled): Promise<void> {
    const { metrics } = this.deps;
    s.timer = undefined;
    await this.slots.take();
    let result: PollResult | undefined;
    let error: unknown;
    const started = this.now();
    try {
      if (this.stopping || s.gone) return;
      metrics.late.observe(Math.max(0, started - s.due) / 1000);
      result = await pollDevice(s.device.kind!, s.settings, s.location, this.abort.signal);
    } catch (err) {
      error = err;
    } finally {
      this.slots.give();
    }
    if (this.stopping && !result) return;
    if (s.gone) return;
    metrics.latency.observe((this.now() - started) / 1000);
    if (!result) {
      this.failed(s, error);
      return;
    }
    metrics.polls.inc({ outcome: 'ok' });
    const ts = this.now();
    s.lastSeq = nextSeq(s.lastSeq, ts);
    s.location = result.location ?? s.location;
    s.failures = 0;
    this.deps.statusBoard.set(s.device, true, 'modbus', this.detail(s, { latency_ms: ts - started, last_poll: new Date(ts).toISOString(), last_error: null }));
    if (s.offline) {
      this.setOffline(s, false);
      this.deps.log.info({ device: s.device.id }, 'modbus: device answers again; online');
    }
    if (!this.stopping) {
      s.slot = nextSlot(s.slot, s.settings.pollMs, this.now());
      this.arm(s, withJitter(s.slot, s.settings.pollMs, this.random));
    }
    await this.deliver(s, ts, result);
  }

  /**
   * The reading through the pipeline, as if the device had published it. `mayWait`: this source polls,
   * so waiting for the device's rate limit only delays this device's own reading. A field the device
   * could not give is left out and named in the extra field `modbus_missing`, so a reading without a
   * required field is quarantined with the reason.
   */
  private async deliver(s: Polled, ts: number, result: PollResult): Promise<void> {
    const reading = { ts, seq: s.lastSeq, ...result.fields, ...(result.missing.length > 0 ? { modbus_missing: result.missing } : {}) };
    try {
      const r = await this.deps.pipeline.accept({
        topic: topicFor(s.device.site, s.device.id, 'telemetry'),
        payload: Buffer.from(JSON.stringify(reading)),
        source: 'modbus',
        mayWait: true,
      });
      if (r.rejected > 0) this.deps.log.info({ device: s.device.id }, 'modbus: polled reading rejected by ingest (see the quarantine)');
    } catch (err) {
      // The store cannot commit: this reading is lost, the next poll reads the counters again (nothing of the energy is lost).
      this.deps.log.error({ device: s.device.id, err: (err as Error).message }, 'modbus: polled reading not stored: the store failed');
    }
  }

  private failed(s: Polled, err: unknown): void {
    const { metrics, statusBoard, log } = this.deps;
    const reason = failureReason(err);
    s.failures++;
    metrics.polls.inc({ outcome: 'failed' });
    metrics.failures.inc({ reason });
    // The model may have moved (new firmware, another device at this address): find it again next time.
    if (reason === 'sunspec' || reason === 'modbus_exception') s.location = undefined;
    const message = `${reason}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
    const detail = this.detail(s, { last_error: message, last_error_at: new Date(this.now()).toISOString() });
    if (s.failures >= s.settings.offlineAfter) {
      if (!s.offline) {
        log.warn({ device: s.device.id, failures: s.failures, err: message }, 'modbus: device offline');
        this.setOffline(s, true);
      }
      statusBoard.set(s.device, false, 'modbus', detail);
    } else if (statusBoard.get(s.device.id)?.online) {
      statusBoard.set(s.device, true, 'modbus', detail);
    }
    log.debug({ device: s.device.id, failures: s.failures, err: message }, 'modbus: poll failed');
    if (this.stopping) return;
    s.slot = this.now() + backoffMs(s.failures, s.settings.pollMs);
    this.arm(s, withJitter(s.slot, s.settings.pollMs, this.random));
  }

  private setOffline(s: Polled, offline: boolean): void {
    if (s.offline === offline) return;
    s.offline = offline;
    this.offlineCount += offline ? 1 : -1;
    this.deps.metrics.offline.set(this.offlineCount);
  }

  private detail(s: Polled, extra: Record<string, unknown>): Record<string, unknown> {
    const loc = s.location;
    return {
      host: s.settings.host,
      port: s.settings.port,
      unit_id: s.settings.unitId,
      failures: s.failures,
      ...(s.settings.map ? { mode: 'register map' } : { mode: 'SunSpec', ...(loc ? { sunspec: { base: loc.base, model: loc.model.id, chain: loc.chain, ...(loc.common ? { device: loc.common } : {}) } } : {}) }),
      ...extra,
    };
  }
}
