import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Device secrets: 192 random bits (base64url), shown once, stored only as a hash, compared in
 * constant time.
 *
 * - `hmac-sha256$<salt>$<mac>` (current): HMAC-SHA256 of the secret keyed by a random 128-bit salt of
 *   its own, both base64url. A slow password hash protects guessable passwords; a secret of 192 random
 *   bits cannot be guessed even from a leaked hash (2^192 tries), so scrypt added nothing but tens of
 *   milliseconds of CPU to every CONNECT, which a reconnect storm turned into a denial of service.
 *   Checking one costs a few microseconds.
 * - `scrypt$N$r$p$<salt>$<hash>` (legacy, data dirs from before): still verified, off the event loop;
 *   the broker hands such checks to a bounded queue and re-hashes the secret to the current form on the
 *   next successful login (`DeviceRegistry.upgradeHash`).
 *
 * A malformed stored hash never verifies and never throws.
 */

export type HashScheme = 'hmac-sha256' | 'scrypt';

export const CURRENT_SCHEME: HashScheme = 'hmac-sha256';

/** random bytes of a secret (192 bits) and of a hash's salt */
export const SECRET_BYTES = 24;
export const SALT_BYTES = 16;
const MAC_BYTES = 32;
const B64URL = /^[A-Za-z0-9_-]+$/;

/** A new secret; `random` (SECRET_BYTES of them) lets a caller draw many secrets' bytes at once. */
export function generateSecret(random: Buffer = randomBytes(SECRET_BYTES)): string {
  return random.toString('base64url');
}

/** The stored hash's scheme, or null when it is neither form (malformed). */
export function hashScheme(stored: string): HashScheme | null {
  if (parseHmac(stored)) return 'hmac-sha256';
  if (parseScrypt(stored)) return 'scrypt';
  return null;
}

/** True when the stored hash is valid but not the current form: re-hash after the next successful check. */
export function needsRehash(stored: string): boolean {
  return hashScheme(stored) === 'scrypt';
}

/** A new hash in the current form (synchronous: a few microseconds). */
export function hashSecretNow(secret: string, salt: Buffer = randomBytes(SALT_BYTES)): string {
  return `hmac-sha256$${salt.toString('base64url')}$${mac(secret, salt).toString('base64url')}`;
}

/** A new hash in the current form (kept async for its callers). */
export async function hashSecret(secret: string): Promise<string> {
  return hashSecretNow(secret);
}

/** Checks a secret against a current-form hash; false for any other form or a malformed hash. */
export function verifyFastSecret(secret: string, stored: string): boolean {
  const parsed = parseHmac(stored);
  if (!parsed) return false;
  return constantTimeEqual(mac(secret, parsed.salt), parsed.mac);
}

/** Checks a secret against a legacy scrypt hash (tens of ms on the thread pool); false when malformed. */
export async function verifyLegacySecret(secret: string, stored: string): Promise<boolean> {
  const parsed = parseScrypt(stored);
  if (!parsed) return false;
  try {
    const key = await scrypt(secret, parsed.salt, parsed.hash.length, { N: parsed.N, r: parsed.r, p: parsed.p, maxmem: SCRYPT_MAXMEM });
    return constantTimeEqual(key, parsed.hash);
  } catch {
    return false;
  }
}

/** Checks a secret against a stored hash of either form. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  switch (hashScheme(stored)) {
    case 'hmac-sha256':
      return verifyFastSecret(secret, stored);
    case 'scrypt':
      return verifyLegacySecret(secret, stored);
    default:
      return false;
  }
}

/**
 * Equal bytes, in time that depends only on the expected value's length: a length mismatch still
 * runs one full comparison before answering false.
 */
export function constantTimeEqual(actual: Buffer, expected: Buffer): boolean {
  if (actual.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(actual, expected);
}

/**
 * The legacy form, as the registry stored it before (scrypt N=16384, r=8, p=1). Only for tests and
 * tools that reproduce an old data dir; new secrets are hashed with `hashSecret`.
 */
export async function hashSecretLegacyScrypt(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, 32, { N: 16384, r: 8, p: 1 });
  return `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

function mac(secret: string, salt: Buffer): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}

function decode(b64: string | undefined, min: number, max: number): Buffer | null {
  if (!b64 || !B64URL.test(b64)) return null;
  const buf = Buffer.from(b64, 'base64url');
  return buf.length >= min && buf.length <= max ? buf : null;
}

function parseHmac(stored: string): { salt: Buffer; mac: Buffer } | null {
  if (typeof stored !== 'string') return null;
  const parts = stored.split('$');
  if (parts.length !== 3 || parts[0] !== 'hmac-sha256') return null;
  const salt = decode(parts[1], 8, 64);
  const m = decode(parts[2], MAC_BYTES, MAC_BYTES);
  return salt && m ? { salt, mac: m } : null;
}

/** scrypt's memory is 128·N·r bytes: refuse parameters a sane hash never had (64 MiB cap). */
const SCRYPT_MAXMEM = 64 * 1024 * 1024 + 1024 * 1024;

function parseScrypt(stored: string): { N: number; r: number; p: number; salt: Buffer; hash: Buffer } | null {
  if (typeof stored !== 'string') return null;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  if (![n, r, p].every((v) => /^[1-9][0-9]{0,7}$/.test(v))) return null;
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  // N a power of two above 1; r and p small; memory 128·N·r within the cap
  if (N < 2 || (N & (N - 1)) !== 0 || R > 32 || P > 16 || 128 * N * R > 64 * 1024 * 1024) return null;
  const salt = decode(saltB64, 8, 64);
  const hash = decode(hashB64, 16, 64);
  return salt && hash ? { N, r: R, p: P, salt, hash } : null;
}

function scrypt(secret: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(secret, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}
