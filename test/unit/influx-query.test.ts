import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ident, InfluxQuery, InfluxQueryError, literal } from '../../store/influx/query.js';

/** What the InfluxQL client asks `/query` and how it reads the answers (a local server stands in). */

let server: http.Server;
let base = '';
let answer: { status: number; body: string } = { status: 200, body: '{}' };
let last: URL | undefined;
let lastAuth: string | undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    last = new URL(req.url!, 'http://x');
    lastAuth = req.headers.authorization;
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('InfluxQuery', () => {
  it('sends db, q and epoch=ms, with v1 user:password as u/p and other tokens as a Token header', async () => {
    answer = { status: 200, body: '{"results":[{"statement_id":0}]}' };
    await new InfluxQuery({ url: base, api: 'v1', db: 'meters', token: 'alice:s3:cret' }).query('SHOW MEASUREMENTS');
    expect(Object.fromEntries(last!.searchParams)).toEqual({ db: 'meters', q: 'SHOW MEASUREMENTS', epoch: 'ms', u: 'alice', p: 's3:cret' });
    expect(lastAuth).toBeUndefined();
    await new InfluxQuery({ url: base, api: 'v2', bucket: 'meters', token: 'tok' }).query('SHOW MEASUREMENTS');
    expect(last!.searchParams.get('db')).toBe('meters');
    expect(lastAuth).toBe('Token tok');
  });

  it('reads series as rows keyed by column, one list per statement, and a series without values as no rows', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        results: [
          { statement_id: 0, series: [{ name: 'intervals', tags: { device: 'pv-1' }, columns: ['time', 'amount'], values: [[1000, 2.5], [2000, 3]] }] },
          { statement_id: 1, series: [{ name: 'databases', columns: ['name'] }] },
        ],
      }),
    };
    const [a, b] = await new InfluxQuery({ url: base, api: 'v1', db: 'x' }).statements('SELECT 1; SHOW DATABASES');
    expect(a).toEqual([{ name: 'intervals', tags: { device: 'pv-1' }, rows: [{ time: 1000, amount: 2.5 }, { time: 2000, amount: 3 }] }]);
    expect(b).toEqual([{ name: 'databases', tags: {}, rows: [] }]);
  });

  it('turns a statement error and an HTTP error into InfluxQueryError with the server text', async () => {
    answer = { status: 200, body: '{"results":[{"statement_id":0,"error":"database not found: x"}]}' };
    await expect(new InfluxQuery({ url: base, api: 'v1', db: 'x' }).query('SELECT * FROM m')).rejects.toThrow(InfluxQueryError);
    await expect(new InfluxQuery({ url: base, api: 'v1', db: 'x' }).query('SELECT * FROM m')).rejects.toThrow(/database not found: x/);
    answer = { status: 401, body: '{"error":"authorization failed"}' };
    await expect(new InfluxQuery({ url: base, api: 'v1', db: 'x' }).query('SHOW DATABASES')).rejects.toThrow(/401: authorization failed/);
  });

  it('quotes literals and identifiers', () => {
    expect(literal("it's a \\ test")).toBe("'it\\'s a \\\\ test'");
    expect(ident('energy "kwh"')).toBe('"energy \\"kwh\\""');
  });
});
