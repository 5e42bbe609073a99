import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { escapeFieldKey, escapeMeasurement, escapeTag, formatField, formatLine, nsTimestamp } from '../../store/influx/line-protocol.js';
import { backoffMs, createLineWriter, parseRetryAfter, type WriteOutcome } from '../../store/influx/writer.js';
import { freePort } from '../helpers/service.js';

/**
 * What the writer sends, captured by a local Node HTTP server standing in for InfluxDB's
 * write endpoints (no InfluxDB 2.x can run here; the real 1.x server is exercised in
 * test/integration/influx-writer.test.ts).
 */

interface Captured {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Reply = (req: Captured, res: http.ServerResponse) => void;

let server: http.Server;
let base: string;
let requests: Captured[] = [];
let reply: Reply = (_req, res) => res.writeHead(204).end();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = zlib.gunzipSync(raw);
      const u = new URL(req.url ?? '/', 'http://x');
      const cap: Captured = { method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body: raw.toString('utf8') };
      requests.push(cap);
      reply(cap, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

afterEach(() => {
  requests = [];
  reply = (_req, res) => res.writeHead(204).end();
  vi.restoreAllMocks();
});

const LINES = ['electricity,device=m-1,site=kh energy_wh=12.5 1795334400123000042', 'electricity,device=m-2,site=kh energy_wh=3 1795334400123000043'];

const v2 = (extra: { url?: string; timeoutMs?: number } = {}) =>
  createLineWriter({ url: extra.url ?? base, api: 'v2', token: 'secret-token', org: 'city of kh', bucket: 'meters' }, { timeoutMs: extra.timeoutMs ?? 5000 });

/** Waits a little so that a hidden retry by the library (if any) would show up as a second request. */
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('v2 writer: the request', () => {
  it('POSTs the lines to /api/v2/write with org, bucket, precision=ns and the token', async () => {
    const out = await v2().write(LINES);
    expect(out).toEqual({ kind: 'ok' });
    expect(requests).toHaveLength(1);
    const r = requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/api/v2/write');
    expect(r.query.get('org')).toBe('city of kh');
    expect(r.query.get('bucket')).toBe('meters');
    expect(r.query.get('precision')).toBe('ns');
    expect(r.headers.authorization).toBe('Token secret-token');
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body).toBe(LINES.join('\n'));
  });

  it('sends a large batch in one request, whole (gzip-decoded body equals the lines)', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `electricity,device=m-${i % 7} energy_wh=${i}.25 ${nsTimestamp(1795334400000 + i, null)}`);
    expect(await v2().write(many)).toEqual({ kind: 'ok' });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.body).toBe(many.join('\n'));
  });

  it('an empty batch is ok without a request', async () => {
    expect(await v2().write([])).toEqual({ kind: 'ok' });
    expect(requests).toHaveLength(0);
  });

  it('leaves no timer behind and logs nothing on failure (no retry buffer, no flush timer)', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    const before = timers();
    reply = (_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"unavailable","message":"busy"}');
    const out = await v2().write(LINES);
    expect(out.kind).toBe('retry');
    expect(timers()).toBeLessThanOrEqual(before);
    await settle();
    expect(requests).toHaveLength(1);
    expect(err).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('v2 writer: outcome mapping (one request per write, no hidden retries)', () => {
  const cases: { name: string; reply: Reply; check: (o: WriteOutcome) => void }[] = [
    { name: '204 → ok', reply: (_q, res) => res.writeHead(204).end(), check: (o) => expect(o).toEqual({ kind: 'ok' }) },
    {
      name: '429 with Retry-After: 7 → retry after 7000 ms',
      reply: (_q, res) => res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' }).end('{"code":"too many requests","message":"slow down"}'),
      check: (o) => {
        expect(o).toMatchObject({ kind: 'retry', afterMs: 7000 });
        expect((o as { reason: string }).reason).toContain('429');
        expect((o as { reason: string }).reason).toContain('slow down');
      },
    },
    {
      name: '503 without Retry-After → retry after a back-off',
      reply: (_q, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('service unavailable'),
      check: (o) => {
        expect(o.kind).toBe('retry');
        const r = o as { afterMs: number; reason: string };
        expect(r.afterMs).toBeGreaterThanOrEqual(0);
        expect(r.afterMs).toBeLessThanOrEqual(30_000);
        expect(r.reason).toContain('503');
      },
    },
    {
      name: '500 → retry',
      reply: (_q, res) => res.writeHead(500).end('engine: cache maximum memory size exceeded'),
      check: (o) => expect(o).toMatchObject({ kind: 'retry', reason: expect.stringContaining('cache maximum memory size exceeded') }),
    },
    {
      name: '413 → split',
      reply: (_q, res) => res.writeHead(413, { 'content-type': 'application/json' }).end('{"code":"request too large","message":"unable to read data: points batch is too large"}'),
      check: (o) => expect(o).toEqual({ kind: 'split', reason: 'HTTP 413: unable to read data: points batch is too large' }),
    },
    {
      name: '400 with a JSON body → reject with the server message',
      reply: (_q, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":"invalid","message":"partial write: field type conflict"}'),
      check: (o) => expect(o).toEqual({ kind: 'reject', status: 400, reason: 'partial write: field type conflict' }),
    },
    {
      name: '401 → retry (a settings problem: the readings wait in the spool)',
      reply: (_q, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"unauthorized","message":"unauthorized access"}'),
      check: (o) => expect(o).toMatchObject({ kind: 'retry', serverAsked: false, reason: expect.stringMatching(/^HTTP 401 \(check INFLUX_URL.*: unauthorized access$/) }),
    },
    {
      name: '404 from a 1.8 server ({"error":…}) → retry with its error text (missing database: settings)',
      reply: (_q, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"database not found: \\"meters\\""}'),
      check: (o) => expect(o).toMatchObject({ kind: 'retry', reason: expect.stringContaining('database not found: "meters"') }),
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      reply = c.reply;
      c.check(await v2().write(LINES));
      await settle();
      expect(requests).toHaveLength(1);
    });
  }

  it('429 with an HTTP-date Retry-After → retry until that date', async () => {
    const at = new Date(Date.now() + 5000);
    reply = (_q, res) => res.writeHead(429, { 'retry-after': at.toUTCString() }).end();
    const o = await v2().write(LINES);
    expect(o.kind).toBe('retry');
    const afterMs = (o as { afterMs: number }).afterMs;
    expect(afterMs).toBeGreaterThan(3000); // the date has 1 s resolution
    expect(afterMs).toBeLessThanOrEqual(5000);
  });

  it('a long server message is trimmed to ~500 characters', async () => {
    reply = (_q, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'invalid', message: 'x'.repeat(5000) }));
    const o = await v2().write(LINES);
    expect(o.kind).toBe('reject');
    expect((o as { reason: string }).reason.length).toBeLessThanOrEqual(501);
  });

  it('connection refused → retry', async () => {
    const port = await freePort(); // nothing listens there
    const o = await v2({ url: `http://127.0.0.1:${port}` }).write(LINES);
    expect(o.kind).toBe('retry');
    expect((o as { reason: string }).reason).toMatch(/ECONNREFUSED/);
  });

  it('a server that never answers → retry after the timeout, and the request is ended', async () => {
    let pending: http.ServerResponse | undefined;
    reply = (_q, res) => {
      pending = res;
    };
    const t0 = Date.now();
    const o = await v2({ timeoutMs: 400 }).write(LINES);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(o).toMatchObject({ kind: 'retry', reason: 'timed out after 400 ms' });
    expect(pending).toBeDefined();
    await new Promise((r) => setTimeout(r, 100));
    expect(pending!.req.socket.destroyed || pending!.req.destroyed).toBe(true);
    await settle();
    expect(requests).toHaveLength(1);
  });

  it('back-off grows over consecutive failures and resets after a success', async () => {
    const w = v2();
    reply = (_q, res) => res.writeHead(503).end();
    const spy = vi.spyOn(Math, 'random').mockReturnValue(0.999999);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) delays.push(((await w.write(LINES)) as { afterMs: number }).afterMs);
    expect(delays).toEqual([250, 500, 1000, 2000]);
    reply = (_q, res) => res.writeHead(204).end();
    expect(await w.write(LINES)).toEqual({ kind: 'ok' });
    reply = (_q, res) => res.writeHead(503).end();
    expect(((await w.write(LINES)) as { afterMs: number }).afterMs).toBe(250);
    spy.mockRestore();
  });
});

describe('v1 writer: the request', () => {
  it('POSTs to /write?db&precision=ns with user:password as u/p', async () => {
    const w = createLineWriter({ url: `${base}/`, api: 'v1', db: 'meters', token: 'writer:pa:ss' });
    expect(await w.write(LINES)).toEqual({ kind: 'ok' });
    const r = requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/write');
    expect(r.query.get('db')).toBe('meters');
    expect(r.query.get('precision')).toBe('ns');
    expect(r.query.get('u')).toBe('writer');
    expect(r.query.get('p')).toBe('pa:ss');
    expect(r.headers.authorization).toBeUndefined();
    expect(r.body).toBe(LINES.join('\n'));
  });

  it('a token without a colon goes in Authorization: Token …; no token, no auth', async () => {
    await createLineWriter({ url: base, api: 'v1', db: 'meters', token: 'abc123' }).write(LINES);
    await createLineWriter({ url: base, api: 'v1', db: 'meters' }).write(LINES);
    expect(requests[0]!.headers.authorization).toBe('Token abc123');
    expect(requests[0]!.query.get('u')).toBeNull();
    expect(requests[1]!.headers.authorization).toBeUndefined();
  });

  it('maps statuses like v2: 400 {"error"} → reject, 429 → retry, 413 → split, X-Influxdb-Error as fallback', async () => {
    const w = createLineWriter({ url: base, api: 'v1', db: 'meters' });
    reply = (_q, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"partial write: field type conflict: dropped=1"}');
    expect(await w.write(LINES)).toEqual({ kind: 'reject', status: 400, reason: 'partial write: field type conflict: dropped=1' });
    reply = (_q, res) => res.writeHead(429, { 'retry-after': '2' }).end();
    expect(await w.write(LINES)).toMatchObject({ kind: 'retry', afterMs: 2000 });
    reply = (_q, res) => res.writeHead(413).end('{"error":"http: request body too large"}');
    expect(await w.write(LINES)).toEqual({ kind: 'split', reason: 'HTTP 413: http: request body too large' });
    reply = (_q, res) => res.writeHead(403, { 'x-influxdb-error': 'write permission denied' }).end();
    expect(await w.write(LINES)).toMatchObject({ kind: 'retry', reason: expect.stringContaining('write permission denied') });
    expect(requests).toHaveLength(4);
  });

  it('connection refused and timeout → retry', async () => {
    const port = await freePort();
    const refused = await createLineWriter({ url: `http://127.0.0.1:${port}`, api: 'v1', db: 'm' }).write(LINES);
    expect(refused).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/ECONNREFUSED/) });
    reply = () => undefined;
    const slow = await createLineWriter({ url: base, api: 'v1', db: 'm' }, { timeoutMs: 300 }).write(LINES);
    expect(slow).toMatchObject({ kind: 'retry', reason: 'timed out after 300 ms' });
  });

  it('a target without its database/bucket is refused at construction, without I/O', () => {
    expect(() => createLineWriter({ url: base, api: 'v1' })).toThrow(/db/);
    expect(() => createLineWriter({ url: base, api: 'v2', org: 'o' })).toThrow(/bucket/);
    expect(() => createLineWriter({ url: 'ftp://x', api: 'v2', bucket: 'b' })).toThrow(/http/);
    expect(requests).toHaveLength(0);
  });
});

describe('backoffMs and Retry-After', () => {
  it('full jitter within an exponentially growing, capped window', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const cap = Math.min(30_000, 250 * 2 ** attempt);
      for (let k = 0; k < 50; k++) {
        const d = backoffMs(attempt);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(cap);
      }
    }
    vi.spyOn(Math, 'random').mockReturnValue(0.999999);
    expect(backoffMs(0)).toBe(250);
    expect(backoffMs(3)).toBe(2000);
    expect(backoffMs(1000)).toBe(30_000);
    expect(backoffMs(2, { baseMs: 100, maxMs: 300 })).toBe(300);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffMs(5)).toBe(0);
  });

  it('parses delay-seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-20T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Fri, 20 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Fri, 20 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('line protocol', () => {
  it('escapes spaces and commas in measurements; spaces, commas and equals in tags and field keys', () => {
    expect(escapeMeasurement('ev charging,dc')).toBe('ev\\ charging\\,dc');
    expect(escapeMeasurement('a=b')).toBe('a=b');
    expect(escapeTag('Site A,north=1')).toBe('Site\\ A\\,north\\=1');
    expect(escapeFieldKey('energy wh,=')).toBe('energy\\ wh\\,\\=');
  });

  it('quotes string fields, escaping quotes and backslashes', () => {
    expect(formatField('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(formatField('a,b c=d')).toBe('"a,b c=d"');
  });

  it('integers carry i, floats round-trip exactly, booleans are words', () => {
    expect(formatField({ int: 42 })).toBe('42i');
    expect(formatField({ int: -7 })).toBe('-7i');
    expect(formatField({ int: 9223372036854775807n })).toBe('9223372036854775807i');
    expect(formatField(3)).toBe('3');
    expect(formatField(0.1 + 0.2)).toBe('0.30000000000000004');
    for (const x of [Math.PI * 1e6, 1 / 3, -2.5e-300, Number.MAX_VALUE]) expect(Number(formatField(x))).toBe(x);
    expect(formatField(1e21)).toBe('1e+21');
    expect(formatField(true)).toBe('true');
    expect(formatField(false)).toBe('false');
    expect(() => formatField(Number.NaN)).toThrow(RangeError);
    expect(() => formatField(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => formatField({ int: 1.5 })).toThrow(RangeError);
    expect(() => formatField({ int: 2 ** 60 })).toThrow(RangeError);
    expect(() => formatField({ int: 2n ** 63n })).toThrow(RangeError);
  });

  it('formats a whole line: tags sorted, empty tags left out, fields in order, exact timestamp', () => {
    const line = formatLine(
      'ev charging',
      { site: 'Kaohsiung Port', device: 'cp-1', sector: '', kind: 'ev,dc' },
      { energy_wh: 1.5, session: 'a "b"', count: { int: 3 }, ok: true, missing: undefined },
      '1795334400123000042',
    );
    expect(line).toBe('ev\\ charging,device=cp-1,kind=ev\\,dc,site=Kaohsiung\\ Port energy_wh=1.5,session="a \\"b\\"",count=3i,ok=true 1795334400123000042');
  });

  it('refuses what line protocol cannot carry', () => {
    expect(() => formatLine('m', {}, {}, '1')).toThrow(/at least one field/);
    expect(() => formatLine('m', {}, { v: 1 }, '1.5')).toThrow(/timestamp/);
    expect(() => formatLine('m', {}, { v: 1 }, '1795334400123000042 ')).toThrow(/timestamp/);
    expect(() => escapeTag('a\nb')).toThrow(/line break/);
    expect(() => escapeTag('ends\\')).toThrow(/backslash/);
    expect(() => escapeMeasurement('')).toThrow(/empty/);
  });

  it('nsTimestamp: epochMs × 1e6 + (seq + 1) mod 1e6, exact beyond 2^53', () => {
    expect(nsTimestamp(1795334400123, 41)).toBe('1795334400123000042');
    expect(nsTimestamp(1795334400123, null)).toBe('1795334400123000000');
    expect(nsTimestamp(1795334400123, 0)).toBe('1795334400123000001');
    expect(nsTimestamp(1795334400123, 999_999)).toBe('1795334400123000000'); // the documented collision with seq null
    expect(nsTimestamp(1795334400123, 1_000_041)).toBe('1795334400123000042'); // … and with seq 41
    expect(nsTimestamp(0, 5)).toBe('6');
    expect(BigInt(nsTimestamp(1795334400123, 41)) - BigInt(nsTimestamp(1795334400123, 40))).toBe(1n);
    expect(() => nsTimestamp(1.5, 1)).toThrow(RangeError);
    expect(() => nsTimestamp(1, 0.5)).toThrow(RangeError);
  });
});
