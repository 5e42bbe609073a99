import { describe, expect, it } from 'vitest';
import { SharedResults } from '../../app/http/shared-results.js';

describe('SharedResults: one computation for identical requests', () => {
  it('computes once for callers of the same key while it runs and within the ttl, again after it', async () => {
    let clock = 1_000;
    let computed = 0;
    const shared = new SharedResults<number>({ ttlMs: 2_000, maxEntries: 10, now: () => clock });
    const work = () => new Promise<number>((resolve) => setTimeout(() => resolve(++computed), 5));
    const answers = await Promise.all([shared.get('a', work), shared.get('a', work), shared.get('a', work)]);
    expect(answers).toEqual([1, 1, 1]);
    clock += 1_999;
    expect(await shared.get('a', work)).toBe(1);
    expect(await shared.get('b', work)).toBe(2); // another key: its own computation
    clock += 1;
    expect(await shared.get('a', work)).toBe(3); // the ttl ran out
    expect(computed).toBe(3);
  });

  it('keeps no failure: the next caller computes again', async () => {
    const shared = new SharedResults<string>({ ttlMs: 60_000, maxEntries: 10 });
    await expect(shared.get('k', () => Promise.reject(new Error('store busy')))).rejects.toThrow('store busy');
    expect(await shared.get('k', () => Promise.resolve('fine'))).toBe('fine');
  });

  it('holds at most maxEntries keys, dropping the oldest', async () => {
    let computed = 0;
    const shared = new SharedResults<number>({ ttlMs: 60_000, maxEntries: 2 });
    const work = () => Promise.resolve(++computed);
    await shared.get('a', work);
    await shared.get('b', work);
    await shared.get('c', work); // 'a' dropped
    expect(await shared.get('b', work)).toBe(2);
    expect(await shared.get('a', work)).toBe(4);
  });

  it('with staleMs: an expired result is answered at once while one new computation runs, and its result is answered next', async () => {
    let clock = 0;
    let computed = 0;
    const gates: Array<() => void> = [];
    const work = () => new Promise<number>((resolve) => gates.push(() => resolve(++computed)));
    const shared = new SharedResults<number>({ ttlMs: 2_000, staleMs: 30_000, maxEntries: 10, now: () => clock });
    const first = shared.get('m', work);
    gates.shift()!();
    expect(await first).toBe(1);
    clock = 5_000; // expired, not too old: the old figure now, one computation behind it
    expect(await shared.get('m', work)).toBe(1);
    expect(await shared.get('m', work)).toBe(1);
    expect(gates).toHaveLength(1);
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 0));
    expect(await shared.get('m', work)).toBe(2); // started at 5,000: fresh until 7,000
    expect(await shared.getWithTime('m', work)).toEqual({ value: 2, at: 5_000 });
    clock = 40_000; // older than staleMs: computed again while the askers wait
    const waited = shared.get('m', work);
    expect(gates).toHaveLength(1);
    gates.shift()!();
    expect(await waited).toBe(3);
  });

  it('with staleMs: a failed computation behind it leaves the old result in place', async () => {
    let clock = 0;
    const shared = new SharedResults<string>({ ttlMs: 1_000, staleMs: 10_000, maxEntries: 10, now: () => clock });
    expect(await shared.get('k', () => Promise.resolve('old'))).toBe('old');
    clock = 2_000;
    expect(await shared.get('k', () => Promise.reject(new Error('over budget')))).toBe('old');
    await new Promise((r) => setTimeout(r, 0));
    expect(await shared.get('k', () => Promise.resolve('new'))).toBe('old'); // a new computation starts behind it
    await new Promise((r) => setTimeout(r, 0));
    expect(await shared.get('k', () => Promise.resolve('newer'))).toBe('new');
  });

  it('with freshSince: nothing computed before it is answered; one computation runs per key and one waits behind it', async () => {
    let clock = 0;
    let pushedAt = 0;
    let computed = 0;
    const gates: Array<() => void> = [];
    const work = () => new Promise<number>((resolve) => gates.push(() => resolve(++computed)));
    const shared = new SharedResults<number>({ ttlMs: 2_000, maxEntries: 10, freshSince: () => pushedAt, now: () => clock });
    const flush = () => new Promise((r) => setTimeout(r, 0));

    const first = shared.get('t', work); // computation 1 starts at 0
    clock = 500;
    pushedAt = 400; // a change is announced while 1 runs
    const afterPush = [shared.get('t', work), shared.get('t', work)];
    clock = 600;
    pushedAt = 550; // and another: the one waiting has not started, so it will see both
    afterPush.push(shared.get('t', work));
    expect(gates).toHaveLength(1); // still only computation 1
    gates.shift()!();
    expect(await first).toBe(1);
    await flush();
    expect(gates).toHaveLength(1); // computation 2 started once 1 ended
    gates.shift()!();
    expect(await Promise.all(afterPush)).toEqual([2, 2, 2]);
    expect(await shared.get('t', work)).toBe(2); // started at 600, after the last push, within the ttl
    expect(gates).toHaveLength(0);
    pushedAt = 700; // a push after it finished: computed again
    const again = shared.get('t', work);
    expect(gates).toHaveLength(1);
    gates.shift()!();
    expect(await again).toBe(3);
  });

  it('with freshSince: a failed computation does not stop the one behind it', async () => {
    let pushedAt = 0;
    let clock = 0;
    let fail: (e: Error) => void = () => undefined;
    const shared = new SharedResults<string>({ ttlMs: 2_000, maxEntries: 10, freshSince: () => pushedAt, now: () => clock });
    const first = shared.get('k', () => new Promise<string>((_, reject) => (fail = reject)));
    clock = 10;
    pushedAt = 5;
    const behind = shared.get('k', () => Promise.resolve('fresh'));
    fail(new Error('over budget'));
    await expect(first).rejects.toThrow('over budget');
    expect(await behind).toBe('fresh');
  });
});

