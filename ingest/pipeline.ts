import type { Logger } from 'pino';
import type { Device, DeviceRegistry } from '../devices/registry.js';
import { parsePayload, type FieldError, type Rejection } from '../devices/payload.js';
import { parseTopic, topicFor } from '../devices/topics.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { DeviceActivity } from './device-activity.js';
import { rateLimitOf, type DeviceRateLimiter } from './device-limits.js';
import type { StoredReading } from './reading.js';
import type { GroupCommitter, RefusedReading } from './group-commit.js';
import type { IngestMetrics } from './metrics.js';
import type { Quarantine } from './quarantine.js';
import { rejectionsOf, type ReadingRejection } from './rejections.js';

/** Sends a JSON message to a device's `errors` topic; provided by the source (embedded or external broker). */
export type ErrorPublisher = (topic: string, message: object) => void;

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  /** the authenticated device, when the source knows it (embedded broker) */
  device?: Device;
  /** the source's name, a label of `netzero_messages_in_total` */
  source: string;
  /**
   * Whether the source can hold this device back while its message waits for the rate limit (the
   * embedded broker holds that device's next packets); a source serving every device in one stream
   * (an external broker's subscription) cannot, so its over-limit messages are refused at once.
   */
  mayWait?: boolean;
  /**
   * Whether the per-device rate limit applies (default true). It guards the service against a device
   * flooding it; a CSV import is an operator's deliberate backfill with bounds of its own (one import per
   * device at a time, batches of at most 1,000 readings sent one after another: ingest/sources/csv-import.ts),
   * and a year of 15-minute data at 100 readings/s would take six minutes or be refused.
   */
  rateLimited?: boolean;
}

/** What the pipeline did with one message; `durable` is true once everything in it is stored or quarantined. */
export interface AcceptResult {
  accepted: number;
  rejected: number;
  /** the readings refused, by index in the batch (null: the whole message), with why: for a source that reports per reading (the CSV import) */
  rejections?: ReadingRejection[];
}

/**
 * parse → validate → normalise → durable write (group commit) → resolve.
 * The source acknowledges (QoS 1 PUBACK) only after `accept` resolves. A rejected message or reading
 * is quarantined and reported on the device's `errors` topic, and still resolves (so one bad payload
 * cannot block a device); it rejects only when nothing could be made durable (store down).
 */
export class IngestPipeline {
  constructor(
    private readonly deps: {
      registry: DeviceRegistry;
      committer: GroupCommitter;
      quarantine: Quarantine;
      metrics: IngestMetrics;
      log: Logger;
      publishError: ErrorPublisher;
      limiter: DeviceRateLimiter;
      /** per-device counts for the operator view (ingest/device-activity.ts) */
      activity?: DeviceActivity;
    },
  ) {}

  async accept(msg: IncomingMessage): Promise<AcceptResult> {
    const { metrics } = this.deps;
    metrics.messagesIn.inc({ source: msg.source });
    const receivedAt = new Date();
    const t = parseTopic(msg.topic);
    if (!t || t.channel !== 'telemetry') {
      await this.reject(msg, null, receivedAt, [{ field: 'topic', reason: `is not netzero/v1/{site}/{device}/telemetry` }], 'topic');
      return { accepted: 0, rejected: 1 };
    }
    // getNow: no promise to await when the registry has the device cached (nearly every message)
    let device = msg.device ?? this.deps.registry.getNow(t.device);
    if (device instanceof Promise) device = await device;
    if (!device || device.role !== 'device' || !device.kind || !device.sector) {
      await this.reject(msg, t.device, receivedAt, [{ field: 'topic', reason: `device "${t.device}" is not registered` }], 'unknown_device');
      return { accepted: 0, rejected: 1 };
    }
    if (device.site !== t.site) {
      await this.reject(msg, device.id, receivedAt, [{ field: 'topic', reason: `device "${device.id}" belongs to site "${device.site}", not "${t.site}"` }], 'wrong_site');
      return { accepted: 0, rejected: 1 };
    }
    // The broker's device was read at login; a device disabled since then is refused here, whatever the source.
    let current = msg.device ? this.deps.registry.getNow(device.id) : device;
    if (current instanceof Promise) current = await current;
    const disabled = current?.disabled ?? null;
    if (disabled) {
      const reason = `device disabled since ${disabled.at} by ${disabled.by}: ${disabled.reason}; its readings are refused until it is enabled again`;
      await this.reject(msg, device.id, receivedAt, [{ field: 'device', reason }], 'disabled');
      this.deps.activity?.rejected(device.id, 1);
      return { accepted: 0, rejected: 1, rejections: [{ index: null, errors: [{ field: 'device', reason }] }] };
    }

    const parsed = parsePayload(device.kind, msg.payload, receivedAt.getTime());
    const count = parsed.readings.length + parsed.rejections.length;
    metrics.readingsIn.inc(count);
    const limit = msg.rateLimited === false ? { waitMs: 0 } : this.deps.limiter.reserve(device.id, rateLimitOf(device.params), Math.max(1, count), msg.mayWait === true);
    if ('refused' in limit) {
      metrics.rejected.inc({ reason: 'rate_limited' }, count);
      this.deps.activity?.rejected(device.id, count);
      this.tellDevice(device, msg, receivedAt, { accepted: 0, rejected: count, errors: [{ field: 'payload', reason: limit.refused }], quarantine_ids: [] });
      return { accepted: 0, rejected: count };
    }
    if (limit.waitMs > 0) await delay(limit.waitMs);
    const stored: StoredReading[] = parsed.readings.map((r) => ({
      device: device.id,
      kind: device.kind!,
      site: device.site,
      sector: device.sector!,
      params: device.params,
      ts: r.ts,
      seq: r.seq,
      fields: r.fields,
      extras: r.extras,
      receivedAt: receivedAt.getTime(),
    }));
    const committed = this.deps.committer.submit(stored);
    const [outcome] = parsed.rejections.length > 0 ? await Promise.all([committed, this.rejectReadings(msg, device, receivedAt, parsed.rejections, stored.length)]) : [await committed];
    if (outcome.refused.length > 0) await this.refusedByStore(msg, device, receivedAt, stored, outcome.refused);
    this.count(device.id, stored, outcome.refused.length > 0 ? new Set(outcome.refused.map((r) => r.index)) : NONE_REFUSED, parsed.rejections.length);
    return { accepted: stored.length - outcome.refused.length, rejected: parsed.rejections.length + outcome.refused.length, rejections: rejectionsOf(parsed, outcome.refused) };
  }

  /** Adds what happened to the device's counts (accepted, rejected, its latest reading) for the operator view. */
  private count(device: string, stored: StoredReading[], refused: ReadonlySet<number>, rejected: number): void {
    const activity = this.deps.activity;
    if (!activity) return;
    let latest: StoredReading | undefined;
    for (let i = 0; i < stored.length; i++) {
      const r = stored[i]!;
      if (!refused.has(i) && (!latest || r.ts >= latest.ts)) latest = r;
    }
    if (rejected + refused.size > 0) activity.rejected(device, rejected + refused.size);
    if (latest) activity.accepted(device, stored.length - refused.size, { ts: latest.ts, seq: latest.seq, values: { ...latest.fields, ...latest.extras } });
  }

  /**
   * Readings the store could not take for their own sake (the rest of the batch is stored): quarantined
   * with the store's reason, reported on the device's `errors` topic, and acknowledged like any rejection.
   */
  private async refusedByStore(msg: IncomingMessage, device: Device, receivedAt: Date, stored: StoredReading[], refused: RefusedReading[]) {
    this.deps.metrics.refusedByStore.inc(refused.length);
    const raw = msg.payload.toString('utf8').slice(0, 64 * 1024);
    const errors = refused.map((r) => ({ field: 'store', reason: `reading at ${new Date(stored[r.index]!.ts).toISOString()}${stored[r.index]!.seq === null ? '' : ` seq ${stored[r.index]!.seq}`}: ${r.reason}` }));
    const ids: number[] = [];
    for (const e of errors) ids.push(await this.deps.quarantine.add({ device: device.id, topic: msg.topic, receivedAt, errors: [e], raw }));
    this.deps.log.warn({ device: device.id, refused: refused.length }, 'the store refused readings; the rest of the batch was stored');
    this.tellDevice(device, msg, receivedAt, { accepted: stored.length - refused.length, rejected: refused.length, errors, quarantine_ids: ids });
  }

  private tellDevice(device: Device, msg: IncomingMessage, receivedAt: Date, what: { accepted: number; rejected: number; errors: FieldError[]; quarantine_ids: number[] }) {
    this.deps.publishError(topicFor(device.site, device.id, 'errors'), { received_at: receivedAt.toISOString(), topic: msg.topic, ...what });
  }

  private async rejectReadings(msg: IncomingMessage, device: Device, receivedAt: Date, rejections: Rejection[], accepted: number) {
    const ids: number[] = [];
    for (const r of rejections) {
      this.deps.metrics.rejected.inc({ reason: reasonLabel(r.errors) });
      ids.push(await this.deps.quarantine.add({ device: device.id, topic: msg.topic, receivedAt, errors: r.errors, raw: r.raw }));
    }
    this.deps.log.info({ device: device.id, errors: rejections.flatMap((r) => r.errors).slice(0, 5) }, 'payload rejected');
    this.tellDevice(device, msg, receivedAt, { accepted, rejected: rejections.length, errors: rejections.flatMap((r) => r.errors), quarantine_ids: ids });
  }

  private async reject(msg: IncomingMessage, deviceId: string | null, receivedAt: Date, errors: FieldError[], reason: string) {
    this.deps.metrics.rejected.inc({ reason });
    const id = await this.deps.quarantine.add({
      device: deviceId,
      topic: msg.topic,
      receivedAt,
      errors,
      raw: msg.payload.toString('utf8').slice(0, 64 * 1024),
    });
    this.deps.log.warn({ topic: msg.topic, errors }, 'message rejected');
    const t = parseTopic(msg.topic);
    if (t && deviceId) {
      this.deps.publishError(topicFor(t.site, t.device, 'errors'), {
        received_at: receivedAt.toISOString(),
        topic: msg.topic,
        accepted: 0,
        rejected: 1,
        errors,
        quarantine_ids: [id],
      });
    }
  }
}

/** What `count` is told when the store refused nothing (nearly always): no set made per message. */
const NONE_REFUSED: ReadonlySet<number> = new Set();

/** A low-cardinality label for the rejected metric: the first error's kind of problem. */
function reasonLabel(errors: FieldError[]): string {
  const e = errors[0];
  if (!e) return 'unknown';
  if (e.field === 'payload') return e.reason.startsWith('is not valid JSON') ? 'invalid_json' : e.reason.includes('bytes') ? 'too_large' : 'not_an_object';
  if (e.field === 'readings') return 'bad_batch';
  if (e.reason === 'required') return 'missing_field';
  if (/future/.test(e.reason)) return 'future_ts';
  if (/must be a|must be an ISO|got/.test(e.reason)) return 'wrong_type';
  return 'impossible_value';
}
