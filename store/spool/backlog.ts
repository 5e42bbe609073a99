import type { SpoolPosition } from './spool.js';

/** What the consumer has not consumed yet: the durable records after the cursor. */
export interface Backlog {
  /** everything before this position is consumed (durable in the cursor file) */
  cursor: SpoolPosition;
  /** unconsumed durable records and their framed bytes */
  records: number;
  bytes: number;
  /** appendedAt of the oldest unconsumed record */
  oldest: number | null;
}

export const emptyBacklog = (): Backlog => ({ cursor: { segment: 0, offset: 0 }, records: 0, bytes: 0, oldest: null });
