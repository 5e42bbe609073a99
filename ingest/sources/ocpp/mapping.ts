import type { FieldError } from '../../../devices/payload.js';
import { parseIsoWithOffset } from '../../../lib/time.js';
import { MAX_EXTRA_SAMPLES, readSamples, type ExtraSample, type MeterValue, type SampleSet } from './meter-values.js';

/**
 * OCPP messages → contract readings of an `ev_charger` (`{ts, seq, energy_kwh, power_w?, session_id?,
 * connector, …extras}`), with the guards against what chargers in the field are known to send. Pure:
 * the caller passes the connector's last known register and keeps it up to date.
 *
 * **seq** = 10 × connector + source, where source is 0 for a sampled value (MeterValues, and the same
 * samples repeated in StopTransaction's `transactionData`), 1 for StartTransaction's `meterStart` and
 * 2 for StopTransaction's `meterStop`. With `ts` (the sample's own timestamp) it identifies a reading:
 * a MeterValues resent after a reconnect, or repeated in `transactionData`, is the same (ts, seq) with
 * the same values, stored once; a meterStart and a sample taken at the same instant stay two readings
 * (an interval of 0 between them) instead of a false conflict.
 */

export const SEQ_SOURCE = { sample: 0, meterStart: 1, meterStop: 2 } as const;
export type SeqSource = keyof typeof SEQ_SOURCE;

export function seqFor(connector: number, source: SeqSource): number {
  return connector * 10 + SEQ_SOURCE[source];
}

/** A drop within this fraction below the last register is jitter or rounding (as the store's counter rules see it), not a placeholder. */
export const REGISTER_TOLERANCE = 0.05;
/** A unit slip is a value off by about 1000×: at least this factor away from the last register as declared … */
export const SLIP_MIN_FACTOR = 100;
/** … and, read in the other unit, between 95 % and this multiple of the last register. */
export const SLIP_MAX_RISE = 2;
/** Below this register (kWh) a 1000× slip cannot be told from a young meter's ordinary rise: no correction. */
export const SLIP_MIN_REGISTER_KWH = 1;
/** The most one connector draws when the device declares no `nameplate_kw`: the fastest DC chargers (350 kW). */
export const DEFAULT_MAX_KW = 350;
/** Headroom over nameplate × hours, as the store's counter rules allow. */
export const BOUND_MARGIN = 1.2;

/** The connector's register as last stored: value (kWh) and time (epoch ms). */
export interface Register {
  kwh: number;
  ts: number;
}

export interface ContractReading {
  ts: number;
  seq: number;
  energy_kwh: number;
  power_w?: number;
  session_id?: string;
  connector: number;
  [extra: string]: unknown;
}

/** What became of a sample that is not a reading (or was read in another unit than declared): for the quarantine, the log and metrics. */
export interface SampleNote {
  outcome: 'no_energy' | 'placeholder' | 'unreadable' | 'unit_corrected';
  ts: number | null;
  field: string;
  reason: string;
  /** a power-only sample's power, for the status board */
  powerW?: number;
}

export type Judged = { kwh: number; corrected?: string } | { refused: string };

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toFixed(4))));

/**
 * Whether a register value (kWh, as declared) can be a reading, given the connector's last register:
 * - exactly 0 where the register already counted energy is a placeholder (an offline start, a meter not
 *   read yet), never a reading: stored, it would restart the series and the next value would look like
 *   the whole register flowing at once;
 * - a value about 1000× away from the last register that continues it when read in the other unit
 *   (Wh sent as kWh or the other way round) is read in that unit, and says so.
 * Anything else is left to the store's counter rules (a backwards step, a reset, a jump, a bound).
 */
export function judgeEnergy(kwh: number, declared: 'Wh' | 'kWh', last: Register | undefined): Judged {
  if (!last) return { kwh };
  if (kwh === 0 && last.kwh > 0) {
    return { refused: `0 is a placeholder, not a register value: this register was last ${fmt(last.kwh)} kWh (an offline start or an unread meter); not a reading` };
  }
  if (last.kwh < SLIP_MIN_REGISTER_KWH) return { kwh };
  const continues = (x: number) => x >= last.kwh * (1 - REGISTER_TOLERANCE) && x <= last.kwh * SLIP_MAX_RISE;
  if (kwh * SLIP_MIN_FACTOR <= last.kwh && continues(kwh * 1000)) {
    return { kwh: kwh * 1000, corrected: `declared ${declared}, read as ${declared === 'Wh' ? 'kWh' : 'MWh'}: ${fmt(kwh)} kWh is 1000× below the register (${fmt(last.kwh)} kWh), ×1000 continues it` };
  }
  if (kwh >= last.kwh * SLIP_MIN_FACTOR && continues(kwh / 1000)) {
    return { kwh: kwh / 1000, corrected: `declared ${declared}, read as ${declared === 'kWh' ? 'Wh' : 'mWh'}: ${fmt(kwh)} kWh is 1000× above the register (${fmt(last.kwh)} kWh), ÷1000 continues it` };
  }
  return { kwh };
}

/**
 * Whether a transaction's meterStart (kWh) may become a reading now that the first register value at or
 * after the start is known: it must not lie above that value (1 Wh of rounding aside), and what flowed
 * between them must fit the connector's power (nameplate, else DEFAULT_MAX_KW) over the time between,
 * as the store's bound does. A meterStart of 0 from a charger whose register stands at 12,345 kWh fails
 * the second test unless the session lasted 30 h at 350 kW.
 */
export function confirmMeterStart(start: Register, first: Register, maxKw: number): { ok: true } | { ok: false; reason: string } {
  if (first.kwh + 0.001 < start.kwh) {
    return { ok: false, reason: `meterStart ${fmt(start.kwh)} kWh is above the register's next value ${fmt(first.kwh)} kWh: not a reading` };
  }
  const hours = Math.max(1 / 60, (first.ts - start.ts) / 3_600_000);
  const bound = maxKw * hours * BOUND_MARGIN;
  if (first.kwh - start.kwh > bound) {
    return {
      ok: false,
      reason: `meterStart ${fmt(start.kwh)} kWh is ${fmt(first.kwh - start.kwh)} kWh below the register's next value ${fmt(first.kwh)} kWh, more than ${fmt(maxKw)} kW could draw in ${fmt(hours)} h (${fmt(bound)} kWh with the 20 % margin): a placeholder, not a reading`,
    };
  }
  return { ok: true };
}

/**
 * A meterStart (Wh, as sent) on arrival: dropped at once when it is a placeholder against the connector's
 * known register (0, or more than 5 % below a register read before the start), else the value to keep
 * pending until the transaction's next register value confirms it (`confirmMeterStart`).
 */
export function meterStartOnArrival(wh: number, startTs: number, last: Register | undefined): { pending: number; corrected?: string } | { dropped: string } {
  const judged = judgeEnergy(wh / 1000, 'Wh', last);
  if ('refused' in judged) return { dropped: `meterStart ${fmt(wh)} Wh: ${judged.refused}` };
  if (last && last.ts <= startTs && judged.kwh < last.kwh * (1 - REGISTER_TOLERANCE)) {
    return { dropped: `meterStart ${fmt(wh)} Wh is below the register's value before the start (${fmt(last.kwh)} kWh at ${new Date(last.ts).toISOString()}): a placeholder, not a reading` };
  }
  return judged.corrected ? { pending: judged.kwh, corrected: judged.corrected } : { pending: judged.kwh };
}

export interface SamplesIn {
  connector: number;
  /** the OCPP transactionId the samples belong to, when the message says */
  sessionId?: string;
  meterValue: readonly MeterValue[];
  /** field path of the list in the message, for the notes (`meterValue`, `transactionData`) */
  path: string;
  last: Register | undefined;
}

export interface SamplesOut {
  readings: ContractReading[];
  notes: SampleNote[];
  /** the register after these readings (the newest by time) */
  last: Register | undefined;
}

function mergeSets(a: SampleSet, b: SampleSet): SampleSet {
  const extras: Record<string, ExtraSample> = { ...a.extras };
  let skipped = a.skipped + b.skipped;
  for (const [k, v] of Object.entries(b.extras)) {
    if (k in extras) continue;
    if (Object.keys(extras).length >= MAX_EXTRA_SAMPLES) skipped++;
    else extras[k] = v;
  }
  return {
    energyKwh: a.energyKwh ?? b.energyKwh,
    energyUnit: a.energyKwh !== null ? a.energyUnit : b.energyUnit,
    powerW: a.powerW ?? b.powerW,
    extras,
    problems: [...a.problems, ...b.problems],
    skipped,
  };
}

/**
 * Sampled values (one MeterValues, or a StopTransaction's `transactionData`) → readings, oldest first.
 * Entries with the same timestamp are one reading. A timestamp without a register value is not a
 * reading (the kind requires `energy_kwh`, and none is invented): it is returned as a `no_energy` note
 * with its power.
 */
export function readingsFromSamples(input: SamplesIn): SamplesOut {
  const notes: SampleNote[] = [];
  const byTs = new Map<number, { field: string; set: SampleSet }>();
  input.meterValue.forEach((mv, i) => {
    const field = `${input.path}[${i}]`;
    const t = parseIsoWithOffset(mv.timestamp);
    if ('reason' in t) {
      notes.push({ outcome: 'unreadable', ts: null, field: `${field}.timestamp`, reason: t.reason });
      return;
    }
    const set = readSamples(mv.sampledValue, `${field}.sampledValue`);
    const seen = byTs.get(t.ms);
    byTs.set(t.ms, seen ? { field: seen.field, set: mergeSets(seen.set, set) } : { field, set });
  });

  const readings: ContractReading[] = [];
  let last = input.last;
  for (const [ts, { field, set }] of [...byTs].sort((a, b) => a[0] - b[0])) {
    for (const p of set.problems) notes.push({ outcome: 'unreadable', ts, field: p.field, reason: p.reason });
    if (set.energyKwh === null) {
      notes.push({
        outcome: 'no_energy',
        ts,
        field,
        reason: `has no ${'Energy.Active.Import.Register'} value: not a reading (an ev_charger reading needs energy_kwh; none is invented)`,
        ...(set.powerW !== null ? { powerW: set.powerW } : {}),
      });
      continue;
    }
    const judged = judgeEnergy(set.energyKwh, set.energyUnit ?? 'Wh', last);
    if ('refused' in judged) {
      notes.push({ outcome: 'placeholder', ts, field, reason: judged.refused });
      continue;
    }
    const extras: Record<string, unknown> = { ...set.extras };
    if (judged.corrected) {
      extras.ocpp_unit_corrected = judged.corrected;
      notes.push({ outcome: 'unit_corrected', ts, field, reason: judged.corrected });
    }
    readings.push({
      ...extras,
      ts,
      seq: seqFor(input.connector, 'sample'),
      energy_kwh: judged.kwh,
      ...(set.powerW !== null ? { power_w: set.powerW } : {}),
      ...(input.sessionId !== undefined ? { session_id: input.sessionId } : {}),
      connector: input.connector,
    });
    if (!last || ts >= last.ts) last = { kwh: judged.kwh, ts };
  }
  return { readings, notes, last };
}

/** A single register value of a transaction (meterStart, meterStop) as a reading. */
export function registerReading(connector: number, source: 'meterStart' | 'meterStop', ts: number, kwh: number, sessionId: string, corrected?: string): ContractReading {
  return {
    ...(corrected ? { ocpp_unit_corrected: corrected } : {}),
    ts,
    seq: seqFor(connector, source),
    energy_kwh: kwh,
    session_id: sessionId,
    connector,
  };
}

/** Field errors of notes, for the quarantine. */
export function noteErrors(notes: readonly SampleNote[]): FieldError[] {
  return notes.map((n) => ({ field: n.field, reason: n.reason }));
}
