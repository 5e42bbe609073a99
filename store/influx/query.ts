import type { InfluxTarget } from './writer.js';

/** One series of an InfluxQL answer, rows as objects keyed by column. */
export interface Series {
  name: string;
  tags: Record<string, string>;
  rows: Array<Record<string, unknown>>;
}

interface RawAnswer {
  results?: Array<{ statement_id?: number; error?: string; series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values?: unknown[][] }> }>;
  error?: string;
}

export class InfluxQueryError extends Error {}

/** Quotes a string literal for InfluxQL (`'…'`, with `\` and `'` escaped). */
export function literal(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Quotes an identifier for InfluxQL (`"…"`). */
export function ident(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * InfluxQL over `GET /query`, which InfluxDB 1.x, 2.x (through a DBRP mapping) and 3.x all serve.
 * Times come back as epoch milliseconds (`epoch=ms`: exact in a JS number); statements may be joined
 * with `;` and come back as one list of results each.
 */
export class InfluxQuery {
  private readonly database: string;

  constructor(
    private readonly target: InfluxTarget,
    private readonly opts: { timeoutMs?: number } = {},
  ) {
    const db = target.db ?? target.bucket;
    if (!db) throw new Error('InfluxDB queries need INFLUX_DB (v1) or INFLUX_BUCKET mapped to a database (v2 DBRP)');
    this.database = db;
  }

  /** Runs one or more `;`-separated statements; returns each statement's series. */
  async statements(q: string, signal?: AbortSignal): Promise<Series[][]> {
    const url = new URL('/query', this.target.url);
    url.searchParams.set('db', this.database);
    url.searchParams.set('q', q);
    url.searchParams.set('epoch', 'ms');
    const headers: Record<string, string> = {};
    const token = this.target.token;
    if (token && this.target.api === 'v1' && token.includes(':')) {
      const [u, ...p] = token.split(':');
      url.searchParams.set('u', u!);
      url.searchParams.set('p', p.join(':'));
    } else if (token) headers.authorization = `Token ${token}`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 30_000);
    const res = await fetch(url, { headers, signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
    const text = await res.text();
    let body: RawAnswer;
    try {
      body = JSON.parse(text) as RawAnswer;
    } catch {
      throw new InfluxQueryError(`InfluxDB /query answered ${res.status}: ${text.slice(0, 300)}`);
    }
    if (!res.ok || body.error) throw new InfluxQueryError(`InfluxDB /query answered ${res.status}: ${body.error ?? text.slice(0, 300)}`);
    return (body.results ?? []).map((r) => {
      if (r.error) throw new InfluxQueryError(`InfluxQL error: ${r.error} (in: ${q.slice(0, 300)})`);
      return (r.series ?? []).map((s) => ({
        name: s.name,
        tags: s.tags ?? {},
        rows: (s.values ?? []).map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))),
      }));
    });
  }

  async query(q: string, signal?: AbortSignal): Promise<Series[]> {
    return (await this.statements(q, signal))[0] ?? [];
  }
}
