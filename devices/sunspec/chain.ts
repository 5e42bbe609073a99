import type { ReadRegisters } from '../modbus/client.js';
import { END_MODEL_ID, SUNS_MARKER, SUNSPEC_BASES } from './models.js';
import { SunSpecError } from './decode.js';

/** One model of a device's chain: its id, the address of its `ID` register and its length `L`. */
export interface ModelEntry {
  id: number;
  address: number;
  length: number;
}

/** Models one chain may hold before the walk gives up (real devices have a handful). */
export const MAX_MODELS = 100;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The base address: the first of 40000, 0 and 50000 whose two registers read `SunS`. A base a device
 * refuses (illegal address) or that holds something else is passed over; when none has the marker the
 * error says what each gave.
 */
export async function findBase(read: ReadRegisters, bases: readonly number[] = SUNSPEC_BASES): Promise<number> {
  const tried: string[] = [];
  for (const base of bases) {
    try {
      const [a, b] = await read(base, 2);
      if (a === SUNS_MARKER[0] && b === SUNS_MARKER[1]) return base;
      tried.push(`${base}: ${a?.toString(16)} ${b?.toString(16)}`);
    } catch (err) {
      tried.push(`${base}: ${message(err)}`);
    }
  }
  throw new SunSpecError(`no SunSpec marker "SunS" at ${bases.join(', ')} (${tried.join('; ')})`);
}

/**
 * Walks the model chain after the marker at `base`: each model is `ID`, `L` and `L` registers, the next
 * one right after it, until the end marker (`ID` 0xFFFF). Models this service does not know are stepped
 * over by their `L`. `until` stops the walk at the first model it accepts (no need to read further).
 */
export async function walkModels(read: ReadRegisters, base: number, until?: (m: ModelEntry) => boolean): Promise<ModelEntry[]> {
  const models: ModelEntry[] = [];
  let address = base + 2;
  for (let i = 0; i < MAX_MODELS; i++) {
    if (address + 2 > 0x10000) throw new SunSpecError(`the model chain runs past register 65535 after ${models.length} models`);
    const [id, length] = await read(address, 2);
    if (id === END_MODEL_ID) return models;
    if (id === undefined || length === undefined) throw new SunSpecError(`no model header at ${address}`);
    if (address + 2 + length > 0x10000) throw new SunSpecError(`model ${id} at ${address} is ${length} registers long: past register 65535`);
    const entry = { id, address, length };
    models.push(entry);
    if (until?.(entry)) return models;
    address += 2 + length;
  }
  throw new SunSpecError(`more than ${MAX_MODELS} models in the chain without an end marker`);
}
