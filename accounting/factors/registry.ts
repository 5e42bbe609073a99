import type { Kysely } from 'kysely';
import { exclusiveTransaction, type StateDb, type TableSet } from '../../lib/state-db.js';
import { BUILTIN_FACTORS } from './builtin.js';
import { FactorSet } from './factor-set.js';
import { factorId, newFactorSchema, type FactorName, type FactorStatus, type FactorVersion, type NewFactor } from './types.js';

export interface FactorVersionsTable {
  id: string;
  name: string;
  variant: string | null;
  version: number;
  value: number;
  unit: string;
  data_year: number | null;
  valid_from: string | null;
  valid_to: string | null;
  published_at: string | null;
  source: string;
  status: string;
  note: string | null;
  created_at: string;
}

interface Tables {
  factor_versions: FactorVersionsTable;
}

/** The factor registry's table in the state database. `ifNotExists`: data dirs from before each room kept its own migrations already have it. */
export const factorTables: TableSet = {
  owner: 'factors',
  migrations: {
    '0001_factor_versions': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('factor_versions')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('variant', 'text')
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('value', 'double precision', (c) => c.notNull())
          .addColumn('unit', 'text', (c) => c.notNull())
          .addColumn('data_year', 'integer')
          .addColumn('valid_from', 'text')
          .addColumn('valid_to', 'text')
          .addColumn('published_at', 'text')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('note', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('factor_versions_name').ifNotExists().on('factor_versions').columns(['name', 'variant', 'data_year']).execute();
      },
    },
  },
};

type Row = Awaited<ReturnType<FactorRegistry['rows']>>[number];

function toRow(f: ReturnType<typeof newFactorSchema.parse>, version: number): FactorVersionsTable {
  return {
    id: factorId(f, version),
    name: f.name,
    variant: f.variant ?? null,
    version,
    value: f.value,
    unit: f.unit,
    data_year: f.data_year ?? null,
    valid_from: f.valid_from ?? null,
    valid_to: f.valid_to ?? null,
    published_at: f.published_at ?? null,
    source: f.source,
    status: f.status,
    note: f.note ?? null,
    created_at: new Date().toISOString(),
  };
}

function toVersion(r: Row): FactorVersion {
  return {
    id: r.id,
    name: r.name as FactorName,
    variant: r.variant,
    version: r.version,
    value: Number(r.value),
    unit: r.unit,
    dataYear: r.data_year,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    publishedAt: r.published_at,
    source: r.source,
    status: r.status as FactorStatus,
    note: r.note,
    createdAt: r.created_at,
  };
}

/**
 * The versioned factor registry (relational state). Versions are only ever added, so the number of
 * versions stamps the registry's state: every snapshot checks it, and a version another process added
 * (`netzero factors add` beside the service) is seen by the next computation, without a restart.
 */
export class FactorRegistry {
  private cached?: { set: FactorSet; stamp: number };
  private readonly db: Kysely<Tables>;

  constructor(state: StateDb) {
    this.db = state;
  }

  private rows() {
    return this.db.selectFrom('factor_versions').selectAll().orderBy('name').orderBy('variant').orderBy('data_year').orderBy('version').execute();
  }

  /**
   * Writes the built-in versions that are missing (by id); never changes an existing one. Two processes
   * starting on one fresh data dir may both try: the second one's inserts are no-ops.
   */
  async ensureBuiltins(): Promise<number> {
    const existing = new Set((await this.db.selectFrom('factor_versions').select('id').execute()).map((r) => r.id));
    let added = 0;
    for (const f of BUILTIN_FACTORS) {
      const parsed = newFactorSchema.parse(f);
      if (existing.has(factorId(parsed, 1))) continue;
      const r = await this.db.insertInto('factor_versions').values(toRow(parsed, 1)).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) added++;
    }
    return added;
  }

  /**
   * Adds a version; its number is one more than the newest of the same (name, variant, data year). Read
   * and insert are one exclusive transaction, so two processes adding at once get two numbers.
   */
  async add(input: NewFactor): Promise<FactorVersion> {
    const f = newFactorSchema.parse(input);
    return exclusiveTransaction(this.db, async (tx: Kysely<Tables>) => {
      let q = tx.selectFrom('factor_versions').select((eb) => eb.fn.max('version').as('v')).where('name', '=', f.name);
      q = f.variant ? q.where('variant', '=', f.variant) : q.where('variant', 'is', null);
      q = f.data_year !== undefined ? q.where('data_year', '=', f.data_year) : q.where('data_year', 'is', null);
      const row = toRow(f, Number((await q.executeTakeFirst())?.v ?? 0) + 1);
      await tx.insertInto('factor_versions').values(row).execute();
      return toVersion(row);
    });
  }

  async list(): Promise<FactorVersion[]> {
    return (await this.rows()).map(toVersion);
  }

  /**
   * The registry's state: how many versions it holds (they are only ever added). `within` reads it
   * inside a transaction that holds the state database (see `exclusiveTransaction`).
   */
  async stamp(within?: StateDb): Promise<number> {
    const db: Kysely<Tables> = within ?? this.db;
    const r = await db.selectFrom('factor_versions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** A snapshot for computation, rebuilt whenever a version was added, by this process or another. */
  async snapshot(): Promise<FactorSet> {
    const stamp = await this.stamp();
    if (this.cached?.stamp !== stamp) this.cached = { set: new FactorSet(await this.list()), stamp };
    return this.cached.set;
  }
}
