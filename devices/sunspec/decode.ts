import type { Kind } from '../kinds.js';
import { timesPowerOfTen } from '../modbus/words.js';
import { KIND_MODELS, type ModelGroup } from './models.js';
import { pointValue } from './points.js';

/** A field the device could not give, and why (a point or its scale factor not implemented). */
export interface MissingField {
  field: string;
  point: string;
  reason: string;
}

export interface DecodedModel {
  model: number;
  /** the kind's fields that have a value: kWh for energy, W for power */
  fields: Record<string, number>;
  missing: MissingField[];
}

export class SunSpecError extends Error {}

/** The model group serving `kind`, or an error naming the kinds that have one. */
export function groupFor(kind: Kind): { group: ModelGroup; fields: Record<string, { point: string; toKwh: boolean }> } {
  const entry = KIND_MODELS[kind];
  if (!entry) throw new SunSpecError(`a ${kind} has no SunSpec model here (SunSpec: ${Object.keys(KIND_MODELS).join(', ')}; other kinds need params.modbus.map)`);
  return entry;
}

/**
 * The kind's fields out of one model's registers (`block` starts at the model's `ID` register and holds
 * at least `ID`, `L` and the points used). Each value is the point × 10^scale factor, energy in kWh
 * (Wh × 10^(SF−3)); a point or scale factor that is not implemented leaves its field out, with the reason.
 */
export function decodeModel(kind: Kind, block: readonly number[]): DecodedModel {
  const { group, fields } = groupFor(kind);
  const [id, length] = block;
  if (id === undefined || !group.ids.includes(id)) throw new SunSpecError(`register block starts with model ${String(id)}, not one of ${group.name}`);
  const needed = Math.max(...Object.values(group.points).map((p) => p.offset + p.size)) - 2;
  if (length === undefined || length < needed) throw new SunSpecError(`model ${id} is ${String(length)} registers long; ${group.name} need at least ${needed}`);
  const out: DecodedModel = { model: id, fields: {}, missing: [] };
  for (const [field, source] of Object.entries(fields)) {
    const def = group.points[source.point]!;
    const raw = pointValue(block, def, source.point);
    const sf = def.sf ? pointValue(block, group.points[def.sf]!, def.sf) : { value: 0 };
    if ('none' in raw || 'none' in sf) {
      out.missing.push({ field, point: source.point, reason: 'none' in raw ? raw.none : (sf as { none: string }).none });
      continue;
    }
    out.fields[field] = timesPowerOfTen(raw.value, sf.value - (source.toKwh ? 3 : 0));
  }
  return out;
}
