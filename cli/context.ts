import fs from 'node:fs';
import path from 'node:path';
import { openAccounts, type Accounts } from '../accounting/accounts.js';
import { MONTH_PATTERN } from '../accounting/periods.js';
import { ConfigError, loadConfig, type Config } from '../app/config.js';
import { DeviceRegistry } from '../devices/registry.js';
import { createLogger } from '../app/logger.js';
import { openReadingStore } from '../store/open-store.js';
import type { ReadingStore } from '../store/types.js';
import type { StateDb } from '../lib/state-db.js';
import { openServiceState } from '../app/state.js';

export interface CliContext {
  config: Config;
  state: StateDb;
  store: ReadingStore;
  registry: DeviceRegistry;
  accounts: Accounts;
  close: () => Promise<void>;
}

/**
 * An operator's mistake on the command line: one line per problem, each naming the flag (or setting)
 * and the reason. `command` turns it into `netzero <command>: <line>` on stderr and exit 2; it is thrown
 * before anything is written, so a usage error changes nothing.
 */
export class UsageError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('; '));
    this.name = 'UsageError';
  }
}

/** A usage error about one flag: `--kind: must be one of …`. */
export const usage = (flag: string, reason: string): UsageError => new UsageError([`${flag}: ${reason}`]);

/** A command's action: a UsageError becomes its lines on stderr and exit code 2; anything else is a failure (exit 1, in main.ts). */
export function command<A extends unknown[]>(name: string, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      for (const line of err.lines) process.stderr.write(`netzero ${name}: ${line}\n`);
      process.exitCode = 2;
    }
  };
}

/** The state database's file in a data dir: its presence is what makes a directory a netzero data dir. */
export const STATE_FILE = 'state.sqlite';

/** The data dir a command works on, and where that choice came from (to name it in an error). */
export interface DataDirChoice {
  dir: string;
  /** `--data-dir` or `NETZERO_DATA_DIR` */
  flag: string;
  /** said after the path when neither was given */
  note: string;
}

/** `--data-dir`, else `NETZERO_DATA_DIR`, else `./data`, as an absolute path. */
export function dataDirOf(opts: { dataDir?: string }): DataDirChoice {
  if (opts.dataDir !== undefined) {
    if (opts.dataDir.trim() === '') throw usage('--data-dir', 'must not be empty');
    return { dir: path.resolve(opts.dataDir), flag: '--data-dir', note: '' };
  }
  const env = process.env.NETZERO_DATA_DIR;
  if (env) return { dir: path.resolve(env), flag: 'NETZERO_DATA_DIR', note: '' };
  return { dir: path.resolve('./data'), flag: '--data-dir', note: ' (the default ./data: neither --data-dir nor NETZERO_DATA_DIR is set)' };
}

const NOT_THERE = 'netzero start creates a data dir; or point --data-dir or NETZERO_DATA_DIR at the one the service uses';

/**
 * What is at the chosen data dir: `ready` (it holds the state database), `new` (nothing there yet, or an
 * empty directory: only a command that may create a data dir uses it), or a usage error naming the flag
 * and the path (not a directory, or a directory with other files and no state database).
 */
export function inspectDataDir(choice: DataDirChoice): 'ready' | 'new' {
  const where = `${choice.flag}: ${choice.dir}${choice.note}`;
  const stat = fs.statSync(choice.dir, { throwIfNoEntry: false });
  if (!stat) return 'new';
  if (!stat.isDirectory()) throw new UsageError([`${where} is not a directory`]);
  if (fs.existsSync(path.join(choice.dir, STATE_FILE))) return 'ready';
  if (fs.readdirSync(choice.dir).length === 0) return 'new';
  throw new UsageError([`${where} holds files but no state database (${STATE_FILE}), so it is not a netzero data dir: ${NOT_THERE}`]);
}

/**
 * The data dir of a command that reads one: it must exist and hold the state database. A missing one
 * is refused (one line naming the flag or setting and the path, exit 2) instead of being created empty
 * and answered as if nothing were registered; only `start`, `devices add` and `measures add` create one.
 */
export function requireDataDir(choice: DataDirChoice): string {
  if (inspectDataDir(choice) === 'new') {
    const what = fs.existsSync(choice.dir) ? `is empty (no state database, ${STATE_FILE})` : 'does not exist';
    throw new UsageError([`${choice.flag}: ${choice.dir}${choice.note} ${what}: ${NOT_THERE}`]);
  }
  return choice.dir;
}

/**
 * For `devices add` and `measures add`, which may be the first step on a new install: the state
 * database of an existing data dir, or of a new one created now (said on stderr, with the path, so a
 * mistyped `--data-dir` is noticed at once). `validate` runs first, with the database if there is one
 * (null otherwise), so a usage error creates nothing.
 */
export async function openOrCreateState<T>(
  commandName: string,
  choice: DataDirChoice,
  validate: (db: StateDb | null) => Promise<T>,
): Promise<{ db: StateDb; checked: T }> {
  const status = inspectDataDir(choice);
  let db = status === 'ready' ? await openServiceState(choice.dir) : null;
  try {
    const checked = await validate(db);
    if (!db) {
      db = await openServiceState(choice.dir);
      process.stderr.write(`netzero ${commandName}: created a new data dir at ${choice.dir} (${choice.flag}); start the service on it with NETZERO_DATA_DIR=${choice.dir}\n`);
    }
    return { db, checked };
  } catch (err) {
    await db?.destroy();
    throw err;
  }
}

/** Settings from the environment (a bad one → exit 2 naming it), with `--data-dir` taking precedence. */
export function cliConfig(opts: { dataDir?: string }): Config {
  try {
    const config = loadConfig();
    return { ...config, dataDir: dataDirOf(opts).dir };
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`netzero: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * Opens the data directory for a command: the state database and the reading store (SQLite in WAL mode
 * allows this beside a running service), and the accounting room on top. The data dir must exist
 * (`requireDataDir`).
 */
export async function openCliContext(opts: { dataDir?: string }): Promise<CliContext> {
  const config = cliConfig(opts);
  requireDataDir(dataDirOf(opts));
  const state = await openServiceState(config.dataDir);
  // Query only: the service (if running) owns the spool; this command reads what reached the store.
  const store = openReadingStore(config, { log: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), queryOnly: true });
  await store.start();
  const registry = new DeviceRegistry(state);
  const accounts = await openAccounts({ state, store, registry, tz: config.timeZone, gwpSet: config.gwpSet });
  return {
    config,
    state,
    store,
    registry,
    accounts,
    close: async () => {
      await store.close();
      await state.destroy();
    },
  };
}

/** A `--month` value: YYYY-MM (the message is the one the tests and users know: `--month must be YYYY-MM`). */
export function parseMonth(value: string): string {
  if (!MONTH_PATTERN.test(value)) throw new UsageError([`--month must be YYYY-MM, got "${value}"`]);
  return value;
}

/** A number flag: a finite number (optionally a whole one), else a usage error naming the flag and the value. */
export function numberFlag(flag: string, value: string | undefined, opts: { integer?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) {
    throw usage(flag, `must be ${opts.integer ? 'a whole number' : 'a number'}, got "${value}"`);
  }
  return n;
}
