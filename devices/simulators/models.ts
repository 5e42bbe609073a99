import type { Kind } from '../kinds.js';

/**
 * Deterministic device models for Kaohsiung (Asia/Taipei, 22.6° N, 120.3° E).
 *
 * A model's reading is a pure function of (seed, options, time): counters are the integral of a
 * power (or flow) that is constant over each 5-minute slot, summed from a fixed commissioning day.
 * So a restart, a backfill and live publishing all report the same values, and counters never go
 * backwards. Randomness is a hash of (seed, day) or (seed, slot), never Math.random.
 */

export interface DeviceModel {
  readonly kind: Kind;
  /** The reading at `tsMs` (epoch ms): cumulative counters and instantaneous values, without ts/seq. */
  reading(tsMs: number): Record<string, number | string>;
}

export interface CommonOptions {
  /** Local date (YYYY-MM-DD, Asia/Taipei) the counters start from; default 2026-01-01. */
  commissioned?: string;
}

// ---------------------------------------------------------------------------------------------
// Local time. Asia/Taipei has had no daylight saving since 1979, so a fixed +08:00 offset gives the
// same local days and clock times as a zone database, at a fraction of the cost per 5-minute step.

export const SLOT_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const OFFSET_MS = 8 * HOUR_MS;
const SLOTS_PER_DAY = DAY_MS / SLOT_MS;
const SLOT_H = SLOT_MS / HOUR_MS;

/** Local (Taipei) day number: days since 1970-01-01 local. */
const localDay = (ms: number): number => Math.floor((ms + OFFSET_MS) / DAY_MS);
const dayStart = (day: number): number => day * DAY_MS - OFFSET_MS;
/** Local clock time in hours, 0 ≤ h < 24. */
const localHour = (ms: number): number => (ms - dayStart(localDay(ms))) / HOUR_MS;

interface Calendar {
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
  month: number;
  dayOfYear: number;
}

// One-entry cache: integration walks a whole day of slots at a time, so this saves a Date per slot.
let lastCalendar: { day: number; cal: Calendar } | undefined;

function calendar(day: number): Calendar {
  if (lastCalendar?.day === day) return lastCalendar.cal;
  const d = new Date(day * DAY_MS);
  const cal = {
    weekday: d.getUTCDay(),
    month: d.getUTCMonth() + 1,
    dayOfYear: Math.round((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1,
  };
  lastCalendar = { day, cal };
  return cal;
}
const yyyymmdd = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');

/** ISO 8601 with the +08:00 offset, e.g. `2026-11-22T10:00:00+08:00`. */
export function isoTaipei(ms: number): string {
  const s = new Date(ms + OFFSET_MS).toISOString();
  return `${s.endsWith('.000Z') ? s.slice(0, -5) : s.slice(0, -1)}+08:00`;
}

function commissionedDay(opts: CommonOptions): number {
  const date = opts.commissioned ?? '2026-01-01';
  const ms = Date.parse(`${date}T00:00:00+08:00`);
  if (Number.isNaN(ms)) throw new Error(`commissioned must be a date YYYY-MM-DD, got "${date}"`);
  return localDay(ms);
}

// ---------------------------------------------------------------------------------------------
// Seeded pseudo-randomness: murmur3's finaliser over (seed hash, stream, index).

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** `rand(stream, n)` in [0, 1), a pure function of (seed, stream, n). */
export type Rand = (stream: number, n: number) => number;

export function seededRandom(seed: string): Rand {
  const s = hashString(seed);
  return (stream, n) => fmix32(s ^ fmix32(Math.imul(stream + 1, 0x9e3779b1) ^ fmix32(n | 0))) / 0x1_0000_0000;
}

const slotIndex = (ms: number): number => Math.floor(ms / SLOT_MS);
const between = (r: number, lo: number, hi: number): number => lo + (hi - lo) * r;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// Integration. Rates are per hour and constant over a slot; the cumulative total at each local day
// start is memoised, so a reading costs at most one day of steps once the memo has caught up.

type Rates = (slotStartMs: number) => readonly number[];

class Cumulative {
  private readonly starts: number[][];

  constructor(
    private readonly rates: Rates,
    initial: readonly number[],
    private readonly firstDay: number,
  ) {
    this.starts = [[...initial]];
  }

  at(ts: number): number[] {
    const d = localDay(ts) - this.firstDay;
    if (d < 0) return [...this.starts[0]!];
    while (this.starts.length <= d) {
      const i = this.starts.length - 1;
      this.starts.push(this.advance(this.starts[i]!, dayStart(this.firstDay + i), Infinity));
    }
    return this.advance(this.starts[d]!, dayStart(this.firstDay + d), ts);
  }

  /** Integrate from local day start `t0` up to `until` (at most one day). */
  private advance(start: readonly number[], t0: number, until: number): number[] {
    const acc = [...start];
    for (let k = 0, t = t0; k < SLOTS_PER_DAY && t < until; k++, t += SLOT_MS) {
      const hours = t + SLOT_MS <= until ? SLOT_H : (until - t) / HOUR_MS;
      const r = this.rates(t);
      for (let j = 0; j < acc.length; j++) acc[j]! += r[j]! * hours;
    }
    return acc;
  }
}

// ---------------------------------------------------------------------------------------------
// PV inverter

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
function pvPowerKw(rand: Rand, kwp: number, slotMs: number): number {
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

// ---------------------------------------------------------------------------------------------
// Smart meter

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

// ---------------------------------------------------------------------------------------------
// Biogas plant. Defaults from the Neimen livestock-manure centre (domain.md): ~1,168 m³ biogas a
// day; 20.196 萬 kWh in 2023/1–9 (273 days) ≈ 740 kWh a day from the generator.

export interface BiogasOptions extends CommonOptions {
  /** biogas produced per day, m³ at meter conditions (default 1168) */
  dailyM3?: number;
  /** generator output per day, kWh (default 740) */
  dailyKwh?: number;
  /** mean share of the biogas sent to the flare (default 0.1) */
  flareShare?: number;
}

export function biogasModel(seed: string, opts: BiogasOptions = {}): DeviceModel {
  const rand = seededRandom(seed);
  const dailyM3 = opts.dailyM3 ?? 1168;
  const flareShare = opts.flareShare ?? 0.1;
  const kwhPerEngineM3 = (opts.dailyKwh ?? 740) / (dailyM3 * (1 - flareShare));
  const first = commissionedDay(opts);

  const rates = (slot: number): [number, number, number] => {
    const day = localDay(slot);
    if (day < first) return [0, 0, 0];
    const flow = (dailyM3 / 24) * between(rand(1, day), 0.92, 1.08) * between(rand(2, slotIndex(slot)), 0.95, 1.05);
    const flare = flow * between(rand(3, day), 0.5, 1.5) * flareShare;
    return [flow, (flow - flare) * kwhPerEngineM3, flare];
  };
  const initialM3 = round(rand(0, 0) * dailyM3 * 300, 0);
  const counters = new Cumulative(rates, [initialM3, round(initialM3 * 0.6, 0), round(initialM3 * flareShare, 0)], first);

  return {
    kind: 'biogas',
    reading: (ts) => {
      const [m3, kwh, flare] = counters.at(ts) as [number, number, number];
      const day = localDay(ts);
      const slot = slotIndex(ts);
      const { month } = calendar(day);
      const season = month >= 5 && month <= 10 ? 2 : month <= 2 || month === 12 ? -2 : 0;
      const noise = (stream: number) => 2 * rand(stream, slot) - 1;
      return {
        biogas_m3: round(m3, 3),
        ch4_pct: round(clamp(60 + 3 * (2 * rand(4, day) - 1) + noise(5), 55, 65), 2),
        // warmest mid-afternoon, coolest before dawn
        temp_c: round(clamp(30 + season + 2.5 * Math.sin((2 * Math.PI * (localHour(ts) - 9)) / 24) + 0.5 * noise(6), 25, 35), 2),
        pressure_kpa: round(clamp(102.5 + 0.8 * (2 * rand(7, day) - 1) + 0.2 * noise(8), 101, 104), 2),
        gen_kwh: round(kwh, 3),
        flare_m3: round(flare, 3),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------

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
