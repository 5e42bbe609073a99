import { commissionedDay, round, type CommonOptions, type DeviceModel } from './common.js';
import { Cumulative } from './cumulative.js';
import { between, seededRandom } from './random.js';
import { HOUR_MS, SLOT_MS, dayStart, localDay, yyyymmdd } from './time.js';

// EV charger: a seeded number of charging sessions per day, each inside its own share of the
// vehicle class's charging window so that sessions never overlap on the one connector.

export type VehicleClass = 'car' | 'scooter' | 'bus';

const CHARGING: Record<VehicleClass, { kw: number; windowStartH: number; windowH: number }> = {
  car: { kw: 7, windowStartH: 7, windowH: 16 },
  scooter: { kw: 1.5, windowStartH: 7, windowH: 16 },
  bus: { kw: 60, windowStartH: 21, windowH: 9 }, // depot charging overnight
};

export interface EvChargerOptions extends CommonOptions {
  /** what plugs in (default car) */
  vehicleClass?: VehicleClass;
  /** charger power, kW (default: car 7, scooter 1.5, bus 60) */
  chargerKw?: number;
}

interface Session {
  id: string;
  startMs: number;
  endMs: number;
  kw: number;
}

export function evChargerModel(seed: string, opts: EvChargerOptions = {}): DeviceModel {
  const rand = seededRandom(seed);
  const cls = CHARGING[opts.vehicleClass ?? 'car'];
  const kw = opts.chargerKw ?? cls.kw;
  const first = commissionedDay(opts);
  const cache = new Map<number, Session[]>();

  const sessionsOf = (day: number): Session[] => {
    let list = cache.get(day);
    if (list) return list;
    list = [];
    if (day >= first) {
      const n = 2 + Math.floor(rand(1, day) * 5);
      const share = Math.floor((cls.windowH * 12) / n); // slots per session window
      const windowStart = dayStart(day) + cls.windowStartH * HOUR_MS;
      for (let k = 0; k < n; k++) {
        const key = day * 8 + k;
        const dur = Math.min(share, 12 + Math.floor(rand(2, key) * 25)); // 1–3 h
        const offset = Math.floor(rand(3, key) * (share - dur + 1));
        const startMs = windowStart + (k * share + offset) * SLOT_MS;
        list.push({ id: `${seed}-${yyyymmdd(day)}-${k + 1}`, startMs, endMs: startMs + dur * SLOT_MS, kw: kw * between(rand(4, key), 0.85, 1) });
      }
    }
    cache.set(day, list);
    return list;
  };
  const active = (ms: number): Session | undefined => {
    const day = localDay(ms);
    // a window may run past midnight, so yesterday's sessions can still be charging
    for (const list of [sessionsOf(day - 1), sessionsOf(day)]) {
      for (const s of list) if (s.startMs <= ms && ms < s.endMs) return s;
    }
    return undefined;
  };
  const energy = new Cumulative((t) => [active(t)?.kw ?? 0], [round(rand(0, 0) * kw * 300, 0)], first);

  return {
    kind: 'ev_charger',
    reading: (ts) => {
      const s = active(ts);
      return {
        energy_kwh: round(energy.at(ts)[0]!, 3),
        power_w: Math.round((s?.kw ?? 0) * 1000),
        ...(s ? { session_id: s.id } : {}),
        connector: 1,
      };
    },
  };
}
