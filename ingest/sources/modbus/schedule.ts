/**
 * When each device is polled: on a fixed grid of its period (no drift), each poll a little late by a
 * random jitter so devices registered together do not poll together; after a failure, an exponential
 * back-off, capped.
 */

/** Each poll is late by up to this share of the period. */
export const JITTER = 0.1;
/** The longest back-off after failures, unless the period itself is longer. */
export const MAX_BACKOFF_MS = 5 * 60_000;

/** The first slot of a new device: anywhere in its first period, so a fleet's polls spread out. */
export function firstSlot(now: number, periodMs: number, random: () => number): number {
  return now + Math.floor(random() * periodMs);
}

/** The slot after `slot`; slots already past (a poll that overran, a slow store) are skipped, never run in a burst. */
export function nextSlot(slot: number, periodMs: number, now: number): number {
  const next = slot + periodMs;
  return next > now ? next : next + Math.ceil((now - next + 1) / periodMs) * periodMs;
}

/** When the poll of `slot` runs. */
export function withJitter(slot: number, periodMs: number, random: () => number): number {
  return slot + Math.floor(random() * JITTER * periodMs);
}

/** The wait after `failures` failed polls in a row (1, 2, …): the period, doubled each time, at most max(period, 5 min). */
export function backoffMs(failures: number, periodMs: number): number {
  const cap = Math.max(periodMs, MAX_BACKOFF_MS);
  return Math.min(cap, periodMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

/** `seq` of a reading polled at `ts`: its second, and always above the device's last one (a clock stepping back included). */
export function nextSeq(lastSeq: number, ts: number): number {
  return Math.max(lastSeq + 1, Math.floor(ts / 1000));
}
