import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DEVICES } from '../../devices/simulators/demo-fleet.js';
import { modelFor } from '../../devices/simulators/models.js';
import { registerDevice, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The annual progress report end to end: a year (2025) of simulated readings (the project's device
 * models, two readings a day) published over MQTT to a started service, its twelve months rolled up,
 * then the report in every format through `netzero report --year` and `GET /api/reports/annual`; a
 * late reading restating a month → annual revision 2, revision 1 still served as it was; the PDF read
 * back with poppler (`pdftotext`, `pdftoppm`); bad input refused naming the flag or the field.
 *
 * Needs Debian's chromium, fonts-noto-cjk and poppler-utils (scripts/install-system-deps.sh installs
 * them; CI runs it through ./test.sh).
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const YEAR = 2025;
const STEP_MS = 12 * 3_600_000;
const yearStart = Date.parse(`${YEAR}-01-01T00:00:00+08:00`);
const yearEnd = Date.parse(`${YEAR + 1}-01-01T00:00:00+08:00`);
const MONTHS = Array.from({ length: 12 }, (_, i) => `${YEAR}-${String(i + 1).padStart(2, '0')}`);

/** The demo fleet's models, registered as real devices (ids without the demo- prefix). */
const FLEET = ['demo-school-pv', 'demo-school-meter', 'demo-neimen-biogas', 'demo-scooter-charger'].map((id) => DEMO_DEVICES.find((d) => d.id === id)!);

let svc: RunningService;
let out: string;
const devices = new Map<string, Registered>();

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/netzero.js'), ...args], { env: { ...process.env, NETZERO_DATA_DIR: svc.dataDir }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

async function publish(dev: Registered, readings: object[]): Promise<void> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: dev.id, password: dev.secret, reconnectPeriod: 0 });
  // batches of 200: a message must stay under the broker's 64 KiB packet limit
  for (let i = 0; i < readings.length; i += 200) await c.publishAsync(dev.topic, JSON.stringify({ readings: readings.slice(i, i + 200) }), { qos: 1 });
  await c.endAsync();
}

async function get(p: string): Promise<{ status: number; type: string; headers: Headers; body: Buffer }> {
  const res = await fetch(`${svc.base}${p}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** A PNG's size from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

interface AnnualJson {
  year: number;
  revision: { revision: number; of: number; latest: boolean; changes: Array<{ what: string; month?: string; from: unknown; to: unknown }>; change_lines: string[]; months: Array<{ month: string; revision: number | null }> };
  period: { months_rolled_up: string[] };
  totals: { devices: number; avoided_claimed_tco2e: number; avoided_sold_tco2e: number; inventory_tco2e: number };
  months: Array<{ month: string; revision: number | null; avoided_tco2e: number | null }>;
  measures: Array<{ measure: string | null; source: string | null; target_tco2e: number | null; devices: number; avoided_claimed_tco2e: number; avoided_sold_tco2e: number; agency_zh: string | null }>;
  sectors: Array<{ sector: string; inventory_tco2e: number; cap_tco2e: number | null }>;
  coverage: { share: number; devices: Array<{ device: string; share: number; hours_with_data: number }> };
  review: { open: { intervals: number; kwh: number } };
  factors: Array<{ id: string }>;
}

beforeAll(async () => {
  svc = await startService({ env: { NETZERO_ROLLUP_LATE_CHECK_S: '1' } });
  out = tempDir('netzero-annual-out-');
  const added = await cli(['measures', 'add', '--id', 'school-led-lighting', '--name', 'LED lighting in schools']);
  expect(added.code, added.stderr).toBe(0);
  for (const d of FLEET) {
    const id = d.id.replace(/^demo-/, 'kh-');
    const reg = await registerDevice(svc, { id, kind: d.kind, site: d.site.replace(/^demo-/, 'kh-'), sector: d.sector, measure: d.measure, params: d.params });
    devices.set(id, reg);
    const model = modelFor(d.kind, id, { ...d.model, commissioned: `${YEAR - 1}-12-01` });
    const readings = [];
    for (let t = yearStart, seq = 1; t <= yearEnd; t += STEP_MS, seq++) readings.push({ ts: t, seq, ...model.reading(t) });
    await publish(reg, readings);
  }
  // a meter of the measure added above, two days of June only; and a PV whose second reading is implausible (held out, open)
  const led = await registerDevice(svc, { id: 'kh-led-meter', kind: 'smart_meter', site: 'kh-school', sector: 'residential_commercial', measure: 'school-led-lighting' });
  devices.set(led.id, led);
  await publish(led, [0, 1, 2, 3, 4].map((i) => ({ ts: Date.parse('2025-06-01T00:00:00+08:00') + i * STEP_MS, seq: i + 1, import_kwh: 100 * i })));
  const glitch = await registerDevice(svc, { id: 'kh-glitch-pv', kind: 'pv_inverter', site: 'kh-glitch', sector: 'industry', params: { nameplate_kw: 10 } });
  devices.set(glitch.id, glitch);
  await publish(glitch, [
    { ts: '2025-07-01T00:00:00+08:00', seq: 1, energy_kwh: 0 },
    { ts: '2025-07-01T12:00:00+08:00', seq: 2, energy_kwh: 90_000 },
  ]);
  for (const month of MONTHS) {
    const r = await svc.api<{ revision: number }>('POST', `/api/rollups/monthly?month=${month}`);
    expect([200, 201], `${month}: ${JSON.stringify(r.body)}`).toContain(r.status);
  }
}, 180_000);

afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
  if (out) fs.rmSync(out, { recursive: true, force: true });
});

describe('netzero report --year', () => {
  it('writes the JSON model: twelve months rolled up, measures against targets, sectors against caps, coverage, revision 1', async () => {
    const r = await cli(['report', '--year', String(YEAR), '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${YEAR}, annual report revision 1 of 1 (new)`);
    const m = JSON.parse(r.stdout) as AnnualJson;
    expect(m.revision).toMatchObject({ revision: 1, of: 1, latest: true, changes: [] });
    expect(m.period.months_rolled_up).toEqual(MONTHS);
    expect(m.months.map((x) => x.revision)).toEqual(MONTHS.map(() => 1));
    expect(m.totals.devices).toBe(6);
    expect(m.totals.avoided_claimed_tco2e).toBeGreaterThan(0);
    expect(m.totals.avoided_sold_tco2e).toBeGreaterThan(0); // the Neimen biogas: sold as credits, never claimed
    expect(m.totals.inventory_tco2e).toBeGreaterThan(0);
    const saving = m.measures.find((x) => x.measure === 'public-sector-electricity-saving')!;
    expect(saving).toMatchObject({ source: 'budget', agency_zh: '經發局', target_tco2e: 2160, devices: 1 });
    const neimen = m.measures.find((x) => x.measure === 'neimen-methane')!;
    expect(neimen).toMatchObject({ avoided_claimed_tco2e: 0, target_tco2e: 2520 });
    expect(neimen.avoided_sold_tco2e).toBeGreaterThan(0);
    expect(m.measures.find((x) => x.measure === 'school-led-lighting')).toMatchObject({ source: 'added', target_tco2e: null, devices: 1 });
    expect(m.measures.find((x) => x.measure === 'school-rooftop-pv')).toMatchObject({ source: 'built-in', target_tco2e: null, devices: 1 });
    expect(m.measures.filter((x) => x.source === 'budget')).toHaveLength(28);
    expect(m.sectors.find((s) => s.sector === 'residential_commercial')).toMatchObject({ cap_tco2e: 4422300 });
    expect(m.review.open).toMatchObject({ intervals: 1, kwh: 90_000 });
    // every device-hour of the year is covered by the fleet's 12-hour intervals; the LED meter reported two days of June
    expect(m.coverage.devices.find((d) => d.device === 'kh-school-pv')).toMatchObject({ share: 1, hours_with_data: 8760 });
    expect(m.coverage.devices.find((d) => d.device === 'kh-led-meter')!.hours_with_data).toBe(48);
    expect(m.coverage.share).toBeGreaterThan(0.5);
    expect(m.coverage.share).toBeLessThan(1);
    expect(m.factors.map((f) => f.id)).toContain('grid_ef-2024-v1');
  }, 120_000);

  it('writes CSV, HTML and a PDF (Chinese glyphs, the measures, a sane first page)', async () => {
    const csv = await cli(['report', '--year', String(YEAR), '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\n')[0]).toMatch(/^section,year,revision,/);
    expect(csv.stdout).toContain('\nmonth,2025-12,true,1,');
    expect(csv.stdout).toContain('\nmeasure,neimen-methane,budget,21,');

    const htmlFile = path.join(out, 'annual.html');
    const html = await cli(['report', '--year', String(YEAR), '--format', 'html', '--out', htmlFile]);
    expect(html.code, html.stderr).toBe(0);
    expect(html.stderr).toContain(`wrote ${htmlFile} (${YEAR}, annual report revision 1 of 1, 12 of 12 months rolled up)`);
    const text = fs.readFileSync(htmlFile, 'utf8');
    expect(text).toContain(`高雄市 智慧電表碳帳 年度成果報告 ${YEAR}`);
    expect(text).toContain('<svg');
    expect(text).not.toMatch(/<script/i);

    const pdfFile = path.join(out, 'annual.pdf');
    const pdf = await cli(['report', '--year', String(YEAR), '--format', 'pdf', '--out', pdfFile]);
    expect(pdf.code, pdf.stderr).toBe(0);
    expect(fs.readFileSync(pdfFile).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const words = await run('pdftotext', ['-layout', pdfFile, '-']);
    expect(words.code, words.stderr).toBe(0);
    expect(words.stdout).toMatch(new RegExp(`高雄市\\s*智慧電表碳帳\\s*年度成果報告\\s*${YEAR}`));
    expect(words.stdout).toContain('公部門節電');
    expect(words.stdout).toMatch(/Public-sector\s+electricity\s+saving/);
    expect(words.stdout).toContain('Budget measures');
    const png = await run('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '1', pdfFile, path.join(out, 'first')]);
    expect(png.code, png.stderr).toBe(0);
    const [first] = fs.readdirSync(out).filter((f) => f.startsWith('first') && f.endsWith('.png'));
    const size = pngSize(path.join(out, first!));
    // A4 at 50 dpi: 8.27 × 11.69 in → 413 × 585 px
    expect(size.width).toBeGreaterThanOrEqual(405);
    expect(size.width).toBeLessThanOrEqual(420);
    expect(size.height).toBeGreaterThanOrEqual(578);
    expect(size.height).toBeLessThanOrEqual(592);
    expect(fs.statSync(path.join(out, first!)).size).toBeGreaterThan(10_000); // a page with text and a chart, not a blank
  }, 120_000);
});

describe('GET /api/reports/annual', () => {
  it('serves the stored revision in every format with its content type', async () => {
    const json = await get(`/api/reports/annual?year=${YEAR}`);
    expect(json.status).toBe(200);
    expect(json.type).toBe('application/json; charset=utf-8');
    expect(json.headers.get('x-netzero-annual-revision')).toBe('1');
    const m = JSON.parse(json.body.toString('utf8')) as AnnualJson;
    expect(m.revision.revision).toBe(1);
    const fromCli = JSON.parse((await cli(['report', '--year', String(YEAR), '--format', 'json'])).stdout) as AnnualJson;
    expect(m.totals).toEqual(fromCli.totals);

    const csv = await get(`/api/reports/annual?year=${YEAR}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.type).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(`inline; filename="netzero-annual-${YEAR}-r1.csv"`);
    expect(csv.body.toString('utf8')).toMatch(/^section,year,revision,/);

    const html = await get(`/api/reports/annual?year=${YEAR}&format=html`);
    expect(html.status).toBe(200);
    expect(html.type).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(html.body.toString('utf8')).toContain('年度成果報告');

    const pdf = await get(`/api/reports/annual?year=${YEAR}&format=pdf`);
    expect(pdf.status, pdf.body.toString('utf8').slice(0, 300)).toBe(200);
    expect(pdf.type).toBe('application/pdf');
    expect(pdf.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const file = path.join(out, 'http.pdf');
    fs.writeFileSync(file, pdf.body);
    const words = await run('pdftotext', [file, '-']);
    expect(words.stdout).toContain('年度成果報告');
  }, 120_000);

  it('a month restated by a late reading gives revision 2, naming the month; revision 1 is still served as it was', async () => {
    const before = JSON.parse((await get(`/api/reports/annual?year=${YEAR}&revision=1`)).body.toString('utf8')) as AnnualJson;
    // a late reading in March, between two stored ones: the scheduler restates March (rollup revision 2)
    const pv = devices.get('kh-school-pv')!;
    const model = modelFor('pv_inverter', pv.id, { ...FLEET[0]!.model, commissioned: `${YEAR - 1}-12-01` });
    const t = Date.parse('2025-03-10T09:00:00+08:00');
    await publish(pv, [{ ts: t, seq: 100_000, ...model.reading(t) }]);
    await waitFor('March restated', async () => (await svc.api<{ revision: number }>('GET', `/api/rollups/monthly?month=${YEAR}-03`, undefined, null)).body.revision === 2, 30_000, 250);

    const now = await get(`/api/reports/annual?year=${YEAR}`);
    expect(now.headers.get('x-netzero-annual-revision')).toBe('2');
    const m = JSON.parse(now.body.toString('utf8')) as AnnualJson;
    expect(m.revision).toMatchObject({ revision: 2, of: 2, latest: true, changes: [{ what: 'month', month: `${YEAR}-03`, from: 1, to: 2 }] });
    expect(m.revision.change_lines).toEqual([`${YEAR}-03: rollup revision 1 → rollup revision 2`]);
    expect(m.months.find((x) => x.month === `${YEAR}-03`)!.revision).toBe(2);

    const old = JSON.parse((await get(`/api/reports/annual?year=${YEAR}&revision=1`)).body.toString('utf8')) as AnnualJson;
    expect(old.revision).toMatchObject({ revision: 1, of: 2, latest: false });
    expect(old.totals).toEqual(before.totals);
    expect(old.months).toEqual(before.months);
    const html = await cli(['report', '--year', String(YEAR), '--revision', '1', '--format', 'html']);
    expect(html.stdout).toContain('A newer revision (2) of this report exists');
  }, 120_000);
});

describe('bad input', () => {
  it('the CLI names the flag and exits 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['report', '--year', '20x6'], /^netzero report: --year: must be a year YYYY, got "20x6"$/m],
      [['report', '--year', String(YEAR), '--month', `${YEAR}-01`], /^netzero report: --year: cannot be used with --month/m],
      [['report'], /^netzero report: --month: required: --month YYYY-MM for a month's report, or --year YYYY/m],
      [['report', '--year', '1999'], /^netzero report: --year: must be 2000 or later, got 1999$/m],
      [['report', '--year', '2999'], /^netzero report: --year: 2999 is in the future/m],
      [['report', '--year', String(YEAR), '--format', 'docx'], /^netzero report: --format: must be one of csv, json, html, pdf, got "docx"$/m],
      [['report', '--year', String(YEAR), '--revision', '0'], /^netzero report: --revision: must be a positive whole number, got "0"$/m],
      [['report', '--year', String(YEAR), '--revision', '9'], /^netzero report: --revision: 2025 has no annual report revision 9 \(the latest is \d\)$/m],
      [['report', '--year', '2024'], /^netzero report: --year: no month of 2024 has been rolled up yet: roll months up first/m],
      [['report', '--month', `${YEAR}-01`, '--format', 'pdf'], /^netzero report: --format: must be one of csv, json, html, got "pdf" \(pdf is for the annual report, --year\)$/m],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      const [args, pattern] = cases[i]!;
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(pattern);
    });
  }, 120_000);

  it('HTTP answers 400 naming the field and the reason, 404 with a reason', async () => {
    type Issues = { error: string; issues: Array<{ field: string; reason: string }> };
    const issue = async (q: string) => {
      const r = await get(`/api/reports/annual${q}`);
      expect(r.status, q).toBe(400);
      return (JSON.parse(r.body.toString('utf8')) as Issues).issues;
    };
    expect(await issue('?year=1999')).toEqual([{ field: 'year', reason: 'must be 2000 or later, got 1999' }]);
    expect(await issue('?year=20x6')).toEqual([{ field: 'year', reason: 'must be a year YYYY, got "20x6"' }]);
    expect(await issue('')).toEqual([{ field: 'year', reason: 'required (YYYY)' }]);
    expect(await issue(`?year=${YEAR}&format=docx`)).toEqual([{ field: 'format', reason: 'must be one of csv, json, html, pdf' }]);
    expect(await issue(`?year=${YEAR}&revision=0`)).toEqual([{ field: 'revision', reason: 'must be 1 or more (revisions are numbered from 1)' }]);
    expect(await issue(`?year=${YEAR}&revision=x`)).toEqual([{ field: 'revision', reason: 'must be a whole number' }]);

    const unknown = await get(`/api/reports/annual?year=${YEAR}&revision=9`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString('utf8'))).toEqual({ error: 'not found', reason: expect.stringMatching(/^2025 has no annual report revision 9 \(the latest is \d\)$/) });
    const empty = await get('/api/reports/annual?year=2024');
    expect(empty.status).toBe(404);
    expect(JSON.parse(empty.body.toString('utf8')).reason).toMatch(/^no month of 2024 has been rolled up yet: roll months up first/);
  }, 120_000);

  it('answers fuzzed queries with a result or a reason, never a 500', async () => {
    const value = fc.oneof(fc.constantFrom('', '0', '-1', '2025', '2024', '1999', '2100', '1e3', 'json', 'csv', 'html', 'docx', 'PDF', '__proto__', '%00', '1', '2', '99999999999999999999'), fc.string({ maxLength: 12 }));
    const query = fc.dictionary(fc.constantFrom('year', 'format', 'revision', 'month', 'x'), value, { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const r = await get(`/api/reports/annual?${new URLSearchParams(q)}`);
        expect(r.status === 200 || r.status === 400 || r.status === 404, `${JSON.stringify(q)}: ${r.status} ${r.body.toString('utf8').slice(0, 200)}`).toBe(true);
        if (r.status !== 200) expect(JSON.parse(r.body.toString('utf8')).issues ?? JSON.parse(r.body.toString('utf8')).reason).toBeTruthy();
      }),
      { seed: 20261202, numRuns: 60 },
    );
    expect((await get('/api/reports/annual?year=2025&year=2024')).body.toString('utf8')).toContain('must be one year YYYY');
  }, 120_000);
});

describe('without Chromium', () => {
  it('a PDF is 503 (HTTP) or exit 1 (CLI) naming the reason; the other formats still answer', async () => {
    const missing = path.join(tempDir('netzero-no-chromium-'), 'chromium');
    const bare = await startService({ env: { NETZERO_CHROMIUM: missing } });
    try {
      const rolled = await bare.api('POST', `/api/rollups/monthly?month=${YEAR}-01`);
      expect(rolled.status, JSON.stringify(rolled.body)).toBe(201);
      const json = await fetch(`${bare.base}/api/reports/annual?year=${YEAR}`);
      expect(json.status).toBe(200);
      expect(((await json.json()) as AnnualJson).period.months_rolled_up).toEqual([`${YEAR}-01`]);
      const pdf = await fetch(`${bare.base}/api/reports/annual?year=${YEAR}&format=pdf`);
      expect(pdf.status).toBe(503);
      expect(await pdf.json()).toEqual({ error: 'unavailable', reason: `cannot make a PDF: Chromium is not at ${missing} (install Debian's "chromium" package, or set NETZERO_CHROMIUM to its path)` });
      const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(process.execPath, [path.join(ROOT, 'bin/netzero.js'), 'report', '--year', String(YEAR), '--format', 'pdf', '--out', path.join(out, 'none.pdf')], { env: { ...process.env, NETZERO_DATA_DIR: bare.dataDir, NETZERO_CHROMIUM: missing } }, (err, _o, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`netzero: cannot make a PDF: Chromium is not at ${missing}`);
      expect(fs.existsSync(path.join(out, 'none.pdf'))).toBe(false);
    } finally {
      expect(await bare.stop()).toBe(0);
    }
  }, 120_000);
});
