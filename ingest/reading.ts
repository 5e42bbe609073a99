import type { Kind, Sector } from '../devices/kinds.js';
import type { DeviceParams } from '../devices/params.js';

/** A validated reading with the device facts the store needs (tags, params for counter rules): what ingest hands on. */
export interface StoredReading {
  device: string;
  kind: Kind;
  site: string;
  sector: Sector;
  params: DeviceParams;
  /** epoch ms */
  ts: number;
  seq: number | null;
  fields: Record<string, number | string>;
  extras: Record<string, unknown>;
  /** epoch ms, when ingest received it */
  receivedAt: number;
}

export interface WriteResult {
  inserted: number;
  duplicates: number;
}

/** An interval that is not `ok`, made while storing readings: its device is warned (ingest/feedback.ts). */
export interface FlaggedInterval {
  device: string;
  site: string;
  counter: string;
  t0: number;
  t1: number;
  v0: number;
  v1: number;
  amount: number;
  quality: string;
  reason: string;
}

/** A reading resent with the ts and seq of a stored one but other values: not stored, quarantined with both. */
export interface ConflictingReading {
  reading: StoredReading;
  stored: { fields: Record<string, unknown>; extras: Record<string, unknown> };
}

/** What a store tells ingest after readings became durable (a remote store: when its spool drained them). */
export interface StoreEvents {
  flagged(intervals: FlaggedInterval[]): void;
  conflicts(conflicts: ConflictingReading[]): void;
}

/**
 * Where ingest makes readings durable (the store, or the spool in front of a remote store).
 * `writeBatch` resolves only once the readings are durable; a reading with the same (device, ts, seq)
 * as a stored one is a duplicate and is stored once.
 */
export interface DurableWriter {
  writeBatch(readings: StoredReading[]): Promise<WriteResult>;
  /** how many `writeBatch` calls may be in flight at once (absent: one; the group committer waits for each before the next) */
  readonly writesAtOnce?: number;
}
