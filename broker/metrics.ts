import { Counter, Gauge, type Registry } from 'prom-client';

/** The broker's metrics, registered on the service's registry. */
export function createBrokerMetrics(registry: Registry) {
  return {
    authFailures: new Counter({
      name: 'netzero_mqtt_auth_failures_total',
      help: 'Refused MQTT connections, by reason (no_credentials, unknown_device, bad_credentials, rate_limited, overloaded, client_id_rejected, unavailable)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    secretChecks: new Counter({
      name: 'netzero_mqtt_secret_checks_total',
      help: 'Device secrets checked against their stored hash, by hash scheme (hmac-sha256: microseconds; scrypt: legacy, tens of ms)',
      labelNames: ['scheme'] as const,
      registers: [registry],
    }),
    authQueueDepth: new Gauge({
      name: 'netzero_mqtt_auth_queue_depth',
      help: 'Legacy (scrypt) secret checks waiting for their turn',
      registers: [registry],
    }),
    authChecksDropped: new Counter({
      name: 'netzero_mqtt_auth_checks_dropped_total',
      help: 'Queued secret checks never run: client_gone (the socket closed first) or stopping (the broker stopped)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    hashUpgrades: new Counter({
      name: 'netzero_mqtt_secret_hash_upgrades_total',
      help: 'Legacy scrypt hashes re-hashed to hmac-sha256 after a successful login',
      registers: [registry],
    }),
    authzDenied: new Counter({
      name: 'netzero_mqtt_authz_denied_total',
      help: 'Refused publishes and subscriptions',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    publishRefused: new Counter({
      name: 'netzero_mqtt_publish_refused_total',
      help: 'Publishes refused by the broker rules (qos2, retained_telemetry, status_payload, oversize); the connection is closed and the refusal recorded in the quarantine under the device id',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    subscribeDowngraded: new Counter({
      name: 'netzero_mqtt_subscribe_qos_downgraded_total',
      help: 'Subscriptions asking QoS 2, granted QoS 1',
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
