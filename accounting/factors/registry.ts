import type { StateDb } from '../../store/state-db.js';
import { BUILTIN_FACTORS } from './builtin.js';
import { FactorSet } from './factor-set.js';
import { factorId, newFactorSchema, type FactorName, type FactorStatus, type FactorVersion, type NewFactor } from './types.js';

type Row = Awaited<ReturnType<FactorRegistry['rows']>>[number];

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

/** The versioned factor registry (relational state). Versions are only ever added. */
export class FactorRegistry {
  private cached?: FactorSet;

  constructor(private readonly db: StateDb) {}

  private rows() {
    return this.db.selectFrom('factor_versions').selectAll().orderBy('name').orderBy('variant').orderBy('data_year').orderBy('version').execute();
  }

  /** Writes the built-in versions that are missing (by id); never changes an existing one. */
  async ensureBuiltins(): Promise<number> {
    const existing = new Set((await this.db.selectFrom('factor_versions').select('id').execute()).map((r) => r.id));
    let added = 0;
    for (const f of BUILTIN_FACTORS) {
      const parsed = newFactorSchema.parse(f);
      const id = factorId(parsed, 1);
      if (existing.has(id)) continue;
      await this.insert(parsed, 1);
      added++;
    }
    if (added) this.cached = undefined;
    return added;
  }

  /** Adds a version; its number is one more than the newest of the same (name, variant, data year). */
  async add(input: NewFactor): Promise<FactorVersion> {
    const f = newFactorSchema.parse(input);
    let q = this.db.selectFrom('factor_versions').select((eb) => eb.fn.max('version').as('v')).where('name', '=', f.name);
    q = f.variant ? q.where('variant', '=', f.variant) : q.where('variant', 'is', null);
    q = f.data_year !== undefined ? q.where('data_year', '=', f.data_year) : q.where('data_year', 'is', null);
    const max = Number((await q.executeTakeFirst())?.v ?? 0);
    const v = await this.insert(f, max + 1);
    this.cached = undefined;
    return v;
  }

  private async insert(f: ReturnType<typeof newFactorSchema.parse>, version: number): Promise<FactorVersion> {
    const row = {
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
    await this.db.insertInto('factor_versions').values(row).execute();
    return toVersion(row);
  }

  async list(): Promise<FactorVersion[]> {
    return (await this.rows()).map(toVersion);
  }

  /** A snapshot for computation; rebuilt after every add. */
  async snapshot(): Promise<FactorSet> {
    this.cached ??= new FactorSet(await this.list());
    return this.cached;
  }

  /** Forget the snapshot (another process, e.g. the CLI, may have added a version). */
  invalidate(): void {
    this.cached = undefined;
  }
}
