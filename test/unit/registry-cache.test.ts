import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openServiceState } from '../../app/state.js';
import { DeviceRegistry } from '../../devices/registry.js';
import type { StateDb } from '../../lib/state-db.js';

/**
 * The registry's per-device cache on a real state database: ingest asks for the device once per message,
 * so a stale entry is answered at once and read again behind it (one read per device, however many
 * messages ask meanwhile) instead of a database query per message; a change made by another process is
 * seen once the entry is read again; a login (`credentials`) never gets a stale entry; the devices asked
 * for in one turn of the event loop (a reconnect storm's logins) are read with one query.
 */

let dir: string;
let db: StateDb | undefined;
let other: StateDb | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await db?.destroy();
  await other?.destroy();
  db = other = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the registry cache', () => {
  it('answers a stale entry at once, reads it again once behind it, and then has the change another process made', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-registry-cache-'));
    db = await openServiceState(dir);
    other = await openServiceState(dir);
    const registry = new DeviceRegistry(db);
    const reg = await registry.register({ id: 'sm-1', kind: 'smart_meter', site: 's', sector: 'industry' });
    const reads = vi.spyOn(registry as unknown as { readRows: (ids: string[]) => Promise<unknown> }, 'readRows');

    vi.useFakeTimers({ toFake: ['Date'] });
    expect((await registry.get('sm-1'))?.disabled).toBeNull();
    expect(reads).toHaveBeenCalledTimes(1);
    // another process (a CLI on the data dir) disables it
    await new DeviceRegistry(other).setDisabled('sm-1', { reason: 'meter removed', by: 'cli' });
    for (let i = 0; i < 50; i++) expect((await registry.get('sm-1'))?.disabled).toBeNull();
    expect(reads).toHaveBeenCalledTimes(1);

    vi.setSystemTime(Date.now() + 6_000);
    const asked = await Promise.all(Array.from({ length: 50 }, () => registry.get('sm-1')));
    expect(asked.every((d) => d?.disabled === null)).toBe(true);
    await vi.waitFor(() => expect(reads).toHaveBeenCalledTimes(2));
    await vi.waitFor(async () => expect((await registry.get('sm-1'))?.disabled?.reason).toBe('meter removed'));
    expect(reads).toHaveBeenCalledTimes(2);

    // a login is never answered from a stale entry: the secret rotated elsewhere is refused at once
    const secret = await new DeviceRegistry(other).rotateSecret('sm-1');
    vi.setSystemTime(Date.now() + 6_000);
    expect(await registry.authenticate('sm-1', reg.secret)).toBeNull();
    expect((await registry.authenticate('sm-1', secret))?.id).toBe('sm-1');
  });

  it('reads the devices asked for in one turn of the event loop with one query, unknown ids answered null', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-registry-cache-'));
    db = await openServiceState(dir);
    const registry = new DeviceRegistry(db);
    const regs = await registry.registerMany(Array.from({ length: 1200 }, (_, i) => ({ id: `sm-${i}`, kind: 'smart_meter' as const, site: 's', sector: 'industry' as const })));
    const fresh = new DeviceRegistry(db);
    const reads = vi.spyOn(fresh as unknown as { readRows: (ids: string[]) => Promise<unknown> }, 'readRows');
    const found = await Promise.all([...regs.map((r) => fresh.credentials(r.id)), fresh.credentials('nobody')]);
    expect(reads).toHaveBeenCalledTimes(3); // 1,201 ids, 500 a query
    expect(found.slice(0, 1200).every((f, i) => f?.device.id === `sm-${i}` && f.hash.startsWith('hmac-sha256$'))).toBe(true);
    expect(found[1200]).toBeNull();
    expect((await fresh.authenticate('sm-7', regs[7]!.secret))?.id).toBe('sm-7');
    expect(reads).toHaveBeenCalledTimes(3);
  });
});

describe('the registry\'s device list', () => {
  it('is read once while nothing changes, and again after a write through any registry on the connection or by another connection', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-registry-cache-'));
    db = await openServiceState(dir);
    other = await openServiceState(dir);
    const registry = new DeviceRegistry(db);
    await registry.register({ id: 'sm-1', kind: 'smart_meter', site: 's', sector: 'industry' });
    const reads = vi.spyOn(registry as unknown as { readList: () => Promise<unknown> }, 'readList');
    const ids = async () => (await registry.list()).map((d) => d.id);

    expect(await ids()).toEqual(['sm-1']);
    expect(await ids()).toEqual(['sm-1']);
    expect(reads).toHaveBeenCalledTimes(1);
    // a caller changing the array it got changes nothing kept
    (await registry.list()).pop();
    expect(await ids()).toEqual(['sm-1']);
    expect(reads).toHaveBeenCalledTimes(1);

    // through this registry, through another registry on the same connection, through another connection (a CLI)
    await registry.register({ id: 'sm-2', kind: 'smart_meter', site: 's', sector: 'industry' });
    expect(await ids()).toEqual(['sm-1', 'sm-2']);
    await new DeviceRegistry(db).setDisabled('sm-1', { reason: 'meter removed', by: 'office' });
    expect((await registry.list())[0]!.disabled?.reason).toBe('meter removed');
    await new DeviceRegistry(other).registerMany([{ id: 'sm-3', kind: 'smart_meter', site: 's', sector: 'industry' }]);
    expect(await ids()).toEqual(['sm-1', 'sm-2', 'sm-3']);
    expect(reads).toHaveBeenCalledTimes(4);
    expect(await ids()).toEqual(['sm-1', 'sm-2', 'sm-3']);
    expect(reads).toHaveBeenCalledTimes(4);
  });
});
