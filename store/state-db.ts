import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Generated, type Migration, type MigrationProvider } from 'kysely';

/**
 * Relational state (device registry, quarantine; later factors, rollups) behind Kysely, so the same
 * queries run on PostgreSQL when several nodes share one database. The embedded default is SQLite
 * (`<data dir>/state.sqlite`, WAL).
 */

export interface DevicesTable {
  id: string;
  role: 'device' | 'viewer';
  kind: string | null;
  site: string;
  sector: string | null;
  measure: string | null;
  name: string | null;
  params: string; // JSON
  secret_hash: string;
  demo: number; // 1 for the built-in demo fleet
  created_at: string; // ISO
}

export interface QuarantineTable {
  id: Generated<number>;
  device_id: string | null;
  topic: string;
  received_at: string; // ISO
  errors: string; // JSON [{field, reason}]
  raw: string;
}

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

export interface RollupRevisionsTable {
  month: string; // YYYY-MM in NETZERO_TZ
  revision: number;
  computed_at: string;
  trigger: string; // scheduled | manual | late_readings | factor_added
  changes: string; // JSON: what differs from the previous revision
}

export interface RollupRowsTable {
  month: string;
  revision: number;
  device: string;
  kind: string;
  site: string;
  sector: string;
  measure: string | null;
  stream: string | null;
  row: string; // JSON LedgerRow
}

export interface StateSchema {
  devices: DevicesTable;
  quarantine: QuarantineTable;
  factor_versions: FactorVersionsTable;
  rollup_revisions: RollupRevisionsTable;
  rollup_rows: RollupRowsTable;
}

export type StateDb = Kysely<StateSchema>;

const migrations: Record<string, Migration> = {
  '0001_devices_and_quarantine': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('kind', 'text')
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('sector', 'text')
        .addColumn('measure', 'text')
        .addColumn('name', 'text')
        .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('demo', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('quarantine')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('device_id', 'text')
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('errors', 'text', (c) => c.notNull())
        .addColumn('raw', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('quarantine_device').on('quarantine').columns(['device_id', 'id']).execute();
    },
  },
  '0002_factor_versions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('factor_versions')
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
      await db.schema.createIndex('factor_versions_name').on('factor_versions').columns(['name', 'variant', 'data_year']).execute();
    },
  },
  '0003_monthly_rollups': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('rollup_revisions')
        .addColumn('month', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('computed_at', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('changes', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollup_revisions_pk', ['month', 'revision'])
        .execute();
      await db.schema
        .createTable('rollup_rows')
        .addColumn('month', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('device', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('sector', 'text', (c) => c.notNull())
        .addColumn('measure', 'text')
        .addColumn('stream', 'text')
        .addColumn('row', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollup_rows_pk', ['month', 'revision', 'device'])
        .execute();
    },
  },
};

class InlineMigrations implements MigrationProvider {
  async getMigrations() {
    return migrations;
  }
}

/** Open (creating if needed) the state database in `dataDir` and bring its schema up to date. */
export async function openStateDb(dataDir: string): Promise<StateDb> {
  fs.mkdirSync(dataDir, { recursive: true });
  const sqlite = new Database(path.join(dataDir, 'state.sqlite'));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<StateSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({ db, provider: new InlineMigrations() }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`state database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`);
  }
  return db;
}
