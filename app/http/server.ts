import fs from 'node:fs';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Accounts } from '../../accounting/accounts.js';
import { newFactorSchema, type FactorVersion } from '../../accounting/factors/types.js';
import type { ComputeResult, ReviewCause } from '../../accounting/rollups/monthly.js';
import { MONTH_PATTERN, monthOf, thisMonthSoFar } from '../../accounting/periods.js';
import { STREAMS } from '../../accounting/streams/index.js';
import { zodToFieldErrors, type FieldError } from '../../devices/payload.js';
import { keyAsField, type DeviceRegistry } from '../../devices/registry.js';
import type { DeviceStatusBoard } from '../../ingest/device-status.js';
import type { Quarantine } from '../../ingest/quarantine.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ISO_WITH_OFFSET, parseIsoWithOffset } from '../../lib/time.js';
import type { ReadingStore } from '../../store/types.js';
import type { Summary } from '../../accounting/ledger/ledger.js';
import { LiveSummary } from './live.js';
import { SharedResults } from './shared-results.js';
import { HttpError, QueryBudget } from './query-budget.js';
import { registerReviewRoutes } from './review-routes.js';
import { registerReportRoutes } from './report-routes.js';
import { registerImportRoutes } from './import-routes.js';
import { Access } from './access.js';
import { registerOperatorRoutes } from './operator-routes.js';
import { registerDeviceRegistrationRoute } from './device-registration.js';
import type { OperatorStore } from '../../devices/operators.js';
import type { DeviceActivity } from '../../ingest/device-activity.js';
import { registerOfficeRoutes } from './office-routes.js';
import type { CsvImportSource } from '../../ingest/sources/csv-import.js';

export interface HttpDeps {
  registry: DeviceRegistry;
  store: ReadingStore;
  quarantine: Quarantine;
  /** the connection state of devices the service reaches itself (OCPP chargers, Modbus devices) */
  statusBoard: DeviceStatusBoard;
  /** CSV backfill (`POST /api/devices/:id/import`, app/http/import-routes.ts): the ingest source that runs imports */
  imports?: CsvImportSource;
  /** the service's metrics registry, every room's metrics on it */
  metrics: Registry;
  log: Logger;
  accounts: Accounts;
  adminToken: string;
  timeZone: string;
  /** the rooms' verdicts (broker, ingest, store: all must hold) and facts that do not decide up or down (InfluxDB reachable, spool depth) */
  health: () => { up: boolean; verdict: Record<string, boolean>; details: Record<string, unknown> };
  /** restates the rolled-up months a new factor version may change (serialised with the scheduler) */
  restateForFactor: (version: FactorVersion) => Promise<ComputeResult[]>;
  /** restates the rolled-up months a review decision touches (serialised with the scheduler) */
  restateForReview: (months: string[], cause: ReviewCause) => Promise<ComputeResult[]>;
  /** an on-demand rollup, queued with the scheduler's jobs so revisions never collide */
  computeRollup: (month: string) => Promise<ComputeResult>;
  /** bounds on what one request may ask of the store (`NETZERO_HTTP_*` settings) */
  limits: HttpLimits;
  /** site-scoped operator logins (app/http/access.ts, operator-routes.ts); absent: only the admin token */
  operators?: OperatorStore;
  /** per-device counts and latest reading for the operator view (ingest/device-activity.ts) */
  activity?: DeviceActivity;
  /** the listeners' ports, for the operator page's ready `mosquitto_pub` line */
  listeners?: () => { mqtt?: number; ws?: number; ocpp?: number };
}

export interface HttpLimits {
  /** store queries of public requests running at once, at most */
  maxQueries: number;
  /** time one request's queries may take, ms */
  queryBudgetMs: number;
  /** the longest period `/api/summary` answers for, days */
  maxSummaryDays: number;
}

/** Times in queries must lie in this range (the contract's readings start in 2000; no date past 2100 is meaningful). */
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = Date.UTC(2100, 0, 1);

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
/** The page and its vendored chart library live in the source tree next to this file (copied or not by tsc). */
const PUBLIC_DIRS = [PUBLIC_DIR, PUBLIC_DIR.replace(`${path.sep}dist${path.sep}`, path.sep)];

/** Time in a query: ISO 8601 with offset (strictly: 2026-02-30 is refused, not rolled over), or epoch ms. */
const timeParam = z
  .string()
  .transform((v, ctx) => {
    if (/^\d+$/.test(v)) {
      const ms = Number(v);
      if (ms >= EARLIEST_MS && ms < LATEST_MS) return ms;
      ctx.addIssue({ code: 'custom', message: `must lie between 2000-01-01 and 2100-01-01 (epoch ms ${EARLIEST_MS} to ${LATEST_MS}), got ${v.slice(0, 20)}` });
      return z.NEVER;
    }
    if (!ISO_WITH_OFFSET.test(v)) {
      ctx.addIssue({ code: 'custom', message: `must be ISO 8601 with an offset (e.g. 2026-11-22T10:00:00+08:00) or epoch milliseconds, got "${v.slice(0, 40)}"` });
      return z.NEVER;
    }
    const parsed = parseIsoWithOffset(v);
    if ('reason' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.reason });
      return z.NEVER;
    }
    if (parsed.ms < EARLIEST_MS || parsed.ms >= LATEST_MS) {
      ctx.addIssue({ code: 'custom', message: `must lie between 2000-01-01 and 2100-01-01, got "${v.slice(0, 40)}"` });
      return z.NEVER;
    }
    return parsed.ms;
  })
  .optional();

const windowQuery = z.object({ from: timeParam, to: timeParam });
const limitParam = z.coerce.number().int().min(1).max(10_000).default(100);

function badRequest(reply: FastifyReply, error: z.ZodError, where: 'body' | 'query') {
  return reply.code(400).send({ error: `invalid ${where}`, issues: zodToFieldErrors(error) });
}

/**
 * A factor version as the HTTP API and `netzero factors list --json` answer it: snake_case like the rest of
 * the API and like the body `POST /api/factors` takes (`data_year`, `valid_from`, `published_at`, …).
 */
export function factorJson(v: FactorVersion) {
  return {
    id: v.id,
    name: v.name,
    variant: v.variant,
    version: v.version,
    value: v.value,
    unit: v.unit,
    data_year: v.dataYear,
    valid_from: v.validFrom,
    valid_to: v.validTo,
    published_at: v.publishedAt,
    source: v.source,
    status: v.status,
    note: v.note,
    created_at: v.createdAt,
  };
}

/** The fields of `POST /api/factors`; the camelCase names `GET /api/factors` once answered map to them. */
const FACTOR_FIELDS = Object.keys(newFactorSchema.shape);
const CAMEL_FACTOR_FIELDS: Record<string, string> = { dataYear: 'data_year', validFrom: 'valid_from', validTo: 'valid_to', publishedAt: 'published_at' };
const ASSIGNED_FACTOR_FIELDS = ['id', 'version', 'created_at', 'createdAt'];

/** Keys of a factor body that are not fields of a new version: refused by name instead of silently dropped. */
function unknownFactorFields(body: unknown): FieldError[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [];
  return Object.keys(body)
    .filter((k) => !FACTOR_FIELDS.includes(k))
    .map((k) => ({
      field: keyAsField(k),
      reason: CAMEL_FACTOR_FIELDS[k]
        ? `is spelled ${CAMEL_FACTOR_FIELDS[k]} (the API is snake_case)`
        : ASSIGNED_FACTOR_FIELDS.includes(k)
          ? 'is assigned by the service; leave it out'
          : `is not a field of a factor version (${FACTOR_FIELDS.join(', ')})`,
    }));
}

export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  // forceCloseConnections: open SSE streams (/api/live) must not hold up a shutdown.
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024, forceCloseConnections: true });
  const live = new LiveSummary(deps);
  const budget = new QueryBudget({ maxConcurrent: deps.limits.maxQueries, budgetMs: deps.limits.queryBudgetMs });

  // Security headers on every answer: scripts and everything else only from this server (the page loads
  // nothing from elsewhere), never framed, no MIME sniffing. The page's one <style> block needs
  // 'unsafe-inline' for styles. No HSTS and no upgrade-insecure-requests: the service speaks plain HTTP
  // on an office network (TLS, where used, is a proxy's job), and upgrading would break the page there.
  void app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: false,
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof HttpError) {
      if (err.retryAfterS) void reply.header('retry-after', String(err.retryAfterS));
      return reply.code(err.statusCode).send({ error: err.statusCode === 503 ? 'unavailable' : 'error', reason: err.message });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) deps.log.error({ err: err.message, stack: err.stack }, 'http handler failed');
    void reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
  });

  const expected = Buffer.from(deps.adminToken);
  const requireAdmin = async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', reason: 'send the admin token as "Authorization: Bearer <token>" (see <data dir>/admin-token)' });
    }
  };

  // The device endpoints an operator may use take the admin or an operator (of those devices' sites): access.requireUser.
  const access = new Access({ adminToken: deps.adminToken, operators: deps.operators, registry: deps.registry });

  app.get('/healthz', async (_req, reply) => {
    const h = deps.health();
    return reply.code(h.up ? 200 : 503).send({ status: h.up ? 'ok' : 'unavailable', ...h.verdict, ...h.details });
  });

  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', deps.metrics.contentType).send(await deps.metrics.metrics());
  });

  // The measures a device may name: the budget's, the built-in ones and those added with `netzero measures add`.
  registerDeviceRegistrationRoute(app, { registry: deps.registry, access, log: deps.log, knownMeasures: () => deps.registry.knownMeasures(deps.accounts.budget.measures) });

  app.get('/api/devices', { preHandler: access.requireUser }, async (req) => access.visible(req, await deps.registry.list()));

  app.get('/api/devices/status', { preHandler: access.requireUser }, async (req) => access.visible(req, deps.statusBoard.list()));

  // Identical public requests within 2 s share one computation, as the office routes do: every open page
  // asks for the same month, and a month of a city's fleet takes a while (bench/README.md, "npm run
  // bench:rollup"). Up to 30 s old, the last result is answered at once while one new computation runs
  // behind it. The key is the query as asked: "now" is that computation's (its `to`).
  const summaries = new SharedResults<Summary>({ ttlMs: 2_000, staleMs: 30_000, maxEntries: 64 });
  app.get('/api/summary', async (req, reply) => {
    const q = windowQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, 'query');
    const now = Date.now();
    const dflt = thisMonthSoFar(now, deps.timeZone);
    const window = { from: q.data.from ?? dflt.from, to: q.data.to ?? now };
    if (window.to <= window.from) return reply.code(400).send({ error: 'invalid query', issues: [{ field: 'to', reason: 'must be after from' }] });
    const maxMs = deps.limits.maxSummaryDays * 86_400_000;
    if (window.to - window.from > maxMs) {
      return reply.code(400).send({ error: 'invalid query', issues: [{ field: 'from', reason: `the period is longer than ${deps.limits.maxSummaryDays} days; ask for a shorter one (monthly rollups hold the months before)` }] });
    }
    const { value, at } = await summaries.getWithTime(`${q.data.from ?? 'month-start'}|${q.data.to ?? 'now'}`, () => budget.run((signal) => deps.accounts.ledger.summary(window, { signal })));
    // how old the answer is, s (RFC 9111): a shared or earlier result, computed behind the next one
    return reply.header('Age', String(Math.max(0, Math.floor((Date.now() - at) / 1000)))).send(value);
  });

  const monthQuery = z.object({
    month: z.string({ error: 'required (YYYY-MM)' }).regex(MONTH_PATTERN, { error: 'must be YYYY-MM' }),
    revision: z.coerce.number().int().min(1).optional(),
  });

  app.get('/api/rollups/monthly', async (req, reply) => {
    const q = monthQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, 'query');
    const r = await deps.accounts.rollups.get(q.data.month, q.data.revision);
    if (!r) {
      const reason = q.data.revision
        ? `${q.data.month} has no revision ${q.data.revision}`
        : `${q.data.month} has not been rolled up yet (months are rolled up after they close; on demand: netzero rollup --month ${q.data.month})`;
      return reply.code(404).send({ error: 'not found', reason });
    }
    return r;
  });

  app.post('/api/rollups/monthly', { preHandler: requireAdmin }, async (req, reply) => {
    const q = monthQuery.pick({ month: true }).safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, 'query');
    if (q.data.month > monthOf(Date.now(), deps.timeZone)) {
      return reply.code(400).send({ error: 'invalid query', issues: [{ field: 'month', reason: 'is in the future' }] });
    }
    const r = await deps.computeRollup(q.data.month);
    return reply.code(r.created ? 201 : 200).send({ month: r.month, revision: r.revision, created: r.created, changes: r.changes, devices: r.rows.length });
  });

  app.get('/api/budget', async (req, reply) => {
    const q = z.object({ year: z.coerce.number().int().min(2000).max(2100).optional() }).safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, 'query');
    return budget.run((signal) => deps.accounts.progress({ year: q.data.year, signal }));
  });

  app.get('/api/factors', async () => (await deps.accounts.factors.list()).map(factorJson));

  app.get('/api/streams', async () =>
    STREAMS.map((s) => ({ id: s.id, name_zh: s.labels.zh, name_en: s.labels.en, short_en: s.labels.short_en, kind: s.kind })),
  );

  app.post('/api/factors', { preHandler: requireAdmin }, async (req, reply) => {
    const body = newFactorSchema.safeParse(req.body ?? {});
    const unknown = unknownFactorFields(req.body);
    if (!body.success || unknown.length > 0) {
      return reply.code(400).send({ error: 'invalid body', issues: [...(body.success ? [] : zodToFieldErrors(body.error).map((e) => (e.field === 'payload' ? { ...e, field: 'body' } : e))), ...unknown] });
    }
    const version = await deps.accounts.factors.add(body.data);
    deps.log.info({ id: version.id }, 'factor version added');
    const restated = await deps.restateForFactor(version);
    return reply.code(201).send({ version: factorJson(version), restated: restated.map((r) => ({ month: r.month, revision: r.revision, created: r.created })) });
  });

  registerReviewRoutes(app, { accounts: deps.accounts, requireAdmin, access, budget, time: timeParam, restateForReview: deps.restateForReview });
  registerReportRoutes(app, { accounts: deps.accounts, budget, timeZone: deps.timeZone });
  registerImportRoutes(app, { imports: deps.imports, store: deps.store, requireAdmin: access.requireUser, mayUse: async (req, id) => access.sitesOf(req) === null || (await access.device(req, id)), log: deps.log });
  registerOperatorRoutes(app, { ...deps, access, requireAdmin, budget });
  registerOfficeRoutes(app, { accounts: deps.accounts, registry: deps.registry, budget, time: timeParam, timeZone: deps.timeZone, maxDays: deps.limits.maxSummaryDays, livePushedAt: () => live.pushedAt });

  app.get('/api/live', (req, reply) => {
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const unsubscribe = live.subscribe((summary) => reply.raw.write(`event: summary\ndata: ${JSON.stringify(summary)}\n\n`));
    req.raw.on('close', unsubscribe);
  });

  const deviceWindow = z.object({ device: z.string().min(1), from: timeParam, to: timeParam, limit: limitParam });

  app.get('/api/quarantine', { preHandler: access.requireUser }, async (req, reply) => {
    const q = z.object({ device: z.string().optional(), limit: limitParam, before: z.coerce.number().int().optional() }).safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, 'query');
    // an operator sees its sites' devices' entries only (another site's device: 404, as an unknown one);
    // the admin also sees entries of ids that are not registered (telemetry from an unknown device lands here)
    if (q.data.device && access.sitesOf(req) !== null && !(await access.device(req, q.data.device))) return reply.code(404).send({ error: 'not found', issues: [{ field: 'device', reason: `no device "${q.data.device}" among your sites` }] });
    const scoped = access.sitesOf(req) === null || q.data.device ? undefined : access.visible(req, await deps.registry.list()).map((d) => d.id);
    // The quarantine keeps each device's newest entries; how many older ones were dropped is in a header.
    void reply.header('x-netzero-quarantine-dropped', String(await deps.quarantine.dropped(q.data.device ?? null)));
    return deps.quarantine.list({ device: q.data.device, devices: scoped, limit: q.data.limit, beforeId: q.data.before });
  });

  app.get('/api/readings', { preHandler: access.requireUser }, async (req, reply) => {
    const q = deviceWindow.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, 'query');
    if (access.sitesOf(req) !== null && !(await access.device(req, q.data.device))) return reply.code(404).send({ error: 'not found', issues: [{ field: 'device', reason: `no device "${q.data.device}" among your sites` }] });
    const window = { from: q.data.from ?? EARLIEST_MS, to: q.data.to ?? Date.now() + 3_600_000 };
    const rows = await budget.run((signal) => deps.store.readings(q.data.device, window, q.data.limit, { signal }));
    return rows.map((r) => ({ ...r, ts: new Date(r.ts).toISOString(), receivedAt: new Date(r.receivedAt).toISOString() }));
  });

  app.get('/api/intervals', { preHandler: access.requireUser }, async (req, reply) => {
    const q = deviceWindow.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, 'query');
    if (access.sitesOf(req) !== null && !(await access.device(req, q.data.device))) return reply.code(404).send({ error: 'not found', issues: [{ field: 'device', reason: `no device "${q.data.device}" among your sites` }] });
    const window = { from: q.data.from ?? EARLIEST_MS, to: q.data.to ?? Date.now() + 3_600_000 };
    const rows = await budget.run((signal) => deps.store.intervals(q.data.device, window, { limit: q.data.limit, signal }));
    return rows.map((i) => ({ ...i, t0: new Date(i.t0).toISOString(), t1: new Date(i.t1).toISOString() }));
  });

  /** A file of the public folder by its bare name: no directories, nothing outside the folder. */
  const sendFile = (name: string, type: string, reply: FastifyReply) => {
    for (const dir of PUBLIC_DIRS) {
      const file = path.resolve(dir, name);
      if (path.dirname(file) !== path.resolve(dir)) break;
      if (fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return reply.header('content-type', type).send(fs.createReadStream(file));
    }
    return reply.code(404).send({ error: 'not found' });
  };
  app.get('/', async (_req, reply) => sendFile('index.html', 'text/html; charset=utf-8', reply));
  // The office view's browser modules: the page loads office.js (the main one), which imports the others as
  // /<name>.js. Only names of lower-case letters, digits and dashes, so never a path; anything else is a 404.
  const MODULE_NAME = /^[a-z0-9-]+\.js$/;
  app.get<{ Params: { module: string } }>('/:module(^[a-z0-9-]+).js', async (req, reply) => {
    const name = `${req.params.module}.js`;
    if (!MODULE_NAME.test(name)) return reply.code(404).send({ error: 'not found' });
    return sendFile(name, 'text/javascript; charset=utf-8', reply);
  });
  app.get('/vendor/echarts.min.js', async (_req, reply) => {
    const file = fileURLToPath(import.meta.resolve('echarts/dist/echarts.min.js'));
    return reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'max-age=86400').send(fs.createReadStream(file));
  });

  app.addHook('onClose', async () => {
    live.close();
    access.close();
  });
  return app;
}
