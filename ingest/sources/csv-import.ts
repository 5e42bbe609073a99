import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { FieldError } from '../../devices/payload.js';
import { MAX_BATCH, MAX_PAYLOAD_BYTES } from '../../devices/payload.js';
import type { Device, DeviceRegistry } from '../../devices/registry.js';
import { topicFor } from '../../devices/topics.js';
import { planColumns } from '../csv/columns.js';
import type { ImportOptions } from '../csv/options.js';
import { emptyReport, MAX_LISTED, type ImportReport } from '../csv/report.js';
import { RowConverter, type CsvReading } from '../csv/rows.js';
import { csvRecords, detectDelimiter, headerLineOf, isBlank, MAX_HEADER_BYTES, notCsvText, startLineOf } from '../csv/text.js';
import type { IngestMetrics } from '../metrics.js';
import type { IngestPipeline } from '../pipeline.js';
import type { Quarantine } from '../quarantine.js';
import type { IngestSource } from './source.js';

/** What the import needs of the store: the readings already stored, to tell duplicates and conflicts and to continue a series. */
export interface StoredReadings {
  readings(
    device: string,
    window: { from: number; to: number },
    limit: number,
  ): Promise<Array<{ ts: number; seq: number | null; fields: Record<string, number | string>; extras: Record<string, unknown> }>>;
}

/** The upload is not an import this device can take: 400 with each problem named. */
export class ImportInputError extends Error {
  constructor(readonly issues: FieldError[]) {
    super(issues.map((i) => `${i.field}: ${i.reason}`).join('; '));
  }
}

/** Not now: another import of the device runs (409), or too many run, or the service is stopping (503). */
export class ImportBusyError extends Error {
  constructor(
    readonly status: 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

export class UnknownDeviceError extends Error {}

/** The device is disabled: nothing of it is imported until it is enabled again (409). */
export class DeviceDisabledError extends Error {}

/** The batch sent to the pipeline: readings, and for each row its readings' indexes. */
interface Batch {
  readings: CsvReading[];
  rows: Array<{ line: number; indexes: number[]; raw: string }>;
  bytes: number;
}

/** A contract batch stays under the MQTT payload limit, with room for the `{"readings":[…]}` around it. */
const MAX_BATCH_BYTES = MAX_PAYLOAD_BYTES - 4 * 1024;
/** Readings already stored that one batch's check may read back (a batch spans at most 1,000 readings' time). */
const LOOKUP_LIMIT = 100_000;
/** CSV rows the import itself refuses (cells it cannot read) that it also puts in the quarantine, per import. */
const MAX_QUARANTINED = 1000;

const contractReading = (r: CsvReading) => ({ ts: r.ts, ...(r.seq === null ? {} : { seq: r.seq }), ...r.fields });
const sameFields = (a: Record<string, unknown>, b: Record<string, unknown>) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
};

/**
 * CSV backfill as an ingest source: rows become contract batches (`{"readings":[…]}` of at most 1,000,
 * under the 64 KiB payload limit) on the device's telemetry topic, through the same `IngestPipeline.accept`
 * as an MQTT message: the same validation, quarantine, durable group commit and accounting. Batches go one
 * after another, each once the previous one is durable, so an import shares the committer with live
 * devices instead of crowding them out; the per-device rate limit (against floods from a device) is
 * skipped for it (`rateLimited: false`), and imports have their own bounds: one per device at a time, at
 * most `maxConcurrent` at once, and whatever the caller puts on the body (size, time).
 *
 * Before each batch, the readings already stored in its time range are read back: a row stored with the
 * same values is a duplicate (a re-run adds nothing), with other values a conflict (the store keeps the
 * stored reading and quarantines the new one, as for any resend). Stopping waits for the running imports'
 * batch in flight and ends them there.
 */
export class CsvImportSource implements IngestSource {
  readonly name = 'ingest:csv-import';
  private readonly running = new Map<string, Promise<unknown>>();
  private closing = false;

  constructor(
    private readonly deps: { registry: DeviceRegistry; pipeline: IngestPipeline; quarantine: Quarantine; metrics: IngestMetrics; log: Logger; stored: StoredReadings },
    private readonly limits: { maxConcurrent: number } = { maxConcurrent: 2 },
  ) {}

  async start(): Promise<void> {
    this.closing = false;
  }

  async stop(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.running.values()]);
  }

  /** The device an import would go to: registered, and a device (not a viewer). */
  async device(id: string): Promise<Device> {
    const device = await this.deps.registry.get(id);
    if (!device || device.role !== 'device' || !device.kind || !device.sector) throw new UnknownDeviceError(`no device "${id}" is registered`);
    if (device.disabled) throw new DeviceDisabledError(`device "${id}" is disabled since ${device.disabled.at} by ${device.disabled.by}: ${device.disabled.reason}; enable it to import (POST /api/devices/${id}/enable)`);
    return device;
  }

  /**
   * Imports a CSV body for a device. Resolves with the report (rejected rows are in it, not thrown) and the
   * time range of the readings sent; throws ImportInputError when the file cannot be imported at all (before
   * anything was sent), ImportBusyError, UnknownDeviceError, or the store's fault (what was sent before it is durable).
   */
  async run(deviceId: string, body: AsyncIterable<Buffer | string>, options: ImportOptions): Promise<{ report: ImportReport; range: { from: number; to: number } | null }> {
    if (this.closing) throw new ImportBusyError(503, 'the service is stopping');
    const device = await this.device(deviceId);
    if (this.running.has(device.id)) throw new ImportBusyError(409, `an import for device "${device.id}" is running; one import per device at a time`);
    if (this.running.size >= this.limits.maxConcurrent) throw new ImportBusyError(503, `${this.running.size} imports are running (at most ${this.limits.maxConcurrent} at once); try again shortly`);
    const work = new ImportRun(this.deps, device, options, () => this.closing).run(body);
    this.running.set(device.id, work);
    try {
      return await work;
    } finally {
      this.running.delete(device.id);
    }
  }
}

/** One import: the rows of one body, in order. */
class ImportRun {
  private readonly report: ImportReport;
  private readonly topic: string;
  private batch: Batch = { readings: [], rows: [], bytes: 0 };
  private range: { from: number; to: number } | null = null;
  private quarantined = 0;

  constructor(
    private readonly deps: { pipeline: IngestPipeline; quarantine: Quarantine; metrics: IngestMetrics; log: Logger; stored: StoredReadings },
    private readonly device: Device,
    private readonly options: ImportOptions,
    private readonly stopping: () => boolean,
  ) {
    this.report = emptyReport(device.id);
    this.topic = topicFor(device.site, device.id, 'telemetry');
  }

  async run(body: AsyncIterable<Buffer | string>): Promise<{ report: ImportReport; range: { from: number; to: number } | null }> {
    const source = await this.withHead(body);
    let converter: RowConverter | undefined;
    let offset = 0;
    let lastLine = 0;
    try {
      for await (const { record, info, raw } of csvRecords(source.chunks, source.delimiter)) {
        if (!converter) {
          converter = this.header(record);
          offset = this.options.firstLine === undefined ? 0 : this.options.firstLine - (info.lines + 1);
          continue;
        }
        lastLine = info.lines + offset;
        if (isBlank(record)) continue;
        const line = startLineOf(record, info.lines) + offset;
        this.report.rows++;
        this.report.lines = { first: this.report.lines?.first ?? line, last: line };
        if (this.report.stopped) {
          this.report.not_imported++;
          continue;
        }
        if (this.stopping()) {
          this.report.stopped = { line, reason: 'the service is stopping: this row and the ones after it were not imported; run the import again to continue' };
          this.report.not_imported++;
          continue;
        }
        await this.row(converter, record, line, raw);
      }
    } catch (err) {
      if (err instanceof ImportInputError) throw err;
      const e = err as Error & { code?: string; lines?: number };
      // the body failed (too large, stalled) or the store did: what was sent before is durable; the report says how far it got
      if (!e.code?.startsWith('CSV_')) throw Object.assign(e, { report: this.report });
      if (!converter) throw new ImportInputError([{ field: 'body', reason: `is not CSV: ${e.message}` }]);
      const read = this.report.lines ? `the rows up to line ${this.report.lines.last} were read` : 'no row was read';
      this.report.stopped = { line: e.lines !== undefined ? e.lines + offset : lastLine + 1, reason: `the CSV cannot be read from here on (${e.message}): ${read}, nothing after them; fix the file and run the import again` };
    }
    if (!converter) throw new ImportInputError([{ field: 'body', reason: 'is empty: send the CSV with its header row' }]);
    await this.flush().catch((err: Error) => {
      throw Object.assign(err, { report: this.report });
    });
    this.report.rejected_rows.sort((a, b) => a.line - b.line); // rows the import refused and rows the pipeline refused, in file order
    const at = converter.position();
    this.report.next = at ? { series_at: new Date(at.series_at).toISOString(), counter_start: at.counter_start } : null;
    return { report: this.report, range: this.range };
  }

  /** Reads the head of the body: refuses what is not CSV text, finds the delimiter, and hands on every byte. */
  private async withHead(body: AsyncIterable<Buffer | string>): Promise<{ delimiter: string; chunks: AsyncIterable<Buffer> }> {
    const it = body[Symbol.asyncIterator]();
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    while (size < MAX_HEADER_BYTES) {
      const n = await it.next();
      if (n.done) {
        done = true;
        break;
      }
      const b = typeof n.value === 'string' ? Buffer.from(n.value) : n.value;
      parts.push(b);
      size += b.length;
      if (b.includes(10)) break;
    }
    const head = Buffer.concat(parts);
    const problem = notCsvText(head, done);
    if (problem) throw new ImportInputError([{ field: 'body', reason: problem }]);
    if (!done && !head.includes(10)) throw new ImportInputError([{ field: 'body', reason: `has no line break in its first ${MAX_HEADER_BYTES} bytes: not a CSV with a header row` }]);
    async function* all() {
      yield head;
      if (done) return;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield typeof n.value === 'string' ? Buffer.from(n.value) : n.value;
      }
    }
    return { delimiter: detectDelimiter(headerLineOf(head)), chunks: all() };
  }

  private header(record: string[]): RowConverter {
    if (isBlank(record)) throw new ImportInputError([{ field: 'body', reason: 'starts with an empty header row: the first line must name the columns' }]);
    if (/^\s*[[{]/.test(record[0] ?? '')) throw new ImportInputError([{ field: 'body', reason: 'is JSON, not CSV: send a CSV file whose first line names the columns (readings in JSON go as batches on the device\'s telemetry topic)' }]);
    const planned = planColumns(record, this.device.kind!, this.options);
    if ('errors' in planned) throw new ImportInputError(planned.errors);
    const converter = new RowConverter(planned.plan, this.options);
    if (this.options.counterStart !== undefined && typeof this.options.counterStart === 'object') {
      const unknown = Object.keys(this.options.counterStart).filter((k) => !converter.seriesCounters.includes(k));
      if (unknown.length > 0) {
        throw new ImportInputError([{ field: 'counter_start', reason: `${unknown.join(', ')}: not a counter column of this file (${converter.seriesCounters.join(', ')})` }]);
      }
    }
    return converter;
  }

  private async row(converter: RowConverter, record: string[], line: number, raw: string): Promise<void> {
    const first = this.report.rows === 1 && this.report.readings === 0 && this.batch.readings.length === 0;
    if (converter.needsStart) await this.startSeries(converter, record);
    const r = converter.convert(record);
    if ('errors' in r) {
      // The settings a file needs show on its first row: refused as a whole before anything is sent.
      if (first && r.needs) throw new ImportInputError(r.errors.filter((e) => e.field === 'ts' || e.field === 'date').map((e) => ({ field: r.needs!, reason: `line ${line}: ${e.reason}` })));
      this.report.rejected++;
      for (const e of r.errors) this.listRejected(line, e);
      await this.quarantineRow(line, raw, r.errors);
      if (r.breaks) {
        this.report.stopped = { line, reason: `the consumption series cannot go on past line ${line} (${r.errors[0]!.reason}); the rows before it are imported, the ones after it are not: fix the line and run the import again (rows already imported count as duplicates)` };
      }
      return;
    }
    const bytes = r.readings.reduce((a, x) => a + JSON.stringify(contractReading(x)).length + 1, 0);
    if (this.batch.readings.length + r.readings.length > MAX_BATCH || this.batch.bytes + bytes > MAX_BATCH_BYTES) await this.flush();
    const start = this.batch.readings.length;
    this.batch.readings.push(...r.readings);
    this.batch.rows.push({ line, indexes: r.readings.map((_, i) => start + i), raw });
    this.batch.bytes += bytes;
  }

  /** A consumption series with no stated start continues from a reading stored exactly where its first period starts (the previous year's import), else from 0. */
  private async startSeries(converter: RowConverter, record: string[]): Promise<void> {
    const at = converter.periodStart(record);
    if (at === null) return converter.startFrom(0);
    const stored = await this.deps.stored.readings(this.device.id, { from: at, to: at + 1 }, 10);
    const there = stored.find((s) => s.seq === null) ?? stored[0];
    const values: Record<string, number> = {};
    for (const c of converter.seriesCounters) if (typeof there?.fields[c] === 'number') values[c] = there.fields[c] as number;
    converter.startFrom(values);
  }

  private listRejected(line: number, e: FieldError): void {
    if (this.report.rejected_rows.length < MAX_LISTED) this.report.rejected_rows.push({ line, field: e.field, reason: e.reason });
  }

  /** A row the import could not read goes to the quarantine like a payload the pipeline refuses (the first MAX_QUARANTINED of an import). */
  private async quarantineRow(line: number, raw: string, errors: FieldError[]): Promise<void> {
    this.deps.metrics.rejected.inc({ reason: 'csv_row' });
    if (++this.quarantined > MAX_QUARANTINED) return;
    await this.deps.quarantine.add({
      device: this.device.id,
      topic: this.topic,
      receivedAt: new Date(),
      errors: errors.map((e) => ({ field: `line ${line}: ${e.field}`, reason: e.reason })),
      raw: raw.replace(/^[\r\n]+/, '').slice(0, MAX_PAYLOAD_BYTES),
    });
  }

  /** Sends the batch through the pipeline once it is known which rows are already stored; resolves once it is durable. */
  private async flush(): Promise<void> {
    const { readings, rows } = this.batch;
    if (readings.length === 0) return;
    this.batch = { readings: [], rows: [], bytes: 0 };
    const known = await this.classify(readings);
    const payload = Buffer.from(JSON.stringify({ readings: readings.map(contractReading) }));
    const result = await this.deps.pipeline.accept({ topic: this.topic, payload, device: this.device, source: 'csv', rateLimited: false });
    const refused = new Map<number, FieldError[]>();
    let whole: FieldError[] | null = null;
    for (const r of result.rejections ?? []) {
      const errors = r.errors.map((e) => ({ field: e.field.replace(/^readings\[\d+\]\.?/, '') || 'reading', reason: e.reason }));
      if (r.index === null) whole = errors;
      else refused.set(r.index, errors);
    }
    if (!result.rejections && result.rejected > 0) whole = [{ field: 'payload', reason: 'the pipeline refused the batch (see the quarantine)' }];
    this.report.readings += readings.length;
    for (const row of rows) {
      const errors = whole ?? row.indexes.flatMap((i) => refused.get(i) ?? []);
      if (errors.length > 0) {
        this.report.rejected++;
        for (const e of errors) this.listRejected(row.line, e);
        continue;
      }
      const conflict = row.indexes.map((i) => known[i]!).find((k) => k.kind === 'conflict');
      if (conflict && conflict.kind === 'conflict') {
        this.report.conflicts++;
        const r = readings[conflict.index]!;
        if (this.report.conflict_rows.length < MAX_LISTED) this.report.conflict_rows.push({ line: row.line, ts: new Date(r.ts).toISOString(), stored: conflict.stored, sent: r.fields });
      } else if (row.indexes.some((i) => known[i]!.kind === 'new')) this.report.imported++;
      else this.report.duplicates++;
    }
    for (const r of readings) {
      this.range = { from: Math.min(this.range?.from ?? r.ts, r.ts), to: Math.max(this.range?.to ?? r.ts, r.ts) };
    }
    await nextTurn(); // live devices' messages go first between two batches
  }

  /** Which readings are stored already (same time and seq), with the same values or others; earlier readings of the same batch count too. */
  private async classify(readings: CsvReading[]): Promise<Array<{ kind: 'new' | 'duplicate' } | { kind: 'conflict'; index: number; stored: Record<string, unknown> }>> {
    let from = Infinity;
    let to = -Infinity;
    for (const r of readings) {
      from = Math.min(from, r.ts);
      to = Math.max(to, r.ts);
    }
    const key = (ts: number, seq: number | null) => `${ts}/${seq ?? ''}`;
    const seen = new Map<string, { fields: Record<string, unknown>; extras: Record<string, unknown> }>();
    for (const s of await this.deps.stored.readings(this.device.id, { from, to: to + 1 }, LOOKUP_LIMIT)) seen.set(key(s.ts, s.seq), s);
    return readings.map((r, index) => {
      const k = key(r.ts, r.seq);
      const s = seen.get(k);
      if (!s) {
        seen.set(k, { fields: r.fields, extras: {} });
        return { kind: 'new' as const };
      }
      if (sameFields(s.fields, r.fields) && Object.keys(s.extras).length === 0) return { kind: 'duplicate' as const };
      return { kind: 'conflict' as const, index, stored: { ...s.fields, ...s.extras } };
    });
  }
}
