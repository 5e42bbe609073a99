/**
 * Per-device rate limit on readings (a token bucket per device): a device may send `perSecond`
 * readings a second on average and `burst` at once (a backfill). Over it, a message waits for its
 * tokens (the broker holds that device's next packets meanwhile, so the device is slowed, not dropped)
 * up to `maxWaitMs`; a message that would wait longer, or any message over the limit where the source
 * cannot hold a device back, is refused with a reason.
 */

export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** The default for every kind: far above any meter's pace (one reading a minute), enough for a 48 h backfill at once. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 10_000 };

/** The device's own limit (`params.max_readings_per_s`, with a burst of 100 seconds' worth), or the default. */
export function rateLimitOf(params: Record<string, unknown>): RateLimit {
  const v = params.max_readings_per_s;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return DEFAULT_RATE_LIMIT;
  return { perSecond: v, burst: Math.max(1000, v * 100) };
}

export class DeviceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly opts: { maxWaitMs: number; now?: () => number }) {}

  /** Takes `cost` readings' tokens: how long to wait first, or why the message is refused (nothing taken then). */
  reserve(device: string, limit: RateLimit, cost: number, mayWait: boolean): { waitMs: number } | { refused: string } {
    const now = (this.opts.now ?? Date.now)();
    const b = this.buckets.get(device) ?? { tokens: limit.burst, at: now };
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.perSecond);
    b.at = now;
    this.buckets.set(device, b);
    const waitMs = b.tokens >= cost ? 0 : Math.ceil(((cost - b.tokens) / limit.perSecond) * 1000);
    if (waitMs > 0 && (!mayWait || waitMs > this.opts.maxWaitMs)) {
      return {
        refused:
          `rate limit: this device may send ${limit.perSecond} readings/s (bursts of ${limit.burst}); ` +
          `these ${cost} would have to wait ${(waitMs / 1000).toFixed(1)} s. Send slower, in smaller batches, or set params.max_readings_per_s`,
      };
    }
    b.tokens -= cost;
    return { waitMs };
  }
}
