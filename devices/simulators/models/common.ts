import type { Kind } from '../../kinds.js';
import { localDay } from './time.js';

// What every model shares: the DeviceModel contract, the commissioning day, clamping and rounding.

export interface DeviceModel {
  readonly kind: Kind;
  /** The reading at `tsMs` (epoch ms): cumulative counters and instantaneous values, without ts/seq. */
  reading(tsMs: number): Record<string, number | string>;
}

export interface CommonOptions {
  /** Local date (YYYY-MM-DD, Asia/Taipei) the counters start from; default 2026-01-01. */
  commissioned?: string;
}

/** The local day number the counters start from. */
export function commissionedDay(opts: CommonOptions): number {
  const date = opts.commissioned ?? '2026-01-01';
  const ms = Date.parse(`${date}T00:00:00+08:00`);
  if (Number.isNaN(ms)) throw new Error(`commissioned must be a date YYYY-MM-DD, got "${date}"`);
  return localDay(ms);
}

export const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
export const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
