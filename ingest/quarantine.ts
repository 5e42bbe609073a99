import type { StateDb } from '../store/state-db.js';
import type { FieldError } from '../devices/payload.js';

export interface QuarantineEntry {
  id: number;
  device: string | null;
  topic: string;
  receivedAt: string;
  errors: FieldError[];
  raw: string;
}

/** Rejected messages, kept with their reasons and raw payload (relational state, via Kysely). */
export class Quarantine {
  constructor(private readonly db: StateDb) {}

  async add(entry: { device: string | null; topic: string; receivedAt: Date; errors: FieldError[]; raw: string }): Promise<number> {
    const r = await this.db
      .insertInto('quarantine')
      .values({
        device_id: entry.device,
        topic: entry.topic,
        received_at: entry.receivedAt.toISOString(),
        errors: JSON.stringify(entry.errors),
        raw: entry.raw,
      })
      .executeTakeFirstOrThrow();
    return Number(r.insertId);
  }

  async list(opts: { device?: string; limit: number; beforeId?: number }): Promise<QuarantineEntry[]> {
    let q = this.db.selectFrom('quarantine').selectAll().orderBy('id', 'desc').limit(opts.limit);
    if (opts.device) q = q.where('device_id', '=', opts.device);
    if (opts.beforeId !== undefined) q = q.where('id', '<', opts.beforeId);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: r.id,
      device: r.device_id,
      topic: r.topic,
      receivedAt: r.received_at,
      errors: JSON.parse(r.errors) as FieldError[],
      raw: r.raw,
    }));
  }
}
