/**
 * One computation for many identical public requests: the first asker computes, everyone asking the
 * same key within `ttlMs` (or while it runs) gets that result. Every open office page reads the same
 * series again each time the live summary changes; without this, N pages cost N store scans a second
 * and crowd out each other's query budget. Failures are not kept. At most `maxEntries` keys are held.
 *
 * With `staleMs`, a result older than `ttlMs` but younger than `staleMs` is still answered at once while
 * one new computation runs behind it (which later askers then get): a figure that takes a second to
 * compute is never waited for by a steady stream of askers. Without it, an expired result is computed
 * again while the askers wait.
 *
 * With `freshSince`, a result whose computation started before that time is never answered (the office
 * view passes the last live push: a page reloading after it must see what it announced). An asker then
 * waits for a new computation; if the old one is still running, the new one starts when it ends, and every
 * asker meanwhile shares it: at most one computation runs per key, and one waits behind it.
 */
export class SharedResults<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly opts: { ttlMs: number; maxEntries: number; staleMs?: number; freshSince?: () => number; now?: () => number }) {}

  get(key: string, compute: () => Promise<T>): Promise<T> {
    return this.entry(key, compute).value;
  }

  /** `get`, with when the answer's computation started (an HTTP `Age` is the time since). */
  async getWithTime(key: string, compute: () => Promise<T>): Promise<{ value: T; at: number }> {
    const e = this.entry(key, compute);
    return { value: await e.value, at: e.at };
  }

  private entry(key: string, compute: () => Promise<T>): Entry<T> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.started && hit.at < (this.opts.freshSince?.() ?? -Infinity)) {
      return hit.done ? this.start(key, compute, now) : this.behind(key, hit, compute, now);
    }
    if (hit && now - hit.at < this.opts.ttlMs) return hit;
    if (hit && hit.done && now - hit.at < (this.opts.staleMs ?? 0)) {
      if (!hit.refreshing) this.refresh(key, hit, compute);
      return hit;
    }
    return this.start(key, compute, now);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private start(key: string, compute: () => Promise<T>, now: number): Entry<T> {
    const keep = Math.max(this.opts.ttlMs, this.opts.staleMs ?? 0);
    for (const [k, e] of this.entries) if (now - e.at >= keep && !e.refreshing) this.entries.delete(k);
    if (this.entries.size >= this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return this.keep(key, { at: now, value: compute(), done: false, refreshing: false, started: true });
  }

  /** A computation of `key` that starts when `running` ends (whatever its outcome); askers meanwhile share it. */
  private behind(key: string, running: Entry<T>, compute: () => Promise<T>, now: number): Entry<T> {
    const ended = running.value.then(
      () => undefined,
      () => undefined,
    );
    const entry: Entry<T> = {
      at: now,
      value: ended.then(() => {
        entry.at = this.now();
        entry.started = true;
        return compute();
      }),
      done: false,
      refreshing: false,
      started: false,
    };
    return this.keep(key, entry);
  }

  private keep(key: string, entry: Entry<T>): Entry<T> {
    this.entries.set(key, entry);
    entry.value.then(
      () => (entry.done = true),
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry;
  }

  /** Computes `hit`'s key again behind it; the new result replaces it when it comes, a failure leaves it. */
  private refresh(key: string, hit: Entry<T>, compute: () => Promise<T>): void {
    hit.refreshing = true;
    const at = this.now();
    const value = compute();
    value.then(
      () => {
        hit.refreshing = false;
        if (this.entries.get(key) === hit) this.entries.set(key, { at, value, done: true, refreshing: false, started: true });
      },
      () => {
        hit.refreshing = false;
      },
    );
  }
}

interface Entry<T> {
  /** when its computation started: the age of what it answers */
  at: number;
  value: Promise<T>;
  /** its computation succeeded */
  done: boolean;
  /** a new computation of its key runs behind it */
  refreshing: boolean;
  /** its computation has started (one queued behind a running one has not yet) */
  started: boolean;
}
