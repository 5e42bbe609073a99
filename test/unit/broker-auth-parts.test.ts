import { describe, expect, it, vi } from 'vitest';
import { addressKey } from '../../broker/addresses.js';
import { AttemptLimiter } from '../../broker/limits.js';
import { ThrottledLog } from '../../broker/throttled-log.js';
import { BoundedWorkQueue } from '../../broker/work-queue.js';

/** The broker's login machinery piece by piece: attempt limits, the bounded check queue, the throttled log, address keys. */

describe('AttemptLimiter', () => {
  const make = () => {
    let now = 1_000_000;
    const limiter = new AttemptLimiter({ allowed: 3, windowMs: 60_000, blockMs: 30_000, now: () => now });
    return { limiter, advance: (ms: number) => (now += ms) };
  };

  it('counts attempts before the check: parallel attempts cannot all pass the gate', () => {
    const { limiter } = make();
    const granted = Array.from({ length: 100 }, () => limiter.tryAcquire('dev'));
    expect(granted.filter(Boolean)).toHaveLength(3);
    expect(limiter.exhausted('dev')).toBe(true);
  });

  it('gives successes back, keeps failures, and blocks at the limit for blockMs', () => {
    const { limiter, advance } = make();
    for (let i = 0; i < 5; i++) {
      expect(limiter.tryAcquire('dev')).toBe(true);
      limiter.succeeded('dev');
    }
    expect(limiter.tryAcquire('dev')).toBe(true);
    limiter.failed('dev');
    expect(limiter.tryAcquire('dev')).toBe(true);
    limiter.released('dev'); // no check happened
    expect(limiter.tryAcquire('dev')).toBe(true);
    limiter.failed('dev');
    expect(limiter.tryAcquire('dev')).toBe(true);
    limiter.failed('dev');
    expect(limiter.tryAcquire('dev')).toBe(false);
    expect(limiter.retryInMs('dev')).toBe(30_000);
    advance(29_999);
    expect(limiter.tryAcquire('dev')).toBe(false);
    // the window (60 s from the first failure) is over once the block is
    advance(30_001);
    expect(limiter.tryAcquire('dev')).toBe(true);
  });

  it('keeps keys apart', () => {
    const { limiter } = make();
    for (let i = 0; i < 3; i++) limiter.recordFailure('10.0.0.1');
    expect(limiter.exhausted('10.0.0.1')).toBe(true);
    expect(limiter.exhausted('10.0.0.2')).toBe(false);
  });

  it('forgets failures after the window, and sweeps idle keys', () => {
    const { limiter, advance } = make();
    limiter.recordFailure('a');
    limiter.recordFailure('a');
    expect(limiter.tryAcquire('b')).toBe(true);
    advance(60_000);
    limiter.sweep();
    expect(limiter.size).toBe(1); // 'b' still has an attempt in flight
    limiter.succeeded('b');
    limiter.sweep();
    expect(limiter.size).toBe(0);
    expect(limiter.tryAcquire('a')).toBe(true);
  });
});

describe('BoundedWorkQueue', () => {
  const deferred = () => {
    let resolve!: (v: boolean) => void;
    const promise = new Promise<boolean>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('runs at most `concurrency` at once, queues at most `maxQueued`, and refuses beyond (overloaded)', async () => {
    const q = new BoundedWorkQueue({ concurrency: 1, maxQueued: 2 });
    const first = deferred();
    const ran: number[] = [];
    const outcomes = [0, 1, 2, 3].map((i) => q.run(() => (ran.push(i), i === 0 ? first.promise : Promise.resolve(true)), () => false));
    expect(await outcomes[3]).toEqual({ status: 'overloaded' });
    await Promise.resolve();
    expect(ran).toEqual([0]);
    expect(q.depth).toBe(2);
    first.resolve(true);
    expect(await Promise.all(outcomes.slice(0, 3))).toEqual([0, 1, 2].map(() => ({ status: 'done', value: true })));
    expect(ran).toEqual([0, 1, 2]);
  });

  it('drops a job whose caller left before its turn, without running it, and makes room by dropping such jobs', async () => {
    const q = new BoundedWorkQueue({ concurrency: 1, maxQueued: 1 });
    const first = deferred();
    let left = false;
    const work = vi.fn(async () => true);
    const running = q.run(() => first.promise, () => false);
    const queued = q.run(work, () => left);
    left = true;
    // the queue is full of an abandoned job: it is dropped to make room for a live one
    const live = q.run(work, () => false);
    expect(await queued).toEqual({ status: 'dropped' });
    first.resolve(true);
    expect(await running).toEqual({ status: 'done', value: true });
    expect(await live).toEqual({ status: 'done', value: true });
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('stop() cancels what waits, waits for what runs, and refuses what comes after', async () => {
    const q = new BoundedWorkQueue({ concurrency: 1, maxQueued: 10 });
    const first = deferred();
    const work = vi.fn(async () => true);
    const running = q.run(() => first.promise, () => false);
    const waiting = [1, 2, 3].map(() => q.run(work, () => false));
    let stopped = false;
    const stopping = q.stop().then((n) => ((stopped = true), n));
    expect(await Promise.all(waiting)).toEqual([1, 2, 3].map(() => ({ status: 'cancelled' })));
    await new Promise((r) => setTimeout(r, 10));
    expect(stopped).toBe(false); // the running job is awaited
    first.resolve(false);
    expect(await stopping).toBe(3);
    expect(await running).toEqual({ status: 'done', value: false });
    expect(await q.run(work, () => false)).toEqual({ status: 'cancelled' });
    expect(work).not.toHaveBeenCalled();
  });

  it('reports a failing job as failed and goes on', async () => {
    const q = new BoundedWorkQueue({ concurrency: 1, maxQueued: 10 });
    const a = q.run(async () => {
      throw new Error('boom');
    }, () => false);
    const b = q.run(async () => 7, () => false);
    expect(await a).toMatchObject({ status: 'failed', error: expect.objectContaining({ message: 'boom' }) });
    expect(await b).toEqual({ status: 'done', value: 7 });
  });
});

describe('ThrottledLog', () => {
  it('logs up to perWindow lines per kind, then one summary per window with the count left out', () => {
    const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
    const logger = Object.fromEntries(
      ['info', 'warn', 'error'].map((level) => [level, (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg })]),
    );
    const log = new ThrottledLog(logger as never, { perWindow: 2, windowMs: 60_000 });
    for (let i = 0; i < 300; i++) log.note('login:bad_credentials', 'info', { address: '10.0.0.1', i }, 'mqtt login refused: wrong secret');
    log.note('login:rate_limited', 'warn', { address: '10.0.0.1' }, 'mqtt login refused: too many');
    expect(lines).toHaveLength(3);
    log.flush();
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ level: 'info', fields: { kind: 'login:bad_credentials', suppressed: 298 } });
    expect(lines[3]!.msg).toMatch(/298 more/);
    expect((lines[3]!.fields.examples as unknown[]).length).toBeLessThanOrEqual(3);
    // a new window logs again
    log.note('login:bad_credentials', 'info', {}, 'mqtt login refused: wrong secret');
    expect(lines).toHaveLength(5);
    log.flush();
  });
});

describe('addressKey', () => {
  it('keys IPv4 (also IPv4-mapped) as is and IPv6 by its /64', () => {
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('unknown')).toBe('unknown');
  });
});
