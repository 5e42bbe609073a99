import { pvMethod } from '../pv/method.js';
import { defineStream } from '../stream.js';

/**
 * Other generation (small hydro and the like in the budget): a generator metered like a PV inverter
 * (`pv_inverter` kind) whose budget measure is of the `generation` stream; the same method as PV.
 */
export const generationStream = defineStream({
  id: 'generation',
  labels: { zh: '發電', en: 'Other generation', short_en: 'Other generation' },
  kind: 'pv_inverter',
  energyKey: 'generation',
  claims: (device, measures) => (device.measure ? measures.get(device.measure)?.stream : undefined) === 'generation',
  compute: (q, _extra, ctx) => {
    const energy = q.counters.energy_kwh ?? 0;
    const { avoided_tco2e } = pvMethod.compute({ energy_kwh: energy, grid_kgco2e_per_kwh: ctx.ef });
    return { energy_kwh: energy, methane_t: 0, avoided_tco2e, factors: [], detail: {}, notes: [] };
  },
});
