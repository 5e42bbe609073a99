import type { Logger } from 'pino';
import { addressKey } from '../../../broker/addresses.js';
import { AUTH_BLOCK_S, AUTH_FAILURE_WINDOW_S, AUTH_FAILURES_ALLOWED, LEGACY_CHECK_CONCURRENCY, LEGACY_CHECK_MAX_QUEUED } from '../../../broker/auth.js';
import { AttemptLimiter } from '../../../broker/limits.js';
import { ThrottledLog } from '../../../broker/throttled-log.js';
import { BoundedWorkQueue } from '../../../broker/work-queue.js';
import { hashScheme, hashSecretNow, verifyFastSecret, verifyLegacySecret } from '../../../devices/credentials.js';
import type { Device, DeviceRegistry } from '../../../devices/registry.js';
import { ID_PATTERN } from '../../../devices/topics.js';

/** The path chargers connect to: `ws://host:port/ocpp/{device id}`. */
export const OCPP_PATH = '/ocpp';
export const OCPP_PROTOCOL = 'ocpp1.6';

/** What the handshake carries that the gate judges (ocpp-rpc's handshake object, and the Authorization header's presence). */
export interface Handshake {
  /** the path before the identity (`/ocpp`) */
  endpoint: string;
  /** the last path segment, decoded: the charger's id */
  identity: string;
  /** the Basic auth password, present only when its username equals the identity (ocpp-rpc's parser) */
  password: Buffer | undefined;
  authorization: boolean;
  protocols: ReadonlySet<string>;
  remoteAddress: string | undefined;
}

export type Verdict = { device: Device } | { refuse: { status: number; reason: string; label: string } };

/**
 * Security profile 1 (HTTP Basic auth in the WebSocket handshake), with the broker's rules for MQTT
 * logins (broker/auth.ts) and its parts: username = the charger's device id (the last path segment),
 * password = its secret, checked against the registry's hash; failed attempts are limited per device id
 * and per address, counted before the check, and over a limit the right secret (a current-form hash,
 * microseconds to check) still gets in while a legacy scrypt hash is refused unchecked; legacy checks
 * run through a bounded queue. Refusals are HTTP statuses, before any WebSocket exists:
 * 404 a path other than /ocpp/{id}; 400 no `ocpp1.6` subprotocol offered; 401 no or wrong credentials,
 * an unknown id, a Basic username other than the path's id; 403 right credentials of a device that is
 * not an `ev_charger`; 429 over a failed-login limit or the legacy queue full; 503 stopping.
 */
export class OcppAuth {
  private readonly deviceLimiter: AttemptLimiter;
  private readonly addressLimiter: AttemptLimiter;
  private readonly legacyChecks = new BoundedWorkQueue({ concurrency: LEGACY_CHECK_CONCURRENCY, maxQueued: LEGACY_CHECK_MAX_QUEUED });
  private readonly events: ThrottledLog;
  private readonly sweep: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly deps: { registry: DeviceRegistry; log: Logger; now?: () => number }) {
    const opts = { allowed: AUTH_FAILURES_ALLOWED, windowMs: AUTH_FAILURE_WINDOW_S * 1000, blockMs: AUTH_BLOCK_S * 1000, now: deps.now };
    this.deviceLimiter = new AttemptLimiter(opts);
    this.addressLimiter = new AttemptLimiter(opts);
    this.events = new ThrottledLog(deps.log);
    this.sweep = setInterval(() => {
      this.deviceLimiter.sweep();
      this.addressLimiter.sweep();
    }, 10_000).unref();
  }

  /** Judges a handshake; `gone()` says whether the client has left meanwhile (its check is then dropped). */
  async check(h: Handshake, gone: () => boolean): Promise<Verdict> {
    const address = addressKey(h.remoteAddress ?? 'unknown');
    const refuse = (status: number, label: string, reason: string, fields: Record<string, unknown> = {}): Verdict => {
      const level = status === 401 || status === 404 || status === 400 ? 'info' : 'warn';
      this.events.note(`ocpp:${label}`, level, { address, identity: h.identity.slice(0, 80), status, ...fields }, `ocpp handshake refused: ${reason}`);
      return { refuse: { status, reason, label } };
    };
    if (this.stopped) return refuse(503, 'stopping', 'the service is stopping; connect again shortly');
    if (h.endpoint !== OCPP_PATH) return refuse(404, 'wrong_path', `the OCPP endpoint is ${OCPP_PATH}/{charger id}`);
    if (!h.protocols.has(OCPP_PROTOCOL)) return refuse(400, 'no_subprotocol', `the WebSocket subprotocol must include ${OCPP_PROTOCOL}`);
    if (!h.password) {
      this.addressLimiter.recordFailure(address);
      return h.authorization
        ? refuse(401, 'bad_credentials', `the Basic auth username must be the charger id in the path ("${h.identity.slice(0, 64)}")`)
        : refuse(401, 'no_credentials', 'HTTP Basic auth is required: username = the charger id, password = its secret');
    }
    // every registered id matches the pattern: anything else is unknown without a look-up
    const found = ID_PATTERN.test(h.identity) ? await this.deps.registry.credentials(h.identity) : null;
    if (this.stopped) return refuse(503, 'stopping', 'the service is stopping; connect again shortly');
    if (!found) {
      this.addressLimiter.recordFailure(address);
      return refuse(401, 'unknown_device', 'unknown charger id or wrong secret');
    }
    const { device, hash } = found;
    const scheme = hashScheme(hash);

    const deviceCounted = this.deviceLimiter.tryAcquire(device.id);
    if (!deviceCounted && scheme !== 'hmac-sha256') {
      return refuse(429, 'rate_limited', 'too many failed logins for this charger id; try again later', { limit: 'device', retryInS: Math.ceil(this.deviceLimiter.retryInMs(device.id) / 1000) });
    }
    const addressCounted = this.addressLimiter.tryAcquire(address);
    if (!addressCounted && scheme !== 'hmac-sha256') {
      if (deviceCounted) this.deviceLimiter.released(device.id);
      return refuse(429, 'rate_limited', 'too many failed logins from this address; try again later', { limit: 'address', retryInS: Math.ceil(this.addressLimiter.retryInMs(address) / 1000) });
    }
    const release = () => {
      if (deviceCounted) this.deviceLimiter.released(device.id);
      if (addressCounted) this.addressLimiter.released(address);
    };

    const secret = h.password.toString('utf8');
    let ok: boolean;
    if (scheme === 'hmac-sha256') {
      ok = verifyFastSecret(secret, hash);
    } else if (scheme === 'scrypt') {
      const outcome = await this.legacyChecks.run(async () => {
        const right = await verifyLegacySecret(secret, hash);
        if (right) await this.deps.registry.upgradeHash(device.id, hash, hashSecretNow(secret)).catch(() => false);
        return right;
      }, gone);
      if (outcome.status !== 'done') {
        release();
        if (outcome.status === 'failed') throw outcome.error;
        if (outcome.status === 'overloaded') return refuse(429, 'overloaded', 'too many logins waiting for a secret check; try again shortly');
        return refuse(503, 'stopping', 'the handshake was abandoned');
      }
      ok = outcome.value;
    } else {
      this.events.note('ocpp:hash_malformed', 'error', { device: device.id }, 'stored secret hash is malformed: the charger cannot log in until its secret is replaced');
      ok = false;
    }

    if (!ok) {
      if (deviceCounted) this.deviceLimiter.failed(device.id);
      else this.deviceLimiter.recordFailure(device.id);
      if (addressCounted) this.addressLimiter.failed(address);
      else this.addressLimiter.recordFailure(address);
      if (!deviceCounted || !addressCounted) {
        return refuse(429, 'rate_limited', `too many failed logins for this ${deviceCounted ? 'address' : 'charger id'}; try again later`);
      }
      return refuse(401, 'bad_credentials', 'unknown charger id or wrong secret');
    }
    if (deviceCounted) this.deviceLimiter.succeeded(device.id);
    if (addressCounted) this.addressLimiter.succeeded(address);
    if (device.role !== 'device' || device.kind !== 'ev_charger') {
      return refuse(403, 'wrong_kind', `"${device.id}" is ${device.role === 'viewer' ? 'a viewer' : `a ${device.kind ?? 'device'}`}: the OCPP endpoint is for ev_charger devices`);
    }
    if (device.disabled) {
      return refuse(403, 'disabled', `charger "${device.id}" is disabled since ${device.disabled.at} by ${device.disabled.by}: ${device.disabled.reason}`);
    }
    return { device };
  }

  /** Cancels queued legacy checks and waits for the running ones; later handshakes get 503. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweep);
    await this.legacyChecks.stop();
    this.events.flush();
  }
}
