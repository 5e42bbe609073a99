import os from 'node:os';
import type { AedesPublishPacket, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { hashScheme, hashSecretNow, verifyFastSecret, verifyLegacySecret } from '../devices/credentials.js';
import type { Device, DeviceRegistry } from '../devices/registry.js';
import { ID_PATTERN, parseTopic, topicFor, TOPIC_ROOT } from '../devices/topics.js';
import { addressKey, remoteAddress } from './addresses.js';
import { ClientIdRules, isClosed } from './client-ids.js';
import { AttemptLimiter } from './limits.js';
import type { BrokerMetrics } from './metrics.js';
import { ThrottledLog } from './throttled-log.js';
import { BoundedWorkQueue } from './work-queue.js';

/** A telemetry publish the broker has authorised: the topic is the device's own. */
export interface AuthorizedTelemetry {
  topic: string;
  payload: Buffer;
  device: Device;
  qos: 0 | 1;
}

/**
 * Takes authorised telemetry (ingest's embedded source registers one). The broker reads the device's
 * next packet, and sends a QoS 1 PUBACK, only when the promise resolves: for QoS 1 once the message is
 * durable; a rejection closes the connection unacknowledged.
 */
export type TelemetryHandler = (msg: AuthorizedTelemetry) => Promise<unknown>;

/**
 * A publish of an authenticated device refused by closing its connection (MQTT 3.1.1 has no reason
 * code): told to the service, which records it under the device id so the operator can find out why the
 * device keeps reconnecting.
 */
export interface DeviceRefusal {
  device: string;
  site: string;
  /** the topic it published to, or null when the packet was refused before its topic was read (oversize) */
  topic: string | null;
  field: 'topic' | 'payload' | 'qos' | 'retain' | 'device';
  reason: string;
}

/** A disabled device's refused logins are recorded under its id at most once in this long (a device retrying every second must not flood the quarantine). */
export const DISABLED_RECORD_EVERY_MS = 60_000;

/** Failed logins allowed per device id, and per client address, in a window; then refused for a while. */
export const AUTH_FAILURES_ALLOWED = 10;
export const AUTH_FAILURE_WINDOW_S = 60;
export const AUTH_BLOCK_S = 60;

/** Legacy (scrypt) secret checks running at once: half the cores at most, so the event loop keeps a core. */
export const LEGACY_CHECK_CONCURRENCY = Math.max(1, Math.min(4, Math.floor(os.availableParallelism() / 2)));
/** Legacy checks waiting at most; beyond, the CONNECT is refused with CONNACK 3 and the device retries. */
export const LEGACY_CHECK_MAX_QUEUED = 32;

/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3). */
export const CONNACK = {
  /** the client id may not be used by this device */
  IDENTIFIER_REJECTED: 2,
  /** rate-limited or overloaded: try again later */
  SERVER_UNAVAILABLE: 3,
  /** wrong or unknown credentials (contract: "Wrong or unknown → CONNACK refused (not authorized)") */
  NOT_AUTHORIZED: 5,
} as const;

/** The status topic carries exactly one of these (contract: `online` / `offline`, use as Last Will). */
const STATUS_PAYLOADS = new Set(['online', 'offline']);

function refusal(code: number, message: string): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  err.returnCode = code;
  return err;
}

/**
 * The broker's authentication and authorization hooks (contract, "MQTT"; rules in broker/README.md):
 * - username = device id, password = device secret; wrong or unknown → CONNACK 5 (not authorized);
 * - attempts are counted per device id and per address before the secret is checked; over either
 *   limit, current-form (cheap) hashes are still checked, so neither a misconfigured meter behind the
 *   same NAT nor someone failing against a known device id can lock out the device with the right
 *   secret (a wrong one is refused with CONNACK 3, naming the limit), while legacy (scrypt) hashes are
 *   refused without a check (CONNACK 3);
 * - legacy checks go through a bounded queue: a full queue refuses with CONNACK 3, a check whose client
 *   has left is dropped, `stop()` cancels what waits; a legacy hash is re-hashed on success;
 * - client ids: see ./client-ids.ts (CONNACK 2);
 * - a device publishes only to its own telemetry and status topics, at QoS 0 or 1; telemetry is never
 *   retained; status is exactly `online` or `offline`; it subscribes only to its own errors topic; a
 *   viewer subscribes to netzero/v1/# and publishes nothing; what the broker forwards to a client is
 *   checked against the same rules (a resumed session cannot carry another device's messages);
 * - authorised telemetry goes to the registered handler before aedes may send the PUBACK (aedes writes
 *   the PUBACK after authorizePublish calls back, lib/handlers/publish.js), so QoS 1 is acknowledged
 *   only when durable; with no handler registered (ingest not up, or stopping) it is refused, unacknowledged.
 */
export function createAuthHooks(deps: {
  registry: DeviceRegistry;
  metrics: BrokerMetrics;
  log: Logger;
  telemetry: () => TelemetryHandler | undefined;
  onRefused?: (r: DeviceRefusal) => void;
  /** a device published its `status` (`online` / `offline`, its Last Will included): the service shows it beside the sources' states */
  onStatus?: (device: Device, online: boolean) => void;
  /** the most connections held at once (beyond, CONNACK 3 before any look-up) and how many are held now */
  connections?: { cap: number; held: () => number };
}) {
  const { registry, metrics, log } = deps;
  const devices = new WeakMap<Client, Device>();
  const limiterOpts = { allowed: AUTH_FAILURES_ALLOWED, windowMs: AUTH_FAILURE_WINDOW_S * 1000, blockMs: AUTH_BLOCK_S * 1000 };
  const deviceLimiter = new AttemptLimiter(limiterOpts);
  const addressLimiter = new AttemptLimiter(limiterOpts);
  const sweep = setInterval(() => {
    deviceLimiter.sweep();
    addressLimiter.sweep();
  }, 10_000).unref();
  const legacyChecks = new BoundedWorkQueue({
    concurrency: LEGACY_CHECK_CONCURRENCY,
    maxQueued: LEGACY_CHECK_MAX_QUEUED,
    onDepth: (n) => metrics.authQueueDepth.set(n),
  });
  const clientIds = new ClientIdRules(async (id) => (await registry.get(id)) !== null);
  const events = new ThrottledLog(log);
  const upgrades = new Set<Promise<unknown>>();
  const disabledRecorded = new Map<string, number>();
  let stopped = false;

  const authenticate = (
    client: Client,
    username: Readonly<string> | undefined,
    password: Readonly<Buffer> | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    const address = addressKey(remoteAddress(client));
    const clientId = client.id;
    const refuse = (code: number, reason: string, message: string, fields: Record<string, unknown> = {}) => {
      metrics.authFailures.inc({ reason });
      const level = reason === 'bad_credentials' || reason === 'unknown_device' || reason === 'no_credentials' ? 'info' : 'warn';
      events.note(`login:${reason}`, level, { address, username, clientId, connack: code, reason, ...fields }, `mqtt login refused: ${message}`);
      done(refusal(code, message), false);
    };
    // the client left while we looked: nothing is checked or counted, and aedes writes nothing to it
    const gone = () => done(refusal(CONNACK.SERVER_UNAVAILABLE, 'client left'), false);
    // the broker is stopping: no work starts, nothing is logged per attempt
    const stopping = () => {
      metrics.authFailures.inc({ reason: 'unavailable' });
      done(refusal(CONNACK.SERVER_UNAVAILABLE, 'broker stopping'), false);
    };

    void (async () => {
      if (stopped) return stopping();
      const full = deps.connections && deps.connections.held() >= deps.connections.cap;
      if (full) return refuse(CONNACK.SERVER_UNAVAILABLE, 'too_many_connections', `the broker holds its most connections (${deps.connections!.cap}, NETZERO_MQTT_MAX_CONNECTIONS); try again later`);
      if (!username || !password) {
        addressLimiter.recordFailure(address);
        return refuse(CONNACK.NOT_AUTHORIZED, 'no_credentials', 'no device id or secret');
      }
      // every registered id matches the id pattern: anything else is unknown without a look-up
      const found = ID_PATTERN.test(username) ? await registry.credentials(username) : null;
      if (isClosed(client)) return gone();
      if (stopped) return stopping();
      if (!found) {
        addressLimiter.recordFailure(address);
        return refuse(CONNACK.NOT_AUTHORIZED, 'unknown_device', 'unknown device id');
      }
      const { device, hash } = found;
      const scheme = hashScheme(hash);

      // Count the attempt before the check, so parallel attempts cannot all pass the gate. Over a limit
      // (per device id or per address), a current-form hash is still checked (microseconds), so whoever
      // fails against a device id or from a shared address cannot lock out the device with the right
      // secret; only an expensive legacy (scrypt) check is refused unchecked.
      const deviceCounted = deviceLimiter.tryAcquire(device.id);
      if (!deviceCounted && scheme !== 'hmac-sha256') {
        return refuse(CONNACK.SERVER_UNAVAILABLE, 'rate_limited', 'too many failed logins for this device id, legacy secret not checked', {
          limit: 'device',
          retryInS: Math.ceil(deviceLimiter.retryInMs(device.id) / 1000),
        });
      }
      const addressCounted = addressLimiter.tryAcquire(address);
      if (!addressCounted && scheme !== 'hmac-sha256') {
        if (deviceCounted) deviceLimiter.released(device.id);
        return refuse(CONNACK.SERVER_UNAVAILABLE, 'rate_limited', 'too many failed logins from this address, legacy secret not checked', {
          limit: 'address',
          retryInS: Math.ceil(addressLimiter.retryInMs(address) / 1000),
        });
      }
      const release = () => {
        if (deviceCounted) deviceLimiter.released(device.id);
        if (addressCounted) addressLimiter.released(address);
      };

      const secret = password.toString('utf8');
      let ok: boolean;
      if (scheme === 'hmac-sha256') {
        metrics.secretChecks.inc({ scheme });
        ok = verifyFastSecret(secret, hash);
      } else if (scheme === 'scrypt') {
        const outcome = await legacyChecks.run(
          async () => {
            metrics.secretChecks.inc({ scheme });
            const right = await verifyLegacySecret(secret, hash);
            // re-hash inside the job, so stop() (which waits for running jobs) also waits for the write
            if (right) upgrade(device.id, hash, secret);
            return right;
          },
          () => isClosed(client),
        );
        if (outcome.status !== 'done') release();
        switch (outcome.status) {
          case 'overloaded':
            return refuse(CONNACK.SERVER_UNAVAILABLE, 'overloaded', 'too many logins waiting for a legacy secret check, try again', { queued: legacyChecks.depth });
          case 'dropped':
            metrics.authChecksDropped.inc({ reason: 'client_gone' });
            return gone();
          case 'cancelled':
            metrics.authChecksDropped.inc({ reason: 'stopping' });
            return stopping();
          case 'failed':
            throw outcome.error;
          case 'done':
            ok = outcome.value;
        }
      } else {
        events.note('hash:malformed', 'error', { device: device.id }, 'stored secret hash is malformed: the device cannot log in until its secret is replaced');
        ok = false;
      }

      if (!ok) {
        if (deviceCounted) deviceLimiter.failed(device.id);
        else deviceLimiter.recordFailure(device.id);
        if (addressCounted) addressLimiter.failed(address);
        else addressLimiter.recordFailure(address);
        if (!deviceCounted) {
          return refuse(CONNACK.SERVER_UNAVAILABLE, 'rate_limited', 'too many failed logins for this device id', {
            limit: 'device',
            retryInS: Math.ceil(deviceLimiter.retryInMs(device.id) / 1000),
          });
        }
        return refuse(CONNACK.NOT_AUTHORIZED, 'bad_credentials', 'wrong secret');
      }
      if (deviceCounted) deviceLimiter.succeeded(device.id);
      if (addressCounted) addressLimiter.succeeded(address);
      if (isClosed(client)) return gone();
      if (stopped) return stopping();
      if (device.disabled) {
        const reason = `device disabled since ${device.disabled.at} by ${device.disabled.by}: ${device.disabled.reason}`;
        const last = disabledRecorded.get(device.id) ?? 0;
        if (Date.now() - last >= DISABLED_RECORD_EVERY_MS) {
          disabledRecorded.set(device.id, Date.now());
          deps.onRefused?.({ device: device.id, site: device.site, topic: null, field: 'device', reason: `login refused (CONNACK 5): ${reason}` });
        }
        return refuse(CONNACK.NOT_AUTHORIZED, 'disabled', reason, { device: device.id });
      }

      const why = await clientIds.claim(client, clientId, device, client.clean);
      if (isClosed(client)) return gone();
      if (stopped) return stopping();
      if (why) return refuse(CONNACK.IDENTIFIER_REJECTED, 'client_id_rejected', why, { device: device.id });
      devices.set(client, device);
      done(null, true);
    })().catch((err: Error) => {
      metrics.authFailures.inc({ reason: 'unavailable' });
      events.note('login:internal', 'error', { err: err.message, address, username }, 'mqtt authentication failed internally');
      done(refusal(CONNACK.SERVER_UNAVAILABLE, 'authentication unavailable'), false);
    });
  };

  /** A legacy hash becomes the current form, written through the registry (a rotation meanwhile wins). */
  const upgrade = (id: string, from: string, secret: string) => {
    const work = registry.upgradeHash(id, from, hashSecretNow(secret)).then(
      (written) => {
        if (!written) return;
        metrics.hashUpgrades.inc();
        events.note('hash:upgraded', 'info', { device: id }, 'legacy scrypt secret hash replaced by hmac-sha256');
      },
      (err: Error) => log.warn({ device: id, err: err.message }, 'could not re-hash a legacy secret hash; it is checked the slow way again next time'),
    );
    upgrades.add(work);
    void work.finally(() => upgrades.delete(work));
  };

  const deny = (client: Client, what: string, topic: string) => {
    metrics.authzDenied.inc({ action: what });
    events.note(`authz:${what}`, 'warn', { client: client.id, topic }, `mqtt ${what} denied`);
  };

  const refusePublish = (client: Client, device: Device, reason: string, message: string, done: (error?: Error | null) => void, topic: string, field: DeviceRefusal['field']) => {
    metrics.publishRefused.inc({ reason });
    events.note(`publish:${reason}`, 'warn', { client: client.id, device: device.id, reason }, `mqtt publish refused, connection closed: ${message}`);
    deps.onRefused?.({ device: device.id, site: device.site, topic, field, reason: `${message}: the connection was closed` });
    done(new Error(message));
  };

  const authorizePublish = (client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void => {
    if (!client) return done(null); // the broker's own messages (errors topic)
    const device = devices.get(client);
    const t = parseTopic(packet.topic);
    if (!device || device.role !== 'device' || !t || t.site !== device.site || t.device !== device.id || t.channel === 'errors') {
      deny(client, 'publish', packet.topic);
      if (device?.role === 'device') {
        const own = topicFor(device.site, device.id, 'telemetry');
        deps.onRefused?.({ device: device.id, site: device.site, topic: packet.topic, field: 'topic', reason: `may not publish to ${packet.topic.slice(0, 200)}: this device publishes only to ${own} and its status topic; the connection was closed` });
      }
      return done(new Error(`not authorized to publish to ${packet.topic}`));
    }
    // MQTT 3.1.1 has no negative PUBACK: a refused publish closes the connection, unacknowledged.
    if (packet.qos === 2) return refusePublish(client, device, 'qos2', 'QoS 2 is not offered (QoS 0 and 1 are)', done, packet.topic, 'qos');
    if (t.channel === 'status') {
      const text = Buffer.isBuffer(packet.payload) ? packet.payload.toString('utf8') : String(packet.payload);
      if (!STATUS_PAYLOADS.has(text)) return refusePublish(client, device, 'status_payload', 'a status is exactly "online" or "offline"', done, packet.topic, 'payload');
      deps.onStatus?.(device, text === 'online');
      return done(null);
    }
    if (packet.retain) return refusePublish(client, device, 'retained_telemetry', 'telemetry is never retained', done, packet.topic, 'retain');
    const handler = deps.telemetry();
    if (!handler) {
      log.warn({ device: device.id }, 'telemetry refused: ingest is not accepting; the device resends after reconnecting');
      return done(new Error('ingest is not accepting telemetry'));
    }
    handler({ topic: packet.topic, payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), device, qos: packet.qos }).then(
      () => done(null),
      (err: Error) => {
        // Not durable: no PUBACK. The client is disconnected and resends after reconnecting.
        log.error({ device: device.id, err: err.message }, 'telemetry not stored; connection closed so the device resends');
        done(err);
      },
    );
  };

  const mayRead = (device: Device | undefined, topic: string): boolean => {
    if (device?.role === 'viewer') return topic === `${TOPIC_ROOT}/#` || topic.startsWith(`${TOPIC_ROOT}/`);
    if (device?.role === 'device') return topic === topicFor(device.site, device.id, 'errors');
    return false;
  };

  const authorizeSubscribe = (
    client: Client | null,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void => {
    if (!mayRead(client ? devices.get(client) : undefined, sub.topic)) {
      if (client) deny(client, 'subscribe', sub.topic);
      return done(null, null); // negative SUBACK (0x80), connection stays up
    }
    done(null, sub);
  };

  /** Every message on its way to a client is checked again (queued messages of a resumed session too). */
  const authorizeForward = (client: Client, packet: AedesPublishPacket): AedesPublishPacket | null => (mayRead(devices.get(client), packet.topic) ? packet : null);

  /** Cancel queued checks and wait for the running ones and the hash write-backs: nothing runs after this. */
  const stop = async (): Promise<{ cancelled: number }> => {
    if (stopped) return { cancelled: 0 };
    stopped = true;
    clearInterval(sweep);
    const cancelled = await legacyChecks.stop();
    await Promise.allSettled([...upgrades]);
    events.flush();
    return { cancelled };
  };

  /** A packet over the size limit from a client (refused before its topic is read): recorded under its device, if it logged in. */
  const oversize = (client: Client, bytes: number) => {
    metrics.publishRefused.inc({ reason: 'oversize' });
    const device = devices.get(client);
    const reason = `a packet of ${bytes} bytes is over the limit (a payload is at most 64 KiB): the connection was closed`;
    events.note('publish:oversize', 'warn', { client: client.id, device: device?.id ?? null, bytes }, `mqtt packet refused: ${reason}`);
    if (device?.role === 'device') deps.onRefused?.({ device: device.id, site: device.site, topic: null, field: 'payload', reason });
  };

  /** The device a connected client logged in as (undefined before its login, or for none). */
  const deviceOf = (client: Client): Device | undefined => devices.get(client);

  return { authenticate, authorizePublish, authorizeSubscribe, authorizeForward, oversize, stop, deviceOf };
}
