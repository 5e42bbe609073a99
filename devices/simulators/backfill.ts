import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { MAX_BATCH, MAX_PAYLOAD_BYTES } from '../payload.js';
import { SLOT_MS } from './models/time.js';

/** Where a device's backfill stands: `pending` until it runs, again `pending` after an interruption. */
export type BackfillStatus = 'pending' | 'running' | 'done';

/** The part of a simulated device's runtime that its backfill reads and moves forward. */
export interface BackfillRuntime {
  readonly device: { readonly id: string };
  readonly telemetry: string;
  readonly client?: MqttClient;
  backfill: BackfillStatus;
  /** ts of the next backfill reading */
  cursor?: number;
}

/** What the backfill needs from the fleet. */
export interface BackfillHost {
  /** hours of history to publish */
  hours: number;
  now: () => number;
  /** false once the fleet is stopping */
  running: () => boolean;
  /** the JSON of the device's reading at `ts` */
  payload: (ts: number) => string;
  counts: { published: number; acknowledged: number; failed: number };
  log: Logger;
  /** logs a warning about this device (deduplicated by the fleet) */
  warn: (msg: string, err: unknown) => void;
}

const BATCH_BYTES = MAX_PAYLOAD_BYTES - 1024;

/** Readings from `cursor` on the 5-minute grid up to `end`, as many as fit one batch message. */
function nextBatch(payload: (ts: number) => string, cursor: number, end: number): { parts: string[]; next: number } {
  const parts: string[] = [];
  let bytes = 16;
  let ts = cursor;
  while (ts <= end && parts.length < MAX_BATCH) {
    const one = payload(ts);
    if (bytes + one.length + 1 > BATCH_BYTES) break;
    parts.push(one);
    bytes += one.length + 1;
    ts += SLOT_MS;
  }
  return { parts, next: ts };
}

/** Publishes the last `hours` on a 5-minute grid, one batch at a time, resuming after a failure. */
export async function backfill(rt: BackfillRuntime, host: BackfillHost): Promise<void> {
  const client = rt.client;
  if (!client) return;
  rt.backfill = 'running';
  let cursor = (rt.cursor ??= Math.ceil((host.now() - host.hours * 3_600_000) / SLOT_MS) * SLOT_MS);
  try {
    // loop until caught up: a long backfill must not leave a gap before the first live reading
    while (host.running() && cursor <= host.now()) {
      const { parts, next } = nextBatch(host.payload, cursor, host.now());
      host.counts.published += parts.length;
      try {
        await client.publishAsync(rt.telemetry, `{"readings":[${parts.join(',')}]}`, { qos: 1 });
      } catch (err) {
        host.counts.failed += parts.length;
        throw err;
      }
      host.counts.acknowledged += parts.length;
      rt.cursor = cursor = next;
    }
    rt.backfill = host.running() ? 'done' : 'pending';
    if (host.running()) host.log.debug({ device: rt.device.id }, 'simulated device: backfill done');
  } catch (err) {
    rt.backfill = 'pending'; // resumes from the cursor at the next connect
    host.warn('backfill interrupted', err);
  }
}
