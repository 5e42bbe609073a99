import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Accounts } from '../../accounting/accounts.js';
import { thisMonthSoFar } from '../../accounting/periods.js';
import { loadProgrammeTargets, programmeRollout } from '../../accounting/programmes/programmes.js';
import { breakdownOf } from '../../accounting/trend/breakdown.js';
import { BUCKET_SIZES, countBuckets } from '../../accounting/trend/buckets.js';
import { monthRevisions, rowsPerBucket, trendOf } from '../../accounting/trend/trend.js';
import { SECTORS } from '../../devices/kinds.js';
import { zodToFieldErrors, type FieldError } from '../../devices/payload.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import type { QueryBudget } from './query-budget.js';
import { SharedResults } from './shared-results.js';

export interface OfficeRouteDeps {
  accounts: Accounts;
  registry: DeviceRegistry;
  budget: QueryBudget;
  /** a time in a query, parsed strictly (the server's own parser) */
  time: z.ZodType<number | undefined, string | undefined>;
  timeZone: string;
  /** the longest window answered, days (`NETZERO_SUMMARY_MAX_DAYS`, as for /api/summary) */
  maxDays: number;
  /** when the live summary last pushed a change (`LiveSummary.pushedAt`): no shared result from before is answered */
  livePushedAt?: () => number;
}

/** Daily buckets answered at most: a year and a month (a longer period is asked by month). */
export const MAX_DAY_BUCKETS = 400;

const id = (what: string) => z.string({ error: `must be ${what}` }).min(1, { error: 'must not be empty' }).max(200, { error: 'must be at most 200 characters' });

/**
 * The energy office view's series (public, like the summary): `GET /api/trend` (avoided and inventory,
 * energy and consumption per day or month, with the months' rollup revisions), `GET /api/breakdown`
 * (sector → measure → site → device, each level with its trend, quality and share) and
 * `GET /api/programmes` (the city programmes' rollout from the registry against their printed targets).
 * Windows are bounded (days and buckets) and run within the query budget.
 */
export function registerOfficeRoutes(app: FastifyInstance, deps: OfficeRouteDeps): void {
  const programmeTargets = loadProgrammeTargets();
  const windowFields = {
    from: deps.time,
    to: deps.time,
    bucket: z.enum(BUCKET_SIZES, { error: 'must be day or month' }).default('day'),
  };
  const trendQuery = z.strictObject(windowFields);
  const breakdownQuery = z.strictObject({
    ...windowFields,
    sector: z.enum(SECTORS, { error: `must be one of ${SECTORS.join(', ')}` }).optional(),
    measure: id('a measure id, or none for devices linked to no measure').optional(),
    site: id('a site').optional(),
  });

  // The trend and the drill-down read the same rows; open pages ask again on every live change. A page
  // reloading after a push must not get rows computed before it (they may miss what the push announced),
  // and a city's trend can take longer than the pushes come: at most one computation runs per query, and
  // one more waits behind it for everyone who asked meanwhile.
  type Rows = { window: { from: number; to: number }; per: Awaited<ReturnType<typeof rowsPerBucket>> };
  const shared = new SharedResults<Rows>({ ttlMs: 2_000, maxEntries: 64, freshSince: deps.livePushedAt });
  const rowsOf = (q: { from?: number; to?: number; bucket: 'day' | 'month' }, window: { from: number; to: number }) =>
    shared.get(`${q.from ?? 'month-start'}|${q.to ?? 'now'}|${q.bucket}`, () =>
      deps.budget.run(async (signal) => ({ window, per: await rowsPerBucket(deps.accounts.ledger, window, q.bucket, signal) })),
    );

  const refuse = (reply: FastifyReply, issues: FieldError[]) => reply.code(400).send({ error: 'invalid query', issues });

  /** The window and bucket size of a query, or the problems with them (each naming its parameter). */
  const windowOf = (q: { from?: number; to?: number; bucket: 'day' | 'month' }): { window: { from: number; to: number } } | { issues: FieldError[] } => {
    const now = Date.now();
    const window = { from: q.from ?? thisMonthSoFar(now, deps.timeZone).from, to: q.to ?? now };
    if (window.to <= window.from) return { issues: [{ field: 'to', reason: 'must be after from' }] };
    if (window.to - window.from > deps.maxDays * 86_400_000) {
      return { issues: [{ field: 'from', reason: `the period is longer than ${deps.maxDays} days; ask for a shorter one` }] };
    }
    const n = countBuckets(window, q.bucket, deps.timeZone);
    if (q.bucket === 'day' && n > MAX_DAY_BUCKETS) {
      return { issues: [{ field: 'bucket', reason: `the period has ${n} days, more than ${MAX_DAY_BUCKETS} daily buckets; ask for bucket=month or a shorter period` }] };
    }
    return { window };
  };

  const queryIssues = (error: z.ZodError) => zodToFieldErrors(error).map((e) => (e.field === 'payload' ? { ...e, field: 'query' } : e));

  app.get('/api/trend', async (req, reply) => {
    const q = trendQuery.safeParse(req.query);
    if (!q.success) return refuse(reply, queryIssues(q.error));
    const w = windowOf(q.data);
    if ('issues' in w) return refuse(reply, w.issues);
    const { window, per } = await rowsOf(q.data, w.window);
    const months = await monthRevisions(deps.accounts.rollups, per.map((b) => b.label.slice(0, 7)));
    return trendOf(per, window, q.data.bucket, deps.timeZone, months);
  });

  app.get('/api/breakdown', async (req, reply) => {
    const q = breakdownQuery.safeParse(req.query);
    if (!q.success) return refuse(reply, queryIssues(q.error));
    const { sector, measure, site } = q.data;
    const order: FieldError[] = [];
    if (measure !== undefined && sector === undefined) order.push({ field: 'measure', reason: 'needs sector (the drill-down runs sector → measure → site → device)' });
    if (site !== undefined && measure === undefined) order.push({ field: 'site', reason: 'needs sector and measure (the drill-down runs sector → measure → site → device)' });
    if (order.length > 0) return refuse(reply, order);
    const w = windowOf(q.data);
    if ('issues' in w) return refuse(reply, w.issues);
    const { window, per } = await rowsOf(q.data, w.window);
    return breakdownOf(per, { sector, measure, site }, window, q.data.bucket, deps.timeZone);
  });

  app.get('/api/programmes', async (req, reply) => {
    const q = z.strictObject({}).safeParse(req.query);
    if (!q.success) return refuse(reply, queryIssues(q.error));
    return { programmes: programmeRollout(programmeTargets, await deps.registry.list()) };
  });
}
