import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The store's metrics (duplicates it recognised, the spool, InfluxDB writes), registered on the service's registry. */
export function createStoreMetrics(registry: Registry) {
  return {
    duplicates: new Counter({
      name: 'netzero_readings_duplicate_total',
      help: 'Readings already stored (same device, ts, seq), acknowledged and not stored again',
      registers: [registry],
    }),
    transactionReadings: new Histogram({
      name: 'netzero_store_transaction_readings',
      help: 'Readings per write transaction of the embedded store (the batches waiting for its writer thread are committed together)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
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
  };
}
export type StoreMetrics = ReturnType<typeof createStoreMetrics>;
