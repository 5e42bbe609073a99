import type { FieldError } from '../../../devices/payload.js';

/**
 * OCPP 1.6 sampled values (MeterValues.req, StopTransaction.req `transactionData`) read into what a
 * reading of an `ev_charger` needs: the energy register in kWh, the active power in W, and the other
 * measurands as bounded extra fields. The schema (checked by ocpp-rpc's strict mode before this runs)
 * already limits `measurand`, `unit`, `phase`, `location` and `context` to the spec's enumerations;
 * the value is a string, read here as a decimal number.
 */

export interface SampledValue {
  value: string;
  context?: string;
  format?: 'Raw' | 'SignedData';
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
}

export interface MeterValue {
  timestamp: string;
  sampledValue: SampledValue[];
}

/** The register: "Energy.Active.Import.Register" is also what a sample without a measurand is (OCPP 1.6 §7.31). */
export const ENERGY_REGISTER = 'Energy.Active.Import.Register';
export const ACTIVE_POWER = 'Power.Active.Import';
/** Other measurands kept per reading at most; the rest are counted, not kept. */
export const MAX_EXTRA_SAMPLES = 32;

/** One extra measurand: its value and, when the charger said it, its unit. */
export interface ExtraSample {
  value: number;
  unit?: string;
}

export interface SampleSet {
  /** the register in kWh, units applied (Wh when none is given, as the spec says); null when the set has none */
  energyKwh: number | null;
  /** the unit the register was declared in (`Wh` when none was given) */
  energyUnit: 'Wh' | 'kWh' | null;
  /** active import power in W (unit W or kW; W when none is given); null when absent */
  powerW: number | null;
  /** other measurands by `measurand[.phase][@location]`, at most MAX_EXTRA_SAMPLES */
  extras: Record<string, ExtraSample>;
  /** samples that could not be read (the field path relative to the sampledValue list, and why) */
  problems: FieldError[];
  /** extra measurands left out over MAX_EXTRA_SAMPLES, and signed values (not read) */
  skipped: number;
}

const DECIMAL = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** A sampled value's text as a finite number, or null. */
export function readNumber(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** The register sample preferred when a set holds several without a phase: the outlet's (the default location), then the inlet's. */
function registerRank(location: string | undefined): number {
  if (location === undefined || location === 'Outlet') return 0;
  if (location === 'Inlet') return 1;
  return -1;
}

function extraKey(s: SampledValue, measurand: string): string {
  return `${measurand}${s.phase ? `.${s.phase}` : ''}${s.location && s.location !== 'Outlet' ? `@${s.location}` : ''}`;
}

/**
 * Reads one timestamp's sampled values. The register is `Energy.Active.Import.Register` without a phase
 * (per-phase registers and `…Interval` energies are kept as extras, never taken for the register);
 * `Power.Active.Import` without a phase is `power_w`; everything else is an extra field.
 */
export function readSamples(values: readonly SampledValue[], path = 'sampledValue'): SampleSet {
  const out: SampleSet = { energyKwh: null, energyUnit: null, powerW: null, extras: {}, problems: [], skipped: 0 };
  const read: Array<{ s: SampledValue; n: number; measurand: string; field: string }> = [];
  values.forEach((s, i) => {
    const field = `${path}[${i}]`;
    const measurand = s.measurand ?? ENERGY_REGISTER;
    if (s.format === 'SignedData') {
      out.skipped++;
      return;
    }
    const n = readNumber(s.value);
    if (n === null) out.problems.push({ field: `${field}.value`, reason: `must be a decimal number (${measurand}), got ${JSON.stringify(s.value.slice(0, 40))}` });
    else read.push({ s, n, measurand, field });
  });
  // the register: the best-ranked sample without a phase whose unit is an energy unit
  let register: (typeof read)[number] | undefined;
  for (const r of read) {
    if (r.measurand !== ENERGY_REGISTER || r.s.phase || registerRank(r.s.location) < 0) continue;
    const unit = r.s.unit ?? 'Wh';
    if (unit !== 'Wh' && unit !== 'kWh') {
      out.problems.push({ field: `${r.field}.unit`, reason: `must be Wh or kWh for ${ENERGY_REGISTER}, got "${unit}"` });
      continue;
    }
    if (!register || registerRank(r.s.location) < registerRank(register.s.location)) register = r;
  }
  if (register) {
    out.energyUnit = (register.s.unit ?? 'Wh') as 'Wh' | 'kWh';
    out.energyKwh = out.energyUnit === 'kWh' ? register.n : register.n / 1000;
  }
  for (const r of read) {
    if (r === register) continue;
    if (r.measurand === ENERGY_REGISTER && !r.s.phase && registerRank(r.s.location) >= 0 && !['Wh', 'kWh'].includes(r.s.unit ?? 'Wh')) continue;
    if (r.measurand === ACTIVE_POWER && !r.s.phase && out.powerW === null) {
      const unit = r.s.unit ?? 'W';
      if (unit === 'W' || unit === 'kW') {
        out.powerW = unit === 'kW' ? r.n * 1000 : r.n;
        continue;
      }
      out.problems.push({ field: `${r.field}.unit`, reason: `must be W or kW for ${ACTIVE_POWER}, got "${unit}"` });
      continue;
    }
    const key = extraKey(r.s, r.measurand);
    if (key in out.extras) continue;
    if (Object.keys(out.extras).length >= MAX_EXTRA_SAMPLES) {
      out.skipped++;
      continue;
    }
    out.extras[key] = r.s.unit ? { value: r.n, unit: r.s.unit } : { value: r.n };
  }
  return out;
}
