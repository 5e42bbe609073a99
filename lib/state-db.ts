import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, sql, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import { openPrivateFile } from './private-file.js';
import type { Room } from './rooms.js';

/**
 * The relational state database: `<data dir>/state.sqlite` (WAL) behind Kysely, so the same queries
 * can run on PostgreSQL when several nodes share one database. It only opens the database and runs the
 * migrations it is handed: each room declares its own tables (`TableSet`) and keeps its own migration
 * history, so a room can add a table without touching another room's.
 */

/**
 * The handle every room receives. Each room reads it through its own typed view
 * (`Kysely<ItsTables>`), so no module has to know every room's tables.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the union of all rooms' tables is known to no one module on purpose
export type StateDb = Kysely<any>;

/** The tables of one room: its name (which keeps its migration history apart) and its migrations, applied in name order. */
export interface TableSet {
  owner: string;
  migrations: Record<string, Migration>;
}

class Inline implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations() {
    return this.migrations;
  }
}

/** Brings one room's tables up to date; throws naming the room and the migration that failed. */
export async function migrate(db: StateDb, set: TableSet): Promise<void> {
  const { error, results } = await new Migrator({
    db,
    provider: new Inline(set.migrations),
    migrationTableName: `migrations_${set.owner}`,
    migrationLockTableName: `migrations_${set.owner}_lock`,
  }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`state database migration of ${set.owner} failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`);
  }
}

/**
 * The state database of `dataDir` (`state.sqlite`), not opened yet: the file is opened by the first
 * query, so constructing this does no I/O.
 */
export function createStateDb(dataDir: string): StateDb {
  const database = async () => {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, 'state.sqlite');
    openPrivateFile(file);
    const sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    return sqlite;
  };
  return new Kysely({ dialect: new SqliteDialect({ database }) });
}

/** Opens (creating if needed) the state database in `dataDir` and brings each room's tables up to date. */
export async function openStateDb(dataDir: string, tables: readonly TableSet[]): Promise<StateDb> {
  const db = createStateDb(dataDir);
  try {
    for (const set of tables) await migrate(db, set);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

/** The state database as a room: its tables are brought up to date at start, and it closes last. */
export class StateRoom implements Room {
  readonly name = 'state';
  readonly db: StateDb;

  constructor(
    dataDir: string,
    private readonly tables: readonly TableSet[],
  ) {
    this.db = createStateDb(dataDir);
  }

  async start(): Promise<void> {
    for (const set of this.tables) await migrate(this.db, set);
  }

  async stop(): Promise<void> {
    await this.db.destroy();
  }
}

/**
 * Runs `work` as one write transaction that holds the database's write lock from its first statement,
 * so a read-then-write sequence (read the latest revision, insert the next) cannot interleave with the
 * same sequence in another process. SQLite: `BEGIN IMMEDIATE` (another process waits up to the busy
 * timeout). Keep `work` short: it blocks every other writer of the state database.
 */
export async function exclusiveTransaction<T>(db: StateDb, work: (tx: StateDb) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
