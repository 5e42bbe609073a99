import fs from 'node:fs';

/**
 * Whether a store's writes are going through: the last write's fault (cleared by the next one that
 * succeeds) and the free space where it writes. `/healthz` reports the store down while writes fail,
 * naming the cause, and up again as soon as one succeeds (space returned): no restart needed.
 */
export class WriteHealth {
  private fault?: { at: number; message: string };

  constructor(private readonly dir: string) {}

  /** Runs a write, noting its fault or its success. */
  async track<T>(write: () => T | Promise<T>): Promise<T> {
    try {
      const result = await write();
      this.fault = undefined;
      return result;
    } catch (err) {
      this.fault = { at: Date.now(), message: describe(err) };
      throw err;
    }
  }

  get ok(): boolean {
    return this.fault === undefined;
  }

  details(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.fault) out.store_error = { since: new Date(this.fault.at).toISOString(), reason: this.fault.message };
    try {
      const s = fs.statfsSync(this.dir);
      out.disk_free_bytes = s.bavail * s.bsize;
    } catch {
      // the directory may not exist yet
    }
    return out;
  }
}

/** An error as an operator reads it: the code first (`SQLITE_FULL`, `ENOSPC`), then the message. */
export function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}
