import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { parseImportOptions, type RawOptions } from '../../ingest/csv/options.js';
import { MAX_LISTED, type ImportReport } from '../../ingest/csv/report.js';
import { DeviceDisabledError, ImportBusyError, ImportInputError, UnknownDeviceError, type CsvImportSource } from '../../ingest/sources/csv-import.js';
import type { ReadingStore } from '../../store/types.js';

export interface ImportRouteDeps {
  /** the ingest source that runs imports; absent: the endpoint answers 503 */
  imports?: CsvImportSource;
  store: ReadingStore;
  requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** the device if the request may import for it (an operator: its sites' devices); null → 404 */
  mayUse?: (req: FastifyRequest, id: string) => Promise<unknown>;
  log: Logger;
}

/** The largest CSV body one request may send: a year of 5-minute data with room to spare (the command line sends 1,000 rows a request). */
export const IMPORT_MAX_BYTES = 8 * 1024 * 1024;
/** A body that sends nothing for this long is given up (a stalled client must not hold the device's import). */
export const IMPORT_IDLE_MS = 30_000;
/** How long the answer waits for a remote store to drain, to list the intervals that are not `ok`. */
const SETTLE_MS = 10_000;

class BodyError extends Error {
  constructor(
    readonly status: 408 | 413,
    message: string,
  ) {
    super(message);
  }
}

/** The body, refused past `max` bytes or after `idleMs` without data. */
async function* bounded(body: Readable, max: number, idleMs: number): AsyncGenerator<Buffer> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let bytes = 0;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BodyError(408, `sent nothing for ${idleMs / 1000} s`)), idleMs);
    });
    let next: IteratorResult<Buffer | string>;
    try {
      next = await Promise.race([it.next(), stalled]);
    } catch (err) {
      body.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (next.done) return;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    bytes += chunk.length;
    if (bytes > max) {
      body.destroy();
      throw new BodyError(413, `is over ${max} bytes: send the file in slices (netzero import does), each with the header row and first_line`);
    }
    yield chunk;
  }
}

/** The intervals around the imported readings that are not `ok` (a reset, a jump, an implausible amount, …): what the operator should look at. */
async function warningsOf(store: ReadingStore, device: string, range: { from: number; to: number } | null, log: Logger): Promise<ImportReport['warnings']> {
  if (!range) return [];
  try {
    await store.settled(SETTLE_MS);
    const intervals = await store.intervals(device, { from: range.from - 1, to: range.to + 1 }, { limit: 500_000 });
    return intervals
      .filter((i) => i.quality !== 'ok')
      .slice(0, MAX_LISTED)
      .map((i) => ({ counter: i.counter, quality: i.quality, t0: new Date(i.t0).toISOString(), t1: new Date(i.t1).toISOString(), amount: i.amount, reason: i.reason }));
  } catch (err) {
    log.warn({ device, err: (err as Error).message }, 'import: could not list the intervals of the imported range');
    return [];
  }
}

/**
 * `POST /api/devices/:id/import` (admin): a CSV file as a `text/csv` body, imported for the device through
 * the ingest pipeline (ingest/sources/csv-import.ts); the answer is the report (`ingest/csv/report.ts`).
 * The settings are query parameters (`map`, `tz`, `date_format`, `consumption`, `period`, `period_ts`,
 * `counter_start`, and for a slice of a larger file `first_line` and `series_at`), each refused by name.
 * Bounded: `IMPORT_MAX_BYTES` per body, `IMPORT_IDLE_MS` without data, one import per device at a time.
 */
export function registerImportRoutes(app: FastifyInstance, deps: ImportRouteDeps): void {
  void app.register(async (scope) => {
    // The body is read as it arrives (csv-parse streams it), never buffered whole.
    scope.addContentTypeParser(['text/csv', 'application/csv', 'text/plain'], (_req, payload, done) => done(null, payload));

    scope.post<{ Params: { id: string }; Querystring: RawOptions }>('/api/devices/:id/import', { preHandler: deps.requireAdmin }, async (req, reply) => {
      if (!deps.imports) return reply.code(503).send({ error: 'unavailable', reason: 'CSV import is not running in this service' });
      if (deps.mayUse && !(await deps.mayUse(req, req.params.id))) return reply.code(404).send({ error: 'not found', issues: [{ field: 'id', reason: `no device "${req.params.id.slice(0, 64)}" among your sites` }] });
      if ((req.body === undefined || req.body === null) && /^(text|application)\/(csv|plain)\b/.test(req.headers['content-type'] ?? '')) {
        return reply.code(400).send({ error: 'invalid body', issues: [{ field: 'body', reason: 'is empty: send the CSV with its header row' }] });
      }
      if (!(req.body instanceof Readable)) {
        return reply.code(415).send({ error: 'unsupported media type', issues: [{ field: 'content-type', reason: 'must be text/csv, with the CSV file as the body' }] });
      }
      const parsed = parseImportOptions(req.query ?? {});
      if ('errors' in parsed) return reply.code(400).send({ error: 'invalid query', issues: parsed.errors });
      try {
        const { report, range } = await deps.imports.run(req.params.id, bounded(req.body, IMPORT_MAX_BYTES, IMPORT_IDLE_MS), parsed.options);
        report.warnings = await warningsOf(deps.store, report.device, range, deps.log);
        report.duplicates_known = deps.store.name === 'sqlite';
        deps.log.info({ device: report.device, rows: report.rows, imported: report.imported, duplicates: report.duplicates, conflicts: report.conflicts, rejected: report.rejected }, 'CSV import');
        return report;
      } catch (err) {
        const partial = (err as { report?: ImportReport }).report;
        if (err instanceof ImportInputError) return reply.code(400).send({ error: 'invalid body', issues: err.issues });
        if (err instanceof UnknownDeviceError) return reply.code(404).send({ error: 'not found', issues: [{ field: 'id', reason: err.message }] });
        if (err instanceof DeviceDisabledError) return reply.code(409).send({ error: 'conflict', reason: err.message });
        if (err instanceof ImportBusyError) {
          if (err.status === 503) void reply.header('retry-after', '5');
          return reply.code(err.status).send({ error: err.status === 409 ? 'conflict' : 'unavailable', reason: err.message });
        }
        if (err instanceof BodyError) return reply.code(err.status).send({ error: err.status === 413 ? 'too large' : 'timeout', issues: [{ field: 'body', reason: err.message }], report: partial });
        deps.log.error({ device: req.params.id, err: (err as Error).message }, 'CSV import failed');
        return reply.code(503).send({ error: 'unavailable', reason: `the store could not commit (${(err as Error).message}); the batches before it are stored: run the import again`, report: partial });
      }
    });
  });
}
