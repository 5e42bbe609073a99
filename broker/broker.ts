import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from 'pino';
import type { Device, DeviceRegistry } from '../devices/registry.js';
import type { Room, RoomHealth } from '../lib/rooms.js';
import { createAuthHooks, type DeviceRefusal, type TelemetryHandler } from './auth.js';
import type { BrokerMetrics } from './metrics.js';
import { connectionCap, openFileLimit } from './connection-cap.js';
import { limitPacketSize, MAX_PACKET_BYTES } from './packet-limit.js';
import { capSubscribeQos } from './subscribe-qos.js';

export interface BrokerOptions {
  host: string;
  port: number;
  /** MQTT over WebSocket; 0 = off (contract) */
  wsPort: number;
  /** NETZERO_MQTT_MAX_CONNECTIONS (see ./connection-cap.ts) */
  maxConnections?: number;
}

/**
 * The embedded MQTT broker (aedes) with a TCP listener and an optional WebSocket listener on `/mqtt`.
 * Devices authenticate against the registry; authorised telemetry goes to the handler ingest registers
 * (`setTelemetryHandler`), and the QoS 1 PUBACK waits for it (see ./auth.ts).
 */
export class EmbeddedBroker implements Room {
  readonly name = 'broker';
  private aedes?: Aedes;
  private hooks?: ReturnType<typeof createAuthHooks>;
  private telemetry?: TelemetryHandler;
  private tcp?: net.Server;
  private wsHttp?: http.Server;
  private wss?: WebSocketServer;
  private bound: { mqtt?: number; ws?: number } = {};
  private offChanged?: () => void;

  constructor(
    private readonly deps: {
      registry: DeviceRegistry;
      metrics: BrokerMetrics;
      log: Logger;
      onRefused?: (r: DeviceRefusal) => void;
      onStatus?: (device: Device, online: boolean) => void;
    },
    private readonly opts: BrokerOptions,
  ) {}

  async start(): Promise<void> {
    const { log, metrics } = this.deps;
    const { cap, lowered } = connectionCap(this.opts.maxConnections, openFileLimit());
    if (lowered) log.warn({ asked: this.opts.maxConnections, cap }, `NETZERO_MQTT_MAX_CONNECTIONS is more than the open-file limit allows; holding at most ${cap} connections (raise the limit: ulimit -n)`);
    const hooks = createAuthHooks({ ...this.deps, telemetry: () => this.telemetry, connections: cap === null ? undefined : { cap, held: () => this.aedes?.connectedClients ?? 0 } });
    this.hooks = hooks;
    const aedes = await Aedes.createBroker({
      id: 'netzero',
      authenticate: hooks.authenticate,
      authorizePublish: hooks.authorizePublish,
      authorizeSubscribe: hooks.authorizeSubscribe,
      authorizeForward: hooks.authorizeForward,
      heartbeatInterval: 60_000,
      connectTimeout: 10_000,
      maxClientsIdLength: 128,
    });
    this.aedes = aedes;
    aedes.on('client', () => metrics.clients.inc());
    aedes.on('clientDisconnect', () => metrics.clients.dec());
    aedes.on('clientError', (client: Client, err: Error) => log.debug({ client: client?.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (_client: Client, err: Error) => log.debug({ err: err.message }, 'mqtt connection error'));

    const handle = (stream: import('node:stream').Duplex, req?: http.IncomingMessage) => {
      const client = aedes.handle(stream, req as never) as unknown as Client;
      limitPacketSize(client, MAX_PACKET_BYTES, (bytes) => hooks.oversize(client, bytes));
      capSubscribeQos(client, 1, (n) => metrics.subscribeDowngraded.inc(n));
    };

    this.tcp = net.createServer((socket) => handle(socket));
    this.bound.mqtt = await listen(this.tcp, this.opts.port, this.opts.host);

    if (this.opts.wsPort !== 0) {
      this.wsHttp = http.createServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect to /mqtt\n');
      });
      this.wss = new WebSocketServer({ server: this.wsHttp, path: '/mqtt', maxPayload: MAX_PACKET_BYTES * 2 });
      this.wss.on('connection', (ws, req) => handle(createWebSocketStream(ws), req));
      this.bound.ws = await listen(this.wsHttp, this.opts.wsPort, this.opts.host);
    }
    // a replaced secret or a disabled device: its sessions end at once, and its next login is checked again
    this.offChanged = this.deps.registry.onChanged((c) => this.disconnectDevice(c.id, c.what === 'secret' ? 'secret replaced' : `device ${c.what}`));
    log.info({ ports: this.bound, maxConnections: cap }, 'mqtt broker listening');
  }

  /** Publish from the pipeline itself (errors topic); not subject to device authorization. */
  publish(topic: string, payload: string, opts: { qos?: 0 | 1; retain?: boolean } = {}): void {
    this.aedes?.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false },
      (err) => {
        if (err) this.deps.log.warn({ topic, err: err.message }, 'internal publish failed');
      },
    );
  }

  /**
   * Closes every connection logged in as this device (its secret was replaced, or it was disabled): it must
   * log in again, and the new check decides. Returns how many were closed.
   */
  disconnectDevice(id: string, why: string): number {
    const clients = (this.aedes as unknown as { clients?: Record<string, Client> } | undefined)?.clients ?? {};
    let closed = 0;
    for (const client of Object.values(clients)) {
      if (client.closed || this.hooks?.deviceOf(client)?.id !== id) continue;
      client.close();
      closed++;
    }
    if (closed > 0) this.deps.log.info({ device: id, connections: closed, why }, 'mqtt connections of the device closed');
    return closed;
  }

  /** Where authorised telemetry goes from now on; `undefined` refuses it (unacknowledged, so devices resend). */
  setTelemetryHandler(handler: TelemetryHandler | undefined): void {
    this.telemetry = handler;
  }

  healthy(): boolean {
    return !!this.aedes && !this.aedes.closed && !!this.tcp?.listening;
  }

  health(): RoomHealth {
    return { verdict: { broker: this.healthy() } };
  }

  /** The ports bound once started (`ws` absent when WebSocket is off). */
  ports(): { mqtt?: number; ws?: number } {
    return { ...this.bound };
  }

  /**
   * Cancel queued secret checks (and wait for the running ones), stop accepting connections, close
   * clients (their Last Will fires), close the broker. Nothing of the broker's runs after this.
   */
  async stop(): Promise<void> {
    this.offChanged?.();
    const { cancelled } = (await this.hooks?.stop()) ?? { cancelled: 0 };
    const closeServer = (s?: net.Server | http.Server) =>
      new Promise<void>((resolve) => (s && s.listening ? s.close(() => resolve()) : resolve()));
    this.wss?.clients.forEach((c) => c.terminate());
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    const closing = Promise.all([closeServer(this.tcp), closeServer(this.wsHttp)]);
    if (this.aedes) await new Promise<void>((resolve) => this.aedes!.close(() => resolve()));
    await closing;
    this.deps.log.info({ cancelledChecks: cancelled }, 'mqtt broker stopped');
  }
}

/**
 * Connections the kernel queues for accept, at most (it caps this at net.core.somaxconn). Node's default of
 * 511 overflows when thousands of devices reconnect at once after a restart: a dropped SYN is retried only
 * after 1, 3, 7, 15 s …, so a few drops per device stretched a reconnect storm far beyond the work it took.
 */
export const LISTEN_BACKLOG = 4096;

function listen(server: net.Server | http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
