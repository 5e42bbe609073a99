import type { FieldError, ParsedPayload } from '../devices/payload.js';
import type { RefusedReading } from './group-commit.js';

/** A reading of a message that was not stored, by its index in the batch (null: the whole message, or its one reading). */
export interface ReadingRejection {
  index: number | null;
  errors: FieldError[];
}

/**
 * Every reading of a message that was not stored, with why: those validation refused, and those the
 * store refused for their own sake (`refused` counts in the list of valid readings, mapped back here to
 * their index in the batch).
 */
export function rejectionsOf(parsed: ParsedPayload, refused: readonly RefusedReading[]): ReadingRejection[] {
  const out: ReadingRejection[] = parsed.rejections.map((r) => ({ index: r.index, errors: r.errors }));
  if (refused.length === 0) return out;
  const invalid = new Set(parsed.rejections.map((r) => r.index));
  const batchIndex: number[] = [];
  for (let i = 0; batchIndex.length < parsed.readings.length; i++) if (!invalid.has(i)) batchIndex.push(i);
  for (const r of refused) out.push({ index: batchIndex[r.index] ?? null, errors: [{ field: 'store', reason: r.reason }] });
  return out;
}
