import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { htmlToPdf, PdfRenderError, PdfUnavailableError } from '../../lib/html-to-pdf.js';

/**
 * lib/html-to-pdf.ts around stand-ins for Chromium (shell scripts): a missing browser is named, one that
 * hangs is killed with its children after the timeout, one that writes nothing is a failure. The real
 * Chromium prints in test/integration/annual-report.test.ts.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-pdf-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** A process that runs (a killed one whose parent died may linger as a zombie until init reaps it: not running). */
const running = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

describe('htmlToPdf', () => {
  it('names the missing Chromium and how to point at one', async () => {
    const missing = path.join(dir, 'no-chromium');
    const err = await htmlToPdf('<p>x</p>', { chromium: missing }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PdfUnavailableError);
    expect((err as Error).message).toBe(`cannot make a PDF: Chromium is not at ${missing} (install Debian's "chromium" package, or set NETZERO_CHROMIUM to its path)`);
  });

  it('kills a browser that runs out of time, with the processes it started', async () => {
    const pids = path.join(dir, 'pids');
    const hang = script('hang', `sleep 30 &\necho $! > ${pids}\nwait`);
    const started = Date.now();
    const err = await htmlToPdf('<p>x</p>', { chromium: hang, timeoutMs: 500 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PdfRenderError);
    expect((err as Error).message).toBe('Chromium took longer than 0.5 s and was stopped');
    expect(Date.now() - started).toBeLessThan(10_000);
    const child = Number(fs.readFileSync(pids, 'utf8').trim());
    await new Promise((r) => setTimeout(r, 100));
    expect(running(child)).toBe(false);
  });

  it('is a failure when the browser exits without a PDF, or fails', async () => {
    const quiet = script('quiet', 'exit 0');
    expect(await htmlToPdf('<p>x</p>', { chromium: quiet }).catch((e: Error) => e.message)).toBe(`Chromium (${quiet}) wrote no PDF`);
    const failing = script('failing', 'echo "something broke" >&2\nexit 3');
    expect(await htmlToPdf('<p>x</p>', { chromium: failing }).catch((e: Error) => e.message)).toBe(`Chromium (${failing}) failed (exit 3): something broke`);
  });

  it('hands the document to the browser as a file and returns the PDF it writes; the temp dir is removed', async () => {
    // a stand-in that copies the page into the PDF it is asked for, so the test sees what the browser got
    const seen = path.join(dir, 'page-path');
    const fake = script('fake', `for a in "$@"; do case "$a" in --print-to-pdf=*) out="\${a#--print-to-pdf=}";; file://*) page="\${a#file://}";; esac; done\necho "$page" > ${seen}\n{ printf "%%PDF-1.4\\n"; cat "$page"; } > "$out"`);
    const pdf = await htmlToPdf('<h1>高雄市</h1>', { chromium: fake });
    expect(pdf.toString('utf8')).toBe('%PDF-1.4\n<h1>高雄市</h1>');
    const page = fs.readFileSync(seen, 'utf8').trim();
    expect(path.basename(page)).toBe('report.html');
    expect(fs.existsSync(path.dirname(page))).toBe(false);
  });
});
