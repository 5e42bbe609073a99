import type { Generated, Kysely, Selectable } from 'kysely';
import type { StateDb, TableSet } from '../../../lib/state-db.js';
import type { Register } from './mapping.js';

/**
 * The central system's memory of chargers, in the state database so it outlives a restart of the
 * service and a reboot of the charger:
 *
 * - `ocpp_transactions`: one row per transaction. Its id is the OCPP transactionId we hand out; the
 *   StartTransaction's (charger, connector, idTag, meterStart, timestamp) is unique, so the same
 *   StartTransaction resent (after a lost answer, a reconnect, a reboot) gets the same id, never a
 *   second transaction. The meterStart waits (`pending`) until the next register value confirms it.
 *   A transaction whose StopTransaction never comes is closed by the next StartTransaction on its
 *   connector, by the charger's next BootNotification, or after TX_TIMEOUT_MS without a message about
 *   it; closing writes no reading (energy already metered stays counted, nothing is added).
 * - `ocpp_registers`: the last register value stored per (device, connector), which the guards in
 *   mapping.ts judge the next value against.
 */

export type TxStatus = 'open' | 'stopped' | 'closed';
export type MeterStartState = 'pending' | 'written' | 'dropped';

export interface OcppTransactionsTable {
  id: Generated<number>;
  charger: string;
  connector: number;
  id_tag: string;
  meter_start_wh: number;
  /** the StartTransaction's timestamp, epoch ms */
  start_ts: number;
  /** the meterStart to write once confirmed, kWh (a unit slip corrected) */
  meter_start_kwh: number;
  meter_start: MeterStartState;
  status: TxStatus;
  /** why it was closed or stopped: `stopped`, `superseded`, `boot`, `timeout` */
  closed_reason: string | null;
  meter_stop_wh: number | null;
  stop_ts: number | null;
  /** the last message about it, epoch ms (the timeout runs from here) */
  last_seen: number;
  created_at: string;
}

export interface OcppRegistersTable {
  device: string;
  connector: number;
  kwh: number;
  ts: number;
}

interface Tables {
  ocpp_transactions: OcppTransactionsTable;
  ocpp_registers: OcppRegistersTable;
}

/** An open transaction with no message about it for this long is closed (a StopTransaction that never came). */
export const TX_TIMEOUT_MS = 24 * 3_600_000;

export const ocppTables: TableSet = {
  owner: 'ocpp',
  migrations: {
    '0001_transactions': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('ocpp_transactions')
          .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
          .addColumn('charger', 'text', (c) => c.notNull())
          .addColumn('connector', 'integer', (c) => c.notNull())
          .addColumn('id_tag', 'text', (c) => c.notNull())
          .addColumn('meter_start_wh', 'integer', (c) => c.notNull())
          .addColumn('start_ts', 'integer', (c) => c.notNull())
          .addColumn('meter_start_kwh', 'double precision', (c) => c.notNull())
          .addColumn('meter_start', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('closed_reason', 'text')
          .addColumn('meter_stop_wh', 'integer')
          .addColumn('stop_ts', 'integer')
          .addColumn('last_seen', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('ocpp_transactions_start')
          .on('ocpp_transactions')
          .columns(['charger', 'connector', 'id_tag', 'meter_start_wh', 'start_ts'])
          .unique()
          .execute();
        await db.schema.createIndex('ocpp_transactions_open').on('ocpp_transactions').columns(['status', 'last_seen']).execute();
        await db.schema
          .createTable('ocpp_registers')
          .addColumn('device', 'text', (c) => c.notNull())
          .addColumn('connector', 'integer', (c) => c.notNull())
          .addColumn('kwh', 'double precision', (c) => c.notNull())
          .addColumn('ts', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('ocpp_registers_pk', ['device', 'connector'])
          .execute();
      },
    },
  },
};

export interface Transaction {
  id: number;
  charger: string;
  connector: number;
  idTag: string;
  meterStartWh: number;
  startTs: number;
  meterStartKwh: number;
  meterStart: MeterStartState;
  status: TxStatus;
  closedReason: string | null;
  meterStopWh: number | null;
  stopTs: number | null;
}

type Row = Selectable<OcppTransactionsTable>;

function toTx(r: Row): Transaction {
  return {
    id: r.id,
    charger: r.charger,
    connector: r.connector,
    idTag: r.id_tag,
    meterStartWh: r.meter_start_wh,
    startTs: r.start_ts,
    meterStartKwh: r.meter_start_kwh,
    meterStart: r.meter_start,
    status: r.status,
    closedReason: r.closed_reason,
    meterStopWh: r.meter_stop_wh,
    stopTs: r.stop_ts,
  };
}

export interface StartIn {
  charger: string;
  connector: number;
  idTag: string;
  meterStartWh: number;
  startTs: number;
  /** what mapping.ts made of the meterStart on arrival */
  meterStartKwh: number;
  meterStart: MeterStartState;
}

/** Closes open transactions; a meterStart still waiting for its confirmation is dropped with them (nothing confirmed it). */
async function closeIds(db: Kysely<Tables>, ids: number[], reason: string): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('ocpp_transactions').set({ meter_start: 'dropped' }).where('id', 'in', ids).where('meter_start', '=', 'pending').execute();
  await db.updateTable('ocpp_transactions').set({ status: 'closed', closed_reason: reason }).where('id', 'in', ids).where('status', '=', 'open').execute();
}

export class OcppTransactions {
  private readonly db: Kysely<Tables>;

  constructor(
    state: StateDb,
    private readonly now: () => number = Date.now,
  ) {
    this.db = state;
  }

  /**
   * The transaction of this StartTransaction: the existing one when the same one was seen before
   * (reopened if only closed, not stopped), else a new one; a new one closes the connector's older open
   * transactions (their StopTransaction never came). `created` says which; `superseded` lists those closed,
   * as they were before (a `pending` meterStart among them was dropped).
   */
  async start(s: StartIn): Promise<{ tx: Transaction; created: boolean; superseded: Transaction[] }> {
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      const found = await trx
        .selectFrom('ocpp_transactions')
        .selectAll()
        .where('charger', '=', s.charger)
        .where('connector', '=', s.connector)
        .where('id_tag', '=', s.idTag)
        .where('meter_start_wh', '=', s.meterStartWh)
        .where('start_ts', '=', s.startTs)
        .executeTakeFirst();
      if (found) {
        const reopen = found.status === 'closed';
        const change = reopen ? { status: 'open' as const, closed_reason: null } : {};
        await trx.updateTable('ocpp_transactions').set({ last_seen: now, ...change }).where('id', '=', found.id).execute();
        return { tx: toTx({ ...found, ...change }), created: false, superseded: [] };
      }
      const older = await trx
        .selectFrom('ocpp_transactions')
        .selectAll()
        .where('charger', '=', s.charger)
        .where('connector', '=', s.connector)
        .where('status', '=', 'open')
        .where('start_ts', '<', s.startTs)
        .execute();
      await closeIds(trx, older.map((o) => o.id), 'superseded');
      const row = await trx
        .insertInto('ocpp_transactions')
        .values({
          charger: s.charger,
          connector: s.connector,
          id_tag: s.idTag,
          meter_start_wh: s.meterStartWh,
          start_ts: s.startTs,
          meter_start_kwh: s.meterStartKwh,
          meter_start: s.meterStart,
          status: 'open',
          closed_reason: null,
          meter_stop_wh: null,
          stop_ts: null,
          last_seen: now,
          created_at: new Date(now).toISOString(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { tx: toTx(row), created: true, superseded: older.map(toTx) };
    });
  }

  async get(id: number): Promise<Transaction | undefined> {
    const r = await this.db.selectFrom('ocpp_transactions').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toTx(r) : undefined;
  }

  /** A message about the transaction arrived: its timeout starts again. */
  async touch(id: number): Promise<void> {
    await this.db.updateTable('ocpp_transactions').set({ last_seen: this.now() }).where('id', '=', id).execute();
  }

  /** The pending meterStart was written or dropped; only a pending one changes (a resend finds it decided). */
  async decideMeterStart(id: number, state: 'written' | 'dropped'): Promise<boolean> {
    const r = await this.db.updateTable('ocpp_transactions').set({ meter_start: state }).where('id', '=', id).where('meter_start', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** StopTransaction: stopped whatever it was before (a StopTransaction after a reboot still ends it properly). */
  async stop(id: number, meterStopWh: number, stopTs: number): Promise<void> {
    await this.db
      .updateTable('ocpp_transactions')
      .set({ status: 'stopped', closed_reason: 'stopped', meter_stop_wh: meterStopWh, stop_ts: stopTs, last_seen: this.now() })
      .where('id', '=', id)
      .execute();
  }

  /** Closes a charger's open transactions (its BootNotification: a rebooted charger's transactions ended); returns them as they were. */
  async closeOpenOf(charger: string, reason: string): Promise<Transaction[]> {
    const open = await this.db.selectFrom('ocpp_transactions').selectAll().where('charger', '=', charger).where('status', '=', 'open').execute();
    await closeIds(this.db, open.map((o) => o.id), reason);
    return open.map(toTx);
  }

  /** Closes open transactions with no message for `timeoutMs`; returns them as they were. */
  async closeStale(timeoutMs = TX_TIMEOUT_MS): Promise<Transaction[]> {
    const stale = await this.db.selectFrom('ocpp_transactions').selectAll().where('status', '=', 'open').where('last_seen', '<', this.now() - timeoutMs).execute();
    await closeIds(this.db, stale.map((s) => s.id), 'timeout');
    return stale.map(toTx);
  }

  /** A charger's open transactions, oldest first. */
  async openOf(charger: string): Promise<Transaction[]> {
    const rows = await this.db.selectFrom('ocpp_transactions').selectAll().where('charger', '=', charger).where('status', '=', 'open').orderBy('start_ts').execute();
    return rows.map(toTx);
  }

  /** The last register value stored for a device's connector. */
  async register(device: string, connector: number): Promise<Register | undefined> {
    const r = await this.db.selectFrom('ocpp_registers').select(['kwh', 'ts']).where('device', '=', device).where('connector', '=', connector).executeTakeFirst();
    return r ? { kwh: r.kwh, ts: r.ts } : undefined;
  }

  /** Keeps the newest register value by time (a late reading does not move it back). */
  async saveRegister(device: string, connector: number, reg: Register): Promise<void> {
    await this.db
      .insertInto('ocpp_registers')
      .values({ device, connector, kwh: reg.kwh, ts: reg.ts })
      .onConflict((oc) => oc.columns(['device', 'connector']).doUpdateSet({ kwh: reg.kwh, ts: reg.ts }).where('ocpp_registers.ts', '<=', reg.ts))
      .execute();
  }
}
