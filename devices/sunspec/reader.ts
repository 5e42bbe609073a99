import type { Kind } from '../kinds.js';
import { registerReader, type ModbusClientLike, type ReadRegisters } from '../modbus/client.js';
import { findBase, walkModels, type ModelEntry } from './chain.js';
import { decodeModel, groupFor, SunSpecError, type MissingField } from './decode.js';
import { COMMON } from './models.js';
import { pointString } from './points.js';

/** Where a device keeps the model this service reads, found once and then read directly. */
export interface SunSpecLocation {
  base: number;
  model: ModelEntry;
  /** every model of the chain up to that one, in order */
  chain: number[];
  /** model 1: manufacturer, model, serial number, when the device has it */
  common?: { manufacturer: string; model: string; serial: string };
}

export interface SunSpecReading {
  /** the kind's fields that have a value (kWh, W), ready for a reading of the contract */
  fields: Record<string, number>;
  /** fields left out because the device does not implement the point or its scale factor */
  missing: MissingField[];
  location: SunSpecLocation;
}

/** Finds the base address and walks the chain to the first model serving `kind`. */
export async function locateSunSpec(read: ReadRegisters, kind: Kind): Promise<SunSpecLocation> {
  const { group } = groupFor(kind);
  const base = await findBase(read);
  const chain = await walkModels(read, base, (m) => group.ids.includes(m.id));
  const model = chain.find((m) => group.ids.includes(m.id));
  if (!model) {
    throw new SunSpecError(`no ${group.name} in the chain at ${base} (models: ${chain.map((m) => m.id).join(', ') || 'none'})`);
  }
  const common = chain.find((m) => m.id === 1);
  let info: SunSpecLocation['common'];
  if (common && common.length >= COMMON.length) {
    const block = await read(common.address, 2 + COMMON.length);
    info = { manufacturer: pointString(block, COMMON.points.Mn!, 'Mn'), model: pointString(block, COMMON.points.Md!, 'Md'), serial: pointString(block, COMMON.points.SN!, 'SN') };
  }
  return { base, model, chain: chain.map((m) => m.id), common: info };
}

/**
 * Reads a SunSpec inverter (`pv_inverter`: models 101–103) or meter (`smart_meter`: models 201–204):
 * the fields of the contract's reading, scale factors applied, energy in kWh.
 *
 * `client`: anything with `readHoldingRegisters(address, length) → Promise<{data}>`, e.g. a
 * `modbus-serial` client after `connectTCP` and `setID`. Pass the `location` of an earlier result to skip
 * the chain walk: if the device no longer has that model there (a firmware update), it is found again.
 * Throws `SunSpecError` for a device that is not SunSpec or lacks the model, and the client's own error
 * for a failed read (timeout, Modbus exception).
 */
export async function readSunSpec(client: ModbusClientLike, opts: { kind: Kind; location?: SunSpecLocation }): Promise<SunSpecReading> {
  const read = registerReader(client, 'holding');
  let location = opts.location;
  for (let attempt = 0; attempt < 2; attempt++) {
    location ??= await locateSunSpec(read, opts.kind);
    const { model } = location;
    const block = await read(model.address, 2 + model.length);
    if (block[0] === model.id && block[1] === model.length) {
      const decoded = decodeModel(opts.kind, block);
      return { fields: decoded.fields, missing: decoded.missing, location };
    }
    location = undefined;
  }
  throw new SunSpecError('the model chain changed while it was being read');
}
