import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Accounts } from '../../accounting/accounts.js';
import { ANNUAL_CONTENT_TYPES, ANNUAL_FORMATS, renderAnnual, yearProblem, type StoredAnnualReport } from '../../accounting/reports/annual/index.js';
import { zodToFieldErrors } from '../../devices/payload.js';
import { PdfRenderError, PdfUnavailableError } from '../../lib/html-to-pdf.js';
import { HttpError, type QueryBudget } from './query-budget.js';

export interface ReportRouteDeps {
  accounts: Accounts;
  /** the server's bound on public requests' store and database work */
  budget: QueryBudget;
  timeZone: string;
}

/** PDFs printed at once, at most (each is a headless Chromium); more are told to come back. */
const MAX_PDF_RENDERS = 2;

/**
 * The annual progress report over HTTP (public, like the monthly rollups):
 * `GET /api/reports/annual?year=YYYY&format=json|csv|html|pdf&revision=N`. Without `revision`, the
 * report on the year's current basis (a new revision is stored when a month was restated since the
 * last one); with it, that stored revision as it was. The database and store work runs within the
 * server's query budget; a PDF is printed from the HTML by headless Chromium (503 naming the reason
 * when Chromium is missing or fails).
 */
export function registerReportRoutes(app: FastifyInstance, deps: ReportRouteDeps): void {
  const query = z.object({
    year: z
      .string({ error: (iss) => (iss.input === undefined ? 'required (YYYY)' : 'must be one year YYYY') })
      .superRefine((v, ctx) => {
        const problem = yearProblem(v, deps.timeZone);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .transform(Number),
    format: z.enum(ANNUAL_FORMATS, { error: `must be one of ${ANNUAL_FORMATS.join(', ')}` }).default('json'),
    revision: z.coerce.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(1, { error: 'must be 1 or more (revisions are numbered from 1)' }).optional(),
  });
  let pdfRenders = 0;

  app.get('/api/reports/annual', async (req, reply) => {
    const q = query.safeParse(req.query);
    if (!q.success) return reply.code(400).send({ error: 'invalid query', issues: zodToFieldErrors(q.error) });
    const { year, format, revision } = q.data;
    const annual = deps.accounts.annual;

    let stored: StoredAnnualReport | undefined;
    if (revision !== undefined) {
      stored = await deps.budget.run(() => annual.get(year, revision));
      if (!stored) {
        const latest = await annual.latestRevision(year);
        const reason = latest === undefined
          ? `${year} has no annual report revision ${revision}: none has been made yet (ask without revision to make the first)`
          : `${year} has no annual report revision ${revision} (the latest is ${latest})`;
        return reply.code(404).send({ error: 'not found', reason });
      }
    } else {
      const current = await deps.budget.run((signal) => annual.current(year, { signal }));
      if (!current) {
        return reply.code(404).send({
          error: 'not found',
          reason: `no month of ${year} has been rolled up yet: roll months up first (months are rolled up after they close; on demand: netzero rollup --month ${year}-01, or POST /api/rollups/monthly?month=${year}-01)`,
        });
      }
      stored = current.report;
    }
    const report = await annual.view(stored, { tz: deps.timeZone, generatedAt: new Date() });

    let body: string | Buffer;
    if (format === 'pdf') {
      if (pdfRenders >= MAX_PDF_RENDERS) throw new HttpError(503, `${pdfRenders} PDFs are being printed already (at most ${MAX_PDF_RENDERS} at once); try again shortly`, 5);
      pdfRenders++;
      try {
        body = await renderAnnual(report, 'pdf');
      } catch (err) {
        if (err instanceof PdfUnavailableError || err instanceof PdfRenderError) throw new HttpError(503, err.message, 30);
        throw err;
      } finally {
        pdfRenders--;
      }
    } else {
      body = await renderAnnual(report, format);
    }
    void reply.header('content-type', ANNUAL_CONTENT_TYPES[format]).header('x-netzero-annual-revision', String(stored.revision));
    if (format === 'csv' || format === 'pdf') void reply.header('content-disposition', `inline; filename="netzero-annual-${year}-r${stored.revision}.${format}"`);
    return reply.send(body);
  });
}
