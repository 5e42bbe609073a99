import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one service instance (its own registry: tests may run several). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'netzero_process_' });
  return {
    registry,
    messagesIn: new Counter({
      name: 'netzero_messages_in_total',
      help: 'Telemetry messages received by ingest',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    readingsIn: new Counter({
      name: 'netzero_readings_in_total',
      help: 'Readings received (a batch message holds many)',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'netzero_rejected_total',
      help: 'Rejected messages or batch readings, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    committed: new Counter({
      name: 'netzero_readings_committed_total',
      help: 'Readings committed to the store (duplicates not counted)',
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'netzero_readings_duplicate_total',
      help: 'Readings already stored (same device, ts, seq), acknowledged and not stored again',
      registers: [registry],
    }),
    storeLatency: new Histogram({
      name: 'netzero_store_commit_seconds',
      help: 'Time to commit one batch to the store',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'netzero_store_batch_readings',
      help: 'Readings per committed batch (group commit)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'netzero_mqtt_auth_failures_total',
      help: 'Refused MQTT connections, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    authzDenied: new Counter({
      name: 'netzero_mqtt_authz_denied_total',
      help: 'Refused publishes and subscriptions',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    spoolRecords: new Gauge({
      name: 'netzero_spool_records',
      help: 'Batches waiting in the on-disk spool for the remote store',
      registers: [registry],
    }),
    spoolBytes: new Gauge({
      name: 'netzero_spool_bytes',
      help: 'Bytes waiting in the on-disk spool',
      registers: [registry],
    }),
    spoolOldestAge: new Gauge({
      name: 'netzero_spool_oldest_age_seconds',
      help: 'Age of the oldest batch waiting in the spool',
      registers: [registry],
    }),
    influxWriteLatency: new Histogram({
      name: 'netzero_influx_write_seconds',
      help: 'Time of one write request to InfluxDB',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    influxRetries: new Counter({
      name: 'netzero_influx_retries_total',
      help: 'InfluxDB writes or neighbour queries retried (network, 5xx, 429)',
      registers: [registry],
    }),
    influxRejected: new Counter({
      name: 'netzero_influx_rejected_batches_total',
      help: 'Batches InfluxDB refused for good (4xx other than 429), sent to the quarantine',
      registers: [registry],
    }),
    influxPoints: new Counter({
      name: 'netzero_influx_points_written_total',
      help: 'Points written to InfluxDB (readings, intervals, receipts)',
      registers: [registry],
    }),
    clients: new Gauge({
      name: 'netzero_mqtt_clients',
      help: 'Connected MQTT clients on the embedded broker',
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
