/**
 * Login attempts per key (a device id, or a client address), counted before the secret is checked so
 * that parallel attempts cannot all pass the gate:
 *
 * - `tryAcquire` reserves an attempt; it is refused while the key is blocked or while its failures in
 *   the current window plus the attempts still being checked reach `allowed`;
 * - the check's outcome settles the reservation: `succeeded` and `released` (no check happened) give it
 *   back, `failed` turns it into a failure; the `allowed`-th failure blocks the key for `blockMs`;
 * - the failure window is fixed: `windowMs` after its first failure it starts again from zero.
 *
 * Memory: one small entry per key with recent failures or attempts in flight; `sweep` drops the rest.
 */
export interface AttemptLimiterOptions {
  allowed: number;
  windowMs: number;
  blockMs: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  windowStart: number;
  inFlight: number;
  blockedUntil: number;
}

export class AttemptLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly opts: AttemptLimiterOptions) {
    this.now = opts.now ?? Date.now;
  }

  private entry(key: string): Entry {
    const now = this.now();
    let e = this.entries.get(key);
    if (!e) {
      e = { failures: 0, windowStart: now, inFlight: 0, blockedUntil: 0 };
      this.entries.set(key, e);
    } else if (e.blockedUntil <= now && now - e.windowStart >= this.opts.windowMs) {
      e.failures = 0;
      e.windowStart = now;
      e.blockedUntil = 0;
    }
    return e;
  }

  /** Blocked, or no attempt left in this window (counting the ones being checked). */
  exhausted(key: string): boolean {
    const e = this.entry(key);
    return e.blockedUntil > this.now() || e.failures + e.inFlight >= this.opts.allowed;
  }

  /** Reserve one attempt; false when the key is exhausted (then nothing is reserved). */
  tryAcquire(key: string): boolean {
    if (this.exhausted(key)) return false;
    this.entry(key).inFlight++;
    return true;
  }

  /** The check passed: the reservation is given back. */
  succeeded(key: string): void {
    this.release(key);
  }

  /** No check happened (the client left, the queue was full): the reservation is given back. */
  released(key: string): void {
    this.release(key);
  }

  /** The check failed: the reservation becomes a failure. */
  failed(key: string): void {
    this.release(key);
    this.recordFailure(key);
  }

  /** A failure without a reservation (no credentials, unknown device, a check let through past the limit). */
  recordFailure(key: string): void {
    const e = this.entry(key);
    if (e.failures === 0) e.windowStart = this.now();
    e.failures++;
    if (e.failures >= this.opts.allowed && e.blockedUntil <= this.now()) e.blockedUntil = this.now() + this.opts.blockMs;
  }

  /** Milliseconds until the key may try again (0 when it may now). */
  retryInMs(key: string): number {
    const e = this.entry(key);
    const now = this.now();
    if (e.blockedUntil > now) return e.blockedUntil - now;
    if (e.failures + e.inFlight >= this.opts.allowed) return Math.max(0, e.windowStart + this.opts.windowMs - now);
    return 0;
  }

  /** Drop entries with nothing in flight, no block and no failure in a live window. */
  sweep(): void {
    const now = this.now();
    for (const [key, e] of this.entries) {
      if (e.inFlight === 0 && e.blockedUntil <= now && (e.failures === 0 || now - e.windowStart >= this.opts.windowMs)) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private release(key: string): void {
    const e = this.entries.get(key);
    if (e && e.inFlight > 0) e.inFlight--;
  }
}
