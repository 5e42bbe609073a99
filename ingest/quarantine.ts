import type { Generated, Kysely } from 'kysely';
import type { FieldError } from '../devices/payload.js';
import { topicFor } from '../devices/topics.js';
import type { StateDb, TableSet } from '../lib/state-db.js';
import type { StoredReading } from './reading.js';

export interface QuarantineTable {
  id: Generated<number>;
  device_id: string | null;
  topic: string;
  received_at: string; // ISO
  errors: string; // JSON [{field, reason}]
  raw: string;
}

export interface QuarantineDroppedTable {
  /** '' for messages of no registered device */
  device_id: string;
  dropped: number;
}

interface Tables {
  quarantine: QuarantineTable;
  quarantine_dropped: QuarantineDroppedTable;
}

/** Entries kept per device (and for messages of no registered device): the oldest go first, and are counted. */
export const QUARANTINE_KEEP_PER_DEVICE = 1000;

/** The quarantine's table in the state database. `ifNotExists`: data dirs from before each room kept its own migrations already have it. */
export const quarantineTables: TableSet = {
  owner: 'quarantine',
  migrations: {
    '0001_quarantine': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('quarantine')
          .ifNotExists()
          .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
          .addColumn('device_id', 'text')
          .addColumn('topic', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('errors', 'text', (c) => c.notNull())
          .addColumn('raw', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('quarantine_device').ifNotExists().on('quarantine').columns(['device_id', 'id']).execute();
      },
    },
    '0002_dropped_counts': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('quarantine_dropped')
          .addColumn('device_id', 'text', (c) => c.primaryKey())
          .addColumn('dropped', 'integer', (c) => c.notNull())
          .execute();
      },
    },
  },
};

export interface QuarantineEntry {
  id: number;
  device: string | null;
  topic: string;
  receivedAt: string;
  errors: FieldError[];
  raw: string;
}

/**
 * Rejected messages, kept with their reasons and raw payload (relational state, via Kysely). Bounded:
 * each device keeps its newest `keepPerDevice` entries; older ones are deleted and counted (`dropped`),
 * so one device sending garbage cannot fill the disk.
 */
export class Quarantine {
  private readonly db: Kysely<Tables>;

  constructor(
    state: StateDb,
    private readonly keepPerDevice = QUARANTINE_KEEP_PER_DEVICE,
  ) {
    this.db = state;
  }

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
    const id = Number(r.insertId);
    await this.prune(entry.device);
    return id;
  }

  /** Deletes a device's entries beyond the newest `keepPerDevice` and adds them to its dropped count. */
  private async prune(device: string | null): Promise<void> {
    const oldestKept = await this.db
      .selectFrom('quarantine')
      .select('id')
      .where('device_id', device === null ? 'is' : '=', device)
      .orderBy('id', 'desc')
      .offset(this.keepPerDevice - 1)
      .limit(1)
      .executeTakeFirst();
    if (!oldestKept) return;
    const r = await this.db
      .deleteFrom('quarantine')
      .where('device_id', device === null ? 'is' : '=', device)
      .where('id', '<', oldestKept.id)
      .executeTakeFirst();
    const n = Number(r.numDeletedRows);
    if (n === 0) return;
    await this.db
      .insertInto('quarantine_dropped')
      .values({ device_id: device ?? '', dropped: n })
      .onConflict((oc) => oc.column('device_id').doUpdateSet((eb) => ({ dropped: eb('quarantine_dropped.dropped', '+', n) })))
      .execute();
  }

  /** How many of a device's entries were deleted to keep the quarantine bounded (`null`: messages of no registered device). */
  async dropped(device: string | null): Promise<number> {
    const r = await this.db.selectFrom('quarantine_dropped').select('dropped').where('device_id', '=', device ?? '').executeTakeFirst();
    return Number(r?.dropped ?? 0);
  }

  /** Readings the store refused after ingest had accepted them (a remote store's 4xx): kept with the store's reason. */
  async addStoreRejections(readings: readonly StoredReading[], reason: string): Promise<void> {
    for (const r of readings) {
      await this.add({
        device: r.device,
        topic: topicFor(r.site, r.device, 'telemetry'),
        receivedAt: new Date(r.receivedAt),
        errors: [{ field: 'store', reason }],
        raw: JSON.stringify({ ts: new Date(r.ts).toISOString(), seq: r.seq, ...r.fields, ...r.extras }),
      });
    }
  }

  /** Newest first; `devices`: only these devices' entries (an operator's), none when empty. */
  async list(opts: { device?: string; devices?: readonly string[]; limit: number; beforeId?: number }): Promise<QuarantineEntry[]> {
    if (opts.devices && opts.devices.length === 0) return [];
    let q = this.db.selectFrom('quarantine').selectAll().orderBy('id', 'desc').limit(opts.limit);
    if (opts.device) q = q.where('device_id', '=', opts.device);
    if (opts.devices) q = q.where('device_id', 'in', [...opts.devices]);
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
