import { z } from 'zod';
import { defineMethod } from '../../methods/method.js';
import { gridFactorField, kwhField, signedTco2eField } from '../../methods/fields.js';

/**
 * A declared monthly baseline pro-rated to a period inside one month:
 * baseline kWh = baseline_kwh_month × period_ms / month_ms, where month_ms is the length of the whole
 * calendar month in the city's time zone (28–31 days) and the period lies within that month (split
 * intervals at month boundaries first). The caller passes both lengths.
 */
export function baselineForPeriod(opts: { baseline_kwh_month: number; period_ms: number; month_ms: number }): number {
  const { baseline_kwh_month, period_ms, month_ms } = opts;
  if (!Number.isFinite(baseline_kwh_month) || baseline_kwh_month < 0) {
    throw new RangeError(`baseline_kwh_month must be a finite number >= 0 (kWh), got ${baseline_kwh_month}`);
  }
  if (!Number.isFinite(month_ms) || month_ms <= 0) throw new RangeError(`month_ms must be a finite number > 0 (ms), got ${month_ms}`);
  if (!Number.isFinite(period_ms) || period_ms < 0 || period_ms > month_ms) {
    throw new RangeError(`period_ms must be within 0..month_ms (${month_ms} ms): split the period at month boundaries first; got ${period_ms}`);
  }
  return (baseline_kwh_month * period_ms) / month_ms;
}

/**
 * Electricity saving (IPMVP option C, whole facility): saving kWh = baseline kWh − metered kWh;
 * avoided tCO2e = saving × EF / 1000. A negative saving (more use than the baseline) stays negative.
 */
export const electricitySavingMethod = defineMethod({
  id: 'electricity_saving',
  basis: 'IPMVP option C (whole-facility metering against a baseline)',
  input: z.object({
    baseline_kwh: kwhField('baseline consumption for the same period (same calendar month of the baseline year, or a pro-rated declared monthly kWh)'),
    metered_kwh: kwhField('metered consumption in the period'),
    grid_kgco2e_per_kwh: gridFactorField,
  }),
  output: z.object({
    saving_kwh: z.number().describe('electricity saved: baseline − metered, kWh (may be negative, never clipped)'),
    avoided_tco2e: signedTco2eField('avoided emissions: saving × EF / 1000'),
  }),
  formula: ({ baseline_kwh, metered_kwh, grid_kgco2e_per_kwh }) => {
    const saving_kwh = baseline_kwh - metered_kwh;
    return { saving_kwh, avoided_tco2e: (saving_kwh * grid_kgco2e_per_kwh) / 1000 };
  },
});

export type ElectricitySavingInput = z.input<typeof electricitySavingMethod.input>;
export type ElectricitySavingOutput = z.output<typeof electricitySavingMethod.output>;
