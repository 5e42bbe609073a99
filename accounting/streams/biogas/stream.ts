import { overlapShare } from '../../../store/intervals.js';
import { acceptsIn, intervalKey } from '../../review/decisions.js';
import { roundRow } from '../../rounding.js';
import { defineStream } from '../stream.js';
import { biogasMethod, methaneTonnes, normalCubicMetres } from './method.js';

/** Methane in the window, t: in all the gas, and in the part sent to the flare (normalised, density applied). */
interface Methane {
  totalT: number;
  flareT: number;
}

/**
 * Biogas (CDM AMS-III.D form): methane burnt in the engine or the flare, and the generator's kWh.
 * Methane is taken interval by interval, each normalised with its own mean temperature and pressure
 * and weighted by its own CH4 %, before the density applies (domain trap 4); where the store keeps those
 * per-interval volumes summed (SQLite), from the sums.
 */
export const biogasStream = defineStream<Methane>({
  id: 'biogas',
  labels: { zh: '沼氣', en: 'Biogas', short_en: 'Biogas' },
  kind: 'biogas',
  energyKey: 'biogas_generation',
  claims: () => true,
  collect: async (q, ctx) => {
    const density = ctx.factors.pick('ch4_density', 'nm3_0c', ctx.date).value;
    const methane = { totalT: 0, flareT: 0 };
    const add = (counter: string, t: number) => {
      if (counter === 'biogas_m3') methane.totalT += t;
      else if (counter === 'flare_m3') methane.flareT += t;
    };
    // Where the store sums each interval's normalised methane (SQLite), the sums are the same method
    // summed first (t = Nm³ CH4 × density / 1000 is linear); only accepted held-out intervals, which the
    // sums leave out, are read one by one. Elsewhere every interval is read.
    const summed = q.ch4Nm3 !== undefined;
    if (q.ch4Nm3) for (const [counter, nm3] of Object.entries(q.ch4Nm3)) add(counter, (Math.max(0, nm3) * density) / 1000);
    if (summed && ![...ctx.accepted.values()].some((d) => d.device === q.device.id && acceptsIn(d, ctx.piece))) return methane;
    for (const i of await ctx.store.intervals(q.device.id, ctx.piece, { signal: ctx.signal })) {
      if (i.ctx.ch4_pct === undefined) continue;
      const accepted = i.quality === 'implausible' && ctx.accepted.get(intervalKey(i))?.decision === 'accept';
      if (i.quality === 'implausible' ? !accepted : summed) continue;
      add(i.counter, methaneTonnes(normalCubicMetres(i.amount * overlapShare(i, ctx.piece), i.ctx.temp_c, i.ctx.pressure_kpa), i.ctx.ch4_pct, density));
    }
    return methane;
  },
  compute: (q, methane, ctx) => {
    const energy = q.counters.gen_kwh ?? 0;
    const total = methane.totalT;
    const flare = Math.min(methane.flareT, total);
    const notes: string[] = [];
    if (methane.flareT > total) notes.push('flare volume exceeds total biogas volume; flare share capped at the total');
    const gwp = ctx.factors.pick('ch4_gwp', ctx.gwpSet, ctx.date);
    const engineEta = ctx.factors.pick('destruction_efficiency', 'engine', ctx.date);
    const flareEta = ctx.factors.pick('destruction_efficiency', q.device.params.flare_type === 'open' ? 'flare_open' : 'flare_enclosed', ctx.date);
    const density = ctx.factors.pick('ch4_density', 'nm3_0c', ctx.date);
    const factors = [gwp.id, engineEta.id, density.id, ...(flare > 0 ? [flareEta.id] : [])];
    const r = biogasMethod.compute({
      ch4_to_engine_t: total - flare,
      ch4_to_flare_t: flare,
      generator_kwh: energy,
      gwp_ch4: gwp.value,
      engine_destruction: engineEta.value,
      flare_destruction: flareEta.value,
      grid_kgco2e_per_kwh: ctx.ef,
    });
    return {
      energy_kwh: energy,
      methane_t: r.methane_treated_t,
      avoided_tco2e: r.avoided_tco2e,
      factors,
      detail: {
        methane_destroyed_t: roundRow(r.methane_destroyed_t),
        avoided_methane_tco2e: roundRow(r.avoided_methane_tco2e),
        avoided_electricity_tco2e: roundRow(r.avoided_electricity_tco2e),
        ch4_to_flare_t: roundRow(flare),
      },
      notes,
    };
  },
});
