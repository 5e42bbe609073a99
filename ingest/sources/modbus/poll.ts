import type { Kind } from '../../../devices/kinds.js';
import type { ModbusSettings } from '../../../devices/modbus/params.js';
import { readRegisterMap } from '../../../devices/modbus/register-map.js';
import { SunSpecError } from '../../../devices/sunspec/decode.js';
import { readSunSpec, type SunSpecLocation } from '../../../devices/sunspec/reader.js';
import { PollTimeout, withModbus } from './connection.js';

export interface PollResult {
  /** the kind's fields that have a value */
  fields: Record<string, number>;
  /** fields the device gave no value for, with the reason (a SunSpec point not implemented, a float32 NaN) */
  missing: { field: string; reason: string }[];
  /** where the SunSpec model was found, to read it directly next time */
  location?: SunSpecLocation;
}

/** One poll of one device: connect, read its SunSpec model or its register map, close; bounded by its timeout. */
export async function pollDevice(kind: Kind, settings: ModbusSettings, location: SunSpecLocation | undefined, signal?: AbortSignal): Promise<PollResult> {
  return withModbus(
    settings,
    settings.timeoutMs,
    async (client) => {
      if (settings.map) return readRegisterMap(client, settings.map);
      const r = await readSunSpec(client, { kind, location });
      return { fields: r.fields, missing: r.missing.map((m) => ({ field: m.field, reason: m.reason })), location: r.location };
    },
    signal,
  );
}

/** A low-cardinality label for `netzero_modbus_poll_failures_total`. */
export function failureReason(err: unknown): 'timeout' | 'connect' | 'modbus_exception' | 'sunspec' | 'other' {
  if (err instanceof PollTimeout) return 'timeout';
  if (err instanceof SunSpecError) return 'sunspec';
  const e = err as { modbusCode?: unknown; errno?: unknown; code?: unknown; message?: unknown };
  if (typeof e?.modbusCode === 'number') return 'modbus_exception';
  if (e?.errno === 'ETIMEDOUT' || /timed out/i.test(String(e?.message))) return 'timeout';
  if (typeof e?.code === 'string' && /^E(CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|NOTFOUND|AI_AGAIN|PIPE)/.test(e.code)) return 'connect';
  if (/port not open|connection/i.test(String(e?.message))) return 'connect';
  return 'other';
}
