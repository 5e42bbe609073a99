import { Counter, Histogram, type Registry } from 'prom-client';

/** Ingest's metrics, registered on the service's registry. */
export function createIngestMetrics(registry: Registry) {
  return {
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
    storeLatency: new Histogram({
      name: 'netzero_store_commit_seconds',
      help: 'Time to commit one batch to the store',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    commitFailures: new Counter({
      name: 'netzero_store_commit_failures_total',
      help: 'Commits that failed for a fault of the store (nothing acknowledged), by cause (sqlite_full, enospc, …)',
      labelNames: ['cause'] as const,
      registers: [registry],
    }),
    refusedByStore: new Counter({
      name: 'netzero_readings_refused_by_store_total',
      help: 'Readings the store could not take for their own sake: quarantined, the rest of their batch stored',
      registers: [registry],
    }),
    intervalWarnings: new Counter({
      name: 'netzero_interval_warnings_total',
      help: 'Intervals stored with a quality other than ok (reset, wrap, step_back, jump, implausible): the device was warned',
      labelNames: ['quality'] as const,
      registers: [registry],
    }),
    qos0Unstored: new Counter({
      name: 'netzero_qos0_messages_unstored_total',
      help: 'QoS 0 messages let go before their commit whose commit then failed (a store fault): lost, as QoS 0 allows',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'netzero_store_batch_readings',
      help: 'Readings per committed batch (group commit)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
      registers: [registry],
    }),
  };
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
