import type { Logger } from 'pino';
import { topicFor } from '../devices/topics.js';
import type { DeviceActivity } from './device-activity.js';
import type { IngestMetrics } from './metrics.js';
import type { ErrorPublisher } from './pipeline.js';
import type { Quarantine } from './quarantine.js';
import type { ConflictingReading, FlaggedInterval, StoreEvents } from './reading.js';

/**
 * What the store found while storing readings, told to the devices and the operator:
 * - an interval that is not `ok` (a reset, a rollover, a backwards step, a jump, an implausible amount)
 *   sends a **warning** on its device's `errors` topic: the reading was accepted, so it is not a
 *   rejection (`{"warnings":[{counter, quality, t0, t1, v0, v1, amount, counted, reason}]}`), counted in
 *   `netzero_interval_warnings_total{quality}`;
 * - a reading resent with the ts and seq of a stored one but other values is a **conflict**: not stored,
 *   quarantined with the stored and the new values, and reported on `errors`.
 */
export class StoreFeedback implements StoreEvents {
  constructor(
    private readonly deps: { quarantine: Quarantine; metrics: IngestMetrics; log: Logger; publishError: ErrorPublisher; activity?: DeviceActivity },
  ) {}

  flagged(intervals: FlaggedInterval[]): void {
    const byDevice = new Map<string, FlaggedInterval[]>();
    for (const i of intervals) {
      this.deps.metrics.intervalWarnings.inc({ quality: i.quality });
      const list = byDevice.get(i.device) ?? [];
      list.push(i);
      byDevice.set(i.device, list);
    }
    for (const [device, list] of byDevice) {
      this.deps.activity?.warned(device, list.map((i) => ({ counter: i.counter, quality: i.quality, t0: new Date(i.t0).toISOString(), t1: new Date(i.t1).toISOString(), amount: i.amount, reason: i.reason })));
      this.deps.log.info({ device, warnings: list.slice(0, 5).map((i) => `${i.counter} ${i.quality}: ${i.reason}`) }, 'readings stored with warnings');
      this.deps.publishError(topicFor(list[0]!.site, device, 'errors'), {
        received_at: new Date().toISOString(),
        accepted: true,
        warnings: list.map((i) => ({
          counter: i.counter,
          quality: i.quality,
          t0: new Date(i.t0).toISOString(),
          t1: new Date(i.t1).toISOString(),
          v0: i.v0,
          v1: i.v1,
          amount: i.amount,
          // an implausible amount is kept but left out of totals until someone accepts it
          counted: i.quality === 'implausible' ? 0 : i.amount,
          reason: i.reason,
        })),
      });
    }
  }

  conflicts(conflicts: ConflictingReading[]): void {
    void this.record(conflicts).catch((err: Error) => this.deps.log.error({ err: err.message }, 'could not quarantine conflicting readings'));
  }

  private async record(conflicts: ConflictingReading[]): Promise<void> {
    for (const c of conflicts) {
      const r = c.reading;
      const topic = topicFor(r.site, r.device, 'telemetry');
      const at = new Date(r.ts).toISOString();
      const error = {
        field: 'ts',
        reason: `a reading at ${at}${r.seq === null ? '' : ` seq ${r.seq}`} is already stored with other values: the stored one stays; send a new ts or seq for a correction`,
      };
      this.deps.metrics.rejected.inc({ reason: 'conflict' });
      this.deps.activity?.rejected(r.device, 1);
      const id = await this.deps.quarantine.add({
        device: r.device,
        topic,
        receivedAt: new Date(r.receivedAt),
        errors: [error],
        raw: JSON.stringify({ new: { ts: at, seq: r.seq, ...r.fields, ...r.extras }, stored: { ts: at, seq: r.seq, ...c.stored.fields, ...c.stored.extras } }),
      });
      this.deps.log.warn({ device: r.device, ts: at, seq: r.seq }, 'conflicting resend quarantined');
      this.deps.publishError(topicFor(r.site, r.device, 'errors'), {
        received_at: new Date().toISOString(),
        topic,
        accepted: 0,
        rejected: 1,
        errors: [error],
        quarantine_ids: [id],
        stored: c.stored.fields,
        sent: r.fields,
      });
    }
  }
}
