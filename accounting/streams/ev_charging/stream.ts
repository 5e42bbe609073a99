import { roundRow } from '../../rounding.js';
import { defineStream } from '../stream.js';
import { evChargingMethod, evParams } from './method.js';

/** EV charging (CDM AMS-III.C / VM0038 form): the km charged displace the baseline vehicle's fuel. */
export const evChargingStream = defineStream({
  id: 'ev_charging',
  labels: { zh: '電動車充電', en: 'EV charging', short_en: 'EV charging' },
  kind: 'ev_charger',
  energyKey: 'ev_charging',
  claims: () => true,
  compute: (q, _extra, ctx) => {
    const energy = q.counters.energy_kwh ?? 0;
    const none = { energy_kwh: energy, methane_t: 0, avoided_tco2e: 0, factors: [], detail: {} };
    const p = evParams(q.device.params);
    if ('error' in p) return { ...none, notes: [p.error] };
    // A value the charger declares wins; otherwise the registry's version for its vehicle class (a bus
    // has none: evParams already refused a bus without both numbers).
    const factors: string[] = [];
    const fromRegistry = (name: 'vehicle_kwh_per_km' | 'vehicle_baseline_kgco2e_per_km', declared: number | undefined) => {
      if (declared !== undefined) return declared;
      const v = ctx.factors.pick(name, p.vehicle_class, ctx.date);
      factors.push(v.id);
      return v.value;
    };
    const r = evChargingMethod.compute({
      energy_kwh: energy,
      kwh_per_km: fromRegistry('vehicle_kwh_per_km', q.device.params.kwh_per_km),
      baseline_kgco2e_per_km: fromRegistry('vehicle_baseline_kgco2e_per_km', q.device.params.baseline_kgco2e_per_km),
      grid_kgco2e_per_kwh: ctx.ef,
    });
    return {
      ...none,
      avoided_tco2e: r.avoided_tco2e,
      factors,
      detail: { km: roundRow(r.km), baseline_tco2e: roundRow(r.baseline_tco2e), charging_tco2e: roundRow(r.charging_tco2e) },
      notes: [],
    };
  },
});
