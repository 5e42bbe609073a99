import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createRPCError, RPCServer } from 'ocpp-rpc';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { addressKey } from '../../../broker/addresses.js';
import { ThrottledLog } from '../../../broker/throttled-log.js';
import type { Device, DeviceRegistry } from '../../../devices/registry.js';
import type { RoomHealth } from '../../../lib/rooms.js';
import type { StateDb } from '../../../lib/state-db.js';
import { DeviceRateLimiter, type RateLimit } from '../../device-limits.js';
import type { DeviceStatusBoard } from '../../device-status.js';
import type { IngestPipeline } from '../../pipeline.js';
import type { Quarantine } from '../../quarantine.js';
import type { IngestSource } from '../source.js';
import { OCPP_PROTOCOL, OcppAuth } from './auth.js';
import { ChargerHandlers } from './charger.js';
import { createOcppMetrics, type OcppMetrics } from './metrics.js';
import { OcppTransactions, TX_TIMEOUT_MS } from './transactions.js';

export interface OcppOptions {
  host: string;
  /** a real port, or 0 for a free one (the setting's 0 = off is decided by the caller) */
  port: number;
  /** BootNotification's heartbeat interval, seconds */
  heartbeatS?: number;
  /** TCP connections one address (IPv4, or IPv6 /64) may hold at once: a car park's chargers behind one router fit */
  maxConnectionsPerAddress?: number;
  /** calls a charger may make: far above a charger's pace (one a minute), bursts for a backlog sent after an outage */
  callLimit?: RateLimit;
  txTimeoutMs?: number;
}

/** A charger makes a call a minute or so; a backlog after an outage comes in bursts, one call per answer. */
export const DEFAULT_CALL_LIMIT: RateLimit = { perSecond: 10, burst: 100 };
/** WebSocket message size limit, as the MQTT packet limit (64 KiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Calls of one charger waiting for their turn at most; more are answered with a CALLERROR at once. */
const MAX_QUEUED_CALLS = 32;
/** Frames in a row that are not OCPP-J tolerated; the next one closes the connection (1002). */
const MAX_BAD_MESSAGES = 10;
const KNOWN_ACTIONS = new Set(['BootNotification', 'Heartbeat', 'StatusNotification', 'Authorize', 'StartTransaction', 'StopTransaction', 'MeterValues', 'DataTransfer', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification']);

interface ServerClient {
  identity: string;
  session: { device: Device };
  handle(method: string, handler: (call: { params: unknown }) => unknown): void;
  close(opts?: { code?: number; reason?: string; awaitPending?: boolean; force?: boolean }): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): void;
  once(event: string, listener: (...args: never[]) => void): void;
}

/**
 * The OCPP 1.6J central system (`ws://host:port/ocpp/{charger id}`), an ingest source: chargers
 * registered as `ev_charger` devices log in with HTTP Basic auth (security profile 1, ./auth.ts); every
 * frame is checked against the OCPP 1.6 JSON schemas by ocpp-rpc's strict mode (a CALLERROR names what
 * is wrong); BootNotification, Heartbeat, StatusNotification, Authorize, Start/StopTransaction and
 * MeterValues are answered by ./charger.ts, whose readings go through `IngestPipeline.accept` like an
 * MQTT reading, answered only once durable. Connection state goes to the device status board (and the
 * device's retained `status` topic). One connection per charger: a newer one replaces the older.
 */
export class OcppSource implements IngestSource {
  readonly name = 'ingest:ocpp';
  private readonly metrics: OcppMetrics;
  private readonly transactions: OcppTransactions;
  private readonly auth: OcppAuth;
  private readonly callLimiter = new DeviceRateLimiter({ maxWaitMs: 0 });
  private readonly events: ThrottledLog;
  private readonly current = new Map<string, ServerClient>();
  private readonly queues = new Map<string, { tail: Promise<unknown>; waiting: number }>();
  private readonly perAddress = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private rpc?: RPCServer;
  private server?: http.Server;
  private sweep?: NodeJS.Timeout;
  private port?: number;
  private stopping = false;
  private offChanged?: () => void;

  constructor(
    private readonly opts: OcppOptions,
    private readonly deps: {
      pipeline: IngestPipeline;
      registry: DeviceRegistry;
      quarantine: Quarantine;
      statusBoard: DeviceStatusBoard;
      state: StateDb;
      metrics: Registry;
      log: Logger;
    },
  ) {
    this.metrics = createOcppMetrics(deps.metrics);
    this.transactions = new OcppTransactions(deps.state);
    this.auth = new OcppAuth({ registry: deps.registry, log: deps.log });
    this.events = new ThrottledLog(deps.log);
  }

  async start(): Promise<void> {
    const rpc = new RPCServer({
      protocols: [OCPP_PROTOCOL],
      strictMode: true,
      maxBadMessages: MAX_BAD_MESSAGES,
      wssOptions: { maxPayload: MAX_MESSAGE_BYTES },
    });
    rpc.auth(async (accept, reject, handshake, signal) => {
      const verdict = await this.auth
        .check(
          {
            endpoint: handshake.endpoint,
            identity: handshake.identity,
            password: handshake.password,
            authorization: handshake.headers.authorization !== undefined,
            protocols: handshake.protocols,
            remoteAddress: handshake.remoteAddress,
          },
          () => signal?.aborted === true,
        )
        .catch((err: Error) => {
          this.deps.log.error({ err: err.message }, 'ocpp handshake check failed');
          return { refuse: { status: 503, reason: 'authentication unavailable; try again', label: 'unavailable' } };
        });
      if ('refuse' in verdict) {
        this.metrics.handshakes.inc({ outcome: verdict.refuse.label });
        return reject(verdict.refuse.status, verdict.refuse.reason);
      }
      this.metrics.handshakes.inc({ outcome: 'accepted' });
      accept({ device: verdict.device });
    });
    rpc.on('client', (client: ServerClient) => this.connected(client));
    // a charger whose secret was replaced or that was disabled must log in again, and the new check decides
    this.offChanged = this.deps.registry.onChanged((c) => {
      const client = this.current.get(c.id);
      if (!client) return;
      this.deps.log.info({ charger: c.id, change: c.what }, 'ocpp: connection closed: the charger must log in again');
      void client.close({ code: 1008, reason: c.what === 'secret' ? 'the secret was replaced' : 'the charger was disabled' }).catch(() => undefined);
    });
    rpc.on('error', (err: Error) => this.deps.log.warn({ err: err.message }, 'ocpp server error'));
    this.rpc = rpc;

    const server = http.createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('OCPP 1.6J: connect a WebSocket to /ocpp/{charger id}\n');
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    server.maxConnections = 10_000;
    server.on('connection', (socket: Socket) => this.countConnection(socket));
    server.on('upgrade', rpc.handleUpgrade);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.deps.log.warn({ err: err.message }, 'ocpp listener error'));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    const timeout = this.opts.txTimeoutMs ?? TX_TIMEOUT_MS;
    this.sweep = setInterval(() => void this.closeStale(timeout), Math.min(10 * 60_000, timeout)).unref();
    this.deps.log.info({ port: this.port, path: '/ocpp/{charger id}' }, 'ocpp central system listening');
  }

  /** Per-address TCP connection bound, counted before any HTTP is parsed. */
  private countConnection(socket: Socket): void {
    const key = addressKey(socket.remoteAddress ?? 'unknown');
    const n = (this.perAddress.get(key) ?? 0) + 1;
    if (n > (this.opts.maxConnectionsPerAddress ?? 100)) {
      this.metrics.handshakes.inc({ outcome: 'address_limit' });
      this.events.note('ocpp:address_limit', 'warn', { address: key, connections: n - 1 }, 'ocpp connection refused: too many connections from this address');
      socket.destroy();
      return;
    }
    this.perAddress.set(key, n);
    socket.once('close', () => {
      const left = (this.perAddress.get(key) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(key);
      else this.perAddress.set(key, left);
    });
  }

  private connected(client: ServerClient): void {
    const device = client.session.device;
    const older = this.current.get(device.id);
    this.current.set(device.id, client);
    this.metrics.connections.set(this.current.size);
    if (older) {
      this.events.note('ocpp:replaced', 'warn', { charger: device.id }, 'ocpp: a newer connection of this charger replaced the older one (two chargers configured with one id replace each other)');
      void older.close({ code: 1000, reason: 'replaced by a newer connection of this charger' }).catch(() => undefined);
    }
    this.deps.statusBoard.set(device, true, 'ocpp', {});
    this.deps.log.info({ charger: device.id }, 'ocpp charger connected');

    const h = new ChargerHandlers(device, {
      pipeline: this.deps.pipeline,
      registry: this.deps.registry,
      quarantine: this.deps.quarantine,
      statusBoard: this.deps.statusBoard,
      transactions: this.transactions,
      metrics: this.metrics,
      log: this.deps.log,
      heartbeatS: this.opts.heartbeatS ?? 300,
    });
    const calls: Record<string, (params: never) => Promise<object>> = {
      BootNotification: (p) => h.bootNotification(p),
      Heartbeat: () => h.heartbeat(),
      StatusNotification: (p) => h.statusNotification(p),
      Authorize: () => h.authorize(),
      StartTransaction: (p) => h.startTransaction(p),
      StopTransaction: (p) => h.stopTransaction(p),
      MeterValues: (p) => h.meterValues(p),
      DataTransfer: () => h.dataTransfer(),
      DiagnosticsStatusNotification: async () => ({}),
      FirmwareStatusNotification: async () => ({}),
    };
    for (const [action, fn] of Object.entries(calls)) client.handle(action, ({ params }) => this.call(device, action, () => fn(params as never)));
    // no wildcard handler: ocpp-rpc answers any other action NotImplemented (OCPP-J §4.2.3), before strict mode looks for its schema
    client.on('strictValidationFailure', (e: { method: string; error: Error; outbound: boolean }) => {
      if (!e.outbound) this.metrics.calls.inc({ action: KNOWN_ACTIONS.has(e.method) ? e.method : 'other', outcome: 'invalid' });
      this.events.note('ocpp:invalid', e.outbound ? 'error' : 'info', { charger: device.id, method: String(e.method).slice(0, 64), error: e.error.message.slice(0, 300), outbound: e.outbound }, 'ocpp: a call failed the OCPP 1.6 schema');
    });
    client.on('badMessage', (e: { error: Error }) => this.events.note('ocpp:bad_message', 'info', { charger: device.id, error: e.error.message.slice(0, 200) }, 'ocpp: a frame that is not OCPP-J'));
    client.on('socketError', (err: Error) => this.events.note('ocpp:socket_error', 'info', { charger: device.id, err: err.message }, 'ocpp: socket error'));
    client.once('close', (e: { code: number; reason: string }) => {
      if (this.current.get(device.id) !== client) return;
      this.current.delete(device.id);
      this.metrics.connections.set(this.current.size);
      this.deps.statusBoard.set(device, false, 'ocpp', { reason: `connection closed (${e.code}${e.reason ? `: ${String(e.reason).slice(0, 100)}` : ''})` });
      this.deps.log.info({ charger: device.id, code: e.code }, 'ocpp charger disconnected');
    });
  }

  /**
   * One call of a charger: over the charger's call limit it is refused at once (a CALLERROR; the charger
   * retries transaction messages), else it waits behind the charger's earlier calls (one at a time per
   * charger, so its transaction and register state never race) and never behind another charger's.
   * An error inside a handler becomes a CALLERROR and is logged; it never reaches the process.
   */
  private call(device: Device, action: string, run: () => Promise<object>): Promise<object> {
    const label = KNOWN_ACTIONS.has(action) ? action : 'other';
    const callLimit = this.opts.callLimit ?? DEFAULT_CALL_LIMIT;
    if ('refused' in this.callLimiter.reserve(device.id, callLimit, 1, false)) {
      this.metrics.calls.inc({ action: label, outcome: 'rate_limited' });
      throw createRPCError('GenericError', `rate limit: a charger may make ${callLimit.perSecond} calls/s (bursts of ${callLimit.burst}); send it again later`);
    }
    const q = this.queues.get(device.id) ?? { tail: Promise.resolve(), waiting: 0 };
    if (q.waiting >= MAX_QUEUED_CALLS) {
      this.metrics.calls.inc({ action: label, outcome: 'rate_limited' });
      throw createRPCError('GenericError', `${q.waiting} calls of this charger are waiting; send the next one after an answer`);
    }
    q.waiting++;
    this.queues.set(device.id, q);
    const work = q.tail.then(async () => {
      try {
        const answer = await run();
        this.metrics.calls.inc({ action: label, outcome: 'ok' });
        return answer;
      } catch (err) {
        this.metrics.calls.inc({ action: label, outcome: 'error' });
        if ((err as { rpcErrorCode?: string }).rpcErrorCode) throw err;
        this.deps.log.error({ charger: device.id, action, err: (err as Error).message }, 'ocpp call failed; the charger is told to send it again');
        throw createRPCError('InternalError', `${action} could not be stored now; send it again`);
      } finally {
        if (--q.waiting === 0 && this.queues.get(device.id) === q) this.queues.delete(device.id);
      }
    });
    q.tail = work.catch(() => undefined);
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  private async closeStale(timeoutMs: number): Promise<void> {
    try {
      const closed = await this.transactions.closeStale(timeoutMs);
      for (const t of closed) {
        this.deps.log.info({ charger: t.charger, transaction: t.id, meterStartDropped: t.meterStart === 'pending' }, 'ocpp: transaction closed: no StopTransaction and no message about it within the timeout');
      }
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'ocpp: could not close stale transactions');
    }
  }

  ports() {
    return { ocpp: this.port };
  }

  health(): RoomHealth {
    return { verdict: { ocpp: this.server?.listening === true }, details: { ocpp_chargers_connected: this.current.size } };
  }

  /** Refuses new chargers, lets calls in flight finish (their readings durable, their answers sent), then closes every connection. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.offChanged?.();
    clearInterval(this.sweep);
    await this.auth.stop();
    const clients = [...this.current.values()];
    await Promise.race([
      Promise.allSettled(clients.map((c) => c.close({ code: 1001, reason: 'the central system is stopping', awaitPending: true }))),
      new Promise((r) => setTimeout(r, 10_000).unref()),
    ]);
    await Promise.allSettled([...this.inFlight]);
    await this.rpc?.close({ code: 1001, force: true }).catch(() => undefined);
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.events.flush();
  }
}
