import { commissionedDay, round, type CommonOptions, type DeviceModel } from './common.js';
import { Cumulative } from './cumulative.js';
import { between, seededRandom, type Rand } from './random.js';
import { SLOT_MS, calendar, localDay, localHour, slotIndex } from './time.js';

export const KAOHSIUNG = { latDeg: 22.6, lonDeg: 120.3 } as const;
const RAD = Math.PI / 180;

/** Sine of the sun's elevation over Kaohsiung at `ms` (negative at night). */
export function sunElevationSine(ms: number): number {
  const n = calendar(localDay(ms)).dayOfYear;
  const decl = 23.44 * RAD * Math.sin((2 * Math.PI * (284 + n)) / 365);
  const b = (2 * Math.PI * (n - 81)) / 364;
  const eotMin = 9.87 * Math.sin(2 * b) - 7.53 * Math.cos(b) - 1.5 * Math.sin(b);
  // Taiwan's clock meridian is 120° E: 4 minutes of solar time per degree east of it.
  const solarHour = localHour(ms) + (4 * (KAOHSIUNG.lonDeg - 120) + eotMin) / 60;
  const hourAngle = 15 * RAD * (solarHour - 12);
  const lat = KAOHSIUNG.latDeg * RAD;
  return Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(hourAngle);
}

/** Performance ratio of a well-kept plant (inverter, wiring, heat, soiling). */
const PV_PERFORMANCE_RATIO = 0.8;

/** PV output in kW for the slot starting at `slotMs`, sun taken at the slot's midpoint. */
export function pvPowerKw(rand: Rand, kwp: number, slotMs: number): number {
  const s = sunElevationSine(slotMs + SLOT_MS / 2);
  if (s <= 0) return 0;
  const cloud = between(rand(1, localDay(slotMs)), 0.4, 1.0);
  const flicker = between(rand(2, slotIndex(slotMs)), 1 - (1.1 - cloud) * 0.4, 1);
  return Math.min(kwp, kwp * PV_PERFORMANCE_RATIO * s ** 1.2 * cloud * flicker);
}

export interface PvOptions extends CommonOptions {
  /** DC nameplate, kWp (default 100) */
  nameplateKw?: number;
}

export function pvInverterModel(seed: string, opts: PvOptions = {}): DeviceModel {
  const rand = seededRandom(seed);
  const kwp = opts.nameplateKw ?? 100;
  const first = commissionedDay(opts);
  const power = (ms: number) => (localDay(ms) < first ? 0 : pvPowerKw(rand, kwp, ms - (ms % SLOT_MS)));
  const energy = new Cumulative((t) => [power(t)], [round(rand(0, 0) * kwp * 500, 0)], first);
  return {
    kind: 'pv_inverter',
    reading: (ts) => ({
      energy_kwh: round(energy.at(ts)[0]!, 3),
      power_w: Math.round(power(ts) * 1000),
    }),
  };
}
