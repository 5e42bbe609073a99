import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AccountingRoom } from '../accounting/room.js';
import { EmbeddedBroker } from '../broker/broker.js';
import { createBrokerMetrics } from '../broker/metrics.js';
import { DeviceRegistry } from '../devices/registry.js';
import { topicFor } from '../devices/topics.js';
import { DemoRunner } from '../devices/simulators/demo-runner.js';
import { NodeRedRoom } from '../flows/nodered-room.js';
import { OperatorStore } from '../devices/operators.js';
import { DeviceActivity } from '../ingest/device-activity.js';
import { DeviceStatusBoard } from '../ingest/device-status.js';
import { StoreFeedback } from '../ingest/feedback.js';
import { Ingest } from '../ingest/ingest.js';
import { createIngestMetrics } from '../ingest/metrics.js';
import { Quarantine } from '../ingest/quarantine.js';
import { CsvImportSource } from '../ingest/sources/csv-import.js';
import { EmbeddedSource } from '../ingest/sources/embedded.js';
import { defaultIngestClientId, ExternalSource } from '../ingest/sources/external.js';
import { createModbusMetrics } from '../ingest/sources/modbus/metrics.js';
import { ModbusSource } from '../ingest/sources/modbus/source.js';
import { OcppSource } from '../ingest/sources/ocpp/room.js';
import type { IngestSource } from '../ingest/sources/source.js';
import { roomsHealth, roomsPorts, type Room } from '../lib/rooms.js';
import { StateRoom } from '../lib/state-db.js';
import { createStoreMetrics } from '../store/metrics.js';
import { openReadingStore } from '../store/open-store.js';
import { StoreRoom } from '../store/room.js';
import type { Config } from './config.js';
import { HttpRoom } from './http/room.js';
import { STATE_TABLES } from './state.js';

/**
 * The service's rooms in path order: state → store → ingest → broker → ingest source → accounting →
 * HTTP → Node-RED → demo. Each later room may rely on those before it; the service starts them in this
 * order and stops them in reverse (demo first; the source stops taking telemetry and waits for what is
 * in flight before the broker closes; ingest commits its queue before the store closes).
 * Building them does no I/O.
 */
export function buildRooms(config: Config, log: Logger, metrics: Registry, adminToken: string): Room[] {
  const state = new StateRoom(config.dataDir, STATE_TABLES);
  const registry = new DeviceRegistry(state.db);
  const quarantine = new Quarantine(state.db);
  const store = openReadingStore(config, {
    log: log.child({ room: 'store' }),
    metrics: createStoreMetrics(metrics),
    onRejected: (readings, reason) => quarantine.addStoreRejections(readings, reason),
  });

  let source: IngestSource | undefined;
  const ingestMetrics = createIngestMetrics(metrics);
  const publishError = (topic: string, message: object) => source?.publish?.(topic, JSON.stringify(message));
  // Per-device counts and latest reading for the operator view (GET /api/operators/devices).
  const activity = new DeviceActivity();
  const ingest = new Ingest({ registry, writer: store, quarantine, metrics: ingestMetrics, log: log.child({ room: 'ingest' }), publishError, activity });
  // Warnings for intervals that are not `ok` and conflicting resends, once the store has them (ingest/feedback.ts).
  store.setEvents?.(new StoreFeedback({ quarantine, metrics: ingestMetrics, log: log.child({ room: 'ingest' }), publishError, activity }));

  let broker: EmbeddedBroker | undefined;
  if (config.mqttUrl) {
    source = new ExternalSource(
      { url: config.mqttUrl, username: config.mqttUsername, password: config.mqttPassword, clientId: defaultIngestClientId(config.dataDir) },
      { pipeline: ingest.pipeline, log: log.child({ room: 'ingest' }) },
    );
  } else {
    broker = new EmbeddedBroker(
      {
        registry,
        metrics: createBrokerMetrics(metrics),
        log: log.child({ room: 'broker' }),
        // A publish refused by closing the connection is recorded under the device id, so its operator finds out why it keeps reconnecting.
        onRefused: (r) => {
          activity.rejected(r.device, 1);
          void quarantine
            .add({ device: r.device, topic: r.topic ?? topicFor(r.site, r.device, 'telemetry'), receivedAt: new Date(), errors: [{ field: r.field, reason: r.reason }], raw: '' })
            .catch((err: Error) => log.error({ device: r.device, err: err.message }, 'could not record a refused publish'));
        },
        // An MQTT device's own retained `status` (its Last Will too) shows beside the states the sources set.
        onStatus: (device, online) => statusBoard.observed(device, online),
      },
      { host: config.host, port: config.mqttPort, wsPort: config.mqttWsPort, maxConnections: config.mqttMaxConnections },
    );
    source = new EmbeddedSource({ broker, pipeline: ingest.pipeline, metrics: ingestMetrics, log: log.child({ room: 'ingest' }) });
  }
  /** Where simulated devices and operators' flows publish: the embedded broker, or the external one. */
  const mqttUrl = () => (broker ? `mqtt://127.0.0.1:${broker.ports().mqtt}` : config.mqttUrl!);

  // The connection state of devices the service reaches itself (OCPP, Modbus), published retained on their `status` topics.
  const statusBoard = new DeviceStatusBoard({ publishRetained: (topic, text) => broker?.publish(topic, text, { qos: 1, retain: true }) });
  // Devices the service polls over Modbus TCP (params.modbus: SunSpec or a register map), through the same pipeline.
  const modbus = new ModbusSource({ registry, pipeline: ingest.pipeline, statusBoard, metrics: createModbusMetrics(metrics), log: log.child({ room: 'modbus' }) });
  // Chargers speaking OCPP 1.6J to the central system (`ws://host:port/ocpp/{charger id}`), through the same pipeline; 0 = off.
  const ocpp =
    config.ocppPort !== 0
      ? new OcppSource(
          { host: config.host, port: config.ocppPort },
          { pipeline: ingest.pipeline, registry, quarantine, statusBoard, state: state.db, metrics, log: log.child({ room: 'ocpp' }) },
        )
      : undefined;

  const accounting = new AccountingRoom({
    state: state.db,
    store,
    registry,
    tz: config.timeZone,
    gwpSet: config.gwpSet,
    lateCheckS: config.rollupLateCheckS,
    log: log.child({ room: 'accounting' }),
  });

  // CSV backfill through the same pipeline (POST /api/devices/:id/import, `netzero import`): stopped before ingest drains.
  const csvImport = new CsvImportSource({ registry, pipeline: ingest.pipeline, quarantine, metrics: ingestMetrics, log: log.child({ room: 'ingest' }), stored: store });

  const rooms: Room[] = [state, new StoreRoom(store), ingest, ...(broker ? [broker] : []), source, ...(ocpp ? [ocpp] : []), modbus, csvImport, accounting];
  rooms.push(
    new HttpRoom(
      {
        registry,
        store,
        quarantine,
        statusBoard,
        imports: csvImport,
        metrics,
        accounts: accounting.accounts,
        log: log.child({ room: 'http' }),
        adminToken,
        timeZone: config.timeZone,
        health: () => roomsHealth(rooms),
        restateForFactor: (version) => accounting.scheduler.restateForFactor(version),
        restateForReview: (months, cause) => accounting.scheduler.restateForReview(months, cause),
        computeRollup: (month) => accounting.scheduler.computeNow(month),
        limits: config.http,
        operators: new OperatorStore(state.db),
        activity,
        listeners: () => roomsPorts(rooms),
      },
      { host: config.host, port: config.httpPort },
    ),
  );
  // operators' flows reach the HTTP API (netzero-summary) on the port the HTTP room took
  const httpUrl = () => `http://127.0.0.1:${roomsPorts(rooms).http}`;
  if (config.noderedPort !== 0) rooms.push(noderedRoom(config, log, adminToken, mqttUrl, httpUrl));
  if (config.demo) rooms.push(demoRoom(config, log, registry, mqttUrl));
  return rooms;
}

/** Node-RED is for operators' adapters, never on the write path: if it fails to start, the service stays up without it. */
function noderedRoom(config: Config, log: Logger, adminToken: string, mqttUrl: () => string, httpUrl: () => string): Room {
  let nodered: NodeRedRoom | undefined;
  let port: number | undefined;
  return {
    name: 'flows',
    async start() {
      nodered = new NodeRedRoom({ port: config.noderedPort, host: config.host, dataDir: config.dataDir, logger: log.child({ room: 'flows' }), mqttUrl: mqttUrl(), httpUrl: httpUrl(), adminToken });
      port = await nodered.start().catch(() => undefined);
    },
    stop: async () => nodered?.stop(),
    ports: () => ({ nodered: port }),
  };
}

/** The demo fleet is a convenience: the service is up whether or not it manages to start. */
function demoRoom(config: Config, log: Logger, registry: DeviceRegistry, mqttUrl: () => string): Room {
  let demo: DemoRunner | undefined;
  return {
    name: 'demo',
    async start() {
      demo = new DemoRunner({ registry, logger: log.child({ room: 'demo' }), mqttUrl: mqttUrl(), intervalS: config.demoIntervalS });
      demo.start().catch((err: Error) => log.error({ err: err.message }, 'demo fleet failed to start'));
    },
    stop: async () => demo?.stop(),
  };
}
