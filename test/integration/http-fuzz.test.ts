import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startService, type RunningService } from '../helpers/service.js';

/**
 * Property-based fuzzing of every HTTP endpoint's query and body against the real service: whatever is
 * sent, the answer is a 2xx, or a 4xx naming what is wrong (400: `issues` with a field and a reason),
 * or a 503 with a reason (a bound was met) — never a 500, never a crash; the service is healthy after.
 */

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc?.stop();
});

const SEED = 20261202;
const RUNS = 100;

/** Query values a careless or hostile client sends: dates right and wrong, huge and negative numbers, odd strings. */
const queryValue = fc.oneof(
  fc.constantFrom('', '0', '-1', '1e308', 'NaN', 'Infinity', '8640000000000000', '946684800000', '2026-02-30T00:00:00+08:00', '2026-11-01T00:00:00+08:00', '2026-13-01T00:00:00Z', 'now', '__proto__', 'constructor', '%00', '../../etc/passwd', '2026-11', '2026-1', '99999999999999999999'),
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const query = fc.dictionary(fc.constantFrom('from', 'to', 'month', 'revision', 'year', 'device', 'limit', 'before', 'x', '__proto__'), queryValue, { maxKeys: 4 });
const body = fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.dictionary(fc.constantFrom('kind', 'site', 'sector', 'measure', 'name', 'params', 'role', 'id', 'value', 'unit', 'source', 'data_year', 'variant', 'status'), fc.jsonValue({ maxDepth: 3 })));

async function call(method: string, path: string, opts: { q?: Record<string, string>; body?: unknown; raw?: string; token?: boolean } = {}) {
  const url = new URL(path, svc.base);
  for (const [k, v] of Object.entries(opts.q ?? {})) url.searchParams.append(k, v);
  const res = await fetch(url, {
    method,
    headers: { ...(opts.token ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}), ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json: json as { issues?: Array<{ field: unknown; reason: unknown }>; reason?: unknown; error?: unknown } | undefined, text };
}

function answeredWell(r: Awaited<ReturnType<typeof call>>, what: string): void {
  expect(r.status < 500 || r.status === 503, `${what}: answered ${r.status} ${r.text.slice(0, 300)}`).toBe(true);
  if (r.status === 400 && r.json?.issues) {
    expect(r.json.issues.length, what).toBeGreaterThan(0);
    for (const i of r.json.issues) {
      expect(typeof i.field === 'string' && i.field.length > 0, `${what}: field of ${JSON.stringify(i)}`).toBe(true);
      expect(typeof i.reason === 'string' && i.reason.length > 0, `${what}: reason of ${JSON.stringify(i)}`).toBe(true);
    }
  } else if (r.status >= 400) {
    expect(r.json, `${what}: a JSON error body`).toBeDefined();
    expect(r.json!.reason ?? r.json!.error, `${what}: says why`).toBeTruthy();
  }
}

const GETS: Array<[string, boolean]> = [
  ['/api/summary', false],
  ['/api/budget', false],
  ['/api/rollups/monthly', false],
  ['/api/readings', true],
  ['/api/intervals', true],
  ['/api/quarantine', true],
  ['/api/factors', false],
  ['/api/streams', false],
  ['/api/devices', true],
];

describe('HTTP endpoints under fuzzed input', () => {
  it.each(GETS)('GET %s answers every query with a result or a reason', async (path, token) => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const what = `GET ${path}?${new URLSearchParams(q)}`;
        const r = await call('GET', path, { q, token });
        answeredWell(r, what);
        if (path === '/api/summary' && r.status === 200) {
          // a period the server accepted has real times and finite totals (an absurd `to` once came back as null)
          const s = r.json as unknown as { from: unknown; to: unknown; avoided_tco2e: unknown; inventory_tco2e: unknown };
          expect(typeof s.from === 'string' && typeof s.to === 'string', `${what}: times`).toBe(true);
          expect(Number.isFinite(s.avoided_tco2e) && Number.isFinite(s.inventory_tco2e), `${what}: totals`).toBe(true);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it.each([['/api/devices'], ['/api/factors']])('POST %s answers every body with a result or a reason', async (path) => {
    await fc.assert(
      fc.asyncProperty(body, async (b) => answeredWell(await call('POST', path, { body: b, token: true }), `POST ${path} ${JSON.stringify(b).slice(0, 200)}`)),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('POST /api/rollups/monthly answers every query with a result or a reason', async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => answeredWell(await call('POST', '/api/rollups/monthly', { q, token: true }), `POST rollups ?${new URLSearchParams(q)}`)),
      { seed: SEED, numRuns: 20 },
    );
  });

  it('answers broken and oversized bodies with a reason', async () => {
    for (const raw of ['{', '[', 'null', '"x"', '{"kind":', `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`, JSON.stringify({ name: 'x'.repeat(300_000) })]) {
      answeredWell(await call('POST', '/api/devices', { raw, token: true }), `POST /api/devices ${raw.slice(0, 40)}`);
    }
  });

  it('is healthy after all of it', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
  });
});
