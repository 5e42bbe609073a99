import type { z } from 'zod';
import { declaredFields, readingSchemas, type Kind } from './kinds.js';

/** Contract limits on one MQTT telemetry payload. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_BATCH = 1000;
export const MAX_FUTURE_MS = 5 * 60 * 1000;

/**
 * Limits on a reading's extra (unknown) fields, so that what is kept can always be serialised and stored
 * (devices/README.md, "Payload rules"). Checked by an iterative walk: the check cannot overflow the stack.
 */
/** Extra fields per reading. */
export const MAX_EXTRA_FIELDS = 256;
/** Values in all extra fields of one reading together: every array, object, string, number, boolean, null. */
export const MAX_EXTRA_VALUES = 4096;
/** Levels of arrays and objects inside one extra field's value (`[1]` is one level, `{"a":[1]}` two). */
export const MAX_EXTRA_DEPTH = 16;
/** Characters in an extra field's name (it becomes the `field` of an error). */
export const MAX_FIELD_NAME_LENGTH = 128;
/**
 * Characters (UTF-16 code units) in any string or key inside an extra field. A whole payload of 64 KiB may
 * be one padding string, so this equals the payload limit; a UTF-8 byte never makes more than one code unit.
 */
export const MAX_STRING_LENGTH = MAX_PAYLOAD_BYTES;
/**
 * Names that can never be kept as a key: assigning `__proto__` replaces an object's prototype (zod and
 * plain objects drop it silently), and `constructor` / `prototype` are the usual prototype-pollution keys.
 */
export const RESERVED_NAMES: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** One problem with one field; `field` is a path such as `readings[3].energy_kwh` or `payload`. */
export interface FieldError {
  field: string;
  reason: string;
}

/** A reading that passed validation, normalised: epoch-ms time, numbers split from extras. */
export interface ValidReading {
  ts: number;
  /** per-device sequence number, or null when the device sent none */
  seq: number | null;
  /** the kind's declared fields (numbers, and `session_id` for chargers) */
  fields: Record<string, number | string>;
  /** unknown fields, kept as sent; a null-prototype object (no key can change its prototype) */
  extras: Record<string, unknown>;
}

/** A message (or one reading of a batch) that was rejected. */
export interface Rejection {
  /** index in the batch, or null for the whole message / a single reading */
  index: number | null;
  /** the rejected reading (or whole payload text) to keep in the quarantine */
  raw: string;
  errors: FieldError[];
}

export interface ParsedPayload {
  readings: ValidReading[];
  rejections: Rejection[];
}

function formatPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? 'payload' : out;
}

export function zodToFieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  // a strict object's unknown keys come as one issue at the object: name each key
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: extraPath(prefix || i.path.length > 0 ? formatPath(prefix, i.path) : '', k), reason: 'is not a known field' }))
      : [{ field: formatPath(prefix, i.path), reason: i.message }],
  );
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An extra field's name as an error's `field`: never empty, never longer than the name limit. */
function extraPath(prefix: string, key: string): string {
  const name = key === '' ? '""' : key.length > MAX_FIELD_NAME_LENGTH ? `${key.slice(0, 64)}…` : key;
  return prefix ? `${prefix}.${name}` : name;
}

/**
 * The first problem inside one extra field's value, or null. Iterative (an explicit stack), so a value
 * nested 30,000 levels deep is refused without recursing; `budget` counts values across all extras.
 */
function extraValueProblem(value: unknown, budget: { values: number }): string | null {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (++budget.values > MAX_EXTRA_VALUES) {
      return `takes the extra fields over ${MAX_EXTRA_VALUES} values (arrays, objects and their elements together)`;
    }
    if (typeof v === 'string') {
      if (v.length > MAX_STRING_LENGTH) return `holds a string of ${v.length} characters; at most ${MAX_STRING_LENGTH} allowed`;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `holds a non-finite number (${v})`;
    } else if (typeof v === 'object' && v !== null) {
      if (depth + 1 > MAX_EXTRA_DEPTH) return `nested deeper than ${MAX_EXTRA_DEPTH} levels`;
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1 });
      } else {
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o);
        for (const k of keys) {
          if (RESERVED_NAMES.includes(k)) return `holds the reserved name "${k}", which cannot be kept`;
          if (k.length > MAX_STRING_LENGTH) return `holds a key of ${k.length} characters; at most ${MAX_STRING_LENGTH} allowed`;
        }
        for (let i = keys.length - 1; i >= 0; i--) stack.push({ v: o[keys[i]!], depth: depth + 1 });
      }
    } else if (typeof v !== 'boolean' && v !== null) {
      return `holds a ${typeof v}, which JSON cannot carry`;
    }
  }
  return null;
}

/** Problems with a reading's extra fields: count, names, and each value's nesting, size and numbers. */
function extrasErrors(input: Record<string, unknown>, extraKeys: readonly string[], prefix: string): FieldError[] {
  if (extraKeys.length > MAX_EXTRA_FIELDS) {
    return [{ field: prefix || 'payload', reason: `has ${extraKeys.length} extra fields; at most ${MAX_EXTRA_FIELDS} allowed` }];
  }
  const errors: FieldError[] = [];
  const budget = { values: 0 };
  for (const k of extraKeys) {
    const field = extraPath(prefix, k);
    if (RESERVED_NAMES.includes(k)) {
      errors.push({ field, reason: `is a reserved name (${RESERVED_NAMES.join(', ')}) and cannot be kept as an extra field` });
    } else if (k === 'readings') {
      errors.push({ field, reason: 'is reserved for a batch ({"readings": [...]}); a reading cannot carry it' });
    } else if (k.length > MAX_FIELD_NAME_LENGTH) {
      errors.push({ field, reason: `is a field name of ${k.length} characters; at most ${MAX_FIELD_NAME_LENGTH} allowed` });
    } else {
      const problem = extraValueProblem(input[k], budget);
      if (problem !== null) {
        errors.push({ field, reason: problem });
        if (budget.values > MAX_EXTRA_VALUES) break; // every later field would be over the budget too
      }
    }
  }
  return errors;
}

function validateOne(kind: Kind, input: unknown, prefix: string, now: number): ValidReading | FieldError[] {
  if (!isPlainObject(input)) {
    return [{ field: prefix || 'payload', reason: 'must be a JSON object' }];
  }
  const declared = declaredFields[kind];
  // Own keys of what JSON.parse built (an own "__proto__" included), not of zod's output, which drops it.
  const extraKeys = Object.keys(input).filter((k) => !declared.includes(k));
  const result = readingSchemas[kind].safeParse(input);
  const errors = result.success ? [] : zodToFieldErrors(result.error, prefix);
  errors.push(...extrasErrors(input, extraKeys, prefix));
  if (errors.length > 0 || !result.success) return errors;
  const data = result.data as Record<string, unknown> & { ts: number; seq?: number };
  if (data.ts > now + MAX_FUTURE_MS) {
    return [
      {
        field: prefix ? `${prefix}.ts` : 'ts',
        reason: `is ${Math.round((data.ts - now) / 1000)} s in the future (at most ${MAX_FUTURE_MS / 60000} min allowed)`,
      },
    ];
  }
  const fields: Record<string, number | string> = {};
  for (const k of declared) {
    const v = data[k];
    if (k === 'ts' || k === 'seq' || v === undefined) continue;
    fields[k] = v as number | string;
  }
  // Null prototype: assigning any key (even "__proto__", refused above anyway) only ever adds an own property.
  const extras = Object.create(null) as Record<string, unknown>;
  for (const k of extraKeys) extras[k] = input[k];
  return { ts: data.ts, seq: data.seq ?? null, fields, extras };
}

/**
 * JSON.stringify for what JSON.parse returns, without recursion: a rejected batch item is kept for the
 * quarantine even when it nests thousands of levels (JSON.stringify overflows the stack at about 5,000).
 */
export function stringifyJson(value: unknown): string {
  type Frame = { items: readonly unknown[]; i: number; keys?: undefined } | { obj: Record<string, unknown>; keys: string[]; i: number };
  const out: string[] = [];
  const stack: Frame[] = [];
  const emit = (v: unknown): void => {
    if (Array.isArray(v)) {
      out.push('[');
      stack.push({ items: v, i: 0 });
    } else if (typeof v === 'object' && v !== null) {
      out.push('{');
      stack.push({ obj: v as Record<string, unknown>, keys: Object.keys(v), i: 0 });
    } else if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
      out.push(JSON.stringify(v));
    } else {
      out.push('null'); // null, ±Infinity (JSON's 1e999), and nothing else JSON.parse makes
    }
  };
  emit(value);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.keys === undefined) {
      if (top.i >= top.items.length) {
        out.push(']');
        stack.pop();
        continue;
      }
      if (top.i > 0) out.push(',');
      emit(top.items[top.i++]);
    } else {
      if (top.i >= top.keys.length) {
        out.push('}');
        stack.pop();
        continue;
      }
      if (top.i > 0) out.push(',');
      const k = top.keys[top.i++]!;
      out.push(JSON.stringify(k), ':');
      emit(top.obj[k]);
    }
  }
  return out.join('');
}

/** At most this many stray keys beside "readings" are named, one error each. */
const MAX_STRAY_KEYS_NAMED = 10;

/**
 * Parse and validate one telemetry payload for a device of `kind`.
 * A batch is validated reading by reading: the good ones go on, each bad one is rejected on its own.
 * Never throws: every problem, whatever the bytes, is a rejection with a field and a reason.
 */
export function parsePayload(kind: Kind, payload: Buffer | string, now = Date.now()): ParsedPayload {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const whole = (reason: string, field = 'payload'): ParsedPayload => ({
    readings: [],
    rejections: [{ index: null, raw: text.slice(0, MAX_PAYLOAD_BYTES), errors: [{ field, reason }] }],
  });
  if (size > MAX_PAYLOAD_BYTES) return whole(`is ${size} bytes; at most ${MAX_PAYLOAD_BYTES} allowed`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return whole(`is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(doc)) return whole('must be a JSON object (one reading) or {"readings": [...]} (a batch)');

  if (Object.hasOwn(doc, 'readings')) {
    const stray = Object.keys(doc).filter((k) => k !== 'readings');
    if (stray.length > 0) {
      return {
        readings: [],
        rejections: [
          {
            index: null,
            raw: text,
            errors: stray.slice(0, MAX_STRAY_KEYS_NAMED).map((k) => ({
              field: extraPath('', k),
              reason: 'a batch holds only "readings"; put other fields in each reading',
            })),
          },
        ],
      };
    }
    const list = doc.readings;
    if (!Array.isArray(list)) return whole('must be an array', 'readings');
    if (list.length === 0) return whole('must not be empty', 'readings');
    if (list.length > MAX_BATCH) return whole(`has ${list.length} readings; at most ${MAX_BATCH} per message`, 'readings');
    const out: ParsedPayload = { readings: [], rejections: [] };
    list.forEach((item, i) => {
      const r = validateOne(kind, item, `readings[${i}]`, now);
      if (Array.isArray(r)) out.rejections.push({ index: i, raw: stringifyJson(item), errors: r });
      else out.readings.push(r);
    });
    return out;
  }

  const r = validateOne(kind, doc, '', now);
  if (Array.isArray(r)) return { readings: [], rejections: [{ index: null, raw: text, errors: r }] };
  return { readings: [r], rejections: [] };
}
