import type { Kysely } from 'kysely';
import { exclusiveTransaction, type StateDb, type TableSet } from '../../../lib/state-db.js';
import { localTime } from '../change-lines.js';
import type { AnnualModel } from './model.js';

/**
 * Revisions of the annual report. A report is computed from the latest revision of every rolled-up
 * month of the year; what it was computed from is its **basis** (each month's rollup revision, the
 * factor registry's stamp, the newest review decision on the year's held-out intervals, the measures
 * added to the system, and a fingerprint of the budget file the targets and caps come from). Asking for the report computes the basis (cheap: a few counts): the same basis
 * as the latest stored revision → that revision is served as stored; another one → the model is
 * computed and stored as the next revision. Stored revisions are never changed: a year whose months
 * are restated later gets a new revision, and the old one stays readable as it was.
 *
 * Several processes may ask at once (the service, `netzero report --year`): the model is computed
 * outside any lock, then "read the latest revision, compare, insert the next" runs in one exclusive
 * transaction of the state database, as monthly rollups do. Every part of a basis only grows (rollup
 * revisions, factor versions, decisions and added measures are only ever added), so a computation
 * whose basis is older than the stored latest one in any part never lands on top of it: it is redone.
 * The budget fingerprint is the one part that does not grow: a different budget file is a change, never
 * "older" (a revision computed before the switch still lands, and the next request records the switch).
 */

export interface AnnualBasis {
  /** the twelve months with the rollup revision used (null: not rolled up) */
  months: Array<{ month: string; revision: number | null }>;
  /** the factor registry's stamp (how many versions it holds) */
  factor_stamp: number;
  /** the id of the newest review decision on an interval ending in the year (0: none) */
  review_decision: number;
  /** measures added with `netzero measures add`, sorted */
  measures: string[];
  /** the budget file's fingerprint (sha256 of its content, 12 hex digits); absent in revisions stored before it was recorded */
  budget?: string;
}

/** One difference between the bases of two revisions. */
export interface AnnualChange {
  what: 'month' | 'factors' | 'reviews' | 'measures' | 'budget';
  /** for `month`: which */
  month?: string;
  from: number | string | string[] | null;
  to: number | string | string[] | null;
}

export interface AnnualReportsTable {
  year: number;
  revision: number;
  created_at: string;
  /** JSON [{month, revision}] */
  months: string;
  /** JSON: the rest of the basis (factor_stamp, review_decision, measures, budget) */
  basis: string;
  /** JSON AnnualChange[]: what differs from the previous revision */
  changes: string;
  /** JSON AnnualModel */
  model: string;
}

interface Tables {
  annual_reports: AnnualReportsTable;
}

/** The annual report's table in the state database. */
export const annualReportTables: TableSet = {
  owner: 'annual_reports',
  migrations: {
    '0001_annual_reports': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('annual_reports')
          .addColumn('year', 'integer', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('months', 'text', (c) => c.notNull())
          .addColumn('basis', 'text', (c) => c.notNull())
          .addColumn('changes', 'text', (c) => c.notNull())
          .addColumn('model', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('annual_reports_pk', ['year', 'revision'])
          .execute();
      },
    },
  },
};

/** A stored revision of a year's report. */
export interface StoredAnnualReport {
  year: number;
  revision: number;
  created_at: string;
  basis: AnnualBasis;
  changes: AnnualChange[];
  model: AnnualModel;
}

/** What the annual report is computed from: the basis now, and the model for a basis. */
export interface AnnualSources {
  basis(year: number): Promise<AnnualBasis>;
  model(year: number, basis: AnnualBasis, signal?: AbortSignal): Promise<AnnualModel>;
}

/** How often a computation is redone because a newer one landed meanwhile, before giving up. */
const MAX_ATTEMPTS = 5;

const rolledUp = (b: AnnualBasis) => b.months.some((m) => m.revision !== null);

export function sameBasis(a: AnnualBasis, b: AnnualBasis): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b)) && !budgetChanged(a, b);
}

function canonical(b: AnnualBasis): AnnualBasis {
  return { months: b.months.map((m) => ({ month: m.month, revision: m.revision })), factor_stamp: b.factor_stamp, review_decision: b.review_decision, measures: [...b.measures].sort() };
}

/** A revision stored before the fingerprint was recorded is taken to have used the budget in force. */
const budgetChanged = (prev: AnnualBasis, next: AnnualBasis) => prev.budget !== undefined && next.budget !== undefined && prev.budget !== next.budget;

/** `next` is at least as new as `prev` in every part (every part only grows). */
export function notOlder(next: AnnualBasis, prev: AnnualBasis): boolean {
  const prevMonths = new Map(prev.months.map((m) => [m.month, m.revision ?? 0]));
  return (
    next.months.every((m) => (m.revision ?? 0) >= (prevMonths.get(m.month) ?? 0)) &&
    next.factor_stamp >= prev.factor_stamp &&
    next.review_decision >= prev.review_decision &&
    prev.measures.every((id) => next.measures.includes(id))
  );
}

/** What differs between two bases: months whose rollup revision differs first, then the rest. */
export function diffBasis(prev: AnnualBasis, next: AnnualBasis): AnnualChange[] {
  const out: AnnualChange[] = [];
  const before = new Map(prev.months.map((m) => [m.month, m.revision]));
  for (const m of next.months) {
    const was = before.get(m.month) ?? null;
    if (was !== m.revision) out.push({ what: 'month', month: m.month, from: was, to: m.revision });
  }
  if (prev.factor_stamp !== next.factor_stamp) out.push({ what: 'factors', from: prev.factor_stamp, to: next.factor_stamp });
  if (prev.review_decision !== next.review_decision) out.push({ what: 'reviews', from: prev.review_decision, to: next.review_decision });
  const added = next.measures.filter((id) => !prev.measures.includes(id));
  if (added.length > 0) out.push({ what: 'measures', from: prev.measures, to: added });
  if (budgetChanged(prev, next)) out.push({ what: 'budget', from: prev.budget!, to: next.budget! });
  return out;
}

/** A change as a readable line. */
export function annualChangeLine(c: AnnualChange): string {
  switch (c.what) {
    case 'month':
      return `${c.month}: ${c.from === null ? 'not rolled up' : `rollup revision ${String(c.from)}`} → ${c.to === null ? 'not rolled up' : `rollup revision ${String(c.to)}`}`;
    case 'factors':
      return `factor registry: ${String(c.from)} → ${String(c.to)} versions (a factor version was added)`;
    case 'reviews':
      return `review decisions on held-out intervals: newest #${String(c.from)} → #${String(c.to)}`;
    case 'measures':
      return `measures added to the system: ${(c.to as string[]).join(', ')}`;
    case 'budget':
      return `budget file (targets and caps): ${String(c.from)} → ${String(c.to)} (its content changed)`;
  }
}

export interface AnnualRevisionInfo {
  revision: number;
  /** the newest revision of the year */
  of: number;
  latest: boolean;
  created_at: string;
  created_at_local: string;
  /** the rollup revision of each month used (null: not rolled up) */
  months: AnnualBasis['months'];
  changes: AnnualChange[];
  change_lines: string[];
  history: Array<{ revision: number; created_at: string; created_at_local: string; months_rolled_up: number; change_lines: string[] }>;
}

/** The report as rendered: a stored model with its revision, its history and when this copy was made. */
export type AnnualReport = AnnualModel & { revision: AnnualRevisionInfo; generated_at: string; generated_at_local: string };

export class AnnualReports {
  private readonly db: Kysely<Tables>;

  constructor(
    private readonly state: StateDb,
    private readonly sources: AnnualSources,
  ) {
    this.db = state;
  }

  /**
   * The year's report on its current basis: the latest stored revision when its basis is the same, else
   * a new revision computed and stored now (`created`). Undefined when no month of the year is rolled up.
   */
  async current(year: number, opts: { signal?: AbortSignal } = {}): Promise<{ report: StoredAnnualReport; created: boolean } | undefined> {
    for (let attempt = 1; ; attempt++) {
      const basis = await this.sources.basis(year);
      const latest = await this.latestOf(year);
      if (latest && sameBasis(latest.basis, basis)) return { report: latest, created: false };
      if (!rolledUp(basis)) return undefined;
      const model = await this.sources.model(year, basis, opts.signal);
      opts.signal?.throwIfAborted();
      const result = await exclusiveTransaction(this.state, async (tx) => this.insertIfNewer(tx, year, basis, model));
      if (result) return result;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`annual report of ${year}: its months kept being restated while it was computed (${attempt} attempts); try again`);
    }
  }

  private async insertIfNewer(tx: Kysely<Tables>, year: number, basis: AnnualBasis, model: AnnualModel): Promise<{ report: StoredAnnualReport; created: boolean } | undefined> {
    const latest = await this.latestOf(year, tx);
    if (latest && sameBasis(latest.basis, basis)) return { report: latest, created: false };
    if (latest && !notOlder(basis, latest.basis)) return undefined;
    const report: StoredAnnualReport = {
      year,
      revision: (latest?.revision ?? 0) + 1,
      created_at: new Date().toISOString(),
      basis,
      changes: latest ? diffBasis(latest.basis, basis) : [],
      model,
    };
    const { months, ...rest } = basis;
    await tx
      .insertInto('annual_reports')
      .values({ year, revision: report.revision, created_at: report.created_at, months: JSON.stringify(months), basis: JSON.stringify(rest), changes: JSON.stringify(report.changes), model: JSON.stringify(model) })
      .execute();
    return { report, created: true };
  }

  /** A stored revision, or undefined. */
  async get(year: number, revision: number): Promise<StoredAnnualReport | undefined> {
    const row = await this.db.selectFrom('annual_reports').selectAll().where('year', '=', year).where('revision', '=', revision).executeTakeFirst();
    return row ? toStored(row) : undefined;
  }

  /** The newest stored revision of the year, or undefined. */
  async latestRevision(year: number): Promise<number | undefined> {
    return (await this.latestOf(year))?.revision;
  }

  private async latestOf(year: number, db: Kysely<Tables> = this.db): Promise<StoredAnnualReport | undefined> {
    const row = await db.selectFrom('annual_reports').selectAll().where('year', '=', year).orderBy('revision', 'desc').limit(1).executeTakeFirst();
    return row ? toStored(row) : undefined;
  }

  /** The stored revision with its place among the year's revisions, ready to render. */
  async view(stored: StoredAnnualReport, opts: { tz: string; generatedAt: Date }): Promise<AnnualReport> {
    const all = await this.db.selectFrom('annual_reports').select(['revision', 'created_at', 'months', 'changes']).where('year', '=', stored.year).orderBy('revision').execute();
    const of = Math.max(stored.revision, ...all.map((r) => r.revision));
    const generated = opts.generatedAt.toISOString();
    return {
      ...stored.model,
      revision: {
        revision: stored.revision,
        of,
        latest: stored.revision >= of,
        created_at: stored.created_at,
        created_at_local: localTime(stored.created_at, opts.tz),
        months: stored.basis.months,
        changes: stored.changes,
        change_lines: stored.changes.map(annualChangeLine),
        history: all.map((r) => ({
          revision: r.revision,
          created_at: r.created_at,
          created_at_local: localTime(r.created_at, opts.tz),
          months_rolled_up: (JSON.parse(r.months) as AnnualBasis['months']).filter((m) => m.revision !== null).length,
          change_lines: (JSON.parse(r.changes) as AnnualChange[]).map(annualChangeLine),
        })),
      },
      generated_at: generated,
      generated_at_local: localTime(generated, opts.tz),
    };
  }
}

function toStored(r: AnnualReportsTable): StoredAnnualReport {
  const rest = JSON.parse(r.basis) as Omit<AnnualBasis, 'months'>;
  return {
    year: Number(r.year),
    revision: Number(r.revision),
    created_at: r.created_at,
    basis: { months: JSON.parse(r.months) as AnnualBasis['months'], ...rest },
    changes: JSON.parse(r.changes) as AnnualChange[],
    model: JSON.parse(r.model) as AnnualModel,
  };
}
