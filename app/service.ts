import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { roomsPorts, startRooms, stopRooms, type Room } from '../lib/rooms.js';
import { loadOrCreateAdminToken } from './admin-token.js';
import type { Config } from './config.js';
import { buildRooms } from './rooms.js';

export interface Ports {
  mqtt?: number;
  ws?: number;
  http: number;
  nodered?: number;
  ocpp?: number;
}

/**
 * The whole system in one process: device → broker → ingest → store → accounting → views, as the list
 * of rooms `buildRooms` wires. The constructor does no I/O; `start()` brings the rooms up in path order
 * and `stop()` takes them down in reverse, so everything acknowledged is committed first.
 */
export class Service {
  /** the Prometheus registry every room registers its metrics on (one per service: tests may run several) */
  readonly metrics = new Registry();
  private rooms: Room[] = [];
  private stopping?: Promise<void>;
  ports?: Ports;
  adminToken?: string;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    collectDefaultMetrics({ register: this.metrics, prefix: 'netzero_process_' });
  }

  async start(): Promise<Ports> {
    const { config, log } = this;
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const admin = loadOrCreateAdminToken(config.dataDir, config.adminToken);
    this.adminToken = admin.token;
    if (admin.created) {
      // Shown once, on the console only (never in the JSON logs).
      process.stderr.write(`\nAdmin token (shown once, also in ${admin.file}):\n  ${admin.token}\n\n`);
    }
    const rooms = buildRooms(config, log, this.metrics, admin.token);
    await startRooms(rooms, log);
    this.rooms = rooms;

    this.ports = roomsPorts(rooms) as unknown as Ports;
    const portsFile = path.join(config.dataDir, 'ports.json');
    fs.writeFileSync(`${portsFile}.tmp`, JSON.stringify(this.ports));
    fs.renameSync(`${portsFile}.tmp`, portsFile);
    log.info({ ports: this.ports, dataDir: config.dataDir, rooms: rooms.map((r) => r.name), broker: config.mqttUrl ?? 'embedded' }, 'netzero started');
    return this.ports;
  }

  /** Graceful stop: the rooms in reverse order (queued readings are committed and their PUBACKs go out before the broker closes). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await stopRooms(this.rooms, this.log);
      this.log.info('netzero stopped');
    })();
    return this.stopping;
  }
}
