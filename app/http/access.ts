import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { addressKey } from '../../broker/addresses.js';
import { AUTH_BLOCK_S, AUTH_FAILURE_WINDOW_S, AUTH_FAILURES_ALLOWED } from '../../broker/auth.js';
import { AttemptLimiter } from '../../broker/limits.js';
import { OperatorStore, type Operator } from '../../devices/operators.js';
import type { Device, DeviceRegistry } from '../../devices/registry.js';
import { SessionStore } from './sessions.js';

/** Who a request acts as: the admin (the admin token) sees and does everything; an operator only its sites' devices. */
export type Principal = { kind: 'admin' } | { kind: 'operator'; operator: Operator };

/** A refused login or credential: the status (401, 429) and why, with when to try again for 429. */
export interface Refusal {
  status: 401 | 429;
  reason: string;
  retryAfterS?: number;
}

/** The operator page's session cookie (HttpOnly, SameSite=Strict, Path=/). */
export const SESSION_COOKIE = 'netzero_session';

const isRefusal = (x: unknown): x is Refusal => typeof x === 'object' && x !== null && 'status' in x;

/**
 * Who may use the device endpoints, and which devices they see (README, "Operators"):
 * - `Authorization: Bearer <admin token>`: the admin, every device;
 * - `Authorization: Bearer <operator id>:<operator secret>` (scripts): that operator;
 * - the session cookie set by `POST /api/operators/session` (the operator page): whoever logged in.
 *
 * Operator secrets are checked with the broker's login limits (broker/limits.ts, the same numbers): failed
 * attempts per operator id and per address, counted before the check; over a limit the right secret still
 * gets in (a current-form hash costs microseconds), a wrong one is 429 with `Retry-After`. A wrong admin
 * token at the login counts against the address the same way.
 */
export class Access {
  readonly sessions: SessionStore;
  private readonly byId: AttemptLimiter;
  private readonly byAddress: AttemptLimiter;
  private readonly adminToken: Buffer;
  private readonly principals = new WeakMap<FastifyRequest, Principal>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly deps: { adminToken: string; operators?: OperatorStore; registry: DeviceRegistry; sessionTtlMs?: number; now?: () => number },
  ) {
    const opts = { allowed: AUTH_FAILURES_ALLOWED, windowMs: AUTH_FAILURE_WINDOW_S * 1000, blockMs: AUTH_BLOCK_S * 1000, now: deps.now };
    this.byId = new AttemptLimiter(opts);
    this.byAddress = new AttemptLimiter(opts);
    this.adminToken = Buffer.from(deps.adminToken);
    this.sessions = new SessionStore({ ttlMs: deps.sessionTtlMs, now: deps.now });
    this.sweepTimer = setInterval(() => {
      this.byId.sweep();
      this.byAddress.sweep();
      this.sessions.sweep();
    }, 10_000).unref();
  }

  close(): void {
    clearInterval(this.sweepTimer);
  }

  private isAdminToken(given: string): boolean {
    const g = Buffer.from(given);
    return g.length === this.adminToken.length && timingSafeEqual(g, this.adminToken);
  }

  private overLimit(limiter: AttemptLimiter, key: string, what: string): Refusal {
    return { status: 429, reason: `too many failed logins for this ${what}; try again later`, retryAfterS: Math.max(1, Math.ceil(limiter.retryInMs(key) / 1000)) };
  }

  /** An operator's id and secret from an address: the operator, or why not (the attempt is counted first). */
  async checkOperator(id: string, secret: string, address: string): Promise<{ operator: Operator } | Refusal> {
    const addr = addressKey(address);
    const found = this.deps.operators ? await this.deps.operators.credentials(id) : null;
    if (!found) {
      this.byAddress.recordFailure(addr);
      if (this.byAddress.exhausted(addr)) return this.overLimit(this.byAddress, addr, 'address');
      return { status: 401, reason: 'unknown operator id or wrong secret' };
    }
    const idCounted = this.byId.tryAcquire(id);
    const addressCounted = this.byAddress.tryAcquire(addr);
    if (OperatorStore.verify(secret, found.hash)) {
      if (idCounted) this.byId.succeeded(id);
      if (addressCounted) this.byAddress.succeeded(addr);
      return { operator: found.operator };
    }
    if (idCounted) this.byId.failed(id);
    else this.byId.recordFailure(id);
    if (addressCounted) this.byAddress.failed(addr);
    else this.byAddress.recordFailure(addr);
    if (!idCounted) return this.overLimit(this.byId, id, 'operator id');
    if (!addressCounted) return this.overLimit(this.byAddress, addr, 'address');
    return { status: 401, reason: 'unknown operator id or wrong secret' };
  }

  /** The admin token given at the login form: a wrong one counts against the address. */
  checkAdmin(token: string, address: string): { admin: true } | Refusal {
    const addr = addressKey(address);
    if (this.isAdminToken(token)) return { admin: true };
    const counted = this.byAddress.tryAcquire(addr);
    if (counted) this.byAddress.failed(addr);
    else this.byAddress.recordFailure(addr);
    return counted ? { status: 401, reason: 'wrong admin token' } : this.overLimit(this.byAddress, addr, 'address');
  }

  /** The session token of the request's cookie, if any. */
  sessionToken(req: FastifyRequest): string | null {
    const header = req.headers.cookie ?? '';
    for (const part of header.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name === SESSION_COOKIE) return rest.join('=') || null;
    }
    return null;
  }

  /** Who the request acts as; null when it carries no credentials; a refusal when it carries wrong ones. */
  async resolve(req: FastifyRequest): Promise<Principal | Refusal | null> {
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Bearer ')) {
      const given = header.slice(7).trim();
      if (this.isAdminToken(given)) return { kind: 'admin' };
      const colon = given.indexOf(':');
      if (colon > 0) {
        const r = await this.checkOperator(given.slice(0, colon), given.slice(colon + 1), req.ip);
        return isRefusal(r) ? r : { kind: 'operator', operator: r.operator };
      }
      return { status: 401, reason: 'the bearer token is neither the admin token nor "<operator id>:<operator secret>"' };
    }
    const token = this.sessionToken(req);
    if (!token) return null;
    const session = this.sessions.get(token);
    if (!session) return { status: 401, reason: 'the session has ended (expired, logged out or the service restarted): log in again' };
    if (session.owner.kind === 'admin') return { kind: 'admin' };
    const operator = await this.deps.operators?.get(session.owner.id);
    if (!operator) {
      this.sessions.end(token);
      return { status: 401, reason: 'this operator no longer exists: the session has ended' };
    }
    return { kind: 'operator', operator };
  }

  /** preHandler: the admin or an operator (bearer or session); 401/429 otherwise. */
  requireUser = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const p = await this.resolve(req);
    if (p && !isRefusal(p)) {
      this.principals.set(req, p);
      return undefined;
    }
    const refusal: Refusal = p ?? {
      status: 401,
      reason: 'send "Authorization: Bearer <admin token>" or "Authorization: Bearer <operator id>:<operator secret>", or log in on /operators',
    };
    if (refusal.retryAfterS) void reply.header('retry-after', String(refusal.retryAfterS));
    return reply.code(refusal.status).header('www-authenticate', 'Bearer').send({ error: refusal.status === 429 ? 'too many requests' : 'unauthorized', reason: refusal.reason });
  };

  /** The principal `requireUser` found for this request. */
  principal(req: FastifyRequest): Principal {
    return this.principals.get(req) ?? { kind: 'operator', operator: { id: '', name: '', sites: [], createdAt: '' } };
  }

  /** The sites the request may see: null for every site (the admin). */
  sitesOf(req: FastifyRequest): readonly string[] | null {
    const p = this.principal(req);
    return p.kind === 'admin' ? null : p.operator.sites;
  }

  /** Whether the request may see a device of this site. */
  mayUseSite(req: FastifyRequest, site: string): boolean {
    const sites = this.sitesOf(req);
    return sites === null || sites.includes(site);
  }

  /** The devices of the list the request may see (an operator: its sites' devices, never viewers). */
  visible<T extends { site: string; role?: string }>(req: FastifyRequest, list: readonly T[]): T[] {
    const sites = this.sitesOf(req);
    return sites === null ? [...list] : list.filter((d) => d.role !== 'viewer' && sites.includes(d.site));
  }

  /** Why an operator may not register this (a viewer, another site), as a field error for a 403; null when it may. */
  registrationDenied(req: FastifyRequest, input: { role?: unknown; site?: unknown }): { field: string; reason: string } | null {
    const sites = this.sitesOf(req);
    if (sites === null) return null;
    if ('role' in input) return { field: 'role', reason: 'an operator registers devices; viewers are registered by the admin' };
    if (typeof input.site !== 'string' || !sites.includes(input.site)) return { field: 'site', reason: `must be one of your sites: ${sites.join(', ')}` };
    return null;
  }

  /**
   * The device, if the request may act on it: an operator gets null for another site's device exactly as for
   * an unknown id (the answer is 404 either way, so ids of other sites are not confirmed).
   */
  async device(req: FastifyRequest, id: string): Promise<Device | null> {
    const device = await this.deps.registry.get(id);
    if (!device || device.role !== 'device') return null;
    return this.mayUseSite(req, device.site) ? device : null;
  }
}
