import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../ingest/csv/report.js';
import { ADMIN_TOKEN, registerDevice, startService, tempDir, waitFor, type RunningService } from '../helpers/service.js';

/**
 * CSV backfill through the real service (`node bin/netzero.js start`) and the built CLI
 * (`node bin/netzero.js import`): the report names each bad row by its line and reason, a re-run adds
 * nothing, an interrupted import (SIGINT, SIGKILL) continues and ends with every row once, the monthly
 * bills of 2023 give the electricity-saving baseline (hand-worked figures), a Taipower-style 15-minute
 * export gives its intervals, and bad input is refused naming the flag, the column or the field.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/csv');
const fixture = (name: string) => path.join(FIXTURES, name);

let svc: RunningService;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const merged: Record<string, string | undefined> = { ...process.env, NETZERO_TZ: undefined, NETZERO_DATA_DIR: svc.dataDir, NETZERO_ADMIN_TOKEN: ADMIN_TOKEN, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/netzero.js'), ...args], { env: merged as NodeJS.ProcessEnv, timeout: 170_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const report = (r: Run): ImportReport => JSON.parse(r.stdout) as ImportReport;

async function importCsv(device: string, file: string, query: string, body: Buffer = fs.readFileSync(file)): Promise<{ status: number; body: ImportReport & { issues?: Array<{ field: string; reason: string }> } }> {
  const res = await fetch(`${svc.base}/api/devices/${device}/import?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' },
    body: new Uint8Array(body),
  });
  return { status: res.status, body: (await res.json()) as ImportReport & { issues?: Array<{ field: string; reason: string }> } };
}

/** What the store holds for a device, read straight from its SQLite file. */
function stored(device: string): { readings: number; intervals: number; kwh: number } {
  const db = new Database(path.join(svc.dataDir, 'readings.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const r = db.prepare('SELECT COUNT(*) AS n FROM readings WHERE device = ?').get(device) as { n: number };
    const i = db.prepare("SELECT COUNT(*) AS n, TOTAL(amount) AS kwh FROM intervals WHERE device = ? AND counter = 'import_kwh'").get(device) as { n: number; kwh: number };
    return { readings: r.n, intervals: i.n, kwh: i.kwh };
  } finally {
    db.close();
  }
}

const meter = (id: string, extra: Record<string, unknown> = {}) => registerDevice(svc, { id, kind: 'smart_meter', site: 'kh-csv', sector: 'residential_commercial', ...extra });

beforeAll(async () => {
  svc = await startService();
});

afterAll(async () => {
  await svc?.stop();
});

describe('a file with good rows, bad rows and duplicates (test/fixtures/csv/meter-mixed.csv)', () => {
  const expectedRejected = [
    { line: 4, field: 'import_kwh', reason: 'must be a number, got "12x4"' },
    { line: 5, field: 'ts', reason: expect.stringMatching(/^"2026-02-30 03:00" is not a valid date or time/) },
    { line: 6, field: 'import_kwh', reason: 'must not be negative (cumulative counter)' },
    { line: 7, field: 'row', reason: 'has 3 cells; the header has 4' },
    { line: 12, field: 'ts', reason: expect.stringMatching(/^is \d+ s in the future \(at most 5 min allowed\)$/) },
  ];

  it('netzero import names each bad row with its line and reason, counts duplicates and conflicts; a re-run adds nothing', async () => {
    await meter('sm-mixed');
    const first = await cli(['import', '--device', 'sm-mixed', fixture('meter-mixed.csv'), '--tz', 'Asia/Taipei', '--json']);
    expect(first.code, first.stderr).toBe(1); // rows were rejected: the report says which
    const r1 = report(first);
    expect(r1).toMatchObject({ device: 'sm-mixed', rows: 11, imported: 4, duplicates: 1, conflicts: 1, rejected: 5, not_imported: 0, lines: { first: 2, last: 12 }, stopped: null });
    expect(r1.rejected_rows).toEqual(expectedRejected);
    // line 11 sends line 8's time (06:00 Taipei) with another value: the stored one stays
    expect(r1.conflict_rows).toEqual([{ line: 11, ts: '2026-02-28T22:00:00.000Z', stored: { import_kwh: 1013.5, export_kwh: 0 }, sent: { import_kwh: 1099, export_kwh: 0 } }]);
    expect(stored('sm-mixed')).toEqual({ readings: 4, intervals: 3, kwh: 16 }); // 1000 → 1002.5 → 1013.5 → 1016

    const again = await cli(['import', '--device', 'sm-mixed', fixture('meter-mixed.csv'), '--tz', 'Asia/Taipei', '--json']);
    const r2 = report(again);
    expect(r2).toMatchObject({ rows: 11, imported: 0, duplicates: 5, conflicts: 1, rejected: 5 });
    expect(r2.rejected_rows).toEqual(expectedRejected);
    expect(stored('sm-mixed')).toEqual({ readings: 4, intervals: 3, kwh: 16 });

    // the same quarantine as MQTT: rows the import could not read, readings the contract refused, the conflict
    const q = await svc.api<Array<{ errors: Array<{ field: string; reason: string }>; raw: string }>>('GET', '/api/quarantine?device=sm-mixed&limit=100');
    const fields = q.body.flatMap((e) => e.errors.map((x) => x.field));
    expect(fields).toEqual(expect.arrayContaining(['line 4: import_kwh', 'line 5: ts', 'line 7: row', 'readings[2].import_kwh', 'ts']));
    expect(q.body.find((e) => e.errors[0]!.field === 'line 4: import_kwh')!.raw).toBe('2026-03-01 02:00,12x4,0,\n');
  });

  it('prints a readable report without --json', async () => {
    await meter('sm-mixed-text');
    const r = await cli(['import', '--device', 'sm-mixed-text', fixture('meter-mixed.csv'), '--tz', 'Asia/Taipei']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^imported {4}4$/m);
    expect(r.stdout).toMatch(/^rejected {4}5$/m);
    expect(r.stdout).toContain('  line 4: import_kwh: must be a number, got "12x4"');
    expect(r.stdout).toContain('  line 11: conflict at 2026-02-28T22:00:00.000Z');
  });

  it('over HTTP: the same report for a text/csv body; the same file again adds nothing', async () => {
    await meter('sm-mixed-http');
    const a = await importCsv('sm-mixed-http', fixture('meter-mixed.csv'), 'tz=Asia/Taipei');
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ rows: 11, imported: 4, duplicates: 1, conflicts: 1, rejected: 5, duplicates_known: true });
    expect(a.body.rejected_rows).toEqual(expectedRejected);
    const b = await importCsv('sm-mixed-http', fixture('meter-mixed.csv'), 'tz=Asia/Taipei');
    expect(b.body).toMatchObject({ imported: 0, duplicates: 5, conflicts: 1, rejected: 5 });
    expect(stored('sm-mixed-http').readings).toBe(4);
  });
});

describe('bad input', () => {
  it('the CLI refuses it with exit 2, naming the file, the column or the flag, and stores nothing', async () => {
    await meter('sm-bad');
    const dir = tempDir('netzero-csv-bad-');
    const write = (name: string, text: string | Buffer) => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const good = write('good.csv', 'ts,import_kwh\n2026-01-01 00:00,1\n');
    const cases: Array<[string[], RegExp]> = [
      [[path.join(dir, 'missing.csv')], /^netzero import: file .*missing\.csv: does not exist$/],
      [[write('image.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]))], /^netzero import: file .*image\.csv: is not CSV text: it holds NUL bytes/],
      [[write('json.csv', '{"readings":[{"ts":1,"import_kwh":2}]}\n'), '--tz', 'UTC'], /^netzero import: file .*json\.csv: is JSON, not CSV/],
      [[write('unknown.csv', 'ts,import_kwh,remark\n2026-01-01 00:00,1,x\n'), '--tz', 'UTC'], /^netzero import: column "remark": is not one of the smart_meter fields .*: map it \(--map remark=<field>\) or leave it out \(--map remark=-\)$/],
      [[write('noreq.csv', 'ts,power_w\n2026-01-01 00:00,1\n'), '--tz', 'UTC'], /^netzero import: column "import_kwh": is required for a smart_meter and no column gives it/],
      [[good, '--map', 'import_kwh=energy_kwh', '--tz', 'UTC'], /^netzero import: --map: "import_kwh=energy_kwh": energy_kwh is not one of the smart_meter fields/],
      [[good, '--map', 'kwh=import_kwh', '--tz', 'UTC'], /^netzero import: --map: column "kwh" is not in the header \("ts", "import_kwh"\)$/],
      [[good, '--tz', 'Mars/Olympus'], /^netzero import: --tz: is not a time zone/],
      [[good], /^netzero import: --tz: line 2: "2026-01-01 00:00" has no UTC offset and no time zone was given/],
      [[write('dmy.csv', 'ts,import_kwh\n03/04/2026 00:00,1\n'), '--tz', 'UTC'], /^netzero import: --date-format: line 2: "03\/04\/2026 00:00": day\/month or month\/day cannot be told apart/],
      [[good, '--tz', 'UTC', '--period', '1mo'], /^netzero import: --period: applies only with consumption/],
      [[good, '--tz', 'UTC', '--counter-from-consumption'], /^netzero import: --period: is required with consumption/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(['import', '--device', 'sm-bad', ...args])));
    runs.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')[0], cases[i]![0].join(' ')).toMatch(cases[i]![1]);
    });
    const nobody = await cli(['import', '--device', 'sm-nobody', good, '--tz', 'UTC']);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/^netzero import: --device: no device "sm-nobody" is registered/);
    const tzFromEnv = await cli(['import', '--device', 'sm-bad', good], { NETZERO_TZ: 'Nowhere/Land' });
    expect(tzFromEnv.code).toBe(2);
    expect(tzFromEnv.stderr).toMatch(/^netzero import: NETZERO_TZ: is not a time zone/);
    expect(stored('sm-bad').readings).toBe(0);
  }, 240_000); // fourteen CLI processes

  it('with no service running, the CLI says so and how to start it (exit 1)', async () => {
    const down = tempDir('netzero-csv-down-');
    fs.writeFileSync(path.join(down, 'ports.json'), JSON.stringify({ http: 1 }));
    fs.writeFileSync(path.join(down, 'state.sqlite'), ''); // a data dir (only its presence is checked before the service is looked for)
    const r = await cli(['import', '--device', 'sm-bad', fixture('meter-mixed.csv'), '--tz', 'UTC'], { NETZERO_DATA_DIR: down });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^netzero: no service is running at http:\/\/127\.0\.0\.1:1 \(from .*ports\.json; .*\): start it with `netzero start`/);
    const none = tempDir('netzero-csv-none-');
    fs.writeFileSync(path.join(none, 'state.sqlite'), '');
    const r2 = await cli(['import', '--device', 'sm-bad', fixture('meter-mixed.csv'), '--tz', 'UTC'], { NETZERO_DATA_DIR: none });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/no service has run on the data dir .* \(no ports\.json\): start it/);
  });

  it('over HTTP: 400 naming the field, 404 for an unknown device, 415 for another content type, 401 without the token', async () => {
    await meter('sm-bad-http');
    const good = Buffer.from('ts,import_kwh\n2026-01-01 00:00,1\n');
    const cases: Array<[string, Buffer, number, string, RegExp]> = [
      ['tz=Mars/Olympus', good, 400, 'tz', /is not a time zone/],
      ['tz=UTC&period=1mo', good, 400, 'period', /applies only with consumption/],
      ['tz=UTC&consumption=1&period=fortnightly', good, 400, 'period', /must be a period such as 15min/],
      ['tz=UTC&color=blue', good, 400, 'color', /is not a setting of an import/],
      ['tz=UTC&map=import_kwh%3Denergy_kwh', good, 400, 'map', /energy_kwh is not one of the smart_meter fields/],
      ['tz=UTC', Buffer.from('ts,import_kwh,remark\n2026-01-01 00:00,1,x\n'), 400, 'columns.remark', /is not one of the smart_meter fields/],
      ['tz=UTC', Buffer.from('ts,power_w\n2026-01-01 00:00,1\n'), 400, 'columns.import_kwh', /is required for a smart_meter/],
      ['', good, 400, 'tz', /^line 2: "2026-01-01 00:00" has no UTC offset/],
      ['tz=UTC', Buffer.from([0xff, 0xfe, 0x74, 0, 0x73, 0]), 400, 'body', /NUL bytes/],
      ['tz=UTC', Buffer.from('ts,import_kwh\n2026-01-01 00:00,\xe5\n', 'latin1'), 400, 'body', /is not UTF-8 text/],
      ['tz=UTC', Buffer.alloc(0), 400, 'body', /is empty/],
    ];
    for (const [query, body, status, field, reason] of cases) {
      const r = await importCsv('sm-bad-http', '', query, body);
      expect(r.status, `${query}: ${JSON.stringify(r.body)}`).toBe(status);
      expect(r.body.issues, query).toEqual(expect.arrayContaining([{ field, reason: expect.stringMatching(reason) }]));
    }
    const missing = await importCsv('sm-nobody', '', 'tz=UTC', good);
    expect(missing.status).toBe(404);
    expect(missing.body.issues).toEqual([{ field: 'id', reason: 'no device "sm-nobody" is registered' }]);
    const json = await svc.api<{ issues: Array<{ field: string }> }>('POST', '/api/devices/sm-bad-http/import', { readings: [] });
    expect(json.status).toBe(415);
    expect(json.body.issues[0]!.field).toBe('content-type');
    const anon = await fetch(`${svc.base}/api/devices/sm-bad-http/import?tz=UTC`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: new Uint8Array(good) });
    expect(anon.status).toBe(401);
    expect(stored('sm-bad-http').readings).toBe(0);
  });
});

describe('any body, any settings', () => {
  it('over HTTP: a report or a reason naming the field, never a 500; the service stays healthy', async () => {
    await meter('sm-fuzz');
    const cell = fc.oneof(
      fc.constantFrom('', '2026-01-01 00:00', '2026-01-01T00:00:00+08:00', '2026-02-30', '24:00', '1672502400', '1e400', '-1', '"1,234.5"', '"', '""', 'NaN', '03/04/2026', '\u0000', '日期'),
      fc.string({ maxLength: 12 }),
      fc.double({ noNaN: true }).map(String),
    );
    const header = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(['ts', 'import_kwh'], ['ts', 'import_kwh', 'power_w'], ['date', 'time', 'import_kwh'], ['ts', 'seq', 'import_kwh', 'export_kwh']) },
      { weight: 1, arbitrary: fc.array(fc.oneof(fc.constantFrom('ts', 'date', 'time', 'seq', 'import_kwh', 'export_kwh', 'power_w', '度數'), fc.string({ maxLength: 8 })), { maxLength: 5 }) },
    );
    const csv = fc.tuple(header, fc.array(fc.array(cell, { maxLength: 6 }), { maxLength: 30 }), fc.constantFrom(',', ';', '\t'), fc.constantFrom('\n', '\r\n')).map(([h, rows, d, nl]) => [h, ...rows].map((r) => r.join(d)).join(nl));
    const setting = fc.oneof({ weight: 1, arbitrary: fc.constant({ tz: 'UTC' }) }, { weight: 2, arbitrary: fc.dictionary(
      fc.constantFrom('tz', 'map', 'date_format', 'consumption', 'period', 'period_ts', 'counter_start', 'series_at', 'first_line', 'x'),
      fc.oneof(fc.constantFrom('Asia/Taipei', 'UTC', '1', '0', '15min', '1mo', 'end', 'start', 'dd/MM/yyyy', '度數=import_kwh', 'ts=-', '5', '2', '2026-01-01T00:00:00Z'), fc.string({ maxLength: 16 })),
      { maxKeys: 4 },
    ) });
    const answered = { 200: 0, 400: 0 };
    await fc.assert(
      fc.asyncProperty(csv, setting, async (text, q) => {
        const r = await importCsv('sm-fuzz', '', new URLSearchParams(q).toString(), Buffer.from(text));
        answered[r.status as 200 | 400]++;
        expect([200, 400], `${JSON.stringify(q)} ${JSON.stringify(text).slice(0, 200)}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`).toContain(r.status);
        if (r.status === 400) for (const i of r.body.issues!) expect(i.field.length > 0 && i.reason.length > 0).toBe(true);
        else expect(r.body.rows).toBe(r.body.imported + r.body.duplicates + r.body.conflicts + r.body.rejected + r.body.not_imported);
      }),
      { seed: 20261203, numRuns: 150 },
    );
    expect(answered[200]).toBeGreaterThan(20); // the property reached the rows, not only the header
    expect(answered[400]).toBeGreaterThan(20);
    expect((await fetch(`${svc.base}/healthz`)).status).toBe(200);
  }, 120_000);
});

describe('a file that cannot be read to its end', () => {
  it('over HTTP: the rows before a quote that is never closed are imported, and the report says where it stopped', async () => {
    await meter('sm-quote');
    const body = Buffer.from('ts,import_kwh\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00Z,2\n2026-01-01T02:00:00Z,"3\n');
    const r = await importCsv('sm-quote', '', '', body);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ rows: 2, imported: 2, rejected: 0, lines: { first: 2, last: 3 } });
    expect(r.body.stopped?.reason).toMatch(/^the CSV cannot be read from here on \(Quote Not Closed.*\): the rows up to line 3 were read, nothing after them/);
    expect(stored('sm-quote').readings).toBe(2);
  });
});

describe('monthly bills as the 2023 baseline of the electricity-saving measure', () => {
  it('imports 2023 and Q1 2024 bills as a consumption series; Q1 2024 saves 500 + 600 + 600 kWh × 0.474 = 0.8058 t', async () => {
    // a public building's meter under the budget's measure: baseline year 2023 (accounting/streams/electricity_saving)
    await meter('sm-office', { site: 'kh-district-office', measure: 'public-sector-electricity-saving' });
    const args = (f: string) => ['import', '--device', 'sm-office', fixture(f), '--map', '計費月份=ts,用電度數=import_kwh', '--tz', 'Asia/Taipei', '--counter-from-consumption', '--period', '1mo', '--json'];
    const y2023 = await cli(args('bills-2023.csv'));
    expect(y2023.code, y2023.stderr).toBe(0);
    expect(report(y2023)).toMatchObject({ rows: 12, imported: 12, rejected: 0, next: { series_at: '2023-12-31T16:00:00.000Z', counter_start: { import_kwh: 170_300 } } });
    // 2024 continues from the reading stored at 2024-01-01 00:00 Taipei (170,300): no step between the years
    const y2024 = await cli(args('bills-2024.csv'));
    expect(report(y2024)).toMatchObject({ rows: 3, imported: 3, duplicates: 0, rejected: 0, warnings: [] });
    const readings = await svc.api<Array<{ ts: string; fields: { import_kwh: number } }>>('GET', '/api/readings?device=sm-office&limit=100');
    expect(readings.body.map((r) => [r.ts, r.fields.import_kwh])).toEqual([
      ['2022-12-31T16:00:00.000Z', 0],
      ['2023-01-31T16:00:00.000Z', 12_400],
      ['2023-02-28T16:00:00.000Z', 23_600],
      ['2023-03-31T16:00:00.000Z', 35_600],
      ['2023-04-30T16:00:00.000Z', 48_400],
      ['2023-05-31T16:00:00.000Z', 62_900],
      ['2023-06-30T16:00:00.000Z', 79_100],
      ['2023-07-31T16:00:00.000Z', 96_900],
      ['2023-08-31T16:00:00.000Z', 115_000],
      ['2023-09-30T16:00:00.000Z', 131_400],
      ['2023-10-31T16:00:00.000Z', 145_400],
      ['2023-11-30T16:00:00.000Z', 158_000],
      ['2023-12-31T16:00:00.000Z', 170_300],
      ['2024-01-31T16:00:00.000Z', 182_200],
      ['2024-02-29T16:00:00.000Z', 192_800],
      ['2024-03-31T16:00:00.000Z', 204_200],
    ]);

    // hand-worked: each month's interval is exactly the bill; the baseline is the same month of 2023
    // (Feb 2024 has 29 days and Feb 2023 28, but the baseline is the whole month's bill pro-rated by the
    // share of the month covered, which is all of it). EF 2023 = 0.494, 2024 = 0.474 kg/kWh.
    const expected: Record<string, { consumption_kwh: number; baseline: number; saving: number; avoided: number; inventory: number }> = {
      '2023-07': { consumption_kwh: 17_800, baseline: 17_800, saving: 0, avoided: 0, inventory: 8.7932 }, // 17,800 × 0.494 / 1000
      '2024-01': { consumption_kwh: 11_900, baseline: 12_400, saving: 500, avoided: 0.237, inventory: 5.6406 }, // 500 × 0.474 / 1000; 11,900 × 0.474 / 1000
      '2024-02': { consumption_kwh: 10_600, baseline: 11_200, saving: 600, avoided: 0.2844, inventory: 5.0244 },
      '2024-03': { consumption_kwh: 11_400, baseline: 12_000, saving: 600, avoided: 0.2844, inventory: 5.4036 },
    };
    for (const [month, e] of Object.entries(expected)) {
      const computed = await svc.api('POST', `/api/rollups/monthly?month=${month}`);
      expect([200, 201]).toContain(computed.status);
      const r = await svc.api<{ rows: Array<{ device: string; stream: string; consumption_kwh: number; avoided_tco2e: number; inventory_tco2e: number; detail: { baseline_kwh: number; saving_kwh: number } }> }>('GET', `/api/rollups/monthly?month=${month}`, undefined, null);
      const row = r.body.rows.find((x) => x.device === 'sm-office')!;
      expect(row, month).toMatchObject({ stream: 'electricity_saving', consumption_kwh: e.consumption_kwh, detail: { baseline_kwh: e.baseline, saving_kwh: e.saving } });
      expect(row.avoided_tco2e, month).toBeCloseTo(e.avoided, 9);
      expect(row.inventory_tco2e, month).toBeCloseTo(e.inventory, 9);
    }
    const q1 = await svc.api<{ by_stream: { electricity_saving: number }; energy_kwh: { consumption: number } }>('GET', '/api/summary?from=2024-01-01T00:00:00%2B08:00&to=2024-02-01T00:00:00%2B08:00', undefined, null);
    expect(q1.body.by_stream.electricity_saving).toBeCloseTo(0.237, 9);

    // a re-run of either year adds nothing
    const rerun = await cli(args('bills-2023.csv'));
    expect(report(rerun)).toMatchObject({ imported: 0, duplicates: 12, conflicts: 0, rejected: 0 });
    expect(stored('sm-office').readings).toBe(16);
  }, 120_000);
});

describe('a Taipower-style 15-minute export (date, time of the interval end, kWh per interval)', () => {
  it('turns 192 quarter hours of consumption into 192 intervals: 120 kWh a day, 240 kWh in March 2024', async () => {
    await meter('sm-school', { site: 'kh-school-07' });
    const r = await cli(['import', '--device', 'sm-school', fixture('taipower-15min-2024-03.csv'), '--map', '日期=date,時間=time,用電度數(kWh)=import_kwh', '--tz', 'Asia/Taipei', '--counter-from-consumption', '--period', '15min', '--period-ts', 'end', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(report(r)).toMatchObject({ rows: 192, imported: 192, rejected: 0, readings: 193, lines: { first: 2, last: 193 }, next: { series_at: '2024-03-02T16:00:00.000Z', counter_start: { import_kwh: 240 } } });
    const iv = await svc.api<Array<{ t0: string; t1: string; amount: number; quality: string }>>('GET', '/api/intervals?device=sm-school&limit=1000');
    expect(iv.body).toHaveLength(192);
    expect(iv.body[0]).toMatchObject({ t0: '2024-02-29T16:00:00.000Z', t1: '2024-02-29T16:15:00.000Z', amount: 0.5, quality: 'ok' }); // 00:00–00:15 Taipei
    expect(iv.body[95]).toMatchObject({ t0: '2024-03-01T15:45:00.000Z', t1: '2024-03-01T16:00:00.000Z', amount: 1 }); // 23:45–24:00
    expect(iv.body.reduce((a, i) => a + i.amount, 0)).toBeCloseTo(240, 9);
    await svc.api('POST', '/api/rollups/monthly?month=2024-03');
    const m = await svc.api<{ rows: Array<{ device: string; consumption_kwh: number; inventory_tco2e: number }> }>('GET', '/api/rollups/monthly?month=2024-03', undefined, null);
    const row = m.body.rows.find((x) => x.device === 'sm-school')!;
    expect(row.consumption_kwh).toBeCloseTo(240, 9);
    expect(row.inventory_tco2e).toBeCloseTo(0.11376, 9); // 240 × 0.474 / 1000
  });
});

describe('an interrupted import continues where it stopped', () => {
  let big: string;
  beforeAll(() => {
    // a year of 15-minute consumption (2025, Taipei time, each row its interval's end): 0.1, 0.2, 0.3, 0.4 kWh
    // in turn, so every hour is 1 kWh and the year 8,760 kWh
    const lines = ['ts,import_kwh'];
    const start = Date.UTC(2024, 11, 31, 16); // 2025-01-01 00:00 +08:00
    const pad = (n: number) => String(n).padStart(2, '0');
    for (let i = 1; i <= 35_040; i++) {
      const t = new Date(start + i * 15 * 60_000 + 8 * 3_600_000); // the wall clock in Taipei, read as UTC
      lines.push(`${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())},${((i - 1) % 4) + 1}e-1`);
    }
    big = path.join(tempDir('netzero-csv-year-'), 'year-2025.csv');
    fs.writeFileSync(big, `${lines.join('\n')}\n`);
  });

  const args = (device: string) => ['import', '--device', device, big, '--tz', 'Asia/Taipei', '--counter-from-consumption', '--period', '15min', '--period-ts', 'end', '--chunk-rows', '250', '--json'];

  /** Starts the import and sends `signal` once the service has confirmed a slice or two (the progress file says so). */
  async function interrupt(device: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; progress: { next_line: number } }> {
    const env = { ...process.env, NETZERO_DATA_DIR: svc.dataDir, NETZERO_ADMIN_TOKEN: ADMIN_TOKEN };
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/netzero.js'), ...args(device)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
    const imports = path.join(svc.dataDir, 'imports');
    const file = await waitFor(
      'a confirmed slice',
      () => {
        if (child.exitCode !== null) throw new Error(`the import ended first (${child.exitCode}): ${stderr}`);
        const f = fs.existsSync(imports) ? fs.readdirSync(imports).find((n) => n.startsWith(`${device}-`) && n.endsWith('.json')) : undefined;
        return f && (JSON.parse(fs.readFileSync(path.join(imports, f), 'utf8')) as { next_line: number }).next_line > 2 ? path.join(imports, f) : undefined;
      },
      150_000,
      20,
    ).catch((err: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${err.message}\n--- import's stderr ---\n${stderr.slice(-2000)}`);
    });
    child.kill(signal);
    const end = await exited;
    return { ...end, stderr, progress: JSON.parse(fs.readFileSync(file, 'utf8')) as { next_line: number } };
  }

  it('Ctrl-C (SIGINT): the slice in flight is finished, the progress kept; the next run resumes and every row is there once', async () => {
    await meter('sm-year-int');
    const cut = await interrupt('sm-year-int', 'SIGINT');
    expect(cut.code, cut.stderr).toBe(130);
    expect(cut.stderr).toMatch(/interrupted at line (\d+): run the same command again to continue/);
    const at = Number(/interrupted at line (\d+)/.exec(cut.stderr)![1]);
    expect(at).toBeLessThan(35_041);
    expect(stored('sm-year-int').readings).toBe(at - 1); // lines 2..at-1 and the series' start reading

    const rest = await cli(args('sm-year-int'));
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toContain(`resuming at line ${at}`);
    const r = report(rest);
    expect(r).toMatchObject({ rows: 35_040, imported: 35_040, duplicates: 0, rejected: 0, readings: 35_041, lines: { first: 2, last: 35_041 } });
    const s = stored('sm-year-int');
    expect(s.readings).toBe(35_041);
    expect(s.intervals).toBe(35_040);
    expect(s.kwh).toBeCloseTo(8760, 6);
    expect(fs.readdirSync(path.join(svc.dataDir, 'imports')).filter((n) => n.startsWith('sm-year-int-'))).toEqual([]); // done: no progress left
  }, 300_000);

  it('a crash (SIGKILL): the next run resumes from the last confirmed slice; a slice sent twice comes back as duplicates', async () => {
    await meter('sm-year-kill');
    const cut = await interrupt('sm-year-kill', 'SIGKILL');
    expect(cut.signal).toBe('SIGKILL');
    const rest = await cli(args('sm-year-kill'));
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toMatch(/resuming at line \d+/);
    const r = report(rest);
    expect(r.rows).toBe(35_040);
    expect(r.imported + r.duplicates).toBe(35_040);
    expect(r.duplicates).toBeLessThanOrEqual(250); // at most the slice in flight when the CLI died
    const s = stored('sm-year-kill');
    expect(s.readings).toBe(35_041);
    expect(s.intervals).toBe(35_040);
    expect(s.kwh).toBeCloseTo(8760, 6);
    // a year took seconds, not the six minutes the device rate limit (100 readings/s) would impose
    const again = await cli([...args('sm-year-kill'), '--chunk-rows', '1000']);
    expect(report(again)).toMatchObject({ imported: 0, duplicates: 35_040 });
  }, 300_000);
});
