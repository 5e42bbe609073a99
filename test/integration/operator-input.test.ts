import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDevice, startService, type RunningService } from '../helpers/service.js';

/**
 * Every operator input is validated and answered with the field and the reason, and a usage error changes
 * nothing: `POST /api/devices` names `kind`, `sector`, `params.nameplate_kw`, `measure` (never the body or
 * a union); a measure must be a known one; `/api/factors` speaks snake_case both ways; the command line
 * names the flag and exits 2 for every usage error, commander's own included.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
type Issues = { error: string; issues: Array<{ field: string; reason: string }> };

let svc: RunningService;

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/netzero.js'), ...args], { env: { ...process.env, NETZERO_DATA_DIR: svc.dataDir, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const deviceIds = async () => (await svc.api<Array<{ id: string }>>('GET', '/api/devices')).body.map((d) => d.id).sort();
const fieldsOf = (r: { body: Issues }) => r.body.issues.map((i) => i.field);

beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
});

describe('POST /api/devices names the field', () => {
  it('answers a bad kind, sector or param with that field, not payload or the union', async () => {
    const before = await deviceIds();
    const kind = await svc.api<Issues>('POST', '/api/devices', { kind: 'pv', site: 'kh-1', sector: 'industry' });
    expect(kind.status).toBe(400);
    expect(kind.body.issues).toEqual([{ field: 'kind', reason: 'must be one of smart_meter, pv_inverter, biogas, ev_charger, got "pv"' }]);

    const sector = await svc.api<Issues>('POST', '/api/devices', { kind: 'pv_inverter', site: 'kh-1', sector: 'houses' });
    expect(fieldsOf(sector)).toEqual(['sector']);
    expect(sector.body.issues[0]!.reason).toMatch(/^must be one of industry, residential_commercial, .*, got "houses"$/);

    const param = await svc.api<Issues>('POST', '/api/devices', { kind: 'pv_inverter', site: 'kh-1', sector: 'industry', params: { nameplate_kw: -1 } });
    expect(param.body.issues).toEqual([{ field: 'params.nameplate_kw', reason: 'must be > 0 (kW)' }]);

    const all = await svc.api<Issues>('POST', '/api/devices', { kind: 'pv', site: 'a/b', sector: 'x', params: { kwh_per_km: 0, vehicle_class: 'truck' } });
    expect(fieldsOf(all)).toEqual(['kind', 'site', 'sector', 'params.vehicle_class', 'params.kwh_per_km']);

    const unknown = await svc.api<Issues>('POST', '/api/devices', { kind: 'pv_inverter', site: 'kh-1', sector: 'industry', measures: 'rooftop-pv' });
    expect(fieldsOf(unknown)).toEqual(['measures']);

    const viewer = await svc.api<Issues>('POST', '/api/devices', { role: 'admin' });
    expect(viewer.body.issues).toEqual([{ field: 'role', reason: 'must be "viewer" (leave role out to register a device), got "admin"' }]);
    const viewerWithKind = await svc.api<Issues>('POST', '/api/devices', { role: 'viewer', kind: 'pv_inverter' });
    expect(fieldsOf(viewerWithKind)).toEqual(['kind']);

    expect(await deviceIds()).toEqual(before);
  });
});

describe('measures', () => {
  it('refuses a measure the system does not know, with the closest known ids', async () => {
    const before = await deviceIds();
    const typo = await svc.api<Issues>('POST', '/api/devices', { kind: 'pv_inverter', site: 'kh-1', sector: 'industry', measure: 'rooftop-pvv' });
    expect(typo.status).toBe(400);
    expect(fieldsOf(typo)).toEqual(['measure']);
    expect(typo.body.issues[0]!.reason).toMatch(/^is not a known measure \(got "rooftop-pvv"\); did you mean rooftop-pv/);
    const far = await svc.api<Issues>('POST', '/api/devices', { kind: 'biogas', site: 'kh-1', sector: 'agriculture', measure: 'qqqqqqqqqqqq' });
    expect(far.body.issues[0]!.reason).toContain('neimen-methane');
    expect(await deviceIds()).toEqual(before);
  });

  it("accepts the budget's measures, the built-in ones, and one added with netzero measures add", async () => {
    await registerDevice(svc, { kind: 'biogas', site: 'kh-neimen', sector: 'agriculture', measure: 'neimen-methane' });
    await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-school-01', sector: 'residential_commercial', measure: 'rooftop-pv' });

    const refused = await svc.api<Issues>('POST', '/api/devices', { kind: 'smart_meter', site: 'kh-school-02', sector: 'residential_commercial', measure: 'school-led-lighting' });
    expect(fieldsOf(refused)).toEqual(['measure']);
    const added = await cli(['measures', 'add', '--id', 'school-led-lighting', '--name', 'LED lighting in schools']);
    expect(added.code, added.stderr).toBe(0);
    await registerDevice(svc, { kind: 'smart_meter', site: 'kh-school-02', sector: 'residential_commercial', measure: 'school-led-lighting' });

    const list = await cli(['measures', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const measures = JSON.parse(list.stdout) as Array<{ id: string; source: string }>;
    expect(measures).toContainEqual(expect.objectContaining({ id: 'neimen-methane', source: 'budget' }));
    expect(measures).toContainEqual(expect.objectContaining({ id: 'rooftop-pv', source: 'built-in' }));
    expect(measures).toContainEqual(expect.objectContaining({ id: 'school-led-lighting', source: 'added' }));

    const again = await cli(['measures', 'add', '--id', 'neimen-methane', '--name', 'x']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^netzero measures add: --id: "neimen-methane" is already a known measure \(the budget's/);
  });
});

describe('/api/factors in snake_case both ways', () => {
  it('answers GET with the field names POST takes, and refuses a camelCase one by name', async () => {
    const list = await svc.api<Array<Record<string, unknown>>>('GET', '/api/factors', undefined, null);
    expect(list.status).toBe(200);
    const grid = list.body.find((f) => f.id === 'grid_ef-2023-v1')!;
    expect(grid).toMatchObject({ name: 'grid_ef', data_year: 2023, value: 0.494, valid_from: null, valid_to: null });
    expect(Object.keys(grid)).toEqual(expect.arrayContaining(['data_year', 'valid_from', 'valid_to', 'published_at', 'created_at']));
    for (const f of list.body) for (const k of Object.keys(f)) expect(k, `${String(f.id)}: ${k}`).toMatch(/^[a-z0-9_]+$/);

    const camel = await svc.api<Issues>('POST', '/api/factors', { name: 'ch4_gwp', variant: 'ar5', value: 28, unit: 'tCO2e/tCH4', source: 'IPCC AR5 test', publishedAt: '2014-11-01' });
    expect(camel.status).toBe(400);
    expect(camel.body.issues).toEqual([{ field: 'publishedAt', reason: 'is spelled published_at (the API is snake_case)' }]);

    const added = await svc.api<{ version: Record<string, unknown> }>('POST', '/api/factors', {
      name: 'ch4_gwp', variant: 'ar5', value: 28, unit: 'tCO2e/tCH4', source: 'IPCC AR5 test', published_at: '2014-11-01', valid_from: '2014-11-01',
    });
    expect(added.status).toBe(201);
    expect(added.body.version).toMatchObject({ name: 'ch4_gwp', published_at: '2014-11-01', valid_from: '2014-11-01', data_year: null });
    expect(added.body.version).not.toHaveProperty('publishedAt');

    const json = await cli(['factors', 'list', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const again = await svc.api<Array<Record<string, unknown>>>('GET', '/api/factors', undefined, null);
    expect(JSON.parse(json.stdout)).toEqual(again.body);
  });
});

describe('command line usage errors: the flag and the reason, exit 2, nothing changed', () => {
  const future = DateTime.now().setZone('Asia/Taipei').plus({ months: 2 }).toFormat('yyyy-MM');

  it('netzero devices add names --kind, --sector, --param and --measure', async () => {
    const before = await deviceIds();
    const r = await cli(['devices', 'add', '--kind', 'pv', '--site', 'kh-cli', '--sector', 'houses', '--param', 'nameplate_kw=-1', '--measure', 'rooftop-pvv']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('netzero devices add: --kind: must be one of smart_meter, pv_inverter, biogas, ev_charger, got "pv"');
    expect(lines[1]).toMatch(/^netzero devices add: --sector: must be one of industry, .*, got "houses"$/);
    expect(lines[2]).toBe('netzero devices add: --param nameplate_kw: must be > 0 (kW)');
    expect(lines[3]).toMatch(/^netzero devices add: --measure: is not a known measure \(got "rooftop-pvv"\); did you mean rooftop-pv/);
    const param = await cli(['devices', 'add', '--kind', 'pv_inverter', '--site', 'kh-cli', '--sector', 'industry', '--param', 'nameplate_kw']);
    expect(param.code).toBe(2);
    expect(param.stderr).toBe('netzero devices add: --param: must be key=value (nameplate_kw=50), got "nameplate_kw"\n');
    const viewer = await cli(['devices', 'add', '--role', 'viewer', '--kind', 'pv_inverter']);
    expect(viewer.code).toBe(2);
    expect(viewer.stderr).toBe('netzero devices add: --kind: not allowed with --role viewer\n');
    expect(await deviceIds()).toEqual(before);
  });

  it("exits 2 for commander's own errors, with its message", async () => {
    const cases: Array<[string[], RegExp]> = [
      [['devices', 'add', '--bogus'], /unknown option '--bogus'/],
      [['devices', 'list', 'extra'], /too many arguments/],
      [['rollup'], /required option '--month <YYYY-MM>' not specified/],
      [['report', '--format', 'csv'], /--month: required: --month YYYY-MM for a month's report, or --year YYYY for the annual report/],
      [['factors', 'add', '--name', 'grid_ef', '--value', '0.5', '--unit', 'kgCO2e/kWh'], /required option '--source <citation>' not specified/],
      [['measures', 'add', '--id', 'x-y'], /required option '--name <name>' not specified/],
      [['start', '--bogus'], /unknown option '--bogus'/],
      [['no-such-command'], /unknown command 'no-such-command'/],
      [['devices'], /Usage: netzero devices/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr, cases[i]![0].join(' ')).toMatch(cases[i]![1]);
    });
    expect((await cli(['--help'])).code).toBe(0);
  });

  it('names the flag of every other command and exits 2 before touching the data dir', async () => {
    const cases: Array<[string[], string]> = [
      [['rollup', '--month', '2026-1'], 'netzero rollup: --month must be YYYY-MM, got "2026-1"'],
      [['rollup', '--month', future], `netzero rollup: --month: ${future} is in the future`],
      [['report', '--month', future], `netzero report: --month: ${future} is in the future`],
      [['report', '--month', '2026-01', '--revision', 'two'], 'netzero report: --revision: must be a whole number, got "two"'],
      [['report', '--month', '2026-01', '--out', '/nonexistent-dir/r.html'], 'netzero report: --out: the folder /nonexistent-dir does not exist'],
      [['factors', 'list', '--name', 'grid'], 'netzero factors list: --name: must be one of grid_ef, '],
      [['factors', 'add', '--name', 'grid_ef', '--value', 'half', '--year', '2024', '--unit', 'kgCO2e/kWh', '--source', 'a notice'], 'netzero factors add: --value: must be a number, got "half"'],
      [['factors', 'add', '--name', 'grid_ef', '--value', '0.5', '--year', '20x', '--unit', 'kgCO2e/kWh', '--source', 'a notice'], 'netzero factors add: --year: must be a whole number, got "20x"'],
      [['simulate', '--devices', '0'], 'netzero simulate: --devices: must be a whole number from 1 to 100000, got "0"'],
      [['simulate', '--token', 'abc'], 'netzero simulate: --token: is only used with --api'],
      [['measures', 'add', '--id', 'School_LED', '--name', 'LED'], 'netzero measures add: --id: must be kebab-case'],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr.startsWith(cases[i]![1]), `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(true);
    });
    // the future months were not rolled up
    expect((await svc.api('GET', `/api/rollups/monthly?month=${future}`, undefined, null)).status).toBe(404);
  });
});
