/**
 * One computation for many identical public requests: the first asker computes, everyone asking the
 * same key within `ttlMs` (or while it runs) gets that result. Every open office page reads the same
 * series again each time the live summary changes; without this, N pages cost N store scans a second
 * and crowd out each other's query budget. Failures are not kept. At most `maxEntries` keys are held.
 */
export class SharedResults<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(private readonly opts: { ttlMs: number; maxEntries: number; now?: () => number }) {}

  get(key: string, compute: () => Promise<T>): Promise<T> {
    const now = (this.opts.now ?? Date.now)();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.opts.ttlMs) return hit.value;
    for (const [k, e] of this.entries) if (now - e.at >= this.opts.ttlMs) this.entries.delete(k);
    if (this.entries.size >= this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const value = compute();
    const entry = { at: now, value };
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }
}
