import { clamp, commissionedDay, round, type CommonOptions, type DeviceModel } from './common.js';
import { Cumulative } from './cumulative.js';
import { between, seededRandom } from './random.js';
import { calendar, localDay, localHour, slotIndex } from './time.js';

// Biogas plant. Defaults from the Neimen livestock-manure centre (domain.md): ~1,168 m³ biogas a
// day; 20.196 萬 kWh in 2023/1–9 (273 days) ≈ 740 kWh a day from the generator.

export interface BiogasOptions extends CommonOptions {
  /** biogas produced per day, m³ at meter conditions (default 1168) */
  dailyM3?: number;
  /** generator output per day, kWh (default 740) */
  dailyKwh?: number;
  /** mean share of the biogas sent to the flare (default 0.1) */
  flareShare?: number;
}

export function biogasModel(seed: string, opts: BiogasOptions = {}): DeviceModel {
  const rand = seededRandom(seed);
  const dailyM3 = opts.dailyM3 ?? 1168;
  const flareShare = opts.flareShare ?? 0.1;
  const kwhPerEngineM3 = (opts.dailyKwh ?? 740) / (dailyM3 * (1 - flareShare));
  const first = commissionedDay(opts);

  const rates = (slot: number): [number, number, number] => {
    const day = localDay(slot);
    if (day < first) return [0, 0, 0];
    const flow = (dailyM3 / 24) * between(rand(1, day), 0.92, 1.08) * between(rand(2, slotIndex(slot)), 0.95, 1.05);
    const flare = flow * between(rand(3, day), 0.5, 1.5) * flareShare;
    return [flow, (flow - flare) * kwhPerEngineM3, flare];
  };
  const initialM3 = round(rand(0, 0) * dailyM3 * 300, 0);
  const counters = new Cumulative(rates, [initialM3, round(initialM3 * 0.6, 0), round(initialM3 * flareShare, 0)], first);

  return {
    kind: 'biogas',
    reading: (ts) => {
      const [m3, kwh, flare] = counters.at(ts) as [number, number, number];
      const day = localDay(ts);
      const slot = slotIndex(ts);
      const { month } = calendar(day);
      const season = month >= 5 && month <= 10 ? 2 : month <= 2 || month === 12 ? -2 : 0;
      const noise = (stream: number) => 2 * rand(stream, slot) - 1;
      return {
        biogas_m3: round(m3, 3),
        ch4_pct: round(clamp(60 + 3 * (2 * rand(4, day) - 1) + noise(5), 55, 65), 2),
        // warmest mid-afternoon, coolest before dawn
        temp_c: round(clamp(30 + season + 2.5 * Math.sin((2 * Math.PI * (localHour(ts) - 9)) / 24) + 0.5 * noise(6), 25, 35), 2),
        pressure_kpa: round(clamp(102.5 + 0.8 * (2 * rand(7, day) - 1) + 0.2 * noise(8), 101, 104), 2),
        gen_kwh: round(kwh, 3),
        flare_m3: round(flare, 3),
      };
    },
  };
}
