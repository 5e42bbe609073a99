import type { CounterSpec, Kind } from '../devices/kinds.js';
import type { DeviceParams } from '../devices/params.js';
import type { IntervalQuality } from './types.js';

/**
 * What a cumulative counter's next reading means: the rules a metering engineer signs for field meters
 * (store/README.md, "Counter rules", has an example of each). A counter series is read in time order
 * with a small state carried from point to point, so a backwards step never creates energy and the
 * energy it hid is never counted twice, and an unrelated value is only believed once the next reading
 * confirms it.
 *
 * - `ok`: the counter rose within the plausibility bound: counted.
 * - `wrap`: a rollover: `params.counter_max` declared and the register near it: max − previous + new, counted.
 * - `reset`: the register restarted: the new reading is small against the previous (below half of it)
 *   and small enough to have flowed in the interval: counted from zero.
 * - `step_back`: a small backwards step (within 5 % below the highest reading: jitter, a register read
 *   mid-update, an older value resent): nothing counted; counting resumes above the highest reading.
 * - `jump`: a drop to an unrelated value (a meter swapped for one whose register does not start at
 *   zero, a glitch): nothing credited; the next reading decides: it continues from the new value
 *   (the new register is confirmed, counted from it) or from the old one (the value was a glitch).
 * - `implausible`: more than the bound allows (the nameplate × hours × 1.2 where declared, else the
 *   kind's default, `DEFAULT_MAX_PER_HOUR`, or the device's `params.max_flow_m3_per_h` for gas): kept,
 *   flagged, left out of totals until a person accepts it in the review queue.
 */

/** A drop counts as a rollover when the previous value was within this fraction of `counter_max`. */
export const WRAP_WINDOW = 0.1;
/** Headroom over the bound × hours before an interval is implausible. */
export const NAMEPLATE_MARGIN = 1.2;
/** A drop within this fraction below the highest reading is a backwards step, not a reset or a swap. */
export const STEP_TOLERANCE = 0.05;
/** A reset restarts near zero: the new reading is below this fraction of the previous one. */
export const RESET_FRACTION = 0.5;
/**
 * The shortest time a bound is computed for, hours: two readings with one ts (and two seqs) came within
 * the resolution of the meter's clock, which is a minute or finer, not in no time at all.
 */
export const MIN_BOUND_HOURS = 1 / 60;
/** Relative slack so an amount exactly at the bound is not flagged by floating-point error (3 × 1.2 = 3.5999…). */
const FLOAT_SLACK = 1e-9;

/**
 * Plausibility bound per counter where the device declares none, per hour: a 10 MW site for electricity
 * (a large factory's connection; declare `nameplate_kw` for a tighter one), 1 MW for a charger (above
 * any charging park), 10,000 m³/h of gas (Neimen's plant makes about 50 m³/h).
 */
export const DEFAULT_MAX_PER_HOUR: Record<Kind, Record<string, number>> = {
  smart_meter: { import_kwh: 10_000, export_kwh: 10_000 },
  pv_inverter: { energy_kwh: 10_000 },
  biogas: { biogas_m3: 10_000, flare_m3: 10_000, gen_kwh: 10_000 },
  ev_charger: { energy_kwh: 1_000 },
};

/** The rule one counter of one device follows. */
export interface CounterRule {
  /** the most the counter can rise in an hour (kWh or m³) */
  maxPerHour: number;
  /** where the bound comes from, for the reasons given to operators */
  boundFrom: string;
  /** the counter's unit, for those reasons */
  unit: 'kWh' | 'm³';
  counterMax?: number;
}

export function counterRule(kind: Kind, spec: Pick<CounterSpec, 'field' | 'boundedByNameplate'>, params: Pick<DeviceParams, 'counter_max' | 'nameplate_kw'> & Record<string, unknown>): CounterRule {
  const flow = params.max_flow_m3_per_h;
  const unit = spec.boundedByNameplate ? 'kWh' : 'm³';
  if (spec.boundedByNameplate && params.nameplate_kw !== undefined) return { maxPerHour: params.nameplate_kw, boundFrom: `nameplate ${params.nameplate_kw} kW`, unit, counterMax: params.counter_max };
  if (!spec.boundedByNameplate && typeof flow === 'number' && flow > 0) return { maxPerHour: flow, boundFrom: `max_flow_m3_per_h ${flow}`, unit, counterMax: params.counter_max };
  const dflt = DEFAULT_MAX_PER_HOUR[kind]?.[spec.field] ?? 10_000;
  return { maxPerHour: dflt, boundFrom: `the ${kind} default of ${dflt} ${unit}/h`, unit, counterMax: params.counter_max };
}

/** Where a counter series stands after a point: the value energy is counted from, and an unconfirmed unrelated value. */
export interface SeriesState {
  /** the highest reading of the current register: energy is counted from here */
  ref: number;
  /** when `ref` was read, epoch ms (the bound for the energy since then scales with that time) */
  refTs: number;
  /** an unrelated value the next reading must confirm, or null */
  pending: number | null;
}

export interface SeriesPoint {
  ts: number;
  value: number;
}

/** What one reading of a series means: the interval into it and the state after it. */
export interface Step {
  amount: number;
  quality: IntervalQuality;
  /** why, for warnings and the review queue (empty for `ok`) */
  reason: string;
  state: SeriesState;
}

/** The state of a series' first point: counting starts from its value. */
export function firstState(p: SeriesPoint): SeriesState {
  return { ref: p.value, refTs: p.ts, pending: null };
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3).replace(/\.?0+$/, ''));

/** The interval from `prev` (with the state after it) to `cur`, and the state after `cur`. */
export function nextStep(prev: SeriesPoint, st: SeriesState, cur: SeriesPoint, rule: CounterRule): Step {
  const allowed = (sinceTs: number) => rule.maxPerHour * Math.max(MIN_BOUND_HOURS, (cur.ts - sinceTs) / 3_600_000) * NAMEPLATE_MARGIN;
  const bound = (sinceTs: number) => allowed(sinceTs) * (1 + FLOAT_SLACK);
  const u = rule.unit;
  const v = cur.value;
  const moved = { ref: v, refTs: cur.ts, pending: null };

  if (st.pending !== null) {
    const p = st.pending;
    if (v >= p && v - p <= bound(prev.ts)) {
      return { amount: v - p, quality: 'ok', reason: '', state: moved };
    }
    if (v >= st.ref && v - st.ref <= bound(st.refTs)) {
      return { amount: v - st.ref, quality: 'ok', reason: '', state: moved };
    }
    return {
      amount: 0,
      quality: 'jump',
      reason: `${fmt(v)} follows the unrelated value ${fmt(p)} and continues neither from it nor from ${fmt(st.ref)}: not credited until a following reading confirms a register`,
      state: { ...st, pending: v },
    };
  }

  const d = v - st.ref;
  if (d >= 0) {
    if (d <= bound(st.refTs)) return { amount: d, quality: 'ok', reason: '', state: moved };
    return {
      amount: d,
      quality: 'implausible',
      reason: `${fmt(d)} ${u}${st.ref === prev.value ? '' : ` above the highest reading ${fmt(st.ref)}`} in ${hours(cur.ts - st.refTs)} is more than ${rule.boundFrom} allows (${fmt(allowed(st.refTs))} ${u} with the 20 % margin): kept, left out of totals until reviewed`,
      state: moved,
    };
  }

  const max = rule.counterMax;
  if (max !== undefined && st.ref >= max * (1 - WRAP_WINDOW) && v < max) {
    const amount = max - st.ref + v;
    if (amount <= bound(st.refTs)) {
      return { amount, quality: 'wrap', reason: `the counter rolled over at ${fmt(max)} (${fmt(st.ref)} → ${fmt(v)}): counted ${fmt(amount)} ${u}`, state: moved };
    }
    return {
      amount,
      quality: 'implausible',
      reason: `a rollover at ${fmt(max)} would mean ${fmt(amount)} ${u} in ${hours(cur.ts - st.refTs)}, more than ${rule.boundFrom} allows (${fmt(allowed(st.refTs))} ${u} with the 20 % margin): kept, left out of totals until reviewed`,
      state: moved,
    };
  }
  if (v >= st.ref * (1 - STEP_TOLERANCE)) {
    return {
      amount: 0,
      quality: 'step_back',
      reason: `${fmt(v)} is ${fmt(-d)} below the highest reading ${fmt(st.ref)} (a backwards step: jitter, a read mid-update or an older value): nothing counted; counting resumes above ${fmt(st.ref)}`,
      state: st,
    };
  }
  if (v < st.ref * RESET_FRACTION && v <= bound(prev.ts)) {
    return { amount: v, quality: 'reset', reason: `the counter restarted (${fmt(st.ref)} → ${fmt(v)}): counted ${fmt(v)} ${u} from zero`, state: moved };
  }
  return {
    amount: 0,
    quality: 'jump',
    reason: `${fmt(v)} is unrelated to the previous ${fmt(st.ref)} (a meter swapped, or a glitch): not credited; the next reading decides which register counting continues from`,
    state: { ...st, pending: v },
  };
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 1 ? `${fmt(h)} h` : `${fmt(ms / 60_000)} min`;
}

export function sameState(a: SeriesState | null | undefined, b: SeriesState | null | undefined): boolean {
  return !!a && !!b && a.ref === b.ref && a.refTs === b.refTs && a.pending === b.pending;
}

/** Qualities whose amount is left out of totals until a person accepts it. */
export const HELD_OUT: ReadonlySet<IntervalQuality> = new Set(['implausible']);
