// Seeded pseudo-randomness: murmur3's finaliser over (seed hash, stream, index).

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** `rand(stream, n)` in [0, 1), a pure function of (seed, stream, n). */
export type Rand = (stream: number, n: number) => number;

export function seededRandom(seed: string): Rand {
  const s = hashString(seed);
  return (stream, n) => fmix32(s ^ fmix32(Math.imul(stream + 1, 0x9e3779b1) ^ fmix32(n | 0))) / 0x1_0000_0000;
}

/** A draw `r` in [0, 1) mapped onto [lo, hi). */
export const between = (r: number, lo: number, hi: number): number => lo + (hi - lo) * r;
