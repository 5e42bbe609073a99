import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Accounts } from '../../accounting/accounts.js';
import { IntervalNotHeldOutError } from '../../accounting/review/queue.js';
import type { ComputeResult, ReviewCause } from '../../accounting/rollups/monthly.js';
import { zodToFieldErrors } from '../../devices/payload.js';
import type { Access } from './access.js';
import type { QueryBudget } from './query-budget.js';

export interface ReviewRouteDeps {
  accounts: Accounts;
  requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** the list is open to operators too, for their sites' devices (deciding stays with the energy office) */
  access: Access;
  budget: QueryBudget;
  /** a time in a query or body, parsed strictly (the server's own parser) */
  time: z.ZodType<number | undefined, string | undefined>;
  /** recomputes the rolled-up months a decision touches, queued with the scheduler's jobs */
  restateForReview: (months: string[], cause: ReviewCause) => Promise<ComputeResult[]>;
}

const EARLIEST_MS = Date.UTC(2000, 0, 1);

/**
 * The review queue over HTTP (admin): `GET /api/intervals/review` lists the intervals left out of totals
 * with why and what was decided; `POST /api/intervals/review` records a decision (accept: count it;
 * reject: keep it out) with who and why, and restates the months it touches as new rollup revisions whose
 * trigger names the decision.
 */
export function registerReviewRoutes(app: FastifyInstance, deps: ReviewRouteDeps): void {
  const listQuery = z.object({
    status: z.enum(['open', 'decided', 'all'], { error: 'must be open, decided or all' }).default('open'),
    device: z.string().min(1).max(64).optional(),
    from: deps.time,
    to: deps.time,
    limit: z.coerce.number().int().min(1).max(10_000).default(500),
  });

  app.get('/api/intervals/review', { preHandler: deps.access.requireUser }, async (req, reply) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return reply.code(400).send({ error: 'invalid query', issues: zodToFieldErrors(q.error) });
    const window = { from: q.data.from ?? EARLIEST_MS, to: q.data.to ?? Date.now() + 86_400_000 };
    const sites = deps.access.sitesOf(req);
    if (sites === null) return deps.budget.run((signal) => deps.accounts.queue.list(window, { status: q.data.status, device: q.data.device, limit: q.data.limit, signal }));
    if (q.data.device && !(await deps.access.device(req, q.data.device))) return reply.code(404).send({ error: 'not found', issues: [{ field: 'device', reason: `no device "${q.data.device}" among your sites` }] });
    // an operator: its sites' items only (the queue is bounded: it reads at most 10,000 held-out intervals)
    const items = await deps.budget.run((signal) => deps.accounts.queue.list(window, { status: q.data.status, device: q.data.device, limit: 10_000, signal }));
    return items.filter((i) => sites.includes(i.site)).slice(0, q.data.limit);
  });

  const decisionBody = z.strictObject({
    device: z.string({ error: 'required' }).min(1).max(64),
    counter: z.string({ error: 'required' }).min(1).max(64),
    t1: z.union([z.string(), z.number().int()], { error: 'required: the end of the interval (ISO 8601 with offset, or epoch ms)' }),
    seq1: z.number().int().min(0).nullable().optional(),
    decision: z.enum(['accept', 'reject'], { error: 'must be accept (count it) or reject (keep it out)' }),
    reason: z.string({ error: 'required: why' }).trim().min(3, { error: 'say why, in a few words' }).max(500),
    by: z.string({ error: 'required: who decides' }).trim().min(1).max(100),
  });

  app.post('/api/intervals/review', { preHandler: deps.requireAdmin }, async (req, reply) => {
    const b = decisionBody.safeParse(req.body ?? {});
    const sentT1 = (req.body as { t1?: unknown } | null)?.t1;
    const t1 = typeof sentT1 === 'string' || typeof sentT1 === 'number' ? deps.time.safeParse(String(sentT1)) : null;
    const issues = [...(b.success ? [] : zodToFieldErrors(b.error)), ...(t1 && !t1.success ? zodToFieldErrors(t1.error, 't1') : [])];
    if (!b.success || !t1?.success || t1.data === undefined) return reply.code(400).send({ error: 'invalid body', issues });
    try {
      const { decision, months } = await deps.accounts.queue.decide({ ...b.data, t1: t1.data, seq1: b.data.seq1 ?? null });
      const cause: ReviewCause = {
        review: {
          id: decision.id, device: decision.device, counter: decision.counter, t0: new Date(decision.t0).toISOString(), t1: new Date(decision.t1).toISOString(),
          amount: decision.amount, decision: decision.decision, reason: decision.reason, by: decision.by,
        },
      };
      const restated = await deps.restateForReview(months, cause);
      return reply.code(201).send({ decision: cause.review, decided_at: decision.decidedAt, restated: restated.map((r) => ({ month: r.month, revision: r.revision, created: r.created })) });
    } catch (err) {
      if (err instanceof IntervalNotHeldOutError) return reply.code(404).send({ error: 'not found', reason: err.message });
      throw err;
    }
  });
}
