import type { Device } from '../../devices/registry.js';
import type { FactorSet } from '../../accounting/factors/factor-set.js';
import type { DeviceQuantities, MeasureInfo } from '../../accounting/streams/stream.js';
import { emptyQualityCounts } from '../../store/intervals.js';
import { openHarness } from './accounts.js';

/** The built-in factor versions as a snapshot (through a real, throw-away registry). */
export async function builtinFactors(): Promise<FactorSet> {
  const h = await openHarness();
  try {
    return await h.accounts.factors.snapshot();
  } finally {
    await h.close();
  }
}

/** A registered device as the ledger sees it. */
export function device(over: Partial<Device> & Pick<Device, 'id' | 'kind'>): Device {
  return { role: 'device', site: 'site-1', sector: 'residential_commercial', measure: null, name: null, params: {}, demo: false, createdAt: '2024-01-01T00:00:00Z', ...over };
}

/** Quantities of one device over a window: counter totals and the time they cover. */
export function quantities(d: Device, counters: Record<string, number>, coveredMs: Record<string, number> = {}): DeviceQuantities {
  return { device: d, counters, coveredMs, quality: { ...emptyQualityCounts(), ok: 1 } };
}

export const NO_MEASURES: ReadonlyMap<string, MeasureInfo> = new Map();
