import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './files.js';
import { crc32 } from './record.js';
import type { SpoolPosition } from './spool.js';

/**
 * The cursor file: how far the consumer got, one line of JSON
 * `{"version":1,"segment":3,"offset":12840,"check":…}`, where `check` is the CRC-32 of "<segment>:<offset>".
 */

const CURSOR_FILE = 'cursor';

const cursorCheck = (p: SpoolPosition): number => crc32(Buffer.from(`${p.segment}:${p.offset}`));

/** The cursor in `dir`; nothing consumed when there is none, or (reported) when it is unreadable. */
export async function readCursor(dir: string, report: (message: string) => void): Promise<SpoolPosition> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, CURSOR_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { segment: 0, offset: 0 };
    throw err;
  }
  try {
    const c = JSON.parse(text) as { version?: unknown; segment?: unknown; offset?: unknown; check?: unknown };
    if (c.version === 1 && Number.isSafeInteger(c.segment) && Number.isSafeInteger(c.offset) && (c.segment as number) >= 0 && (c.offset as number) >= 0) {
      const p = { segment: c.segment as number, offset: c.offset as number };
      if (c.check === cursorCheck(p)) return p;
    }
  } catch {
    // fall through
  }
  report(`spool: cursor file is unreadable (${JSON.stringify(text.slice(0, 80))}); replaying every segment from the oldest (at-least-once)`);
  return { segment: 0, offset: 0 };
}

/** Writes the cursor durably: a temporary file, fsync'd, renamed over the cursor, directory fsync'd. */
export async function writeCursor(dir: string, p: SpoolPosition): Promise<void> {
  const tmp = path.join(dir, `${CURSOR_FILE}.tmp`);
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify({ version: 1, segment: p.segment, offset: p.offset, check: cursorCheck(p) })}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path.join(dir, CURSOR_FILE));
  await fsyncDir(dir);
}
