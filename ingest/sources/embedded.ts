import type { Logger } from 'pino';
import type { AuthorizedTelemetry } from '../../broker/auth.js';
import type { EmbeddedBroker } from '../../broker/broker.js';
import { ThrottledLog } from '../../broker/throttled-log.js';
import type { IngestMetrics } from '../metrics.js';
import type { IngestPipeline } from '../pipeline.js';
import type { IngestSource } from './source.js';

/** QoS 0 messages let go before their commit, at most: per device, and in all. */
export const EARLY_PER_DEVICE = 64;
export const EARLY_TOTAL = 20_000;

/**
 * Ingest's in-process tap on the embedded broker (no second MQTT hop): the broker hands over each
 * authorised telemetry publish and reads the device's next packet (and sends the QoS 1 PUBACK) when
 * `take` resolves. For QoS 1 that is once the readings are durable. A QoS 0 message promises nothing,
 * so it is let go at once and the device's next packet is read while it waits for its commit, up to
 * EARLY_PER_DEVICE such messages per device and EARLY_TOTAL in all; beyond, it waits for its commit like
 * QoS 1, and the device's TCP connection holds the rest back. Stopping detaches the tap (the broker then
 * refuses telemetry, unacknowledged) and waits for the messages in flight, so their PUBACKs still go
 * out and the QoS 0 ones are committed before the broker closes.
 */
export class EmbeddedSource implements IngestSource {
  readonly name = 'ingest:embedded-broker';
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly early = new Map<string, number>();
  private earlyTotal = 0;
  private readonly unstoredLog: ThrottledLog;

  constructor(private readonly deps: { broker: EmbeddedBroker; pipeline: IngestPipeline; metrics: IngestMetrics; log: Logger }) {
    this.unstoredLog = new ThrottledLog(deps.log);
  }

  async start(): Promise<void> {
    this.deps.broker.setTelemetryHandler((msg) => this.take(msg));
  }

  private take(msg: AuthorizedTelemetry): Promise<unknown> {
    // the fields named, not `...msg`: the spread of every message was a measurable part of its cost
    const work = this.deps.pipeline.accept({ topic: msg.topic, payload: msg.payload, device: msg.device, source: 'embedded', mayWait: true });
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    const id = msg.device.id;
    const mine = this.early.get(id) ?? 0;
    if (msg.qos !== 0 || mine >= EARLY_PER_DEVICE || this.earlyTotal >= EARLY_TOTAL) return work;
    this.early.set(id, mine + 1);
    this.earlyTotal++;
    const settled = () => {
      this.earlyTotal--;
      const left = (this.early.get(id) ?? 1) - 1;
      if (left === 0) this.early.delete(id);
      else this.early.set(id, left);
    };
    work.then(settled, (err: Error) => {
      settled();
      this.deps.metrics.qos0Unstored.inc();
      this.unstoredLog.note('qos0_unstored', 'error', { device: id, err: err.message }, 'a QoS 0 message let go before its commit was not stored (a fault of the store)');
    });
    return Promise.resolve();
  }

  publish(topic: string, text: string): void {
    this.deps.broker.publish(topic, text);
  }

  async stop(): Promise<void> {
    this.deps.broker.setTelemetryHandler(undefined);
    if (this.inFlight.size > 0) this.deps.log.info({ messages: this.inFlight.size }, 'waiting for telemetry in flight to be durable');
    await Promise.allSettled([...this.inFlight]);
    this.unstoredLog.flush();
  }
}
