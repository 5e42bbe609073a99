import { defineStream } from '../stream.js';
import { pvMethod } from './method.js';

/** PV generation (CDM AMS-I.D): an inverter's AC energy displaces grid electricity. */
export const pvStream = defineStream({
  id: 'pv',
  labels: { zh: '太陽光電', en: 'PV generation', short_en: 'PV' },
  kind: 'pv_inverter',
  energyKey: 'pv',
  claims: (device, measures) => (device.measure ? measures.get(device.measure)?.stream : undefined) !== 'generation',
  compute: (q, _extra, ctx) => {
    const energy = q.counters.energy_kwh ?? 0;
    const { avoided_tco2e } = pvMethod.compute({ energy_kwh: energy, grid_kgco2e_per_kwh: ctx.ef });
    return { energy_kwh: energy, methane_t: 0, avoided_tco2e, factors: [], detail: {}, notes: [] };
  },
});
