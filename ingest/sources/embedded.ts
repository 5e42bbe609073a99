import type { Logger } from 'pino';
import type { AuthorizedTelemetry } from '../../broker/auth.js';
import type { EmbeddedBroker } from '../../broker/broker.js';
import type { IngestPipeline } from '../pipeline.js';
import type { IngestSource } from './source.js';

/**
 * Ingest's in-process tap on the embedded broker (no second MQTT hop): the broker hands over each
 * authorised telemetry publish and sends the QoS 1 PUBACK when `accept` has resolved, that is once the
 * readings are durable. Stopping detaches the tap (the broker then refuses telemetry, unacknowledged)
 * and waits for the messages in flight, so their PUBACKs still go out before the broker closes.
 */
export class EmbeddedSource implements IngestSource {
  readonly name = 'ingest:embedded-broker';
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly deps: { broker: EmbeddedBroker; pipeline: IngestPipeline; log: Logger }) {}

  async start(): Promise<void> {
    this.deps.broker.setTelemetryHandler((msg) => this.take(msg));
  }

  private take(msg: AuthorizedTelemetry): Promise<unknown> {
    const work = this.deps.pipeline.accept({ ...msg, source: 'embedded', mayWait: true });
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  publish(topic: string, text: string): void {
    this.deps.broker.publish(topic, text);
  }

  async stop(): Promise<void> {
    this.deps.broker.setTelemetryHandler(undefined);
    if (this.inFlight.size > 0) this.deps.log.info({ messages: this.inFlight.size }, 'waiting for telemetry in flight to be durable');
    await Promise.allSettled([...this.inFlight]);
  }
}
