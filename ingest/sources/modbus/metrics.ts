import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The Modbus poller's metrics, registered on the service's registry. */
export function createModbusMetrics(registry: Registry) {
  return {
    polls: new Counter({
      name: 'netzero_modbus_polls_total',
      help: 'Modbus polls, by outcome (ok, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    failures: new Counter({
      name: 'netzero_modbus_poll_failures_total',
      help: 'Failed Modbus polls, by reason (timeout, connect, modbus_exception, sunspec, other)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'netzero_modbus_poll_seconds',
      help: 'Time one Modbus poll took, connecting included (failed polls too)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    late: new Histogram({
      name: 'netzero_modbus_poll_lateness_seconds',
      help: 'How long after its due time a poll started (waiting for a free poll slot)',
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    devices: new Gauge({
      name: 'netzero_modbus_devices',
      help: 'Devices the poller reads (registered with params.modbus)',
      registers: [registry],
    }),
    offline: new Gauge({
      name: 'netzero_modbus_devices_offline',
      help: 'Polled devices shown offline (their last polls failed)',
      registers: [registry],
    }),
  };
}
export type ModbusMetrics = ReturnType<typeof createModbusMetrics>;
