/**
 * Modbus registers (16-bit words) to numbers: the types a meter's register map uses, in either word
 * order. Pure: no I/O, no Modbus library.
 */

export const REGISTER_TYPES = ['uint16', 'int16', 'uint32', 'int32', 'float32'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

/**
 * `big`: the high word first (Modbus's own byte order carried over to words; SunSpec's order).
 * `little`: the low word first ("word swapped", common on plain meters).
 */
export const WORD_ORDERS = ['big', 'little'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

/** Registers each type takes. */
export const TYPE_WORDS: Record<RegisterType, 1 | 2> = { uint16: 1, int16: 1, uint32: 2, int32: 2, float32: 2 };

function word(words: readonly number[], i: number): number {
  const w = words[i];
  if (w === undefined || !Number.isInteger(w) || w < 0 || w > 0xffff) throw new RangeError(`register ${i} is not a 16-bit word: ${String(w)}`);
  return w;
}

/** The two words of a 32-bit value as [high, low]. */
function highLow(words: readonly number[], order: WordOrder): [number, number] {
  const a = word(words, 0);
  const b = word(words, 1);
  return order === 'big' ? [a, b] : [b, a];
}

/** The raw number in `words` (starting at index 0) as `type`; a float32 keeps its bits (NaN, ±Infinity included). */
export function decodeRegisters(words: readonly number[], type: RegisterType, order: WordOrder = 'big'): number {
  switch (type) {
    case 'uint16':
      return word(words, 0);
    case 'int16': {
      const w = word(words, 0);
      return w >= 0x8000 ? w - 0x10000 : w;
    }
    case 'uint32': {
      const [hi, lo] = highLow(words, order);
      return hi * 0x10000 + lo;
    }
    case 'int32': {
      const [hi, lo] = highLow(words, order);
      const u = hi * 0x10000 + lo;
      return u >= 0x80000000 ? u - 0x100000000 : u;
    }
    case 'float32': {
      const [hi, lo] = highLow(words, order);
      const view = new DataView(new ArrayBuffer(4));
      view.setUint16(0, hi);
      view.setUint16(2, lo);
      return shortestFloat32(view.getFloat32(0));
    }
  }
}

/**
 * The shortest decimal that is the same float32: a meter's 123.4 arrives as 123.40000152587890625 in a
 * double, and is kept as 123.4, the value the meter meant.
 */
function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let p = 1; p <= 9; p++) {
    const n = Number(x.toPrecision(p));
    if (Math.fround(n) === x) return n;
  }
  return x;
}

/**
 * raw × 10^exponent without binary noise: 123456 × 10^-2 is 1234.56, not 1234.5600000000002 (dividing by
 * an exact power of ten rounds once, to the double nearest the decimal).
 */
export function timesPowerOfTen(raw: number, exponent: number): number {
  if (!Number.isInteger(exponent)) throw new RangeError(`exponent must be a whole number, got ${exponent}`);
  return exponent >= 0 ? raw * 10 ** exponent : raw / 10 ** -exponent;
}

/**
 * raw × scale, a register map's factor (0.01, 0.1, 1000, -1): an exact power of ten goes through
 * `timesPowerOfTen`; any other factor is rounded to 15 significant digits, the precision a double holds.
 */
export function scaled(raw: number, scale: number): number {
  const exponent = Math.round(Math.log10(Math.abs(scale)));
  if (Math.abs(scale) === 10 ** exponent || (exponent < 0 && Math.abs(scale) === 1 / 10 ** -exponent)) {
    return Math.sign(scale) * timesPowerOfTen(raw, exponent);
  }
  return Number((raw * scale).toPrecision(15));
}
