import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Access } from '../../app/http/access.js';
import { SessionStore } from '../../app/http/sessions.js';
import { openServiceState } from '../../app/state.js';
import { OperatorStore, parseNewOperator } from '../../devices/operators.js';
import { DeviceRegistry } from '../../devices/registry.js';
import { DeviceActivity } from '../../ingest/device-activity.js';
import type { StateDb } from '../../lib/state-db.js';

/** The parts of operator logins on their own, with a fake clock: sessions, the login limits, bad input, the per-device counts. */

let db: StateDb;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-operators-'));
  db = await openServiceState(dir);
});
afterAll(async () => {
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('sessions', () => {
  it('a session lasts its ttl from the login, then is gone', () => {
    let now = 1_000_000;
    const s = new SessionStore({ ttlMs: 8 * 3_600_000, now: () => now });
    const { token, expiresAt } = s.create({ kind: 'operator', id: 'op-1' });
    expect(expiresAt).toBe(1_000_000 + 8 * 3_600_000);
    now += 8 * 3_600_000 - 1;
    expect(s.get(token)?.owner).toEqual({ kind: 'operator', id: 'op-1' });
    now += 1;
    expect(s.get(token)).toBeNull();
    expect(s.size).toBe(0);
  });

  it('is bounded: past the maximum the oldest goes; an operator removed ends its sessions', () => {
    const s = new SessionStore({ max: 3 });
    const tokens = [1, 2, 3, 4].map((i) => s.create({ kind: 'operator', id: `op-${i}` }).token);
    expect(s.size).toBe(3);
    expect(s.get(tokens[0]!)).toBeNull();
    s.endOwner('op-4');
    expect(s.get(tokens[3]!)).toBeNull();
    expect(s.get(tokens[1]!)).not.toBeNull();
  });
});

describe('operator logins', () => {
  it('refuses bad input by field', () => {
    const r = parseNewOperator({ name: '  ', sites: [], nickname: 'x' });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.errors.map((e) => e.field).sort()).toEqual(['name', 'nickname', 'sites']);
    const ok = parseNewOperator({ name: 'A', sites: ['s1', 's1', 's2'] });
    expect(ok.success && ok.data.sites).toEqual(['s1', 's2']);
  });

  it('limits failures per operator id and per address, counted before the check; the right secret still gets in', async () => {
    let now = 5_000_000;
    const operators = new OperatorStore(db);
    const { secret } = await operators.add({ id: 'op-lim', name: 'Limited', sites: ['s1'] });
    const access = new Access({ adminToken: 'admin-token-0123456789', operators, registry: new DeviceRegistry(db), now: () => now });
    try {
      const statuses = [];
      for (let i = 0; i < 11; i++) {
        const r = await access.checkOperator('op-lim', 'wrong', '10.0.0.1');
        statuses.push('status' in r ? r.status : 200);
      }
      expect(statuses).toEqual([...Array(10).fill(401), 429]);
      const blocked = await access.checkOperator('op-lim', 'wrong', '10.0.0.2');
      expect(blocked).toMatchObject({ status: 429, reason: expect.stringContaining('operator id') });
      expect('status' in blocked && blocked.retryAfterS).toBe(60);
      // the right secret gets in over both limits
      expect(await access.checkOperator('op-lim', secret, '10.0.0.1')).toMatchObject({ operator: { id: 'op-lim', sites: ['s1'] } });
      // a wrong admin token counts against the address like any failure
      expect(access.checkAdmin('nope', '10.0.0.1')).toMatchObject({ status: 429 });
      expect(access.checkAdmin('admin-token-0123456789', '10.0.0.1')).toEqual({ admin: true });
      // after the block and the window, failures count from zero again
      now += 61_000;
      expect(await access.checkOperator('op-lim', 'wrong', '10.0.0.3')).toMatchObject({ status: 401 });
    } finally {
      access.close();
    }
  });
});

describe('device activity', () => {
  it('counts per hour over the last 24 h and keeps the reading with the latest ts', () => {
    let now = Date.UTC(2026, 10, 22, 10, 0, 0);
    const a = new DeviceActivity(() => now);
    a.accepted('d1', 3, { ts: now - 60_000, seq: 7, values: { energy_kwh: 12 } });
    a.accepted('d1', 1, { ts: now - 3_600_000, seq: 6, values: { energy_kwh: 11 } }); // a late one: not the latest
    a.rejected('d1', 2);
    a.warned('d1', [{ counter: 'energy_kwh', quality: 'jump', t0: 'a', t1: 'b', amount: 0, reason: 'r' }]);
    let s = a.snapshot('d1');
    expect(s).toMatchObject({ accepted_24h: 4, rejected_24h: 2, warned_24h: 1 });
    expect(s.last_reading).toMatchObject({ seq: 7, values: { energy_kwh: 12 } });
    now += 23 * 3_600_000;
    a.accepted('d1', 5);
    expect(a.snapshot('d1').accepted_24h).toBe(9);
    now += 3_600_000; // the first hour has left the window
    s = a.snapshot('d1');
    expect(s).toMatchObject({ accepted_24h: 5, rejected_24h: 0, warned_24h: 0 });
    expect(a.warnings('d1')).toHaveLength(1);
    expect(a.snapshot('nobody')).toMatchObject({ accepted_24h: 0, last_seen: null, last_reading: null });
  });

  it('after a restart, the latest reading is read back once; one seen since is never replaced by an older stored one', () => {
    const now = Date.UTC(2026, 10, 22, 10, 0, 0);
    const a = new DeviceActivity(() => now);
    expect(a.needsLast('d1')).toBe(true);
    a.seedLast('d1', { ts: now - 7_200_000, seq: 4, receivedAt: now - 7_100_000, values: { import_kwh: 40 } });
    expect(a.needsLast('d1')).toBe(false);
    expect(a.snapshot('d1')).toMatchObject({ accepted_24h: 0, last_seen: null, last_reading: { seq: 4, values: { import_kwh: 40 } } });
    a.seedLast('d2', null); // the store has none: asked once, not again
    expect(a.needsLast('d2')).toBe(false);
    expect(a.snapshot('d2').last_reading).toBeNull();
    a.accepted('d3', 1, { ts: now - 60_000, seq: 9, values: { import_kwh: 90 } });
    expect(a.needsLast('d3')).toBe(false);
    a.seedLast('d3', { ts: now - 3_600_000, seq: 8, receivedAt: now - 3_500_000, values: { import_kwh: 80 } });
    expect(a.snapshot('d3').last_reading).toMatchObject({ seq: 9 });
  });
});
