import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker thread running one of the project's modules: the built `.js` file directly. When the project
 * runs from its TypeScript sources (tests, tsx), the `.ts` module is bundled once per process with
 * esbuild (a dev dependency) into node_modules/.cache, where its package imports resolve, and the
 * bundle runs: registering tsx inside every worker would cost over half a second per thread.
 */
export function moduleWorker(module: URL, workerData: Record<string, unknown>): Worker {
  if (!module.pathname.endsWith('.ts')) return new Worker(module, { workerData });
  return new Worker(bundled(fileURLToPath(module)), { workerData });
}

const bundles = new Map<string, URL>();

function bundled(entry: string): URL {
  const known = bundles.get(entry);
  if (known) return known;
  const root = projectRoot(entry);
  const dir = path.join(root, 'node_modules', '.cache', 'netzero-workers');
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const out = esbuild.buildSync({ entryPoints: [entry], bundle: true, write: false, platform: 'node', format: 'esm', packages: 'external', sourcemap: 'inline', logLevel: 'error' });
  const code = out.outputFiles[0]!.contents;
  // Named by content: test processes running side by side share one file, written whole (rename) or not at all.
  const outfile = path.join(dir, `${path.basename(entry, '.ts')}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!fs.existsSync(outfile)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${outfile}.${process.pid}.${Date.now()}`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, outfile);
  }
  const url = pathToFileURL(outfile);
  bundles.set(entry, url);
  return url;
}

function projectRoot(from: string): string {
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
