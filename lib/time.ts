import { DateTime } from 'luxon';

/** ISO 8601 with a date, a time and an offset (`Z` or `±hh:mm`); seconds and fractions optional. */
export const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses an ISO 8601 time with an offset strictly, to epoch ms. Luxon, not `Date.parse`: `Date.parse`
 * rolls 2026-02-30 over to 2 March instead of refusing it. The reason names what is wrong.
 */
export function parseIsoWithOffset(v: string): { ms: number } | { reason: string } {
  if (!ISO_WITH_OFFSET.test(v)) {
    return { reason: `must be ISO 8601 with an offset (e.g. 2026-11-22T10:00:00+08:00), got "${v.slice(0, 40)}"` };
  }
  const dt = DateTime.fromISO(v, { setZone: true });
  if (!dt.isValid) return { reason: `is not a valid date: "${v.slice(0, 40)}" (${dt.invalidExplanation ?? dt.invalidReason})` };
  return { ms: dt.toMillis() };
}
