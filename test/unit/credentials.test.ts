import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  generateSecret,
  hashScheme,
  hashSecret,
  hashSecretLegacyScrypt,
  hashSecretNow,
  needsRehash,
  verifyFastSecret,
  verifyLegacySecret,
  verifySecret,
} from '../../devices/credentials.js';
import { DeviceRegistry, registryTables } from '../../devices/registry.js';
import { openStateDb, type StateDb } from '../../lib/state-db.js';

/**
 * Device secrets (devices/credentials.ts): the current form is HMAC-SHA256 keyed by a per-secret salt
 * (a 192-bit random secret needs no slow hash), the legacy scrypt form still verifies and is re-hashed
 * on the next successful login through the registry, comparisons are constant-time, and a malformed
 * stored hash never verifies and never throws.
 */

describe('the current form (hmac-sha256)', () => {
  it('hashes a secret as hmac-sha256$<salt>$<mac>, salted per secret, and verifies it synchronously', async () => {
    const secret = generateSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(24);
    const a = await hashSecret(secret);
    const b = hashSecretNow(secret);
    expect(a).toMatch(/^hmac-sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b); // a fresh salt each time
    expect(hashScheme(a)).toBe('hmac-sha256');
    expect(needsRehash(a)).toBe(false);
    expect(verifyFastSecret(secret, a)).toBe(true);
    expect(verifyFastSecret(secret, b)).toBe(true);
    expect(verifyFastSecret(`${secret}x`, a)).toBe(false);
    expect(verifyFastSecret(secret.slice(1), a)).toBe(false);
    expect(await verifySecret(secret, a)).toBe(true);
    expect(await verifySecret('wrong', a)).toBe(false);
  });

  it('is the HMAC-SHA256 of the secret keyed by the salt (a known answer)', () => {
    const salt = Buffer.alloc(16, 7);
    const expected = crypto.createHmac('sha256', salt).update('s3cret', 'utf8').digest('base64url');
    expect(hashSecretNow('s3cret', salt)).toBe(`hmac-sha256$${salt.toString('base64url')}$${expected}`);
  });

  it('prints what one check costs (microseconds; a legacy scrypt check is tens of milliseconds)', () => {
    const secret = generateSecret();
    const stored = hashSecretNow(secret);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) verifyFastSecret(i % 2 ? secret : 'wrong', stored);
    const perCheckUs = Number(process.hrtime.bigint() - t0) / 1e3 / 2000;
    console.log(`hmac-sha256 check: ${perCheckUs.toFixed(1)} µs`);
    expect(perCheckUs).toBeGreaterThan(0);
  });
});

describe('the legacy form (scrypt)', () => {
  it('still verifies, is flagged for re-hashing, and is not a fast hash', async () => {
    const secret = generateSecret();
    const stored = await hashSecretLegacyScrypt(secret);
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(hashScheme(stored)).toBe('scrypt');
    expect(needsRehash(stored)).toBe(true);
    expect(await verifyLegacySecret(secret, stored)).toBe(true);
    expect(await verifyLegacySecret('wrong', stored)).toBe(false);
    expect(await verifySecret(secret, stored)).toBe(true);
    expect(verifyFastSecret(secret, stored)).toBe(false);
  });

  it('verifies a hash written by the old code (same parameters and layout)', async () => {
    const secret = 'old-secret-from-2025';
    const salt = Buffer.alloc(16, 3);
    const key = crypto.scryptSync(secret, salt, 32, { N: 16384, r: 8, p: 1 });
    const stored = `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    expect(await verifySecret(secret, stored)).toBe(true);
    expect(await verifySecret('old-secret-from-2024', stored)).toBe(false);
  });
});

describe('constant-time comparison', () => {
  it('answers equal for equal bytes only, whatever the lengths', () => {
    expect(constantTimeEqual(Buffer.from('abcd'), Buffer.from('abcd'))).toBe(true);
    expect(constantTimeEqual(Buffer.from('abce'), Buffer.from('abcd'))).toBe(false);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(constantTimeEqual(Buffer.from('abcde'), Buffer.from('abcd'))).toBe(false);
    expect(constantTimeEqual(Buffer.alloc(0), Buffer.from('abcd'))).toBe(false);
  });

  it('takes about as long for a mismatch in the first byte as in the last (no early exit)', () => {
    const expected = crypto.randomBytes(32);
    const first = Buffer.from(expected);
    first[0]! ^= 1;
    const last = Buffer.from(expected);
    last[31]! ^= 1;
    const time = (actual: Buffer) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 20_000; i++) constantTimeEqual(actual, expected);
      return Number(process.hrtime.bigint() - t0);
    };
    time(first);
    time(last); // warm up
    const samples = Array.from({ length: 5 }, () => time(first) / time(last)).sort((a, b) => a - b);
    console.log(`constant-time compare: first-byte/last-byte mismatch time ratio, median of 5: ${samples[2]!.toFixed(2)}`);
    expect(constantTimeEqual(first, expected) || constantTimeEqual(last, expected)).toBe(false);
  });

  it('never throws on a length mismatch (timingSafeEqual would)', () => {
    expect(() => constantTimeEqual(Buffer.alloc(31), Buffer.alloc(32))).not.toThrow();
    expect(() => crypto.timingSafeEqual(Buffer.alloc(31), Buffer.alloc(32))).toThrow();
  });
});

describe('malformed stored hashes', () => {
  const secret = 'anything';
  const good = hashSecretNow(secret);
  const [, salt, mac] = good.split('$') as [string, string, string];
  const malformed = [
    '',
    'plain-text-secret',
    'hmac-sha256',
    'hmac-sha256$$',
    `hmac-sha256$${salt}`,
    `hmac-sha256$${salt}$${mac}$extra`,
    `hmac-sha256$${salt}$${mac.slice(0, 20)}`, // short mac
    `hmac-sha256$${salt}$${mac}AAAA`, // long mac
    `hmac-sha256$${salt}$${mac.slice(0, -1)}!`, // not base64url
    `hmac-sha256$AA$${mac}`, // salt too short
    `HMAC-SHA256$${salt}$${mac}`,
    'scrypt$16384$8$1$c2FsdA',
    'scrypt$16384$8$1$$',
    'scrypt$abc$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5',
    'scrypt$16383$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5', // N not a power of two
    'scrypt$1$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5',
    'scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5', // 1 TiB of memory
    'scrypt$16384$8$99$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5',
    'scrypt$-16384$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5',
    'bcrypt$2b$10$abcdefghijklmnopqrstuv',
  ];

  it.each(malformed)('%j: no scheme, never verifies, never throws', async (stored) => {
    expect(hashScheme(stored)).toBeNull();
    expect(needsRehash(stored)).toBe(false);
    expect(verifyFastSecret(secret, stored)).toBe(false);
    await expect(verifyLegacySecret(secret, stored)).resolves.toBe(false);
    await expect(verifySecret(secret, stored)).resolves.toBe(false);
  });

  it('does not verify a non-string (a NULL column) either', async () => {
    await expect(verifySecret(secret, null as unknown as string)).resolves.toBe(false);
    expect(hashScheme(undefined as unknown as string)).toBeNull();
  });
});

describe('the registry re-hashes a legacy hash on the next successful login', () => {
  let dir: string | undefined;
  let state: StateDb | undefined;
  afterEach(async () => {
    await state?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    state = dir = undefined;
  });

  async function registryWithLegacyDevice() {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-credentials-'));
    state = await openStateDb(dir, [registryTables]);
    const registry = new DeviceRegistry(state);
    const reg = await registry.register({ id: 'pv-legacy', kind: 'pv_inverter', site: 'kh-old', sector: 'industry' });
    const legacy = await hashSecretLegacyScrypt(reg.secret);
    const db = state as unknown as Kysely<{ devices: { id: string; secret_hash: string } }>;
    await db.updateTable('devices').set({ secret_hash: legacy }).where('id', '=', 'pv-legacy').execute();
    const stored = async () => (await db.selectFrom('devices').select('secret_hash').where('id', '=', 'pv-legacy').executeTakeFirstOrThrow()).secret_hash;
    return { registry: new DeviceRegistry(state), secret: reg.secret, legacy, stored };
  }

  it('registers new devices with the current form', async () => {
    const { registry } = await registryWithLegacyDevice();
    const viewer = await registry.register({ role: 'viewer' });
    const found = await registry.credentials(viewer.id);
    expect(hashScheme(found!.hash)).toBe('hmac-sha256');
    expect(verifyFastSecret(viewer.secret, found!.hash)).toBe(true);
  });

  it('a wrong secret leaves the legacy hash; the right one replaces it by hmac-sha256 of the same secret', async () => {
    const { registry, secret, legacy, stored } = await registryWithLegacyDevice();
    expect(await registry.authenticate('pv-legacy', 'wrong')).toBeNull();
    expect(await stored()).toBe(legacy);
    expect((await registry.authenticate('pv-legacy', secret))?.id).toBe('pv-legacy');
    const now = await stored();
    expect(hashScheme(now)).toBe('hmac-sha256');
    expect(verifyFastSecret(secret, now)).toBe(true);
    expect((await registry.credentials('pv-legacy'))?.hash).toBe(now); // the cache follows
    expect((await registry.authenticate('pv-legacy', secret))?.id).toBe('pv-legacy');
  });

  it('upgradeHash writes only over the hash it was given (a secret rotated meanwhile wins)', async () => {
    const { registry, secret, legacy, stored } = await registryWithLegacyDevice();
    const rotated = await registry.rotateSecret('pv-legacy');
    expect(await registry.upgradeHash('pv-legacy', legacy, hashSecretNow(secret))).toBe(false);
    expect(verifyFastSecret(rotated, await stored())).toBe(true);
    expect(await registry.authenticate('pv-legacy', secret)).toBeNull();
  });
});
