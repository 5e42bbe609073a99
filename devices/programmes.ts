import type { Kind } from './kinds.js';

/**
 * The city programmes a device may declare it belongs to (`params.programme`), a closed list: the office
 * view counts each programme's rollout from the registry (accounting/programmes/). Which kinds may join,
 * and what one device counts for (`unit`), are fixed here; the targets are data beside the budget
 * (accounting/programmes/kaohsiung-programmes.json).
 */
export const PROGRAMME_IDS = ['pv-registration', 'school-ems', 'social-housing-smart-meters', 'apartment-charging', 'car-park-charging', 'e-bus'] as const;
export type ProgrammeId = (typeof PROGRAMME_IDS)[number];

/** What a registered device adds to its programme's count. */
export type ProgrammeUnit =
  /** its `params.nameplate_kw` */
  | 'nameplate_kw'
  /** its site, once however many devices it has (a school, an apartment building) */
  | 'site'
  /** `params.units` (default 1): dwellings behind one social-housing meter, buses behind one depot charger */
  | 'units'
  /** one (a charging gun) */
  | 'device';

export const PROGRAMME_RULES: Record<ProgrammeId, { kinds: readonly Kind[]; unit: ProgrammeUnit }> = {
  'pv-registration': { kinds: ['pv_inverter'], unit: 'nameplate_kw' },
  'school-ems': { kinds: ['smart_meter'], unit: 'site' },
  'social-housing-smart-meters': { kinds: ['smart_meter'], unit: 'units' },
  'apartment-charging': { kinds: ['ev_charger'], unit: 'site' },
  'car-park-charging': { kinds: ['ev_charger'], unit: 'device' },
  'e-bus': { kinds: ['ev_charger'], unit: 'units' },
};

/** Why a device of `kind` cannot count for `programme`, or null when it can. */
export function programmeKindProblem(kind: Kind, programme: ProgrammeId): string | null {
  const rule = PROGRAMME_RULES[programme];
  return rule.kinds.includes(kind) ? null : `programme ${programme} counts ${rule.kinds.join(' or ')} devices, not ${kind}`;
}
