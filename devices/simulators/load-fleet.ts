import { KINDS, type Kind, type Sector } from '../kinds.js';
import type { FleetDevice } from './fleet.js';
import { modelFor, type ModelOptions } from './models.js';

export interface LoadDevice extends FleetDevice {
  sector: Sector;
}

export interface FleetOfSizeOptions {
  /** id prefix (default `sim`): ids are `sim-pv-0001`, `sim-sm-0001`, … */
  prefix?: string;
  /** devices per site; sites are `${prefix}-site-001`, … (default 10) */
  devicesPerSite?: number;
  /** MQTT password for each device, e.g. from registering them first */
  secretFor?: (id: string) => string | undefined;
  /** model options for every device; a recent `commissioned` date makes first readings cheaper */
  model?: ModelOptions;
}

const SHORT: Record<Kind, string> = { smart_meter: 'sm', pv_inverter: 'pv', biogas: 'bg', ev_charger: 'ev' };
const LOAD_SECTOR: Record<Kind, Sector> = {
  smart_meter: 'residential_commercial',
  pv_inverter: 'residential_commercial',
  biogas: 'agriculture',
  ev_charger: 'transport',
};

/** n devices cycling through the four kinds, for the load generator (`netzero simulate`). */
export function fleetOfSize(n: number, opts: FleetOfSizeOptions = {}): LoadDevice[] {
  const prefix = opts.prefix ?? 'sim';
  const perSite = Math.max(1, opts.devicesPerSite ?? 10);
  const width = Math.max(4, String(Math.ceil(n / KINDS.length)).length);
  const out: LoadDevice[] = [];
  for (let i = 0; i < n; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const id = `${prefix}-${SHORT[kind]}-${String(Math.floor(i / KINDS.length) + 1).padStart(width, '0')}`;
    const secret = opts.secretFor?.(id);
    out.push({
      id,
      kind,
      site: `${prefix}-site-${String(Math.floor(i / perSite) + 1).padStart(3, '0')}`,
      sector: LOAD_SECTOR[kind],
      ...(secret !== undefined ? { secret } : {}),
      model: modelFor(kind, id, opts.model),
    });
  }
  return out;
}
