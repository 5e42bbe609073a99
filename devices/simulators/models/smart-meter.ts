import { clamp, commissionedDay, round, type CommonOptions, type DeviceModel } from './common.js';
import { Cumulative } from './cumulative.js';
import { pvPowerKw } from './pv-inverter.js';
import { between, seededRandom } from './random.js';
import { SLOT_MS, calendar, localDay, localHour, slotIndex } from './time.js';

export type LoadProfile = 'school' | 'office' | 'housing';

export interface SmartMeterOptions extends CommonOptions {
  /** school / office: weekday daytime peak; housing: evening peak (default office) */
  profile?: LoadProfile;
  /** night-time base load, kW (default 20) */
  baseKw?: number;
  /** rooftop PV behind the meter: true = 2 × baseKw kWp, or the kWp; surplus is exported */
  exportFromPv?: boolean | number;
}

/** Smooth step up at `on` and down at `off` (hours), one-hour ramps. */
function plateau(h: number, on: number, off: number): number {
  return clamp(h - on + 0.5, 0, 1) * clamp(off - h + 0.5, 0, 1);
}

/** Load as a multiple of the base load at local hour `h`. */
function loadShape(profile: LoadProfile, h: number, day: number): number {
  const { weekday, month } = calendar(day);
  const workday = weekday >= 1 && weekday <= 5;
  switch (profile) {
    case 'school': {
      const holidays = month === 7 || month === 8 || month === 2;
      const peak = workday ? (holidays ? 0.8 : 2.6) : 0.2;
      return 1 + peak * plateau(h, 7.5, 16.5);
    }
    case 'office': {
      if (!workday) return 1.1;
      return 1 + 2 * plateau(h, 8, 18) - 0.3 * plateau(h, 12, 13);
    }
    case 'housing':
      return 0.8 + 0.6 * plateau(h, 6, 8) + (workday ? 0.2 : 0.5) * plateau(h, 9, 17) + 1.6 * plateau(h, 18, 23);
  }
}

export function smartMeterModel(seed: string, opts: SmartMeterOptions = {}): DeviceModel {
  const rand = seededRandom(seed);
  const profile = opts.profile ?? 'office';
  const baseKw = opts.baseKw ?? 20;
  const pvKwp = opts.exportFromPv === true ? 2 * baseKw : typeof opts.exportFromPv === 'number' ? opts.exportFromPv : 0;
  const first = commissionedDay(opts);

  const netKw = (ms: number): number => {
    const slot = ms - (ms % SLOT_MS);
    const day = localDay(slot);
    if (day < first) return 0;
    const { month } = calendar(day);
    const cooling = month >= 5 && month <= 10 ? 1.3 : 1; // air conditioning, May–October
    const load =
      baseKw *
      loadShape(profile, localHour(slot + SLOT_MS / 2), day) *
      cooling *
      between(rand(1, day), 0.9, 1.1) *
      between(rand(2, slotIndex(slot)), 0.93, 1.07);
    return load - (pvKwp > 0 ? pvPowerKw(rand, pvKwp, slot) : 0);
  };
  const counters = new Cumulative(
    (t) => {
      const n = netKw(t);
      return [Math.max(0, n), Math.max(0, -n)];
    },
    [round(rand(0, 0) * baseKw * 5000, 0), 0],
    first,
  );
  return {
    kind: 'smart_meter',
    reading: (ts) => {
      const [imp, exp] = counters.at(ts) as [number, number];
      return {
        import_kwh: round(imp, 3),
        ...(pvKwp > 0 ? { export_kwh: round(exp, 3) } : {}),
        power_w: Math.round(netKw(ts) * 1000),
      };
    },
  };
}
