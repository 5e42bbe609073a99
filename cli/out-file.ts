import fs from 'node:fs';
import path from 'node:path';
import { usage } from './context.js';

/** An `--out` file a report may be written to: its folder exists and it is not a folder (else a usage error naming `--out`). */
export function checkOutFile(out: string | undefined): void {
  if (out === undefined) return;
  const dir = path.dirname(path.resolve(out));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw usage('--out', `the folder ${dir} does not exist`);
  if (fs.statSync(out, { throwIfNoEntry: false })?.isDirectory()) throw usage('--out', `${path.resolve(out)} is a directory; name a file`);
}
