import { DuplicateIdError, type DeviceRegistry, type NewDevice } from '../registry.js';
import type { FleetDevice } from './fleet.js';
import { modelFor, type ModelOptions } from './models.js';

/** A built-in demo device: its registration plus the options of its model. */
export interface DemoDevice extends NewDevice {
  id: string;
  name: string;
  model: ModelOptions;
}

/**
 * The demo fleet: one device of each stream the city meters today (domain.md), in places like the
 * real ones. It runs only while no real device is registered (see demo-runner.ts).
 */
export const DEMO_DEVICES: readonly DemoDevice[] = [
  {
    id: 'demo-neimen-biogas',
    kind: 'biogas',
    site: 'demo-neimen',
    sector: 'agriculture',
    measure: 'neimen-methane',
    name: '內門畜牧廢水資源化中心 沼氣 (Neimen livestock-manure centre biogas)',
    // generator sized for ~740 kWh/day (about 31 kW average) with headroom
    params: { flare_type: 'enclosed', nameplate_kw: 60 },
    model: { dailyM3: 1168, dailyKwh: 740, flareShare: 0.1 },
  },
  {
    id: 'demo-fish-farm-pv',
    kind: 'pv_inverter',
    site: 'demo-fish-farm-pv',
    sector: 'agriculture',
    measure: 'fish-farm-pv',
    name: '永安漁電共生 太陽光電 (Yong-an fish-farm PV)',
    params: { nameplate_kw: 499 },
    model: { nameplateKw: 499 },
  },
  {
    id: 'demo-school-pv',
    kind: 'pv_inverter',
    site: 'demo-school-zuoying',
    sector: 'residential_commercial',
    measure: 'school-rooftop-pv',
    name: '左營國中 屋頂太陽光電 (Zuoying junior high rooftop PV)',
    params: { nameplate_kw: 99 },
    model: { nameplateKw: 99 },
  },
  {
    id: 'demo-school-meter',
    kind: 'smart_meter',
    site: 'demo-school-zuoying',
    sector: 'residential_commercial',
    measure: 'public-sector-electricity-saving',
    name: '左營國中 智慧電表 (Zuoying junior high main meter)',
    params: { baseline_kwh_per_month: 42500 }, // ≈ 3 % above the model's October use: the plan's −3 %
    model: { profile: 'school', baseKw: 25 },
  },
  {
    id: 'demo-district-office-meter',
    kind: 'smart_meter',
    site: 'demo-fongshan-office',
    sector: 'residential_commercial',
    measure: 'public-sector-electricity-saving',
    name: '鳳山區公所 智慧電表 (Fongshan district office meter)',
    params: { baseline_kwh_per_month: 19400 },
    model: { profile: 'office', baseKw: 15, exportFromPv: 50 },
  },
  {
    id: 'demo-social-housing-meter',
    kind: 'smart_meter',
    site: 'demo-social-housing',
    sector: 'residential_commercial',
    measure: 'social-housing-smart-meters',
    name: '凱旋青樹社會住宅 智慧電表 (Kaixuan social housing common meter)',
    params: {},
    model: { profile: 'housing', baseKw: 12 },
  },
  {
    id: 'demo-bus-depot-charger',
    kind: 'ev_charger',
    site: 'demo-bus-depot',
    sector: 'transport',
    measure: 'low-carbon-buses',
    name: '高雄客運 電動公車充電站 (city bus depot charger)',
    // baseline: 51.15 t CO2e/yr per diesel bus (budget report 004) over ~75,000 km/yr
    // (2,325 萬 km by 310 e-buses in 2024) ≈ 0.68 kg/km; 1.2 kWh/km at the plug is typical for a 12 m e-bus
    params: { vehicle_class: 'bus', baseline_kgco2e_per_km: 0.68, kwh_per_km: 1.2, nameplate_kw: 60 },
    model: { vehicleClass: 'bus', chargerKw: 60 },
  },
  {
    id: 'demo-carpark-charger',
    kind: 'ev_charger',
    site: 'demo-carpark-sanmin',
    sector: 'transport',
    measure: 'public-car-park-charging',
    name: '三民區公有停車場 充電樁 (Sanmin public car-park charger)',
    params: { vehicle_class: 'car', nameplate_kw: 7 },
    model: { vehicleClass: 'car', chargerKw: 7 },
  },
  {
    id: 'demo-scooter-charger',
    kind: 'ev_charger',
    site: 'demo-carpark-sanmin',
    sector: 'transport',
    measure: 'e-scooter-subsidy',
    name: '三民區 電動機車充電站 (Sanmin e-scooter charger)',
    params: { vehicle_class: 'scooter', nameplate_kw: 1.5 },
    model: { vehicleClass: 'scooter', chargerKw: 1.5 },
  },
];

/** The registry calls the demo fleet needs. */
export type DemoRegistry = Pick<DeviceRegistry, 'list' | 'register' | 'rotateSecret'>;

/**
 * Registers the demo devices that are missing (flagged demo) and gives the others a new secret:
 * secrets are stored only as hashes, so each start makes fresh ones.
 */
export async function ensureDemoDevices(registry: DemoRegistry): Promise<Array<Required<FleetDevice>>> {
  const existing = new Set((await registry.list()).map((d) => d.id));
  const out: Array<Required<FleetDevice>> = [];
  for (const demo of DEMO_DEVICES) {
    const { model: modelOptions, ...registration } = demo;
    let secret: string;
    if (existing.has(demo.id)) {
      secret = await registry.rotateSecret(demo.id);
    } else {
      try {
        secret = (await registry.register(registration, { demo: true })).secret;
      } catch (err) {
        if (!(err instanceof DuplicateIdError)) throw err;
        secret = await registry.rotateSecret(demo.id); // registered meanwhile by another start
      }
    }
    out.push({ id: demo.id, site: demo.site, kind: demo.kind, secret, model: modelFor(demo.kind, demo.id, modelOptions) });
  }
  return out;
}
