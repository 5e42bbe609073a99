import { HttpError, InfluxDB, RequestTimedOutError, type WriteOptions } from '@influxdata/influxdb-client';

/**
 * One batch of line-protocol lines → one HTTP write → one `WriteOutcome`.
 *
 * The writer never retries, buffers or waits by itself: it sorts the result the way
 * Telegraf's InfluxDB output does (ok / retry after a delay / split the batch / reject) and
 * leaves the decision to its caller (the spool replayer), which owns ordering and durability.
 *
 * - v2 (`api: 'v2'`): POST /api/v2/write?org&bucket&precision=ns through
 *   @influxdata/influxdb-client (InfluxDB 2.x, 3.x, Cloud, 1.8+ compatibility API). The
 *   library's own batching, flush timer and retry buffer are switched off (see `v2WriteOptions`).
 * - v1 (`api: 'v1'`): POST /write?db&precision=ns with Node's fetch (InfluxDB 1.x).
 *
 * Classification (both modes):
 * - 2xx                        → ok
 * - 413                        → split (the batch is too large for the server)
 * - 408, 429, 5xx, network error → retry, after `Retry-After` (seconds or HTTP date) when the
 *   timeout                      server sends it, otherwise after `backoffMs(consecutive failures)`
 * - 401, 403, 404              → retry too: a wrong token or a missing database is a settings problem,
 *                                and the readings must wait in the spool, not go to the quarantine
 * - any other status (4xx)     → reject, with the server's message: not retried, the caller
 *                                quarantines the batch
 */

export interface InfluxTarget {
  url: string;
  api: 'v1' | 'v2';
  /** v2: API token. v1: "user:password" (sent as u/p query parameters) or a token (Authorization: Token …). */
  token?: string;
  /** v2 only */
  org?: string;
  /** v2 only */
  bucket?: string;
  /** v1 only */
  db?: string;
}

export type WriteOutcome =
  | { kind: 'ok' }
  | { kind: 'retry'; afterMs: number; reason: string; /** the server asked for this wait (Retry-After) */ serverAsked: boolean }
  | { kind: 'split'; reason: string }
  | { kind: 'reject'; status: number; reason: string };

export interface LineWriter {
  write(lines: string[]): Promise<WriteOutcome>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Server messages in reasons are cut to this many characters. */
export const MAX_REASON_CHARS = 500;

/**
 * Exponential back-off with full jitter: a uniform random delay in
 * [0, min(maxMs, baseMs × 2^attempt)], attempt counting from 0 (the first retry).
 */
export function backoffMs(attempt: number, opts: { baseMs?: number; maxMs?: number } = {}): number {
  const baseMs = opts.baseMs ?? 250;
  const maxMs = opts.maxMs ?? 30_000;
  const n = Number.isFinite(attempt) ? Math.min(Math.max(0, Math.floor(attempt)), 52) : 52;
  const cap = Math.max(0, Math.min(maxMs, baseMs * 2 ** n));
  return Math.floor(Math.random() * (cap + 1));
}

/** `Retry-After` as milliseconds from now: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | null | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function trimReason(s: string, max = MAX_REASON_CHARS): string {
  const t = s.trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** The server's own words from an error body: JSON `message` (v2) or `error` (v1), else the text. */
function serverMessage(body: string | undefined, fallback?: string): string {
  const text = (body ?? '').trim();
  if (text) {
    try {
      const j: unknown = JSON.parse(text);
      if (j && typeof j === 'object') {
        const o = j as { message?: unknown; error?: unknown };
        const m = typeof o.message === 'string' && o.message ? o.message : typeof o.error === 'string' ? o.error : undefined;
        if (m) return m;
      }
    } catch {
      // not JSON: the text itself
    }
    return text;
  }
  return fallback ?? '';
}

function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      parts.push(typeof code === 'string' && !e.message.includes(code) ? `${code}: ${e.message}` : e.message);
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(': ') || 'network error';
}

/** Shared classification once a status is known. `failures` counts consecutive retry outcomes. */
class Classifier {
  private failures = 0;

  ok(): WriteOutcome {
    this.failures = 0;
    return { kind: 'ok' };
  }

  retry(reason: string, retryAfterMs?: number): WriteOutcome {
    const afterMs = retryAfterMs ?? backoffMs(this.failures);
    this.failures++;
    return { kind: 'retry', afterMs, reason: trimReason(reason), serverAsked: retryAfterMs !== undefined };
  }

  status(status: number, message: string, retryAfter: string | string[] | null | undefined): WriteOutcome {
    if (status >= 200 && status < 300) return this.ok();
    const msg = trimReason(message);
    if (status === 408 || status === 429 || status >= 500) return this.retry(`HTTP ${status}${msg ? `: ${msg}` : ''}`, parseRetryAfter(retryAfter));
    // Wrong token, no permission, no such database or bucket: the settings are wrong, not the data.
    // Quarantining every batch until someone notices would bury good readings, so they wait in the spool.
    if (status === 401 || status === 403 || status === 404) {
      return this.retry(`HTTP ${status} (check INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG, INFLUX_BUCKET / INFLUX_DB)${msg ? `: ${msg}` : ''}`);
    }
    this.failures = 0; // the server answered: it is reachable
    if (status === 413) return { kind: 'split', reason: `HTTP 413${msg ? `: ${msg}` : ' Request Entity Too Large'}` };
    return { kind: 'reject', status, reason: msg || `HTTP ${status}` };
  }
}

function requireString(v: string | undefined, what: string): string {
  if (!v) throw new TypeError(`InfluxDB target: ${what} is required`);
  return v;
}

/** Checks the target; does no I/O (a request is made only by `write`). */
export function createLineWriter(target: InfluxTarget, opts: { timeoutMs?: number } = {}): LineWriter {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  requireString(target.url, 'url');
  if (!/^https?:\/\//i.test(target.url)) throw new TypeError(`InfluxDB target: url must be http(s), got ${target.url}`);
  if (target.api === 'v2') return v2Writer(target, requireString(target.bucket, 'bucket (INFLUX_BUCKET)'), timeoutMs);
  if (target.api === 'v1') return v1Writer(target, requireString(target.db, 'db (INFLUX_DB)'), timeoutMs);
  throw new TypeError(`InfluxDB target: api must be 'v1' or 'v2', got ${String(target.api)}`);
}

/**
 * Options that make the library do exactly one request per `flush()`:
 * - batchSize above the batch length and unlimited maxBatchBytes: `writeRecords` never sends
 *   on its own (an automatic send would swallow its error), only our `flush()` does;
 * - flushInterval 0: no flush timer is ever scheduled;
 * - maxRetries 0 and a `writeFailed` that returns the rejection: the failed lines never enter
 *   the retry buffer (no retry timer) and the library logs nothing; `flush()` rejects with
 *   the error (HttpError, RequestTimedOutError, AbortError or a Node network error).
 */
function v2WriteOptions(lines: number): Partial<WriteOptions> {
  return {
    batchSize: lines + 1,
    maxBatchBytes: Number.POSITIVE_INFINITY,
    flushInterval: 0,
    maxRetries: 0,
    writeFailed: (error: Error) => Promise.reject(error),
    writeSuccess: () => undefined,
    writeRetrySkipped: () => undefined,
  };
}

/** An abort signal that fires after `ms`; `clear()` cancels its timer once the request is done. */
function deadline(ms: number): { signal: AbortSignal; clear: () => void } {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms);
  return { signal: ac.signal, clear: () => clearTimeout(timer) };
}

function v2Writer(target: InfluxTarget, bucket: string, timeoutMs: number): LineWriter {
  const c = new Classifier();
  const org = target.org ?? '';
  return {
    async write(lines) {
      if (lines.length === 0) return c.ok();
      // A hard deadline for the whole request: the library's `timeout` is a socket idle
      // timeout that reports but does not end the request; the signal destroys it.
      const { signal, clear } = deadline(timeoutMs);
      const client = new InfluxDB({ url: target.url, token: target.token, timeout: timeoutMs, transportOptions: { signal } });
      const api = client.getWriteApi(org, bucket, 'ns', v2WriteOptions(lines.length));
      try {
        api.writeRecords(lines);
        await api.flush();
        return c.ok();
      } catch (err) {
        if (err instanceof HttpError) {
          const status = err.statusCode;
          const headers = err.headers ?? {};
          const fallback = headers['x-influxdb-error'];
          const msg = serverMessage(err.body, typeof fallback === 'string' ? fallback : (err.statusMessage ?? ''));
          return c.status(status, msg, headers['retry-after']);
        }
        if (signal.aborted || err instanceof RequestTimedOutError) return c.retry(`timed out after ${timeoutMs} ms`);
        return c.retry(describeNetworkError(err));
      } finally {
        clear();
        // Nothing is buffered at this point; close() ends the API and its retry buffer timer.
        await api.close().catch(() => undefined);
      }
    },
  };
}

function v1Writer(target: InfluxTarget, db: string, timeoutMs: number): LineWriter {
  const c = new Classifier();
  const url = new URL(`${target.url.replace(/\/+$/, '')}/write`);
  url.searchParams.set('db', db);
  url.searchParams.set('precision', 'ns');
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  const token = target.token;
  if (token) {
    const colon = token.indexOf(':');
    if (colon >= 0) {
      url.searchParams.set('u', token.slice(0, colon));
      url.searchParams.set('p', token.slice(colon + 1));
    } else {
      headers.authorization = `Token ${token}`;
    }
  }
  const href = url.toString();
  return {
    async write(lines) {
      if (lines.length === 0) return c.ok();
      const { signal, clear } = deadline(timeoutMs);
      let res: Response;
      let body: string;
      try {
        res = await fetch(href, { method: 'POST', headers, body: lines.join('\n'), signal });
        body = res.status === 204 ? '' : await res.text();
      } catch (err) {
        if (signal.aborted) return c.retry(`timed out after ${timeoutMs} ms`);
        return c.retry(describeNetworkError(err));
      } finally {
        clear();
      }
      const msg = serverMessage(body, res.headers.get('x-influxdb-error') ?? res.statusText);
      return c.status(res.status, msg, res.headers.get('retry-after'));
    },
  };
}
