import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Quarantine } from '../../ingest/quarantine.js';
import { openHarness, type AccountsHarness } from '../helpers/accounts.js';

/** The quarantine is bounded per device: one device sending garbage cannot fill the disk; what was dropped is counted. */

let h: AccountsHarness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

const entry = (device: string | null, n: number) => ({ device, topic: `netzero/v1/s/${device ?? 'x'}/telemetry`, receivedAt: new Date(), errors: [{ field: 'payload', reason: `bad ${n}` }], raw: `{"n":${n}}` });

describe('Quarantine', () => {
  it('keeps the newest entries per device, drops the oldest and counts them; other devices keep theirs', async () => {
    const q = new Quarantine(h.state, 5);
    for (let n = 1; n <= 8; n++) await q.add(entry('noisy', n));
    for (let n = 1; n <= 3; n++) await q.add(entry('quiet', n));
    const noisy = await q.list({ device: 'noisy', limit: 100 });
    expect(noisy.map((e) => e.raw)).toEqual(['{"n":8}', '{"n":7}', '{"n":6}', '{"n":5}', '{"n":4}']);
    expect(await q.dropped('noisy')).toBe(3);
    expect((await q.list({ device: 'quiet', limit: 100 })).length).toBe(3);
    expect(await q.dropped('quiet')).toBe(0);
  });

  it('bounds messages of no registered device the same way', async () => {
    const q = new Quarantine(h.state, 2);
    for (let n = 1; n <= 4; n++) await q.add(entry(null, n));
    expect((await q.list({ limit: 100 })).filter((e) => e.device === null).map((e) => e.raw)).toEqual(['{"n":4}', '{"n":3}']);
    expect(await q.dropped(null)).toBe(2);
  });
});
