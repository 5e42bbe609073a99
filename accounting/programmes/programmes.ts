import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PROGRAMME_IDS, PROGRAMME_RULES, type ProgrammeId, type ProgrammeUnit } from '../../devices/programmes.js';
import type { Device } from '../../devices/registry.js';
import { roundFigure } from '../rounding.js';

/** The city's programmes and their printed figures (kaohsiung-programmes.json, README.md beside it). */

const figureSchema = z.strictObject({
  /** registered: what the city reports done; target: a goal (by `year` when given); fleet: the whole the share is of; target_share_pct: a goal as a share of the fleet */
  kind: z.enum(['registered', 'target', 'fleet', 'target_share_pct']),
  /** in the programme's unit (a share in %); null where the source names the indicator but prints no figure */
  value: z.number().finite().min(0).nullable(),
  year: z.number().int().min(2000).max(2100).optional(),
  as_printed: z.string().min(1),
  label_zh: z.string().min(1),
  label_en: z.string().min(1),
  /** a key of `sources` */
  source: z.string().min(1),
  /** where in the source, in the source's own words (table, row, page) */
  where: z.string().min(1),
  /** for maintainers: what the citation does not say by itself (not shown on the page) */
  note: z.string().min(1).optional(),
});

const programmesSchema = z
  .strictObject({
    $comment: z.string().optional(),
    sources: z.record(z.string(), z.string().min(1)),
    source_titles_en: z.record(z.string(), z.string().min(1)),
    programmes: z.array(
      z.strictObject({
        id: z.enum(PROGRAMME_IDS),
        name_zh: z.string().min(1),
        name_en: z.string().min(1),
        unit: z.enum(['kW', 'schools', 'units', 'buildings', 'guns', 'buses']),
        figures: z.array(figureSchema),
      }),
    ),
  })
  .superRefine((d, ctx) => {
    d.programmes.forEach((p, n) =>
      p.figures.forEach((f, m) => {
        if (!(f.source in d.sources)) ctx.addIssue({ code: 'custom', path: ['programmes', n, 'figures', m, 'source'], message: `names no source (${Object.keys(d.sources).join(', ')})` });
      }),
    );
  });
export type ProgrammeTargets = z.infer<typeof programmesSchema>;

export function defaultProgrammesFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.join(here.replace(`${path.sep}dist${path.sep}`, path.sep), 'kaohsiung-programmes.json');
}

export function loadProgrammeTargets(file = defaultProgrammesFile()): ProgrammeTargets {
  const parsed = programmesSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export interface ProgrammeRollout {
  id: ProgrammeId;
  name_zh: string;
  name_en: string;
  unit: string;
  /** what one device adds: its nameplate kW, its site once, its `params.units`, or one */
  counts: ProgrammeUnit;
  /** the registered devices' count in `unit` */
  connected: number;
  devices: number;
  sites: number;
  /** the printed figures, each with connected as a share of it (null where no figure is printed) */
  figures: Array<z.infer<typeof figureSchema> & { source_title: string; connected_pct: number | null }>;
}

/**
 * Each programme's rollout from the registry: the devices declaring it in `params.programme` (demo
 * devices never count; a device of a kind the programme does not count is refused at registration).
 */
export function programmeRollout(targets: ProgrammeTargets, devices: readonly Device[]): ProgrammeRollout[] {
  return targets.programmes.map((p) => {
    const rule = PROGRAMME_RULES[p.id];
    const members = devices.filter((d) => d.role === 'device' && !d.demo && d.params.programme === p.id && d.kind !== null && rule.kinds.includes(d.kind));
    const sites = new Set(members.map((d) => d.site));
    const connected =
      rule.unit === 'nameplate_kw' ? roundFigure(members.reduce((a, d) => a + (d.params.nameplate_kw ?? 0), 0), 'kWh')
      : rule.unit === 'site' ? sites.size
      : rule.unit === 'units' ? members.reduce((a, d) => a + (d.params.units ?? 1), 0)
      : members.length;
    const fleet = p.figures.find((f) => f.kind === 'fleet')?.value ?? null;
    return {
      id: p.id,
      name_zh: p.name_zh,
      name_en: p.name_en,
      unit: p.unit,
      counts: rule.unit,
      connected,
      devices: members.length,
      sites: sites.size,
      figures: p.figures.map((f) => {
        // a target share is of the fleet: 70 % of 867 buses is 606.9 buses
        const of = f.kind === 'target_share_pct' ? (f.value !== null && fleet !== null ? (f.value / 100) * fleet : null) : f.value;
        return { ...f, source_title: targets.sources[f.source]!, connected_pct: of ? roundFigure((connected / of) * 100, 'ratio') : null };
      }),
    };
  });
}
