import { randomBytes } from 'node:crypto';

/** Who a browser session belongs to: the admin (who logged in with the admin token) or an operator by id. */
export type SessionOwner = { kind: 'admin' } | { kind: 'operator'; id: string };

/** How long a session lasts from its login (absolute, not sliding): a working day. */
export const SESSION_TTL_MS = 8 * 3_600_000;
/** Sessions kept at most; past it the oldest goes (a login flood cannot grow memory without bound). */
export const MAX_SESSIONS = 10_000;

/**
 * The operator page's sessions, in memory: a random 256-bit token (the HttpOnly cookie's value) per login,
 * valid for `ttlMs` from the login. A restart of the service ends every session (log in again).
 */
export class SessionStore {
  private readonly sessions = new Map<string, { owner: SessionOwner; expiresAt: number }>();

  constructor(private readonly opts: { ttlMs?: number; max?: number; now?: () => number } = {}) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  get ttlMs(): number {
    return this.opts.ttlMs ?? SESSION_TTL_MS;
  }

  create(owner: SessionOwner): { token: string; expiresAt: number } {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    if (this.sessions.size >= (this.opts.max ?? MAX_SESSIONS)) {
      this.sweep();
      const oldest = this.sessions.keys().next();
      if (this.sessions.size >= (this.opts.max ?? MAX_SESSIONS) && !oldest.done) this.sessions.delete(oldest.value);
    }
    this.sessions.set(token, { owner, expiresAt });
    return { token, expiresAt };
  }

  /** The session's owner and end, or null when unknown or expired (an expired one is forgotten). */
  get(token: string): { owner: SessionOwner; expiresAt: number } | null {
    const s = this.sessions.get(token);
    if (!s) return null;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(token);
      return null;
    }
    return s;
  }

  end(token: string): void {
    this.sessions.delete(token);
  }

  /** Ends every session of an operator (removed). */
  endOwner(operatorId: string): void {
    for (const [token, s] of this.sessions) if (s.owner.kind === 'operator' && s.owner.id === operatorId) this.sessions.delete(token);
  }

  sweep(): void {
    const now = this.now();
    for (const [token, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(token);
  }

  get size(): number {
    return this.sessions.size;
  }
}
