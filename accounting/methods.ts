/**
 * The first accounting methods (../shared/domain.md, "Methods"). Pure functions over amounts and
 * factors; units are in the names.
 */

/** PV (CDM AMS-I.D form): avoided t = ΔkWh × EF / 1000. */
export function pvAvoidedTco2e(energyKwh: number, gridKgco2ePerKwh: number): number {
  return (energyKwh * gridKgco2ePerKwh) / 1000;
}

/** Inventory (location-based, GHG Protocol Scope 2): t = consumption kWh × EF / 1000. */
export function inventoryTco2e(consumptionKwh: number, gridKgco2ePerKwh: number): number {
  return (consumptionKwh * gridKgco2ePerKwh) / 1000;
}

export const STANDARD_PRESSURE_KPA = 101.325;
export const ZERO_CELSIUS_K = 273.15;
/** kg/Nm³ at 0 °C, 101.325 kPa (domain.md, "Factors") */
export const METHANE_DENSITY_KG_PER_NM3 = 0.716;

/** Volume at the meter's temperature and pressure → Nm³ (0 °C, 101.325 kPa); absent T/P → already Nm³. */
export function normalCubicMetres(volumeM3: number, tempC?: number, pressureKpa?: number): number {
  const p = pressureKpa === undefined ? 1 : pressureKpa / STANDARD_PRESSURE_KPA;
  const t = tempC === undefined ? 1 : ZERO_CELSIUS_K / (ZERO_CELSIUS_K + tempC);
  return volumeM3 * p * t;
}

/** CH4 t = Nm³ × CH4% / 100 × 0.716 / 1000 */
export function methaneTonnes(normalM3: number, ch4Pct: number): number {
  return (normalM3 * (ch4Pct / 100) * METHANE_DENSITY_KG_PER_NM3) / 1000;
}
