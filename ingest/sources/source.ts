import type { Room } from '../../lib/rooms.js';

/**
 * A way readings come in (the embedded broker's tap, a subscription on an external broker, the OCPP
 * central system, the Modbus poller, CSV import). Every source feeds the same `IngestPipeline.accept`
 * (validate → quarantine or durable write → resolve) and acknowledges a message only after `accept`
 * resolved. Stopping a source stops taking new messages and waits for those in flight.
 */
export interface IngestSource extends Room {
  /** Sends a message to a device's `errors` topic, for sources whose devices are reached over MQTT. */
  publish?(topic: string, text: string): void;
}
