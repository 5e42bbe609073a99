import type { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Logger } from 'pino';
import type { Device, DeviceRegistry } from '../devices/registry.js';
import { parseTopic, topicFor, TOPIC_ROOT } from '../devices/topics.js';
import type { BrokerMetrics } from './metrics.js';

/** A telemetry publish the broker has authorised: the topic is the device's own. */
export interface AuthorizedTelemetry {
  topic: string;
  payload: Buffer;
  device: Device;
}

/**
 * Takes authorised telemetry (ingest's embedded source registers one); resolves once the message is
 * durable. The broker sends the QoS 1 PUBACK only then; a rejection closes the connection unacknowledged.
 */
export type TelemetryHandler = (msg: AuthorizedTelemetry) => Promise<unknown>;

/** Failed logins allowed per client address before that address is refused for a while. */
export const AUTH_FAILURES_ALLOWED = 10;
export const AUTH_FAILURE_WINDOW_S = 60;
export const AUTH_BLOCK_S = 60;

/** CONNACK return code 5, "not authorized" (MQTT 3.1.1 §3.2.2.3). */
const NOT_AUTHORIZED = 5;

function refusal(message: string): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  err.returnCode = NOT_AUTHORIZED;
  return err;
}

function remoteAddress(client: Client): string {
  const c = client as unknown as {
    req?: { socket?: { remoteAddress?: string } };
    conn?: { remoteAddress?: string };
  };
  return c.req?.socket?.remoteAddress ?? c.conn?.remoteAddress ?? 'unknown';
}

/**
 * The broker's authentication and authorization hooks (contract, "MQTT"):
 * - username = device id, password = device secret; wrong or unknown → CONNACK 5;
 * - repeated failures from one address are refused without checking (rate limit);
 * - a device publishes only to its own telemetry and status topics and subscribes only to its own
 *   errors topic; a viewer subscribes to netzero/v1/# and publishes nothing;
 * - authorised telemetry goes to the registered handler before aedes may send the PUBACK (aedes writes
 *   the PUBACK after authorizePublish calls back, lib/handlers/publish.js), so QoS 1 is acknowledged
 *   only when durable; with no handler registered (ingest not up, or stopping) it is refused, unacknowledged.
 */
export function createAuthHooks(deps: { registry: DeviceRegistry; metrics: BrokerMetrics; log: Logger; telemetry: () => TelemetryHandler | undefined }) {
  const { registry, metrics, log } = deps;
  const devices = new WeakMap<Client, Device>();
  const limiter = new RateLimiterMemory({
    points: AUTH_FAILURES_ALLOWED,
    duration: AUTH_FAILURE_WINDOW_S,
    blockDuration: AUTH_BLOCK_S,
  });

  const authenticate = (
    client: Client,
    username: Readonly<string> | undefined,
    password: Readonly<Buffer> | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    const address = remoteAddress(client);
    void (async () => {
      const state = await limiter.get(address);
      if (state && state.remainingPoints <= 0) {
        metrics.authFailures.inc({ reason: 'rate_limited' });
        log.warn({ address, retryInS: Math.ceil(state.msBeforeNext / 1000) }, 'mqtt login refused: too many failures');
        return done(refusal('too many failed logins from this address'), false);
      }
      const device = username && password ? await registry.authenticate(username, password.toString('utf8')) : null;
      if (!device) {
        metrics.authFailures.inc({ reason: username ? 'bad_credentials' : 'no_credentials' });
        await limiter.consume(address).catch(() => undefined);
        log.info({ address, username }, 'mqtt login refused');
        return done(refusal('bad device id or secret'), false);
      }
      devices.set(client, device);
      done(null, true);
    })().catch((err: Error) => {
      log.error({ err: err.message }, 'mqtt authentication failed internally');
      done(refusal('authentication unavailable'), false);
    });
  };

  const deny = (client: Client, what: string, topic: string) => {
    metrics.authzDenied.inc({ action: what });
    log.warn({ client: client.id, topic }, `mqtt ${what} denied`);
  };

  const authorizePublish = (client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void => {
    if (!client) return done(null); // the broker's own messages (errors topic)
    const device = devices.get(client);
    const t = parseTopic(packet.topic);
    if (!device || device.role !== 'device' || !t || t.site !== device.site || t.device !== device.id || t.channel === 'errors') {
      deny(client, 'publish', packet.topic);
      return done(new Error(`not authorized to publish to ${packet.topic}`));
    }
    if (t.channel === 'status') return done(null);
    const handler = deps.telemetry();
    if (!handler) {
      log.warn({ device: device.id }, 'telemetry refused: ingest is not accepting; the device resends after reconnecting');
      return done(new Error('ingest is not accepting telemetry'));
    }
    handler({ topic: packet.topic, payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), device }).then(
      () => done(null),
      (err: Error) => {
        // Not durable: no PUBACK. The client is disconnected and resends after reconnecting.
        log.error({ device: device.id, err: err.message }, 'telemetry not stored; connection closed so the device resends');
        done(err);
      },
    );
  };

  const authorizeSubscribe = (
    client: Client | null,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void => {
    const device = client ? devices.get(client) : undefined;
    let allowed = false;
    if (device?.role === 'viewer') allowed = sub.topic === `${TOPIC_ROOT}/#` || sub.topic.startsWith(`${TOPIC_ROOT}/`);
    else if (device?.role === 'device') allowed = sub.topic === topicFor(device.site, device.id, 'errors');
    if (!allowed) {
      if (client) deny(client, 'subscribe', sub.topic);
      return done(null, null); // negative SUBACK (0x80), connection stays up
    }
    done(null, sub);
  };

  return { authenticate, authorizePublish, authorizeSubscribe };
}
