import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { loadOrCreateCredentialSecret, nodeRedSettings, nodeRedUserDir, type NodeRedSettings } from './settings.js';
import type { Logger } from 'pino';

/**
 * The flows/ room: Node-RED embedded in the service's process on its own port (NETZERO_NODERED_PORT),
 * as Node-RED's "embedding into an existing app" describes. It is for operators' adapter flows and is
 * never on the write-critical path: a failure here is logged and reported by `start()`, never thrown
 * into the rest of the service.
 */

export interface NodeRedRoomOptions {
  /** port for the editor and the flows' HTTP endpoints; 0 picks a free port (the service treats 0 as "off" and never constructs the room) */
  port: number;
  host: string;
  /** the service's data directory; Node-RED keeps its flows and credentials in `<dataDir>/nodered` */
  dataDir: string;
  logger: Logger;
  /** the broker flows should publish to, offered to function nodes as `global.get('netzero').mqttUrl` */
  mqttUrl?: string;
  /** the service's HTTP API, offered as `global.get('netzero').httpUrl` (netzero-summary reads it) */
  httpUrl?: string;
  /**
   * Protect the editor and admin API: user `admin` with this password, or `Authorization: Bearer <token>`.
   * Without it, anyone who reaches the port can edit and deploy flows (which can run code).
   */
  adminToken?: string;
  /** override of the project nodes folder (tests); defaults to the source folder flows/nodes */
  nodesDir?: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, next?: (err?: unknown) => void) => void;

interface ExpressApp extends Handler {
  use(path: string, handler: Handler): void;
  disable(setting: string): void;
}

/** What we use of the `node-red` module (it ships no type declarations). */
interface NodeRedRuntime {
  init(server: http.Server, settings: NodeRedSettings): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly httpAdmin: Handler;
  readonly httpNode: Handler;
}

/** Environment variables the room sets for flows (unless already set): `${NETZERO_FLOWS_MQTT_URL}` in a node's property. */
export const FLOW_ENV = { mqttUrl: 'NETZERO_FLOWS_MQTT_URL', httpUrl: 'NETZERO_FLOWS_HTTP_URL' } as const;

/** Node-RED is one runtime per process: whether a room holds it. */
let runtimeHeld = false;

export class NodeRedRoom {
  private server?: http.Server;
  private red?: NodeRedRuntime;
  private starting?: Promise<number>;
  private stopping?: Promise<void>;
  private holdsRuntime = false;
  /** the FLOW_ENV variables this room set (and removes at stop) */
  private readonly envSet: string[] = [];
  private readonly log: Logger;
  /** the bound port, once started */
  port?: number;

  constructor(private readonly opts: NodeRedRoomOptions) {
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
      throw new RangeError(`NodeRedRoom: port must be an integer 0-65535, got ${opts.port}`);
    }
    this.log = opts.logger;
  }

  /** Bring Node-RED up; resolves with the bound port. Calling it again returns the same start. */
  start(): Promise<number> {
    if (this.stopping) return Promise.reject(new Error('Node-RED room is stopped; create a new NodeRedRoom to start again'));
    this.starting ??= this.startOnce().catch(async (err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      this.log.error({ err: reason, port: this.opts.port }, 'Node-RED failed to start');
      await this.release();
      this.starting = undefined;
      throw new Error(`Node-RED did not start on ${this.opts.host}:${this.opts.port}: ${reason}`, { cause: err });
    });
    return this.starting;
  }

  private async startOnce(): Promise<number> {
    if (runtimeHeld && !this.holdsRuntime) {
      throw new Error('Node-RED is already running in this process (one runtime per process); stop the other NodeRedRoom first');
    }
    runtimeHeld = true;
    this.holdsRuntime = true;

    const { opts } = this;
    const settings = nodeRedSettings({
      dataDir: opts.dataDir,
      port: opts.port,
      host: opts.host,
      mqttUrl: opts.mqttUrl,
      httpUrl: opts.httpUrl,
      adminToken: opts.adminToken,
      nodesDir: opts.nodesDir,
      credentialSecret: loadOrCreateCredentialSecret(nodeRedUserDir(opts.dataDir)),
    });

    this.setFlowEnv();

    // Loaded here, not at import: a service with Node-RED off never pays for it.
    const require = createRequire(import.meta.url);
    const red = require('node-red') as NodeRedRuntime;
    // express is Node-RED's own dependency; resolve it from there so hoisting does not matter.
    const express = createRequire(require.resolve('node-red'))('express') as () => ExpressApp;

    const app = express();
    app.disable('x-powered-by');
    const server = http.createServer(app);
    this.server = server;
    red.init(server, settings);
    this.red = red;
    app.use(settings.httpAdminRoot, red.httpAdmin);
    app.use(settings.httpNodeRoot, red.httpNode);

    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(opts.port, opts.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    // After listening, a server error is Node-RED's problem only: log it, keep the service up.
    server.on('error', (err) => this.log.error({ err: err.message }, 'Node-RED HTTP server error'));
    this.port = (server.address() as AddressInfo).port;

    await red.start();
    this.log.info({ port: this.port, userDir: settings.userDir, nodesDir: settings.nodesDir, editor: `http://${opts.host}:${this.port}/` }, 'Node-RED started');
    return this.port;
  }

  /**
   * The service's addresses as environment variables for flows' `${NETZERO_FLOWS_…}` properties (a core
   * `mqtt-broker` node cannot read the global context). Node-RED reads them from this process's
   * environment; one set by the user is left as it is.
   */
  private setFlowEnv(): void {
    const vars: Record<string, string | undefined> = { [FLOW_ENV.mqttUrl]: this.opts.mqttUrl, [FLOW_ENV.httpUrl]: this.opts.httpUrl };
    for (const [name, value] of Object.entries(vars)) {
      if (value === undefined || process.env[name] !== undefined) continue;
      process.env[name] = value;
      this.envSet.push(name);
    }
  }

  /** Stop the flows and close the port. Safe to call whether or not start() succeeded. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      if (await this.release()) this.log.info('Node-RED stopped');
    })();
    return this.stopping;
  }

  /** Undo whatever part of a start happened; never throws. Resolves true if there was anything to undo. */
  private async release(): Promise<boolean> {
    const { red, server } = this;
    const held = this.holdsRuntime;
    this.red = undefined;
    this.server = undefined;
    if (red) {
      await Promise.resolve()
        .then(() => red.stop())
        .catch((err: unknown) => this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'Node-RED stop failed'));
    }
    if (server?.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    for (const name of this.envSet.splice(0)) delete process.env[name];
    if (this.holdsRuntime) {
      this.holdsRuntime = false;
      runtimeHeld = false;
    }
    return held;
  }
}
