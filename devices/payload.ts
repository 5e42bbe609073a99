import type { z } from 'zod';
import { declaredFields, readingSchemas, type Kind } from './kinds.js';

/** Contract limits on one MQTT telemetry payload. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_BATCH = 1000;
export const MAX_FUTURE_MS = 5 * 60 * 1000;

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
  /** unknown fields, kept as sent */
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
  return error.issues.map((i) => ({ field: formatPath(prefix, i.path), reason: i.message }));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function validateOne(kind: Kind, input: unknown, prefix: string, now: number): ValidReading | FieldError[] {
  if (!isPlainObject(input)) {
    return [{ field: prefix || 'payload', reason: 'must be a JSON object' }];
  }
  const result = readingSchemas[kind].safeParse(input);
  if (!result.success) return zodToFieldErrors(result.error, prefix);
  const data = result.data as Record<string, unknown> & { ts: number; seq?: number };
  if (data.ts > now + MAX_FUTURE_MS) {
    return [
      {
        field: prefix ? `${prefix}.ts` : 'ts',
        reason: `is ${Math.round((data.ts - now) / 1000)} s in the future (at most ${MAX_FUTURE_MS / 60000} min allowed)`,
      },
    ];
  }
  const declared = declaredFields[kind];
  const fields: Record<string, number | string> = {};
  const extras: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === 'ts' || k === 'seq' || v === undefined) continue;
    if (declared.includes(k)) fields[k] = v as number | string;
    else extras[k] = v;
  }
  return { ts: data.ts, seq: data.seq ?? null, fields, extras };
}

/**
 * Parse and validate one telemetry payload for a device of `kind`.
 * A batch is validated reading by reading: the good ones go on, each bad one is rejected on its own.
 */
export function parsePayload(kind: Kind, payload: Buffer | string, now = Date.now()): ParsedPayload {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const whole = (reason: string): ParsedPayload => ({
    readings: [],
    rejections: [{ index: null, raw: text.slice(0, MAX_PAYLOAD_BYTES), errors: [{ field: 'payload', reason }] }],
  });
  if (size > MAX_PAYLOAD_BYTES) return whole(`is ${size} bytes; at most ${MAX_PAYLOAD_BYTES} allowed`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return whole(`is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(doc)) return whole('must be a JSON object (one reading) or {"readings": [...]} (a batch)');

  if ('readings' in doc) {
    const list = doc.readings;
    if (!Array.isArray(list)) {
      return { readings: [], rejections: [{ index: null, raw: text, errors: [{ field: 'readings', reason: 'must be an array' }] }] };
    }
    if (list.length === 0) {
      return { readings: [], rejections: [{ index: null, raw: text, errors: [{ field: 'readings', reason: 'must not be empty' }] }] };
    }
    if (list.length > MAX_BATCH) {
      return {
        readings: [],
        rejections: [{ index: null, raw: text, errors: [{ field: 'readings', reason: `has ${list.length} readings; at most ${MAX_BATCH} per message` }] }],
      };
    }
    const out: ParsedPayload = { readings: [], rejections: [] };
    list.forEach((item, i) => {
      const r = validateOne(kind, item, `readings[${i}]`, now);
      if (Array.isArray(r)) out.rejections.push({ index: i, raw: JSON.stringify(item) ?? String(item), errors: r });
      else out.readings.push(r);
    });
    return out;
  }

  const r = validateOne(kind, doc, '', now);
  if (Array.isArray(r)) return { readings: [], rejections: [{ index: null, raw: text, errors: r }] };
  return { readings: [r], rejections: [] };
}
