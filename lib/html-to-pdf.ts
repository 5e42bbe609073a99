import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * An HTML document printed to PDF by Debian's headless Chromium (`chromium --headless --print-to-pdf`),
 * in a temporary directory of its own (the document, the PDF and a fresh browser profile), removed
 * afterwards. The page's own print stylesheet (`@page { size: A4 }`) sets the paper. Chinese text
 * needs a CJK font on the machine (Debian: `fonts-noto-cjk`, see scripts/install-system-deps.sh).
 *
 * Chromium is `NETZERO_CHROMIUM`, else `/usr/bin/chromium`. One run is bounded by a timeout: the
 * browser and its helpers (one process group) are killed when it runs out.
 */

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
export const DEFAULT_PDF_TIMEOUT_MS = 60_000;

/** Chromium is not there: nothing to print with (HTTP: 503 with this reason). */
export class PdfUnavailableError extends Error {
  override readonly name = 'PdfUnavailableError';
}

/** Chromium ran but gave no PDF (it failed, or ran out of time and was killed). */
export class PdfRenderError extends Error {
  override readonly name = 'PdfRenderError';
}

export interface HtmlToPdfOptions {
  /** the Chromium executable (default: NETZERO_CHROMIUM, else /usr/bin/chromium) */
  chromium?: string;
  timeoutMs?: number;
  /** aborts the run (the browser is killed) */
  signal?: AbortSignal;
}

/** The Chromium this process would use, and whether it is there. */
export function chromiumPath(explicit?: string): string {
  return explicit ?? (process.env.NETZERO_CHROMIUM || DEFAULT_CHROMIUM);
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Prints `html` to a PDF and returns its bytes. */
export async function htmlToPdf(html: string, opts: HtmlToPdfOptions = {}): Promise<Buffer> {
  const chromium = chromiumPath(opts.chromium);
  if (!executable(chromium)) {
    throw new PdfUnavailableError(
      `cannot make a PDF: Chromium is not at ${chromium} (install Debian's "chromium" package, or set NETZERO_CHROMIUM to its path)`,
    );
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PDF_TIMEOUT_MS;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-pdf-'));
  try {
    const htmlFile = path.join(dir, 'report.html');
    const pdfFile = path.join(dir, 'report.pdf');
    fs.writeFileSync(htmlFile, html);
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-pdf-header-footer',
      `--user-data-dir=${path.join(dir, 'profile')}`,
      `--print-to-pdf=${pdfFile}`,
      `file://${htmlFile}`,
    ];
    await run(chromium, args, timeoutMs, opts.signal);
    const pdf = fs.readFileSync(pdfFile, { flag: 'r' });
    if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new PdfRenderError(`Chromium (${chromium}) wrote no PDF`);
    return pdf;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PdfRenderError(`Chromium (${chromium}) wrote no PDF`);
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs Chromium in a process group of its own, killed as a whole on timeout or abort. */
function run(file: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new PdfRenderError('PDF rendering was cancelled'));
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString();
    });
    let why: string | undefined;
    const kill = (reason: string) => {
      why ??= reason;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => kill(`Chromium took longer than ${timeoutMs / 1000} s and was stopped`), timeoutMs);
    const onAbort = () => kill('PDF rendering was cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(new PdfRenderError(`cannot run Chromium (${file}): ${err.message}`));
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (why) return reject(new PdfRenderError(why));
      if (code === 0) return resolve();
      const last = stderr.trim().split('\n').filter((l) => !/dbus|Fontconfig/i.test(l)).slice(-3).join(' | ');
      reject(new PdfRenderError(`Chromium (${file}) failed (${sig ?? `exit ${code}`})${last ? `: ${last.slice(0, 500)}` : ''}`));
    });
  });
}
