import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ImportReport } from '../ingest/csv/report.js';

/**
 * Where an interrupted `netzero import` left off, so the next run of the same command continues there:
 * one small JSON file per device and file content (SHA-256), rewritten atomically after every slice the
 * service confirmed durable. It records the first line not yet confirmed, where a consumption series
 * stands there, and the report so far. Losing it costs only time: the store keeps each reading once, so
 * slices sent again come back as duplicates.
 */
export interface ImportProgress {
  version: 1;
  device: string;
  file: string;
  sha256: string;
  /** the settings of the run (the query without the slice's position): another setting starts over */
  settings: string;
  /** the first line of the file not yet confirmed */
  next_line: number;
  /** consumption mode: where the series stands at next_line */
  series: { series_at: string; counter_start: Record<string, number> } | null;
  report: ImportReport;
  updated_at: string;
}

export async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

/** In the data dir (`imports/`) when the service was found there; else next to the CSV file. */
export function progressPath(opts: { dataDir?: string; file: string; device: string; sha256: string }): string {
  if (opts.dataDir) return path.join(opts.dataDir, 'imports', `${safe(opts.device)}-${opts.sha256.slice(0, 16)}.json`);
  return path.join(path.dirname(opts.file), `.${path.basename(opts.file)}.${safe(opts.device)}.netzero-import.json`);
}

export function readProgress(file: string): ImportProgress | null {
  try {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as ImportProgress;
    return p.version === 1 && typeof p.next_line === 'number' && p.report ? p : null;
  } catch {
    return null;
  }
}

export function writeProgress(file: string, p: ImportProgress): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(p));
  fs.renameSync(tmp, file);
}

export function removeProgress(file: string): void {
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.tmp`, { force: true });
}
