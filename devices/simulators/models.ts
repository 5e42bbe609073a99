import type { Kind } from '../kinds.js';
import { biogasModel, type BiogasOptions } from './models/biogas.js';
import type { DeviceModel } from './models/common.js';
import { evChargerModel, type EvChargerOptions } from './models/ev-charger.js';
import { pvInverterModel, type PvOptions } from './models/pv-inverter.js';
import { smartMeterModel, type SmartMeterOptions } from './models/smart-meter.js';

export type { DeviceModel } from './models/common.js';

/**
 * Deterministic device models for Kaohsiung (Asia/Taipei, 22.6° N, 120.3° E).
 *
 * A model's reading is a pure function of (seed, options, time): counters are the integral of a
 * power (or flow) that is constant over each 5-minute slot, summed from a fixed commissioning day.
 * So a restart, a backfill and live publishing all report the same values, and counters never go
 * backwards. Randomness is a hash of (seed, day) or (seed, slot), never Math.random.
 *
 * One file per kind in models/, on shared helpers there: time.ts (slots, Taipei local days),
 * random.ts (seeded randomness), cumulative.ts (the memoised daily integration), common.ts.
 */

export type ModelOptions = PvOptions & SmartMeterOptions & BiogasOptions & EvChargerOptions;

/** The model of a kind; options that do not apply to the kind are ignored. */
export function modelFor(kind: Kind, seed: string, opts: ModelOptions = {}): DeviceModel {
  switch (kind) {
    case 'pv_inverter':
      return pvInverterModel(seed, opts);
    case 'smart_meter':
      return smartMeterModel(seed, opts);
    case 'biogas':
      return biogasModel(seed, opts);
    case 'ev_charger':
      return evChargerModel(seed, opts);
  }
}
