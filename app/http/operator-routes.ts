import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Accounts } from '../../accounting/accounts.js';
import { KINDS } from '../../devices/kinds.js';
import { DuplicateOperatorError, parseNewOperator, type Operator, type OperatorStore } from '../../devices/operators.js';
import { zodToFieldErrors } from '../../devices/payload.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import { ID_PATTERN, topicFor } from '../../devices/topics.js';
import { DeviceActivity } from '../../ingest/device-activity.js';
import type { DeviceStatusBoard } from '../../ingest/device-status.js';
import type { Quarantine } from '../../ingest/quarantine.js';
import { SESSION_COOKIE, type Access } from './access.js';
import { OVERVIEW_STATUSES, overviewRow, statusOf } from './device-overview.js';
import type { QueryBudget } from './query-budget.js';
import { SharedResults } from './shared-results.js';
import type { ReadingStore } from '../../store/types.js';

export interface OperatorRouteDeps {
  registry: DeviceRegistry;
  operators?: OperatorStore;
  statusBoard: DeviceStatusBoard;
  quarantine: Quarantine;
  activity?: DeviceActivity;
  /** where a device's latest reading is read back after a restart (the counts in memory start empty) */
  store?: ReadingStore;
  accounts: Accounts;
  log: Logger;
  access: Access;
  requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  budget: QueryBudget;
  /** the listeners' ports (the page's ready `mosquitto_pub` line needs the MQTT one) */
  listeners?: () => { mqtt?: number; ws?: number; ocpp?: number };
}

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public', 'operators');
/** The page's files live in the source tree next to this file (tsc does not copy them to dist/). */
const PAGE_DIRS = [PUBLIC_DIR, PUBLIC_DIR.replace(`${path.sep}dist${path.sep}`, path.sep)];
const PAGE_FILE = /^[a-z0-9-]+\.(js|css)$/;
const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', html: 'text/html; charset=utf-8' };

/** Open review items are counted for the table from one read of the queue, kept this long (the page polls). */
const REVIEW_COUNTS_MS = 10_000;
/** Latest rejections shown in a device's detail. */
const DETAIL_REJECTIONS = 20;
/** Held-out intervals awaiting review shown in a device's detail. */
const DETAIL_REVIEWS = 50;

const overviewQuery = z.object({
  site: z.string().regex(ID_PATTERN, { error: 'must be a site id' }).optional(),
  kind: z.enum(KINDS, { error: `must be one of ${KINDS.join(', ')}` }).optional(),
  status: z.enum(OVERVIEW_STATUSES, { error: `must be one of ${OVERVIEW_STATUSES.join(', ')}` }).optional(),
  q: z.string().max(64, { error: 'must be at most 64 characters' }).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int({ error: 'must be a whole number' }).min(1, { error: 'must be 1 to 500' }).max(500, { error: 'must be 1 to 500' }).default(100),
  offset: z.coerce.number({ error: 'must be a number' }).int({ error: 'must be a whole number' }).min(0, { error: 'must be 0 or more' }).max(1_000_000, { error: 'must be at most 1000000' }).default(0),
});

/** "required: …" when absent, else what the value must be. */
const needed = (required: string, type = 'must be a string') => (iss: { input?: unknown }) => (iss.input === undefined ? required : type);

const loginBody = z.union([
  z.strictObject({
    id: z.string({ error: needed('required: your operator id') }).min(1, { error: 'required: your operator id' }).max(64, { error: 'must be at most 64 characters' }),
    secret: z.string({ error: needed('required: your operator secret') }).min(1, { error: 'required: your operator secret' }).max(256, { error: 'must be at most 256 characters' }),
  }),
  z.strictObject({ token: z.string({ error: needed('required: the admin token') }).min(1, { error: 'required: the admin token' }).max(512, { error: 'must be at most 512 characters' }) }),
]);

const disableBody = z.strictObject({
  reason: z.string({ error: needed('required: why the device is disabled', 'must be a string: why the device is disabled') }).trim().min(3, { error: 'say why, in a few words' }).max(500, { error: 'must be at most 500 characters' }),
  by: z.string({ error: 'must be a string (who disables it)' }).trim().min(1, { error: 'must not be empty' }).max(100, { error: 'must be at most 100 characters' }).optional(),
});

/** Field errors of a body that is not an object (or is missing): named `body`. */
function notAnObject(body: unknown): { field: string; reason: string }[] | null {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? null : [{ field: 'body', reason: 'must be a JSON object' }];
}

/** `{"id","secret"}` or `{"token"}`: each problem by its field (zod's union would report them together). */
function loginIssues(body: unknown): { field: string; reason: string }[] {
  const bad = notAnObject(body);
  if (bad) return bad;
  const one = 'token' in (body as object) ? loginBody.options[1] : loginBody.options[0];
  const r = one.safeParse(body);
  if (r.success) return [];
  return r.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: k.slice(0, 64) || '""', reason: 'is not a field of a login: send {"id","secret"} (an operator) or {"token"} (the admin)' }))
      : zodToFieldErrors(new z.ZodError([i])),
  );
}

function whoami(p: ReturnType<Access['principal']>) {
  return p.kind === 'admin' ? { role: 'admin' as const, sites: null } : { role: 'operator' as const, id: p.operator.id, name: p.operator.name, sites: p.operator.sites };
}

const operatorJson = (o: Operator) => ({ id: o.id, name: o.name, sites: o.sites, created_at: o.createdAt });

/**
 * The operator view's API and page (README, "Operators"):
 * - operators (admin): `POST/GET /api/operators`, `DELETE /api/operators/:id`;
 * - the page's login: `POST /api/operators/session` (`{"id","secret"}` or `{"token"}`) sets the session cookie,
 *   `GET` says who is logged in, `DELETE` logs out;
 * - `GET /api/operators/devices` (the overview, filtered and paged) and `GET /api/operators/devices/:id` (with
 *   the latest rejections and warnings and the intervals awaiting review);
 * - `POST /api/devices/:id/secret` (rotate), `/disable`, `/enable`;
 * - the page itself, `GET /operators` and its modules `/operators/<name>.js`.
 * Every device endpoint answers an operator only for its sites' devices (404 for another site's, as for an unknown id).
 */
export function registerOperatorRoutes(app: FastifyInstance, deps: OperatorRouteDeps): void {
  const { access, registry } = deps;
  const activity = deps.activity ?? new DeviceActivity();
  const requireUser = access.requireUser;
  const notFound = (reply: FastifyReply, id: string) => reply.code(404).send({ error: 'not found', issues: [{ field: 'id', reason: `no device "${id.slice(0, 64)}" among your sites` }] });

  // ---- operators (admin) ----
  app.post('/api/operators', { preHandler: deps.requireAdmin }, async (req, reply) => {
    if (!deps.operators) return reply.code(503).send({ error: 'unavailable', reason: 'operators are not kept by this service' });
    const parsed = parseNewOperator(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: 'invalid body', issues: parsed.errors });
    try {
      const { operator, secret } = await deps.operators.add(parsed.data);
      deps.log.info({ operator: operator.id, sites: operator.sites }, 'operator added');
      return reply.code(201).send({ ...operatorJson(operator), secret });
    } catch (err) {
      if (err instanceof DuplicateOperatorError) return reply.code(409).send({ error: 'conflict', reason: err.message });
      throw err;
    }
  });

  app.get('/api/operators', { preHandler: deps.requireAdmin }, async () => ((await deps.operators?.list()) ?? []).map(operatorJson));

  app.delete<{ Params: { id: string } }>('/api/operators/:id', { preHandler: deps.requireAdmin }, async (req, reply) => {
    if (!(await deps.operators?.remove(req.params.id))) return reply.code(404).send({ error: 'not found', issues: [{ field: 'id', reason: `no operator "${req.params.id.slice(0, 64)}"` }] });
    access.sessions.endOwner(req.params.id);
    deps.log.info({ operator: req.params.id }, 'operator removed');
    return reply.code(204).send();
  });

  // ---- the page's session ----
  app.post('/api/operators/session', async (req, reply) => {
    const issues = loginIssues(req.body);
    if (issues.length > 0) return reply.code(400).send({ error: 'invalid body', issues });
    const body = req.body as { id?: string; secret?: string; token?: string };
    const verdict = body.token !== undefined ? access.checkAdmin(body.token, req.ip) : await access.checkOperator(body.id!, body.secret!, req.ip);
    if ('status' in verdict) {
      if (verdict.retryAfterS) void reply.header('retry-after', String(verdict.retryAfterS));
      return reply.code(verdict.status).send({ error: verdict.status === 429 ? 'too many requests' : 'unauthorized', reason: verdict.reason });
    }
    const owner = 'operator' in verdict ? { kind: 'operator' as const, id: verdict.operator.id } : { kind: 'admin' as const };
    const session = access.sessions.create(owner);
    deps.log.info({ who: 'operator' in verdict ? verdict.operator.id : 'admin' }, 'operator page login');
    void reply.header('set-cookie', `${SESSION_COOKIE}=${session.token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(access.sessions.ttlMs / 1000)}`);
    const principal = 'operator' in verdict ? { kind: 'operator' as const, operator: verdict.operator } : { kind: 'admin' as const };
    return { ...whoami(principal), expires_at: new Date(session.expiresAt).toISOString(), listeners: deps.listeners?.() ?? {} };
  });

  // 200 with `"role": null` when nobody is logged in: the page asks this first, and a 401 would be a console error there.
  app.get('/api/operators/session', async (req) => {
    const p = await access.resolve(req);
    if (!p || 'status' in p) return { role: null, reason: p?.reason ?? null };
    const token = access.sessionToken(req);
    const session = token ? access.sessions.get(token) : null;
    return { ...whoami(p), expires_at: session ? new Date(session.expiresAt).toISOString() : null, listeners: deps.listeners?.() ?? {} };
  });

  app.delete('/api/operators/session', async (req, reply) => {
    const token = access.sessionToken(req);
    if (token) access.sessions.end(token);
    return reply.code(204).header('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`).send();
  });

  // ---- the overview ----
  const reviewCounts = new SharedResults<Map<string, number>>({ ttlMs: REVIEW_COUNTS_MS, maxEntries: 1 });
  const openReviews = (): Promise<Map<string, number> | null> =>
    reviewCounts
      .get('open', () =>
        deps.budget
          .run((signal) => deps.accounts.queue.list({ from: Date.UTC(2000, 0, 1), to: Date.now() + 86_400_000 }, { status: 'open', limit: 10_000, signal }))
          .then((items) => {
            const m = new Map<string, number>();
            for (const i of items) m.set(i.device, (m.get(i.device) ?? 0) + 1);
            return m;
          })
          .catch((err: Error) => {
            deps.log.warn({ err: err.message }, 'operator view: the review queue could not be read now');
            throw err;
          }),
      )
      .catch(() => null);

  /**
   * Devices shown whose latest reading this process has not seen (after a restart): read back from the
   * store once each, newest first, limit 1 (the primary key's order), within the query budget. A busy
   * store leaves them unknown for this answer; the next poll asks again.
   */
  const fillLastReadings = async (devices: readonly { id: string }[]): Promise<void> => {
    const store = deps.store;
    const missing = devices.filter((d) => activity.needsLast(d.id));
    if (!store || missing.length === 0) return;
    await deps.budget
      .run(async (signal) => {
        const window = { from: 0, to: Date.now() + 86_400_000 };
        for (const d of missing) {
          const [r] = await store.readings(d.id, window, 1, { newestFirst: true, signal });
          activity.seedLast(d.id, r ? { ts: r.ts, seq: r.seq, receivedAt: r.receivedAt, values: { ...r.fields, ...r.extras } } : null);
        }
      })
      .catch((err: Error) => deps.log.debug({ err: err.message }, 'operator view: latest readings not read back now'));
  };

  app.get('/api/operators/devices', { preHandler: requireUser }, async (req, reply) => {
    const q = overviewQuery.safeParse(req.query);
    if (!q.success) return reply.code(400).send({ error: 'invalid query', issues: zodToFieldErrors(q.error) });
    const f = q.data;
    if (f.site && !access.mayUseSite(req, f.site)) return reply.code(403).send({ error: 'forbidden', issues: [{ field: 'site', reason: `is not one of your sites (${(access.sitesOf(req) ?? []).join(', ')})` }] });
    const needle = f.q?.toLowerCase();
    const devices = access
      .visible(req, await registry.list())
      .filter((d) => d.role === 'device')
      .filter((d) => !f.site || d.site === f.site)
      .filter((d) => !f.kind || d.kind === f.kind)
      .filter((d) => !f.status || statusOf(d, deps.statusBoard.get(d.id)) === f.status)
      .filter((d) => !needle || d.id.toLowerCase().includes(needle) || (d.name ?? '').toLowerCase().includes(needle));
    const page = devices.slice(f.offset, f.offset + f.limit);
    const [counts] = await Promise.all([openReviews(), fillLastReadings(page)]);
    return {
      total: devices.length,
      offset: f.offset,
      limit: f.limit,
      sites: access.sitesOf(req) ?? [...new Set(devices.map((d) => d.site))].sort(),
      devices: page.map((d) => overviewRow(d, deps.statusBoard.get(d.id), activity.snapshot(d.id), counts ? (counts.get(d.id) ?? 0) : null)),
    };
  });

  app.get<{ Params: { id: string } }>('/api/operators/devices/:id', { preHandler: requireUser }, async (req, reply) => {
    const device = await access.device(req, req.params.id);
    if (!device) return notFound(reply, req.params.id);
    await fillLastReadings([device]);
    const [rejections, review] = await Promise.all([
      deps.quarantine.list({ device: device.id, limit: DETAIL_REJECTIONS }),
      deps.budget
        .run((signal) => deps.accounts.queue.list({ from: Date.UTC(2000, 0, 1), to: Date.now() + 86_400_000 }, { status: 'open', device: device.id, limit: DETAIL_REVIEWS, signal }))
        .catch(() => null),
    ]);
    return {
      device: overviewRow(device, deps.statusBoard.get(device.id), activity.snapshot(device.id), review ? review.length : null),
      params: device.params,
      topic: topicFor(device.site, device.id, 'telemetry'),
      rejections: rejections.map((r) => ({ id: r.id, received_at: r.receivedAt, topic: r.topic, errors: r.errors, raw: r.raw })),
      warnings: activity.warnings(device.id),
      review,
    };
  });

  // ---- rotate, disable, enable ----
  app.post<{ Params: { id: string } }>('/api/devices/:id/secret', { preHandler: requireUser }, async (req, reply) => {
    const device = await access.device(req, req.params.id);
    if (!device) return notFound(reply, req.params.id);
    const secret = await registry.rotateSecret(device.id);
    deps.log.info({ device: device.id, by: whoami(access.principal(req)) }, 'device secret rotated; its connections were closed');
    return { id: device.id, secret, topic: topicFor(device.site, device.id, 'telemetry'), site: device.site };
  });

  app.post<{ Params: { id: string } }>('/api/devices/:id/disable', { preHandler: requireUser }, async (req, reply) => {
    const bad = notAnObject(req.body);
    if (bad) return reply.code(400).send({ error: 'invalid body', issues: [{ field: 'reason', reason: 'required: send {"reason": "…"}' }] });
    const b = disableBody.safeParse(req.body);
    if (!b.success) return reply.code(400).send({ error: 'invalid body', issues: zodToFieldErrors(b.error) });
    const device = await access.device(req, req.params.id);
    if (!device) return notFound(reply, req.params.id);
    const p = access.principal(req);
    const by = p.kind === 'admin' ? (b.data.by ?? 'admin') : `${b.data.by ?? p.operator.name} (operator ${p.operator.id})`;
    const now = await registry.setDisabled(device.id, { reason: b.data.reason, by });
    if (!now) return notFound(reply, req.params.id);
    deps.log.info({ device: device.id, reason: b.data.reason, by }, 'device disabled; its connections were closed');
    return overviewRow(now, deps.statusBoard.get(now.id), activity.snapshot(now.id), null);
  });

  app.post<{ Params: { id: string } }>('/api/devices/:id/enable', { preHandler: requireUser }, async (req, reply) => {
    const device = await access.device(req, req.params.id);
    if (!device) return notFound(reply, req.params.id);
    const now = await registry.setDisabled(device.id, null);
    if (!now) return notFound(reply, req.params.id);
    deps.log.info({ device: device.id, by: whoami(access.principal(req)) }, 'device enabled');
    return overviewRow(now, deps.statusBoard.get(now.id), activity.snapshot(now.id), null);
  });

  // ---- the page ----
  const send = (name: string, reply: FastifyReply) => {
    for (const dir of PAGE_DIRS) {
      const file = path.resolve(dir, name);
      if (path.dirname(file) !== path.resolve(dir)) break;
      if (fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return reply.header('content-type', TYPES[name.split('.').pop()!] ?? 'application/octet-stream').header('cache-control', 'no-cache').send(fs.createReadStream(file));
    }
    return reply.code(404).send({ error: 'not found' });
  };
  app.get('/operators', async (_req, reply) => send('index.html', reply));
  app.get('/operators/', async (_req, reply) => send('index.html', reply));
  app.get<{ Params: { file: string } }>('/operators/:file', async (req, reply) => (PAGE_FILE.test(req.params.file) ? send(req.params.file, reply) : reply.code(404).send({ error: 'not found' })));
}
