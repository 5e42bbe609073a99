import { decodeRegisters } from '../modbus/words.js';
import type { PointDef } from './models.js';

/**
 * One SunSpec point out of a model's registers. A point a device does not implement holds a fixed
 * value (SunSpec Information Model Specification, "unimplemented" values): that is no value, never 0.
 */

/** The unimplemented value of each type, as the raw registers read (acc32: an accumulator that never counted). */
export const NOT_IMPLEMENTED = {
  uint16: 0xffff,
  int16: 0x8000,
  sunssf: 0x8000,
  /** both words 0 */
  acc32: 0,
} as const;

/** SunSpec scale factors lie in -10…10. */
export const SUNSSF_RANGE = { min: -10, max: 10 } as const;

/** A value, or why there is none. */
export type PointValue = { value: number } | { none: string };

const hex = (n: number, digits: number) => `0x${n.toString(16).toUpperCase().padStart(digits, '0')}`;

function wordsAt(block: readonly number[], def: PointDef, name: string): number[] {
  const words = block.slice(def.offset, def.offset + def.size);
  if (words.length !== def.size) throw new RangeError(`point ${name} (offset ${def.offset}) lies beyond the model's ${block.length} registers`);
  return words;
}

/** The raw number of an integer point, or why it has none. `block` starts at the model's `ID` register. */
export function pointValue(block: readonly number[], def: PointDef, name: string): PointValue {
  const words = wordsAt(block, def, name);
  switch (def.type) {
    case 'uint16':
      return words[0] === NOT_IMPLEMENTED.uint16 ? { none: `${name} is ${hex(words[0], 4)}: not implemented` } : { value: decodeRegisters(words, 'uint16') };
    case 'int16':
      return words[0] === NOT_IMPLEMENTED.int16 ? { none: `${name} is ${hex(words[0], 4)}: not implemented` } : { value: decodeRegisters(words, 'int16') };
    case 'acc32': {
      const v = decodeRegisters(words, 'uint32', 'big');
      return v === NOT_IMPLEMENTED.acc32 ? { none: `${name} is ${hex(v, 8)}: not accumulated (acc32 not implemented)` } : { value: v };
    }
    case 'sunssf': {
      if (words[0] === NOT_IMPLEMENTED.sunssf) return { none: `${name} is ${hex(words[0], 4)}: not implemented` };
      const sf = decodeRegisters(words, 'int16');
      return sf < SUNSSF_RANGE.min || sf > SUNSSF_RANGE.max ? { none: `${name} is ${sf}, outside the scale factors -10…10` } : { value: sf };
    }
    case 'string':
      throw new TypeError(`point ${name} is a string: use pointString`);
  }
}

/** A string point: two ASCII characters a register, high byte first, NUL-padded; anything unprintable dropped. */
export function pointString(block: readonly number[], def: PointDef, name: string): string {
  const bytes = wordsAt(block, def, name).flatMap((w) => [w >> 8, w & 0xff]);
  return String.fromCharCode(...bytes.filter((b) => b >= 0x20 && b < 0x7f)).trim();
}
