import { z } from 'zod';
import { defineMethod } from '../../methods/method.js';
import { gridFactorField, kwhField, tco2eField } from '../../methods/fields.js';

/** Reference state of a normal cubic metre (Nm³): 0 °C, 101.325 kPa absolute. */
export const STANDARD_PRESSURE_KPA = 101.325;
export const ZERO_CELSIUS_K = 273.15;

/**
 * Defaults (docs/domain.md, "Defaults"; each overridable per device and recorded as a factor version
 * by the caller). The method itself takes every factor as an explicit input.
 */
export const BIOGAS_DEFAULTS = {
  /** kg/Nm³ at 0 °C, 101.325 kPa (0.667 kg/m³ at 20 °C: only valid after normalising to 0 °C) */
  methane_density_kg_per_nm3: 0.716,
  /** IPCC AR5 100-year GWP of CH4, Taiwan's adopted set (budget report 004: GWP(28)) */
  gwp_ch4: 28,
  /** generator engine: the budget counts all treated methane as destroyed */
  engine_destruction: 1.0,
  /** CDM flaring tool defaults, by `params.flare_type` */
  flare_destruction: { enclosed: 0.9, open: 0.5 },
} as const;

/** CH4 100-year GWP by IPCC assessment report. Pick one set per report; never mix them. */
export const CH4_GWP = { AR4: 25, AR5: 28, AR6: 27 } as const;

/**
 * Gas volume at the meter's temperature and absolute pressure → normal cubic metres (0 °C, 101.325 kPa):
 * Nm³ = m³ × (P / 101.325) × (273.15 / (273.15 + T)). An absent T or P means the volume is already at that
 * reference, so that factor is 1. P is absolute (gauge + atmospheric), in kPa.
 */
export function normalCubicMetres(volume_m3: number, temp_c?: number, pressure_kpa?: number): number {
  if (!Number.isFinite(volume_m3) || volume_m3 < 0) throw new RangeError(`volume_m3 must be a finite number >= 0, got ${volume_m3}`);
  if (temp_c !== undefined && (!Number.isFinite(temp_c) || temp_c <= -ZERO_CELSIUS_K)) {
    throw new RangeError(`temp_c must be a finite temperature above absolute zero (°C), got ${temp_c}`);
  }
  if (pressure_kpa !== undefined && (!Number.isFinite(pressure_kpa) || pressure_kpa <= 0)) {
    throw new RangeError(`pressure_kpa must be a finite absolute pressure > 0 (kPa), got ${pressure_kpa}`);
  }
  const pressureFactor = pressure_kpa === undefined ? 1 : pressure_kpa / STANDARD_PRESSURE_KPA;
  const temperatureFactor = temp_c === undefined ? 1 : ZERO_CELSIUS_K / (ZERO_CELSIUS_K + temp_c);
  return volume_m3 * pressureFactor * temperatureFactor;
}

/**
 * Methane mass in tonnes: t = Nm³ × CH4% / 100 × density (kg/Nm³) / 1000. The volume must already be
 * normalised (see `normalCubicMetres`) to the state the density refers to (0.716 kg/Nm³ at 0 °C, 101.325 kPa).
 */
export function methaneTonnes(normal_m3: number, ch4_pct: number, density_kg_per_nm3: number): number {
  if (!Number.isFinite(normal_m3) || normal_m3 < 0) throw new RangeError(`normal_m3 must be a finite number >= 0, got ${normal_m3}`);
  if (!Number.isFinite(ch4_pct) || ch4_pct < 0 || ch4_pct > 100) throw new RangeError(`ch4_pct must be within 0..100 (%), got ${ch4_pct}`);
  if (!Number.isFinite(density_kg_per_nm3) || density_kg_per_nm3 <= 0) {
    throw new RangeError(`density_kg_per_nm3 must be a finite number > 0 (kg/Nm³), got ${density_kg_per_nm3}`);
  }
  return (normal_m3 * (ch4_pct / 100) * density_kg_per_nm3) / 1000;
}

const methaneT = (what: string) => z.number().nonnegative().describe(`${what}, t CH4 (>= 0)`);
const fraction = (what: string) => z.number().min(0).max(1).describe(`${what}, fraction 0..1 (dimensionless)`);

/**
 * Biogas (CDM AMS-III.D form, methane recovery in animal manure management; the baseline destroys no methane):
 * methane destroyed t = CH4 to engine × η_engine + CH4 to flare × η_flare;
 * avoided methane tCO2e = destroyed × GWP(CH4); avoided electricity tCO2e = generator kWh × EF / 1000;
 * avoided tCO2e = the two together.
 */
export const biogasMethod = defineMethod({
  id: 'biogas',
  basis: 'CDM AMS-III.D (methane recovery in animal manure management), no methane destruction in the baseline',
  input: z.object({
    ch4_to_engine_t: methaneT('methane sent to the generator engine in the interval (from normalised Nm³)'),
    ch4_to_flare_t: methaneT('methane sent to the flare in the interval (from normalised Nm³)'),
    generator_kwh: kwhField('electricity generated from the biogas in the interval'),
    gwp_ch4: z.number().positive().describe('CH4 global warming potential, tCO2e per t CH4 (one IPCC set per report: AR5 28, AR4 25, AR6 27)'),
    engine_destruction: fraction('methane destruction efficiency of the generator engine (default 1.0)'),
    flare_destruction: fraction('methane destruction efficiency of the flare (default 0.9 enclosed, 0.5 open)'),
    grid_kgco2e_per_kwh: gridFactorField,
  }),
  output: z.object({
    methane_treated_t: methaneT('methane sent to engine and flare together'),
    methane_destroyed_t: methaneT('methane destroyed: engine × η_engine + flare × η_flare'),
    avoided_methane_tco2e: tco2eField('avoided methane emissions: destroyed CH4 × GWP'),
    avoided_electricity_tco2e: tco2eField('avoided grid electricity emissions: generator kWh × EF / 1000'),
    avoided_tco2e: tco2eField('total avoided emissions: methane + electricity'),
  }),
  formula: (i) => {
    const methane_destroyed_t = i.ch4_to_engine_t * i.engine_destruction + i.ch4_to_flare_t * i.flare_destruction;
    const avoided_methane_tco2e = methane_destroyed_t * i.gwp_ch4;
    const avoided_electricity_tco2e = (i.generator_kwh * i.grid_kgco2e_per_kwh) / 1000;
    return {
      methane_treated_t: i.ch4_to_engine_t + i.ch4_to_flare_t,
      methane_destroyed_t,
      avoided_methane_tco2e,
      avoided_electricity_tco2e,
      avoided_tco2e: avoided_methane_tco2e + avoided_electricity_tco2e,
    };
  },
});

export type BiogasInput = z.input<typeof biogasMethod.input>;
export type BiogasOutput = z.output<typeof biogasMethod.output>;
