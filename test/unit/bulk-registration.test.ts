import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBudget } from '../../accounting/budget/budget.js';
import { openServiceState } from '../../app/state.js';
import { columnOf, readRegistrationsCsv, rowError } from '../../cli/device-csv.js';
import { MAX_REGISTRATIONS, parseRegistrations } from '../../devices/bulk.js';
import { DeviceRegistry, DuplicateIdsError, knownMeasures } from '../../devices/registry.js';
import type { StateDb } from '../../lib/state-db.js';

/**
 * Many registrations at once (`POST /api/devices` with a list, `netzero devices import FILE.csv`): every
 * item checked with the rules of one, each problem named by index and field (by line and column in a CSV
 * file), an id repeated in the list refused, and `registerMany` registering all or nothing.
 */

const known = knownMeasures(loadBudget().measures, []);
const meter = (id?: string) => ({ ...(id ? { id } : {}), kind: 'smart_meter', site: 'kh-1', sector: 'industry' });

describe('a list of registrations', () => {
  it('passes when every item passes, in order', async () => {
    const r = await parseRegistrations([meter('sm-1'), { role: 'viewer', id: 'v-1' }, meter()], known);
    expect(r.success).toBe(true);
    expect(r.success && r.data.map((d) => d.id ?? null)).toEqual(['sm-1', 'v-1', null]);
  });

  it('names each bad item by index and field', async () => {
    const r = await parseRegistrations([meter('sm-1'), { kind: 'pv', site: 'kh-1', sector: 'industry', params: { nameplate_kw: -1 } }, 7, { ...meter('sm-3'), measure: 'rooftop-pvv' }], known);
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(r.errors.map((e) => [e.index, e.field])).toEqual([
      [1, '[1].kind'],
      [1, '[1].params.nameplate_kw'],
      [2, '[2]'],
      [3, '[3].measure'],
    ]);
    expect(r.errors[0]!.reason).toBe('must be one of smart_meter, pv_inverter, biogas, ev_charger, got "pv"');
    expect(r.errors[2]!.reason).toMatch(/^must be a JSON object/);
    expect(r.errors[3]!.reason).toMatch(/did you mean rooftop-pv/);
  });

  it('refuses an id given twice, at each later item, naming the first', async () => {
    const r = await parseRegistrations([meter('a'), meter('b'), meter('a'), meter('a')], known);
    expect(r.success ? [] : r.errors).toEqual([
      { index: 2, field: '[2].id', reason: 'repeats the id "a" of item [0]: each id once' },
      { index: 3, field: '[3].id', reason: 'repeats the id "a" of item [0]: each id once' },
    ]);
  });

  it('is bounded: none, and more than 20,000, are refused with the bound', async () => {
    expect(await parseRegistrations([], known)).toEqual({ success: false, errors: [], listError: 'holds no registration: send at least one' });
    const over = await parseRegistrations(Array.from({ length: MAX_REGISTRATIONS + 1 }, () => meter()), known);
    expect(over).toEqual({ success: false, errors: [], listError: 'holds 20001 registrations; at most 20000 at once: split the list' });
  });
});

describe('registerMany on a real state database', () => {
  let dir: string;
  let db: StateDb | undefined;
  afterEach(async () => {
    await db?.destroy();
    db = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const open = async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-bulk-'));
    db = await openServiceState(dir);
    return new DeviceRegistry(db);
  };

  it('registers 20,000 in one go, each with its own secret that authenticates, hashed with the fast keyed hash', async () => {
    const registry = await open();
    const seen: string[] = [];
    registry.onRegistered((id) => seen.push(id));
    const inputs = Array.from({ length: MAX_REGISTRATIONS }, (_, i) => (i % 2 ? meter(`sm-${i}`) : meter()));
    const regs = await registry.registerMany(inputs as never);
    expect(regs).toHaveLength(MAX_REGISTRATIONS);
    expect(new Set(regs.map((r) => r.id)).size).toBe(MAX_REGISTRATIONS);
    expect(new Set(regs.map((r) => r.secret)).size).toBe(MAX_REGISTRATIONS);
    expect(regs[1]).toMatchObject({ id: 'sm-1', topic: 'netzero/v1/kh-1/sm-1/telemetry' });
    expect(regs[0]!.id).toMatch(/^sm-[0-9a-f]{8}$/);
    expect(await registry.countReal()).toBe(MAX_REGISTRATIONS);
    expect(seen).toHaveLength(MAX_REGISTRATIONS);
    for (const r of [regs[0]!, regs[12_345]!, regs[MAX_REGISTRATIONS - 1]!]) {
      expect((await registry.authenticate(r.id, r.secret))?.id).toBe(r.id);
      expect(await registry.authenticate(r.id, regs[1]!.secret === r.secret ? 'x' : regs[1]!.secret)).toBeNull();
      expect((await registry.credentials(r.id))!.hash).toMatch(/^hmac-sha256\$/);
    }
  });

  it('registers nothing when an id is taken, naming every taken one by index', async () => {
    const registry = await open();
    await registry.register(meter('sm-taken') as never);
    const err = await registry.registerMany([meter('sm-new'), meter('sm-taken'), meter()] as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateIdsError);
    expect((err as DuplicateIdsError).taken).toEqual([{ index: 1, id: 'sm-taken' }]);
    expect((await registry.list()).map((d) => d.id)).toEqual(['sm-taken']);
  });
});

describe('the CSV of netzero devices import', () => {
  it('reads fields and param columns like the flags of devices add', () => {
    const csv = readRegistrationsCsv('\uFEFFid,kind,site,sector,measure,name,param.nameplate_kw,param.sold_as_credits,param.modbus.host\n' +
      'pv-1,pv_inverter,kh-1,residential_commercial,rooftop-pv,"Roof, east",50,true,10.0.0.5\n' +
      '\n' +
      ',smart_meter,kh-2,industry,,,,,\n');
    expect(csv.errors).toEqual([]);
    expect(csv.rows).toEqual([
      { line: 2, input: { id: 'pv-1', kind: 'pv_inverter', site: 'kh-1', sector: 'residential_commercial', measure: 'rooftop-pv', name: 'Roof, east', params: { nameplate_kw: 50, sold_as_credits: true, modbus: { host: '10.0.0.5' } } } },
      { line: 4, input: { kind: 'smart_meter', site: 'kh-2', sector: 'industry' } },
    ]);
  });

  it('counts lines as the file does: a quoted cell over two lines, semicolons, CRLF', () => {
    const csv = readRegistrationsCsv('kind;site;sector;name\r\nsmart_meter;kh-1;industry;"two\r\nlines"\r\nsmart_meter;kh-1;industry;x\r\n');
    expect(csv.rows.map((r) => [r.line, r.input.name])).toEqual([
      [2, 'two\r\nlines'],
      [4, 'x'],
    ]);
  });

  it('names a bad header by line and column', () => {
    expect(readRegistrationsCsv('id,kind,site,sector,measures,kind,\nx,y,z,w,v,u,t\n').errors).toEqual([
      'line 1, column 5 ("measures"): is not a column of a device (id, kind, site, sector, measure, name, role, or param.<key> for each --param: param.nameplate_kw, param.modbus.host)',
      'line 1, column 6 ("kind"): named twice',
      'line 1, column 7: the header cell is empty: name the column (id, kind, site, sector, measure, name, role or param.<key>)',
    ]);
    expect(readRegistrationsCsv('id,site\n').errors).toEqual(['line 1: no column "kind", "sector": every device needs kind, site and sector']);
    expect(readRegistrationsCsv('').errors).toEqual(['line 1: the file is empty: it needs a header row (id,kind,site,sector,…) and a row per device']);
  });

  it('names a row with too many cells and a param given twice by line (and column)', () => {
    const csv = readRegistrationsCsv('kind,site,sector,param.modbus,param.modbus.host\nsmart_meter,kh-1,industry,,h\nsmart_meter,kh-1,industry,x,h\nsmart_meter,kh-1,industry,,h,extra\n');
    expect(csv.errors).toEqual(['line 3, column param.modbus.host: modbus is already given as a value', 'line 4: has 6 cells, the header 5 cells (a separator inside a value? quote it)']);
    expect(csv.rows.map((r) => r.line)).toEqual([2, 3]);
  });

  it('maps a registration error to its column', () => {
    expect(columnOf('params.modbus.map.import_kwh.address')).toBe('param.modbus.map.import_kwh.address');
    expect(columnOf('params')).toBe('param.*');
    expect(rowError(7, 'sector', 'must be one of …')).toBe('line 7, column sector: must be one of …');
    expect(rowError(7, 'body', 'must be a JSON object')).toBe('line 7: must be a JSON object');
  });
});
