import { Counter, Gauge, type Registry } from 'prom-client';

/** The broker's metrics, registered on the service's registry. */
export function createBrokerMetrics(registry: Registry) {
  return {
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
    clients: new Gauge({
      name: 'netzero_mqtt_clients',
      help: 'Connected MQTT clients on the embedded broker',
      registers: [registry],
    }),
  };
}
export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;
