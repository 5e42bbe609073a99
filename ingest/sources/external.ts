import os from 'node:os';
import { createHash } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { RoomHealth } from '../../lib/rooms.js';
import { TELEMETRY_SHARED_SUBSCRIPTION } from '../../devices/topics.js';
import type { IngestPipeline } from '../pipeline.js';
import type { IngestSource } from './source.js';

export interface ExternalSourceOptions {
  url: string;
  username?: string;
  password?: string;
  /** stable per worker, so the broker keeps its session (and unacknowledged messages) across restarts */
  clientId: string;
}

export function defaultIngestClientId(dataDir: string): string {
  return `netzero-ingest-${os.hostname()}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
}

/**
 * Ingest as an MQTT.js client of any broker (Mosquitto, EMQX): a persistent MQTT 5 session on the
 * shared subscription `$share/netzero-ingest/netzero/v1/+/+/telemetry`, so several workers split the
 * load. QoS 1 messages are acknowledged through `customHandleAcks` only after the pipeline made them
 * durable; when that fails the connection is dropped so the broker redelivers.
 *
 * MQTT.js handles one incoming packet at a time, and QoS 1 PUBACKs must go out in order (MQTT 3.1.1
 * §4.6), so one worker's throughput is bounded by commit latency; add workers to scale.
 */
export class ExternalSource implements IngestSource {
  readonly name = 'ingest:external-broker';
  private client?: MqttClient;
  private connected = false;

  constructor(
    private readonly opts: ExternalSourceOptions,
    private readonly deps: { pipeline: IngestPipeline; log: Logger },
  ) {}

  async start(): Promise<void> {
    const { log, pipeline } = this.deps;
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 24 * 3600 },
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      resubscribe: true,
      customHandleAcks: (topic, message, _packet, done) => {
        pipeline.accept({ topic, payload: message, source: 'external' }).then(
          () => done(0),
          (err: Error) => {
            log.error({ topic, err: err.message }, 'telemetry not stored; reconnecting so the broker redelivers');
            client.stream?.destroy();
          },
        );
      },
    });
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      if (packet.qos !== 0) return; // QoS 1/2 went through customHandleAcks
      pipeline.accept({ topic, payload, source: 'external' }).catch((err: Error) =>
        log.error({ topic, err: err.message }, 'QoS 0 telemetry lost: store failed'),
      );
    });
    client.on('connect', (connack) => {
      this.connected = true;
      log.info({ url: this.opts.url, sessionPresent: connack.sessionPresent }, 'ingest connected to external broker');
      if (!connack.sessionPresent) {
        client.subscribe(TELEMETRY_SHARED_SUBSCRIPTION, { qos: 1 }, (err, granted) => {
          if (err || granted?.some((g) => g.qos > 2)) log.error({ err: err?.message, granted }, 'shared subscription refused');
        });
      }
    });
    client.on('close', () => (this.connected = false));
    client.on('error', (err) => log.warn({ err: err.message }, 'external broker error'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`could not connect to NETZERO_MQTT_URL ${this.opts.url} within 15 s`)), 15_000);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  publish(topic: string, payload: string): void {
    this.client?.publish(topic, payload, { qos: 0 });
  }

  healthy(): boolean {
    return this.connected;
  }

  /** The external broker stands where the embedded one would: its connection is the `broker` verdict. */
  health(): RoomHealth {
    return { verdict: { broker: this.connected } };
  }

  async stop(): Promise<void> {
    if (!this.client) return;
    await this.client.endAsync();
  }
}
