import type { FactorName, FactorVersion } from './types.js';

/** A grid factor chosen for the energy of one data year. */
export interface GridFactorUse {
  version: FactorVersion;
  /** the year the energy flowed */
  year: number;
  /** no factor is published for `year` yet: the latest published one stands in */
  provisional: boolean;
}

/**
 * An immutable snapshot of the factor registry, for pure computation. Choosing rules:
 * - grid factor: the newest published version for the energy's own data year; failing that, the
 *   newest version of the latest earlier published year, marked provisional (target-path values are
 *   for projections only and never stand in);
 * - any other factor: the newest published version of (name, variant) valid on the given date.
 */
export class FactorSet {
  private readonly byKey = new Map<string, FactorVersion[]>();

  /** Target-path grid values carry the variant `target_path`, so they never mix with published ones. */
  constructor(readonly versions: readonly FactorVersion[]) {
    for (const v of versions) {
      const key = `${v.name}|${v.variant ?? ''}`;
      const list = this.byKey.get(key) ?? [];
      list.push(v);
      this.byKey.set(key, list);
    }
    for (const list of this.byKey.values()) list.sort((a, b) => (a.dataYear ?? 0) - (b.dataYear ?? 0) || a.version - b.version);
  }

  grid(year: number): GridFactorUse {
    const published = (this.byKey.get('grid_ef|') ?? []).filter((v) => v.status === 'published');
    const exact = newest(published.filter((v) => v.dataYear === year));
    if (exact) return { version: exact, year, provisional: false };
    const earlierYears = published.filter((v) => (v.dataYear ?? Infinity) < year).map((v) => v.dataYear!);
    if (earlierYears.length > 0) {
      const latestYear = Math.max(...earlierYears);
      return { version: newest(published.filter((v) => v.dataYear === latestYear))!, year, provisional: true };
    }
    const first = published[0];
    if (!first) throw new Error('no published grid_ef factor in the registry');
    return { version: newest(published.filter((v) => v.dataYear === first.dataYear))!, year, provisional: true };
  }

  /** The budget's target-path grid factor for a year (projections only), if the registry has one. */
  targetPath(year: number): FactorVersion | undefined {
    return newest((this.byKey.get('grid_ef|target_path') ?? []).filter((v) => v.dataYear === year));
  }

  /** The newest published version of (name, variant) valid on `date` (YYYY-MM-DD); throws if none. */
  pick(name: FactorName, variant?: string, date?: string): FactorVersion {
    const list = (this.byKey.get(`${name}|${variant ?? ''}`) ?? []).filter(
      (v) => v.status === 'published' && (!date || ((!v.validFrom || v.validFrom <= date) && (!v.validTo || date < v.validTo))),
    );
    const v = newest(list);
    if (!v) throw new Error(`no published factor ${name}${variant ? ` (${variant})` : ''}${date ? ` valid on ${date}` : ''}`);
    return v;
  }
}

function newest(list: FactorVersion[]): FactorVersion | undefined {
  return list.reduce<FactorVersion | undefined>((best, v) => (!best || v.version > best.version ? v : best), undefined);
}
