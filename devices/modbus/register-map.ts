import { registerReader, type ModbusClientLike } from './client.js';
import type { RegisterSpec } from './params.js';
import { decodeRegisters, scaled, TYPE_WORDS } from './words.js';

/** One field's value from its register's words (`words` starts at the register): raw × scale; NaN or ±Infinity (a float32 meter's "no value") is none. */
export function decodeRegister(words: readonly number[], spec: RegisterSpec): number | null {
  const raw = decodeRegisters(words, spec.type, spec.word_order);
  if (!Number.isFinite(raw)) return null;
  return scaled(raw, spec.scale);
}

/**
 * A plain (non-SunSpec) meter: each field of `map` read from its own register, one read per field (a
 * meter may refuse a read that spans registers it does not have). `missing` names the fields whose
 * float32 register held no number.
 */
export async function readRegisterMap(
  client: ModbusClientLike,
  map: Readonly<Record<string, RegisterSpec>>,
): Promise<{ fields: Record<string, number>; missing: { field: string; reason: string }[] }> {
  const readers = { holding: registerReader(client, 'holding'), input: registerReader(client, 'input') };
  const fields: Record<string, number> = {};
  const missing: { field: string; reason: string }[] = [];
  for (const [field, spec] of Object.entries(map)) {
    const words = await readers[spec.function](spec.address, TYPE_WORDS[spec.type]);
    const value = decodeRegister(words, spec);
    if (value === null) missing.push({ field, reason: `${spec.function} register ${spec.address} (${spec.type}) holds no number` });
    else fields[field] = value;
  }
  return { fields, missing };
}
