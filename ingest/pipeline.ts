import type { Logger } from 'pino';
import type { Device, DeviceRegistry } from '../devices/registry.js';
import { parsePayload, type FieldError, type Rejection } from '../devices/payload.js';
import { parseTopic, topicFor } from '../devices/topics.js';
import type { StoredReading } from './reading.js';
import type { GroupCommitter } from './group-commit.js';
import type { IngestMetrics } from './metrics.js';
import type { Quarantine } from './quarantine.js';

/** Sends a JSON message to a device's `errors` topic; provided by the source (embedded or external broker). */
export type ErrorPublisher = (topic: string, message: object) => void;

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  /** the authenticated device, when the source knows it (embedded broker) */
  device?: Device;
  /** the source's name, a label of `netzero_messages_in_total` */
  source: string;
}

/** What the pipeline did with one message; `durable` is true once everything in it is stored or quarantined. */
export interface AcceptResult {
  accepted: number;
  rejected: number;
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
    const device = msg.device ?? (await this.deps.registry.get(t.device));
    if (!device || device.role !== 'device' || !device.kind || !device.sector) {
      await this.reject(msg, t.device, receivedAt, [{ field: 'topic', reason: `device "${t.device}" is not registered` }], 'unknown_device');
      return { accepted: 0, rejected: 1 };
    }
    if (device.site !== t.site) {
      await this.reject(msg, device.id, receivedAt, [{ field: 'topic', reason: `device "${device.id}" belongs to site "${device.site}", not "${t.site}"` }], 'wrong_site');
      return { accepted: 0, rejected: 1 };
    }

    const parsed = parsePayload(device.kind, msg.payload, receivedAt.getTime());
    metrics.readingsIn.inc(parsed.readings.length + parsed.rejections.length);
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
    const work: Promise<unknown>[] = [this.deps.committer.submit(stored)];
    if (parsed.rejections.length > 0) {
      work.push(this.rejectReadings(msg, device, receivedAt, parsed.rejections, stored.length));
    }
    await Promise.all(work);
    return { accepted: stored.length, rejected: parsed.rejections.length };
  }

  private async rejectReadings(msg: IncomingMessage, device: Device, receivedAt: Date, rejections: Rejection[], accepted: number) {
    const ids: number[] = [];
    for (const r of rejections) {
      this.deps.metrics.rejected.inc({ reason: reasonLabel(r.errors) });
      ids.push(await this.deps.quarantine.add({ device: device.id, topic: msg.topic, receivedAt, errors: r.errors, raw: r.raw }));
    }
    this.deps.log.info({ device: device.id, errors: rejections.flatMap((r) => r.errors).slice(0, 5) }, 'payload rejected');
    this.deps.publishError(topicFor(device.site, device.id, 'errors'), {
      received_at: receivedAt.toISOString(),
      topic: msg.topic,
      accepted,
      rejected: rejections.length,
      errors: rejections.flatMap((r) => r.errors),
      quarantine_ids: ids,
    });
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
