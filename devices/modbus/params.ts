import net from 'node:net';
import { z } from 'zod';
import { readingSchemas, type Kind } from '../kinds.js';
import { SUNSPEC_KINDS } from '../sunspec/models.js';
import { REGISTER_TABLES, type RegisterTable } from './client.js';
import { REGISTER_TYPES, TYPE_WORDS, WORD_ORDERS, type RegisterType, type WordOrder } from './words.js';

/**
 * `params.modbus`: a device the service polls over Modbus TCP instead of one that publishes over MQTT.
 * Without `map` the device is read as SunSpec (inverter or meter models); with `map` each field of the
 * kind's reading comes from a declared register. Strict: a key it does not know (`hots`, `poll`) is
 * refused by name, so a typo never falls back to a default silently.
 */

export const MODBUS_DEFAULTS = { port: 502, unit_id: 1, poll_s: 60, timeout_s: 5, offline_after: 3 } as const;
export const MODBUS_BOUNDS = {
  poll_s: { min: 5, max: 3600 },
  timeout_s: { min: 0.5, max: 60 },
  offline_after: { min: 1, max: 100 },
  scale: { min: 1e-9, max: 1e9 },
  mapFields: 32,
} as const;

const MODBUS_KEYS = ['host', 'port', 'unit_id', 'poll_s', 'timeout_s', 'offline_after', 'map'] as const;
const REGISTER_KEYS = ['address', 'function', 'type', 'word_order', 'scale'] as const;

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v) : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'number' ? String(v) : `a ${typeof v}`);
const whole = (what: string, min: number, max: number) =>
  z
    .number({ error: (iss) => `must be a whole number ${min}-${max} (${what}), got ${shown(iss.input)}` })
    .int({ error: `must be a whole number ${min}-${max} (${what})` })
    .min(min, { error: `must be a whole number ${min}-${max} (${what})` })
    .max(max, { error: `must be a whole number ${min}-${max} (${what})` });
const between = (what: string, min: number, max: number) =>
  z
    .number({ error: (iss) => `must be a number from ${min} to ${max} (${what}), got ${shown(iss.input)}` })
    .min(min, { error: `must be from ${min} to ${max} (${what})` })
    .max(max, { error: `must be from ${min} to ${max} (${what})` });
/** Each key of `obj` that is not one of `keys`, as an issue naming it (zod's own strict mode would report them together at the object). */
function unknownKeys(obj: object, keys: readonly string[], of: string, ctx: z.RefinementCtx): void {
  for (const k of Object.keys(obj)) {
    if (!keys.includes(k)) ctx.addIssue({ code: 'custom', path: [k.length > 64 ? `${k.slice(0, 64)}…` : k], message: `is not a field of ${of} (${keys.join(', ')})` });
  }
}

const registerSchema = z
  .looseObject(
    {
      address: whole('register address, zero-based as on the wire', 0, 65535).optional(),
      function: z.enum(REGISTER_TABLES, { error: (iss) => `must be holding (function 3) or input (function 4), got ${shown(iss.input)}` }).optional(),
      type: z.enum(REGISTER_TYPES, { error: (iss) => `must be one of ${REGISTER_TYPES.join(', ')}, got ${shown(iss.input)}` }).optional(),
      word_order: z.enum(WORD_ORDERS, { error: (iss) => `must be big (high word first) or little (low word first), got ${shown(iss.input)}` }).optional(),
      scale: z
        .number({ error: (iss) => `must be a number (the register × scale is the field's value, e.g. 0.01 for a register in 10 Wh and a field in kWh), got ${shown(iss.input)}` })
        .refine((s) => Number.isFinite(s) && Math.abs(s) >= MODBUS_BOUNDS.scale.min && Math.abs(s) <= MODBUS_BOUNDS.scale.max, {
          error: 'must be between 1e-9 and 1e9 in size, either sign (not 0)',
        })
        .optional(),
    },
    { error: (iss) => `must be an object {"address":…,"function":"holding","type":"uint32","word_order":"big","scale":0.01}, got ${shown(iss.input)}` },
  )
  .superRefine((r, ctx) => {
    unknownKeys(r, REGISTER_KEYS, 'a register', ctx);
    if (r.address === undefined) ctx.addIssue({ code: 'custom', path: ['address'], message: 'required: the register address (0-65535, zero-based as on the wire)' });
    else if (r.address + TYPE_WORDS[r.type ?? 'uint16'] - 1 > 65535) ctx.addIssue({ code: 'custom', path: ['address'], message: `a ${r.type} at ${r.address} runs past register 65535` });
  });

export const modbusParamsSchema = z
  .looseObject(
    {
      host: z
        .string({ error: (iss) => (iss.input === undefined ? 'required: the device\'s host name or IP address' : `must be a host name or IP address (a string), got ${shown(iss.input)}`) })
        .refine((h) => net.isIP(h) !== 0 || HOSTNAME.test(h), { error: (iss) => `must be a host name or IP address (10.0.0.5, inverter-3.plant.lan), got ${shown(iss.input)}` })
        .optional(),
      port: whole('TCP port', 1, 65535).optional(),
      unit_id: whole('Modbus unit id', 0, 255).optional(),
      poll_s: between('seconds between polls', MODBUS_BOUNDS.poll_s.min, MODBUS_BOUNDS.poll_s.max).optional(),
      timeout_s: between('seconds a poll may take, connecting included', MODBUS_BOUNDS.timeout_s.min, MODBUS_BOUNDS.timeout_s.max).optional(),
      offline_after: whole('failed polls in a row before the device is shown offline', MODBUS_BOUNDS.offline_after.min, MODBUS_BOUNDS.offline_after.max).optional(),
      map: z
        .record(z.string(), registerSchema, { error: (iss) => `must be an object of fields to registers ({"import_kwh":{"address":…}}), got ${shown(iss.input)}` })
        .optional(),
    },
    { error: (iss) => `must be an object {"host":…,"port":502,"unit_id":1,"poll_s":60}, got ${shown(iss.input)}` },
  )
  .superRefine((m, ctx) => {
    unknownKeys(m, MODBUS_KEYS, 'params.modbus', ctx);
    if (m.host === undefined) ctx.addIssue({ code: 'custom', path: ['host'], message: "required: the device's host name or IP address" });
    const poll = m.poll_s ?? MODBUS_DEFAULTS.poll_s;
    if (m.timeout_s !== undefined && m.timeout_s > poll) ctx.addIssue({ code: 'custom', path: ['timeout_s'], message: `must not be longer than poll_s (${poll} s)` });
    if (m.map) {
      const keys = Object.keys(m.map);
      if (keys.length === 0) ctx.addIssue({ code: 'custom', path: ['map'], message: 'must map at least one field (leave map out for a SunSpec device)' });
      if (keys.length > MODBUS_BOUNDS.mapFields) ctx.addIssue({ code: 'custom', path: ['map'], message: `maps ${keys.length} fields; at most ${MODBUS_BOUNDS.mapFields}` });
    }
  });

export type ModbusParams = z.infer<typeof modbusParamsSchema>;

/** A register of a map, every default filled in. */
export interface RegisterSpec {
  address: number;
  function: RegisterTable;
  type: RegisterType;
  word_order: WordOrder;
  scale: number;
}

/** What the poller needs, every default filled in. */
export interface ModbusSettings {
  host: string;
  port: number;
  unitId: number;
  pollMs: number;
  timeoutMs: number;
  offlineAfter: number;
  /** present: a plain register map; absent: SunSpec */
  map?: Record<string, RegisterSpec>;
}

/** `params.modbus` (already validated) with its defaults. */
export function modbusSettings(m: ModbusParams): ModbusSettings {
  return {
    host: m.host!,
    port: m.port ?? MODBUS_DEFAULTS.port,
    unitId: m.unit_id ?? MODBUS_DEFAULTS.unit_id,
    pollMs: (m.poll_s ?? MODBUS_DEFAULTS.poll_s) * 1000,
    timeoutMs: (m.timeout_s ?? MODBUS_DEFAULTS.timeout_s) * 1000,
    offlineAfter: m.offline_after ?? MODBUS_DEFAULTS.offline_after,
    map: m.map
      ? Object.fromEntries(
          Object.entries(m.map).map(([field, r]) => [
            field,
            { address: r.address!, function: r.function ?? 'holding', type: r.type ?? 'uint16', word_order: r.word_order ?? 'big', scale: r.scale ?? 1 },
          ]),
        )
      : undefined,
  };
}

/** The numeric fields of each kind's reading (a register map can fill only these), and the required ones. */
export function numericFields(kind: Kind): { all: string[]; required: string[] } {
  const shape = readingSchemas[kind].shape as Record<string, z.ZodType>;
  const all = Object.keys(shape).filter((f) => f !== 'ts' && f !== 'seq' && shape[f]!.safeParse(1).success);
  return { all, required: all.filter((f) => !shape[f]!.safeParse(undefined).success) };
}

/**
 * What `params.modbus` asks of the device's kind: SunSpec only for the kinds with SunSpec models, and a
 * map only of the kind's numeric fields, covering the required ones. Paths are relative to `params.modbus`.
 */
export function modbusKindProblems(kind: Kind, m: ModbusParams): { path: (string | number)[]; message: string }[] {
  const a = /^[aeiou]/.test(kind) ? 'an' : 'a';
  if (!m.map) {
    return SUNSPEC_KINDS.includes(kind)
      ? []
      : [{ path: [], message: `${a} ${kind} has no SunSpec model (SunSpec devices: ${SUNSPEC_KINDS.join(', ')}); declare its registers in params.modbus.map` }];
  }
  const { all, required } = numericFields(kind);
  const problems = Object.keys(m.map)
    .filter((f) => !all.includes(f))
    .map((f) => ({ path: ['map', f], message: `is not a numeric field of ${a} ${kind} (${all.join(', ')})` }));
  const absent = required.filter((f) => !(f in m.map!));
  if (absent.length > 0) problems.push({ path: ['map'], message: `must map ${absent.join(' and ')} (required in ${a} ${kind} reading)` });
  return problems;
}
