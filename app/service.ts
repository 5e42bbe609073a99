import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { openAccounts, type Accounts } from '../accounting/accounts.js';
import { RollupScheduler } from '../accounting/rollups/scheduler.js';
import { EmbeddedBroker } from '../broker/broker.js';
import { openStateDb, type StateDb } from '../store/state-db.js';
import { DeviceRegistry } from '../devices/registry.js';
import { GroupCommitter } from '../ingest/group-commit.js';
import { IngestPipeline } from '../ingest/pipeline.js';
import { Quarantine } from '../ingest/quarantine.js';
import { defaultIngestClientId, ExternalSource } from '../ingest/sources/external.js';
import { topicFor } from '../devices/topics.js';
import { InfluxStore } from '../store/influx/influx-store.js';
import { openReadingStore } from '../store/open-store.js';
import type { ReadingStore } from '../store/types.js';
import { loadOrCreateAdminToken } from './admin-token.js';
import type { Config } from './config.js';
import { DemoRunner } from './demo.js';
import { buildHttpServer } from './http/server.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { NodeRedRoom } from './nodered.js';

export interface Ports {
  mqtt?: number;
  ws?: number;
  http: number;
  nodered?: number;
  ocpp?: number;
}

/**
 * The whole system in one process: device → broker → ingest → store → accounting → views.
 * The constructor does no I/O; `start()` brings the rooms up in path order and `stop()` takes them down
 * so that everything acknowledged is committed first.
 */
export class Service {
  readonly metrics: Metrics = createMetrics();
  private state?: StateDb;
  private store?: ReadingStore;
  private committer?: GroupCommitter;
  private broker?: EmbeddedBroker;
  private external?: ExternalSource;
  private http?: FastifyInstance;
  private demo?: DemoRunner;
  private nodered?: NodeRedRoom;
  private scheduler?: RollupScheduler;
  accounts?: Accounts;
  private stopping?: Promise<void>;
  ports?: Ports;
  adminToken?: string;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  async start(): Promise<Ports> {
    const { config, log, metrics } = this;
    fs.mkdirSync(config.dataDir, { recursive: true });
    const admin = loadOrCreateAdminToken(config.dataDir, config.adminToken);
    this.adminToken = admin.token;
    if (admin.created) {
      // Shown once, on the console only (never in the JSON logs).
      process.stderr.write(`\nAdmin token (shown once, also in ${admin.file}):\n  ${admin.token}\n\n`);
    }

    this.state = await openStateDb(config.dataDir);
    const registry = new DeviceRegistry(this.state);
    const quarantine = new Quarantine(this.state);
    this.store = openReadingStore(config, {
      log: log.child({ room: 'store' }),
      metrics,
      onRejected: async (readings, reason) => {
        for (const r of readings) {
          await quarantine.add({
            device: r.device,
            topic: topicFor(r.site, r.device, 'telemetry'),
            receivedAt: new Date(r.receivedAt),
            errors: [{ field: 'store', reason }],
            raw: JSON.stringify({ ts: new Date(r.ts).toISOString(), seq: r.seq, ...r.fields, ...r.extras }),
          });
        }
      },
    });
    await this.store.start();
    this.committer = new GroupCommitter(this.store, metrics);
    const accounts = await openAccounts({ state: this.state, store: this.store, registry, tz: config.timeZone, gwpSet: config.gwpSet });
    this.accounts = accounts;

    const pipeline = new IngestPipeline({
      registry,
      committer: this.committer,
      quarantine,
      metrics,
      log: log.child({ room: 'ingest' }),
      publishError: (topic, message) => {
        const text = JSON.stringify(message);
        if (this.broker) this.broker.publish(topic, text);
        else this.external?.publish(topic, text);
      },
    });

    let localMqttUrl: string;
    if (config.mqttUrl) {
      this.external = new ExternalSource(
        { url: config.mqttUrl, username: config.mqttUsername, password: config.mqttPassword, clientId: defaultIngestClientId(config.dataDir) },
        { pipeline, log: log.child({ room: 'ingest' }) },
      );
      await this.external.start();
      localMqttUrl = config.mqttUrl;
    } else {
      this.broker = new EmbeddedBroker(
        {
          registry,
          metrics,
          log: log.child({ room: 'broker' }),
          sink: (msg) => pipeline.accept({ ...msg, source: 'embedded' }),
        },
        { host: config.host, port: config.mqttPort, wsPort: config.mqttWsPort },
      );
      await this.broker.start();
      localMqttUrl = `mqtt://127.0.0.1:${this.broker.ports.mqtt}`;
    }

    const scheduler = new RollupScheduler(
      { rollups: accounts.rollups, store: this.store, log: log.child({ room: 'accounting' }) },
      { tz: config.timeZone, lateCheckS: config.rollupLateCheckS },
    );
    this.scheduler = scheduler;
    this.http = buildHttpServer({
      registry,
      store: this.store,
      quarantine,
      metrics,
      accounts,
      log: log.child({ room: 'http' }),
      adminToken: admin.token,
      timeZone: config.timeZone,
      health: () => this.health(),
      healthDetails: () => this.healthDetails(),
      restateForFactor: (version) => scheduler.restateForFactor(version),
      computeRollup: (month) => scheduler.computeNow(month),
    });
    await this.http.listen({ port: config.httpPort, host: config.host });
    const httpPort = (this.http.server.address() as AddressInfo).port;

    this.ports = { http: httpPort, ...(this.broker ? { mqtt: this.broker.ports.mqtt, ws: this.broker.ports.ws } : {}) };
    if (config.noderedPort !== 0) {
      this.nodered = new NodeRedRoom({
        port: config.noderedPort,
        host: config.host,
        dataDir: config.dataDir,
        logger: log.child({ room: 'flows' }),
        mqttUrl: localMqttUrl,
        adminToken: admin.token,
      });
      // Node-RED is for operators' adapters, never on the write path: if it fails, the service stays up.
      this.ports.nodered = await this.nodered.start().catch(() => undefined);
    }
    if (config.ocppPort !== 0) log.warn('the OCPP endpoint is not part of this version yet; NETZERO_OCPP_PORT is ignored');
    const portsFile = path.join(config.dataDir, 'ports.json');
    fs.writeFileSync(`${portsFile}.tmp`, JSON.stringify(this.ports));
    fs.renameSync(`${portsFile}.tmp`, portsFile);

    await scheduler.start();

    if (config.demo) {
      this.demo = new DemoRunner({
        registry,
        logger: log.child({ room: 'demo' }),
        mqttUrl: localMqttUrl,
        intervalS: config.demoIntervalS,
      });
      // The demo is a convenience: the service is up whether or not it manages to start.
      this.demo.start().catch((err: Error) => log.error({ err: err.message }, 'demo fleet failed to start'));
    }
    log.info({ ports: this.ports, dataDir: config.dataDir, store: this.store.name, broker: this.broker ? 'embedded' : config.mqttUrl }, 'netzero started');
    return this.ports;
  }

  health(): Record<string, boolean> {
    return {
      broker: this.broker ? this.broker.healthy() : (this.external?.healthy() ?? false),
      ingest: !!this.committer,
      store: this.store?.healthy() ?? false,
    };
  }

  /** Not part of the up/down verdict: with the spool, ingest goes on while InfluxDB is down. */
  healthDetails(): Record<string, unknown> {
    if (!(this.store instanceof InfluxStore)) return { store_kind: this.store?.name };
    return { store_kind: this.store.name, influx_reachable: this.store.remoteHealthy, spool: this.store.spoolStats() };
  }

  /** Graceful stop: commit what is queued (its PUBACKs go out), then close listeners and stores. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { log } = this;
      await this.demo?.stop().catch((err: Error) => log.warn({ err: err.message }, 'demo stop failed'));
      await this.nodered?.stop().catch((err: Error) => log.warn({ err: err.message }, 'Node-RED stop failed'));
      await this.committer?.drain();
      await this.scheduler?.stop();
      await this.broker?.stop();
      await this.external?.stop();
      await this.http?.close();
      await this.store?.close();
      await this.state?.destroy();
      log.info('netzero stopped');
    })();
    return this.stopping;
  }
}
