import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { MAX_REGISTRATIONS, itemField, parseRegistrations, type ItemError } from '../../devices/bulk.js';
import { DuplicateIdError, DuplicateIdsError, parseRegistration, type DeviceRegistry, type KnownMeasure } from '../../devices/registry.js';
import type { Access } from './access.js';

/** One registration's body, at most (the service's bound for every other body). */
export const SINGLE_BODY_BYTES = 256 * 1024;
/** A list of registrations' body, at most: 20,000 items of ~800 bytes. */
export const LIST_BODY_BYTES = 16 * 1024 * 1024;

const TOO_LARGE = 'Request body is too large';
const SIZE_RULE = `one registration is at most ${SINGLE_BODY_BYTES / 1024} KiB; a list (at most ${MAX_REGISTRATIONS} registrations) at most ${LIST_BODY_BYTES / 1024 / 1024} MiB`;

/**
 * `POST /api/devices`: one registration (an object: 201 with `{"id","secret","topic"}`, exactly as before)
 * or many (a JSON array of up to MAX_REGISTRATIONS: 201 with one such object per item, in order). A list is
 * all or nothing: 400 names every bad item as `[index].field` (a repeated id too), 403 every item at a site
 * the operator does not hold, 409 every id already registered; then nothing is registered.
 */
export function registerDeviceRegistrationRoute(
  app: FastifyInstance,
  deps: { registry: DeviceRegistry; access: Access; log: Logger; knownMeasures: () => Promise<KnownMeasure[]> },
): void {
  const { registry, access, log } = deps;
  const bodyBytes = new WeakMap<FastifyRequest, number>();

  app.post(
    '/api/devices',
    {
      // who asks is known before a body of up to 16 MiB is read and parsed
      onRequest: access.requireUser,
      bodyLimit: LIST_BODY_BYTES,
      // the body's size, so one registration keeps its smaller bound (the route's limit is the list's)
      preParsing: async (req, _reply, payload) => {
        const counted = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bodyBytes.set(req, (bodyBytes.get(req) ?? 0) + chunk.length);
            cb(null, chunk);
          },
        });
        payload.on('error', (err) => counted.destroy(err));
        return payload.pipe(counted);
      },
      errorHandler: (err: Error & { code?: string }, _req, reply) => {
        if (err.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw err;
        return reply.code(413).send({ error: TOO_LARGE, reason: SIZE_RULE });
      },
    },
    async (req, reply) => {
      if (Array.isArray(req.body)) return registerList(req, reply, req.body);
      if ((bodyBytes.get(req) ?? 0) > SINGLE_BODY_BYTES) return reply.code(413).send({ error: TOO_LARGE, reason: SIZE_RULE });
      const body = parseRegistration(req.body ?? {}, await deps.knownMeasures());
      if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: body.errors });
      const denied = access.registrationDenied(req, body.data);
      if (denied) return reply.code(403).send({ error: 'forbidden', issues: [denied] });
      try {
        const reg = await registry.register(body.data);
        log.info({ id: reg.id }, 'device registered');
        return reply.code(201).send(reg);
      } catch (err) {
        if (err instanceof DuplicateIdError) return reply.code(409).send({ error: 'conflict', reason: err.message });
        throw err;
      }
    },
  );

  async function registerList(req: FastifyRequest, reply: FastifyReply, items: unknown[]) {
    const parsed = await parseRegistrations(items, await deps.knownMeasures());
    if (!parsed.success) {
      const issues = parsed.listError ? [{ field: 'body', reason: parsed.listError }] : parsed.errors;
      return reply.code(400).send({ error: 'invalid body', reason: 'nothing was registered', issues });
    }
    const denied: ItemError[] = [];
    parsed.data.forEach((d, index) => {
      const why = access.registrationDenied(req, d);
      if (why) denied.push({ index, field: itemField(index, why.field), reason: why.reason });
    });
    if (denied.length > 0) return reply.code(403).send({ error: 'forbidden', reason: 'nothing was registered', issues: denied });
    try {
      const started = performance.now();
      const regs = await registry.registerMany(parsed.data);
      log.info({ count: regs.length, ms: Math.round(performance.now() - started) }, 'devices registered (a list)');
      return reply.code(201).send(regs);
    } catch (err) {
      if (!(err instanceof DuplicateIdsError)) throw err;
      const issues = err.taken.map((t) => ({ index: t.index, field: itemField(t.index, 'id'), reason: `"${t.id}" is already registered` }));
      return reply.code(409).send({ error: 'conflict', reason: err.message, issues });
    }
  }
}
