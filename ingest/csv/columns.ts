import { counters, declaredFields, readingSchemas, type Kind } from '../../devices/kinds.js';
import type { FieldError } from '../../devices/payload.js';
import { IGNORE, TIME_TARGETS } from './options.js';

/** What a reading field's cells hold. */
export type CellType = 'number' | 'integer' | 'string';

export interface FieldColumn {
  index: number;
  /** the header's name for it, for reasons */
  column: string;
  field: string;
  type: CellType;
  required: boolean;
  /** a cumulative counter of the kind (consumption mode turns its cells into a series) */
  counter: boolean;
}

/** Which column gives what: the header row resolved against the device's kind and the `map`. */
export interface ColumnPlan {
  header: string[];
  ts?: number;
  date?: number;
  time?: number;
  seq?: number;
  fields: FieldColumn[];
}

/** The kind's reading fields besides ts and seq, with their cell type and whether the contract requires them. */
export function kindFields(kind: Kind): Array<{ field: string; type: CellType; required: boolean; counter: boolean }> {
  const shape = readingSchemas[kind].shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  const counterNames = counters[kind].map((c) => c.field);
  return declaredFields[kind]
    .filter((f) => f !== 'ts' && f !== 'seq')
    .map((field) => ({
      field,
      type: field === 'session_id' ? 'string' : field === 'connector' ? 'integer' : 'number',
      required: !shape[field]!.safeParse(undefined).success,
      counter: counterNames.includes(field),
    }));
}

/** A column name as an error's field: `columns.<name>`, never empty, never huge. */
export const columnField = (name: string): string => `columns.${name === '' ? '""' : name.length > 64 ? `${name.slice(0, 64)}…` : name}`;

/**
 * Resolves the header: each column is mapped (`map`), or named like a target (a field of the kind, `ts`,
 * `date`, `time`, `seq`); anything else is an unknown column and refused by name (map it to `-` to leave
 * it out). A required field with no column, a column mapped twice, a map naming a column the header does
 * not have or a field the kind does not have: each is refused, naming the column or `map`.
 */
export function planColumns(header: string[], kind: Kind, opts: { map: Record<string, string>; consumption: boolean }): { plan: ColumnPlan } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const fields = kindFields(kind);
  const names = [...TIME_TARGETS, 'seq', ...fields.map((f) => f.field)];
  const known = `${kind} fields (${fields.map((f) => f.field).join(', ')}), ts, date, time, seq, or - (leave the column out)`;
  const cleaned = header.map((h) => h.trim());

  const seen = new Map<string, number>();
  cleaned.forEach((h, i) => {
    if (seen.has(h)) errors.push({ field: columnField(h), reason: `appears twice in the header (columns ${seen.get(h)! + 1} and ${i + 1})` });
    else seen.set(h, i);
  });
  for (const [column, target] of Object.entries(opts.map)) {
    if (!seen.has(column)) errors.push({ field: 'map', reason: `column "${column}" is not in the header (${cleaned.map((h) => `"${h}"`).join(', ')})` });
    if (target !== IGNORE && !names.includes(target)) errors.push({ field: 'map', reason: `"${column}=${target}": ${target} is not one of the ${known}` });
  }

  const plan: ColumnPlan = { header: cleaned, fields: [] };
  const givenBy = new Map<string, string>();
  cleaned.forEach((column, index) => {
    if (seen.get(column) !== index) return; // a second column of the same name: refused above
    const target = opts.map[column] ?? column;
    if (target === IGNORE) return;
    if (!names.includes(target)) {
      if (!(column in opts.map)) {
        errors.push({ field: columnField(column), reason: `is not one of the ${known}: map it (map ${column}=<field>) or leave it out (map ${column}=-)` });
      }
      return;
    }
    const before = givenBy.get(target);
    if (before !== undefined) {
      errors.push({ field: columnField(column), reason: `gives ${target}, which column "${before}" gives already` });
      return;
    }
    givenBy.set(target, column);
    if (target === 'ts' || target === 'date' || target === 'time' || target === 'seq') plan[target] = index;
    else {
      const f = fields.find((x) => x.field === target)!;
      plan.fields.push({ index, column, ...f });
    }
  });

  if (plan.ts === undefined && plan.date === undefined) {
    errors.push({ field: columnField('ts'), reason: 'no column gives the time: name one ts (a whole time) or date (with time for the time of day), or map one (map <column>=ts)' });
  }
  if (plan.ts !== undefined && (plan.date !== undefined || plan.time !== undefined)) {
    errors.push({ field: columnField('ts'), reason: 'give the time either in one ts column or in date and time columns, not both' });
  }
  if (plan.time !== undefined && plan.date === undefined) errors.push({ field: columnField('time'), reason: 'a time column needs a date column' });
  for (const f of fields) {
    if (!givenBy.has(f.field) && f.required) {
      errors.push({ field: columnField(f.field), reason: `is required for a ${kind} and no column gives it: name a column ${f.field}, or map one (map <column>=${f.field})` });
    }
  }
  if (opts.consumption && !plan.fields.some((f) => f.counter)) {
    errors.push({ field: 'consumption', reason: `no column gives a counter of a ${kind} (${counters[kind].map((c) => c.field).join(', ')}) to turn from consumption into a series` });
  }
  return errors.length > 0 ? { errors } : { plan };
}
