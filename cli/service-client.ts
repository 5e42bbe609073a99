import fs from 'node:fs';
import path from 'node:path';
import { dataDirOf, requireDataDir, usage } from './context.js';

/**
 * A command that must go through the running service (`netzero import`: readings enter by the one pipeline
 * and, with InfluxDB, the one spool the service owns) finds it here: `--url` with `NETZERO_ADMIN_TOKEN`, or
 * the data dir's `ports.json` (written by `netzero start`) and `admin-token` (or `NETZERO_ADMIN_TOKEN`).
 */
export interface ServiceEndpoint {
  base: string;
  token: string;
  /** where the address came from, for messages */
  from: string;
  /** the data dir, when the service was found through it */
  dataDir?: string;
}

/** Why a fetch failed, in a word or two: ECONNREFUSED, a timeout, … */
function why(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? (e.name === 'TimeoutError' ? 'no answer in time' : e.message);
}

/** The service cannot be reached or refused us: exit 1 with what to do. */
export class ServiceError extends Error {}

function hostOf(): string {
  const h = process.env.NETZERO_HOST?.trim();
  if (!h || h === '0.0.0.0' || h === '::') return '127.0.0.1';
  return h.includes(':') ? `[${h}]` : h;
}

export function findService(opts: { url?: string; dataDir?: string }): ServiceEndpoint {
  const envToken = process.env.NETZERO_ADMIN_TOKEN?.trim() || undefined;
  if (opts.url !== undefined) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw usage('--url', `is not a URL: "${opts.url}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usage('--url', `must be http:// or https://, got ${u.protocol}`);
    if (!envToken) throw usage('NETZERO_ADMIN_TOKEN', 'is required with --url: the admin token of the service there');
    return { base: u.href.replace(/\/+$/, ''), token: envToken, from: '--url' };
  }
  const choice = dataDirOf(opts);
  const dir = requireDataDir(choice);
  const portsFile = path.join(dir, 'ports.json');
  let ports: { http?: unknown };
  try {
    ports = JSON.parse(fs.readFileSync(portsFile, 'utf8')) as { http?: unknown };
  } catch {
    throw new ServiceError(`no service has run on the data dir ${dir} (no ports.json): start it (NETZERO_DATA_DIR=${dir} netzero start), or give --url`);
  }
  if (typeof ports.http !== 'number') throw new ServiceError(`${portsFile} names no HTTP port: is the service started with its HTTP API?`);
  let token = envToken;
  if (!token) {
    try {
      token = fs.readFileSync(path.join(dir, 'admin-token'), 'utf8').trim();
    } catch {
      throw new ServiceError(`no admin token: ${path.join(dir, 'admin-token')} is missing and NETZERO_ADMIN_TOKEN is not set (set it to the token the service was started with)`);
    }
  }
  return { base: `http://${hostOf()}:${ports.http}`, token, from: `${portsFile}`, dataDir: dir };
}

/** Resolves when the service answers `/healthz` (up or not); a connection refused means no service is running there. */
export async function checkService(ep: ServiceEndpoint): Promise<void> {
  try {
    await fetch(`${ep.base}/healthz`, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    const cause = why(err);
    throw new ServiceError(
      `no service is running at ${ep.base} (from ${ep.from}; ${cause}): start it with \`netzero start\`${ep.dataDir ? ` (NETZERO_DATA_DIR=${ep.dataDir})` : ''} and run this again`,
    );
  }
}

/** The service running on the data dir (or at `--url`), or null when none answers there (no ports.json, nothing listening). */
export async function runningService(opts: { url?: string; dataDir?: string }): Promise<ServiceEndpoint | null> {
  try {
    const ep = findService(opts);
    await checkService(ep);
    return ep;
  } catch (err) {
    if (err instanceof ServiceError) return null;
    throw err;
  }
}

export interface Answer<T> {
  status: number;
  body: T;
  retryAfterS?: number;
}

/** POSTs a body with the admin token; the answer's JSON (or text). A network failure is a ServiceError. */
export async function post<T>(ep: ServiceEndpoint, p: string, body: string, contentType: string, timeoutMs = 120_000): Promise<Answer<T>> {
  let res: Response;
  try {
    res = await fetch(`${ep.base}${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ep.token}`, 'content-type': contentType },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = why(err);
    throw new ServiceError(`the service at ${ep.base} did not answer (${cause})`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  const retry = Number(res.headers.get('retry-after'));
  return { status: res.status, body: parsed as T, retryAfterS: Number.isFinite(retry) && retry > 0 ? retry : undefined };
}
