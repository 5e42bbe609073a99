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

/**
 * Where ingest makes readings durable (the store, or the spool in front of a remote store).
 * `writeBatch` resolves only once the readings are durable; a reading with the same (device, ts, seq)
 * as a stored one is a duplicate and is stored once.
 */
export interface DurableWriter {
  writeBatch(readings: StoredReading[]): Promise<WriteResult>;
}
