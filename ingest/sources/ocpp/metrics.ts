import { Counter, Gauge, type Registry } from 'prom-client';

/** The OCPP endpoint's metrics, registered on the service's registry. */
export function createOcppMetrics(registry: Registry) {
  return {
    connections: new Gauge({
      name: 'netzero_ocpp_connections',
      help: 'Chargers connected to the OCPP endpoint now',
      registers: [registry],
    }),
    handshakes: new Counter({
      name: 'netzero_ocpp_handshakes_total',
      help: 'OCPP WebSocket handshakes by outcome (accepted, bad_credentials, unknown_device, wrong_kind, rate_limited, …)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    calls: new Counter({
      name: 'netzero_ocpp_calls_total',
      help: 'OCPP calls from chargers by action and outcome (ok, error, rate_limited, invalid)',
      labelNames: ['action', 'outcome'] as const,
      registers: [registry],
    }),
    samples: new Counter({
      name: 'netzero_ocpp_samples_total',
      help: 'Register values and sample timestamps from chargers by outcome (reading, no_energy, placeholder, unit_corrected, unmapped_connector, unreadable)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}

export type OcppMetrics = ReturnType<typeof createOcppMetrics>;
