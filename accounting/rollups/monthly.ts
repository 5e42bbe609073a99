import type { Kysely } from 'kysely';
import { exclusiveTransaction, type StateDb, type TableSet } from '../../lib/state-db.js';
import type { FactorRegistry } from '../factors/registry.js';
import type { FactorVersion } from '../factors/types.js';
import type { LedgerRow } from '../ledger/device-row.js';
import type { Ledger } from '../ledger/ledger.js';
import { MONTH_PATTERN, monthWindow } from '../periods.js';

export interface RollupRevisionsTable {
  month: string; // YYYY-MM in NETZERO_TZ
  revision: number;
  computed_at: string;
  trigger: string; // scheduled | manual | late_readings | factor_added | catch_up
  changes: string; // JSON: what differs from the previous revision
  /** when the computation began reading: the rows hold every reading stored before it (null before 0002) */
  data_as_of: string | null;
  /** JSON: what set this revision off, where the trigger alone does not say (a review decision) */
  cause: string | null;
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

interface Tables {
  rollup_revisions: RollupRevisionsTable;
  rollup_rows: RollupRowsTable;
}

/** The rollups' tables in the state database. `ifNotExists`: data dirs from before each room kept its own migrations already have them. */
export const rollupTables: TableSet = {
  owner: 'rollups',
  migrations: {
    '0001_monthly_rollups': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('rollup_revisions')
          .ifNotExists()
          .addColumn('month', 'text', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('computed_at', 'text', (c) => c.notNull())
          .addColumn('trigger', 'text', (c) => c.notNull())
          .addColumn('changes', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('rollup_revisions_pk', ['month', 'revision'])
          .execute();
        await db.schema
          .createTable('rollup_rows')
          .ifNotExists()
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
    '0002_data_as_of': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('rollup_revisions').addColumn('data_as_of', 'text').execute();
      },
    },
    '0003_cause': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('rollup_revisions').addColumn('cause', 'text').execute();
      },
    },
  },
};

/** Rollup rows per INSERT: 9 values each, well under SQLite's 32,766 variables per statement. */
const INSERT_ROWS = 500;

/** How often a computation is redone because a factor version was added while it ran, before giving up. */
const MAX_COMPUTE_ATTEMPTS = 5;

export type RollupTrigger = 'scheduled' | 'manual' | 'late_readings' | 'factor_added' | 'catch_up' | 'review';

/** A review decision that set a revision off (its trigger is `review`). */
export interface ReviewCause {
  review: { id: number; device: string; counter: string; t0: string; t1: string; amount: number; decision: 'accept' | 'reject'; reason: string; by: string };
}

/** One difference between two revisions of a month. */
export interface RollupChange {
  device: string;
  /** `added`, `removed`, or the field that changed */
  field: string;
  from?: unknown;
  to?: unknown;
}

export interface MonthlyRollup {
  month: string;
  revision: number;
  computed_at: string;
  trigger: RollupTrigger;
  /** the decision behind a `review` revision */
  cause?: ReviewCause;
  /** what differs from the previous revision (empty for revision 1) */
  changes: RollupChange[];
  rows: Array<LedgerRow & { month: string; revision: number }>;
  /** every revision of the month, oldest first */
  revisions: Array<{ revision: number; computed_at: string; trigger: RollupTrigger; changed_devices: number }>;
}

export interface ComputeResult {
  month: string;
  revision: number;
  /** false when the rows equal the latest revision's (idempotent: nothing is written) */
  created: boolean;
  changes: RollupChange[];
  rows: LedgerRow[];
}

/** Fields compared between revisions; `notes` and `detail` follow from them. */
const COMPARED: Array<keyof LedgerRow> = [
  'energy_kwh', 'consumption_kwh', 'methane_t', 'avoided_tco2e', 'inventory_tco2e', 'claimed_avoided_tco2e',
  'sold_as_credits', 'provisional', 'factors', 'quality', 'stream', 'measure', 'sector',
];

/** Quality counts compared by value; a key a stored row lacks (a quality added since) counts as 0. */
function sameQuality(a: Partial<Record<string, number>> | undefined, b: Partial<Record<string, number>> | undefined): boolean {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].every((k) => (a?.[k] ?? 0) === (b?.[k] ?? 0));
}

/** Numbers equal to 1e-9 count as equal, so a recomputation with nothing new is not a revision. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

export function diffRows(before: readonly LedgerRow[], after: readonly LedgerRow[]): RollupChange[] {
  const changes: RollupChange[] = [];
  const old = new Map(before.map((r) => [r.device, r]));
  const now = new Map(after.map((r) => [r.device, r]));
  for (const [device, r] of now) {
    const o = old.get(device);
    if (!o) {
      changes.push({ device, field: 'added', to: { avoided_tco2e: r.avoided_tco2e, inventory_tco2e: r.inventory_tco2e } });
      continue;
    }
    for (const f of COMPARED) {
      const equal = f === 'quality' ? sameQuality(o.quality, r.quality) : same(o[f], r[f]);
      if (!equal) changes.push({ device, field: f, from: o[f], to: r[f] });
    }
  }
  for (const device of old.keys()) if (!now.has(device)) changes.push({ device, field: 'removed' });
  return changes;
}

/**
 * Monthly rollups with revisions: computing a month again writes a new revision only when a row
 * changed (a late reading, a new factor version), records what changed, and keeps every earlier
 * revision readable.
 *
 * Several processes may compute the same month (the service's scheduler, `netzero rollup`,
 * `netzero report`, `netzero factors add`): the rows are computed outside any lock, then "read the
 * latest revision, compare, insert the next" runs as one exclusive transaction, so two processes never
 * write the same revision number or interleave rows. A stale computation never lands on top of a newer
 * one: if a factor version was added while the rows were computed, or a computation that began later
 * (and so saw every reading this one saw) has landed meanwhile, the rows are computed again.
 */
export class MonthlyRollups {
  private readonly db: Kysely<Tables>;

  constructor(
    private readonly state: StateDb,
    private readonly ledger: Ledger,
    private readonly factors: Pick<FactorRegistry, 'stamp'>,
  ) {
    this.db = state;
  }

  async compute(month: string, trigger: RollupTrigger, cause?: ReviewCause): Promise<ComputeResult> {
    if (!MONTH_PATTERN.test(month)) throw new Error(`month must be YYYY-MM, got "${month}"`);
    for (let attempt = 1; ; attempt++) {
      const dataAsOf = new Date().toISOString();
      const stamp = await this.factors.stamp();
      const [piece] = await this.ledger.rowsByMonth(monthWindow(month, this.ledger.tz));
      const rows = piece?.rows ?? [];
      const result = await exclusiveTransaction(this.state, async (tx) => {
        if ((await this.factors.stamp(tx)) !== stamp) return undefined;
        return this.writeIfChanged(tx, month, trigger, rows, dataAsOf, cause);
      });
      if (result) return result;
      if (attempt >= MAX_COMPUTE_ATTEMPTS) {
        throw new Error(`rollup of ${month}: factors or rollups kept changing while it was computed (${attempt} attempts); try again`);
      }
    }
  }

  /**
   * Inside the exclusive transaction: compare with the latest revision and write the next one if a row
   * changed; undefined when the latest revision comes from a computation that began after this one.
   */
  private async writeIfChanged(tx: Kysely<Tables>, month: string, trigger: RollupTrigger, rows: LedgerRow[], dataAsOf: string, cause?: ReviewCause): Promise<ComputeResult | undefined> {
    const latest = await tx.selectFrom('rollup_revisions').select(['revision', 'data_as_of']).where('month', '=', month).orderBy('revision', 'desc').limit(1).executeTakeFirst();
    const before = latest ? await this.rowsOf(month, latest.revision, tx) : [];
    const changes = diffRows(before, rows);
    if (latest && changes.length === 0) return { month, revision: latest.revision, created: false, changes, rows: before };
    if (latest?.data_as_of && latest.data_as_of > dataAsOf) return undefined;
    const revision = (latest?.revision ?? 0) + 1;
    await tx
      .insertInto('rollup_revisions')
      .values({ month, revision, computed_at: new Date().toISOString(), trigger, changes: JSON.stringify(revision === 1 ? [] : changes), data_as_of: dataAsOf, cause: cause ? JSON.stringify(cause) : null })
      .execute();
    // many rows per statement (a city's 10,000 devices are 20 inserts, not 10,000 round trips)
    for (let i = 0; i < rows.length; i += INSERT_ROWS) {
      await tx
        .insertInto('rollup_rows')
        .values(rows.slice(i, i + INSERT_ROWS).map((r) => ({ month, revision, device: r.device, kind: r.kind, site: r.site, sector: r.sector, measure: r.measure, stream: r.stream, row: JSON.stringify(r) })))
        .execute();
    }
    return { month, revision, created: true, changes: revision === 1 ? [] : changes, rows };
  }

  async latestRevision(month: string): Promise<number | undefined> {
    const r = await this.db.selectFrom('rollup_revisions').select((eb) => eb.fn.max('revision').as('rev')).where('month', '=', month).executeTakeFirst();
    return r?.rev === null || r?.rev === undefined ? undefined : Number(r.rev);
  }

  private async rowsOf(month: string, revision: number, db: Kysely<Tables> = this.db): Promise<LedgerRow[]> {
    const rows = await db.selectFrom('rollup_rows').select('row').where('month', '=', month).where('revision', '=', revision).orderBy('device').execute();
    return rows.map((r) => JSON.parse(r.row) as LedgerRow);
  }

  /** A month's rollup (the latest revision unless one is asked for), or undefined if never computed. */
  async get(month: string, revision?: number): Promise<MonthlyRollup | undefined> {
    const revs = await this.db.selectFrom('rollup_revisions').selectAll().where('month', '=', month).orderBy('revision').execute();
    if (revs.length === 0) return undefined;
    const chosen = revision === undefined ? revs[revs.length - 1] : revs.find((r) => r.revision === revision);
    if (!chosen) return undefined;
    const rows = await this.rowsOf(month, chosen.revision);
    return {
      month,
      revision: chosen.revision,
      computed_at: chosen.computed_at,
      trigger: chosen.trigger as RollupTrigger,
      ...(chosen.cause ? { cause: JSON.parse(chosen.cause) as ReviewCause } : {}),
      changes: JSON.parse(chosen.changes) as RollupChange[],
      rows: rows.map((r) => ({ month, revision: chosen.revision, ...r })),
      revisions: revs.map((r) => ({
        revision: r.revision,
        computed_at: r.computed_at,
        trigger: r.trigger as RollupTrigger,
        changed_devices: new Set((JSON.parse(r.changes) as RollupChange[]).map((c) => c.device)).size,
      })),
    };
  }

  /** The revisions of these months (no rows), oldest first per month: what a trend marks as restated. */
  async revisionsOf(months: readonly string[]): Promise<Array<{ month: string; revision: number; computed_at: string; trigger: RollupTrigger }>> {
    if (months.length === 0) return [];
    const rows = await this.db.selectFrom('rollup_revisions').select(['month', 'revision', 'computed_at', 'trigger']).where('month', 'in', [...months]).orderBy('month').orderBy('revision').execute();
    return rows.map((r) => ({ month: r.month, revision: r.revision, computed_at: r.computed_at, trigger: r.trigger as RollupTrigger }));
  }

  /** Months that have at least one revision, oldest first. */
  async months(): Promise<string[]> {
    const rows = await this.db.selectFrom('rollup_revisions').select('month').distinct().orderBy('month').execute();
    return rows.map((r) => r.month);
  }

  /**
   * After a new factor version: recompute every rolled-up month it may change (for a grid factor, the
   * months of its data year and later, where it may have stood in provisionally). Months whose rows do
   * not change get no new revision.
   */
  async restateFor(version: Pick<FactorVersion, 'name' | 'dataYear'>): Promise<ComputeResult[]> {
    const months = (await this.months()).filter(
      (m) => version.name !== 'grid_ef' || version.dataYear === null || Number(m.slice(0, 4)) >= version.dataYear,
    );
    const out: ComputeResult[] = [];
    for (const month of months) out.push(await this.compute(month, 'factor_added'));
    return out;
  }

  /** When the newest revision of any month was computed (epoch ms), or undefined. */
  async lastComputedAt(): Promise<number | undefined> {
    const r = await this.db.selectFrom('rollup_revisions').select((eb) => eb.fn.max('computed_at').as('at')).executeTakeFirst();
    return r?.at ? Date.parse(String(r.at)) : undefined;
  }
}
