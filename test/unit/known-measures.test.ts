import { describe, expect, it } from 'vitest';
import { loadBudget } from '../../accounting/budget/budget.js';
import { DEMO_DEVICES } from '../../devices/simulators/demo-fleet.js';
import { BUILT_IN_MEASURES, knownMeasures, measureProblem, parseRegistration, type KnownMeasure } from '../../devices/registry.js';

/**
 * Registrations (`POST /api/devices`, `netzero devices add`) checked against the device schema or the
 * viewer schema, never a union of both, so every error names its field; a measure must be one the
 * system knows (the budget's, the built-in ones, the added ones).
 */

const budget = loadBudget().measures;
const known: KnownMeasure[] = knownMeasures(budget, [{ id: 'school-led-lighting', name: 'LED lighting in schools', source: 'added' }]);
const fields = (r: ReturnType<typeof parseRegistration>) => (r.success ? [] : r.errors.map((e) => e.field));
const reasons = (r: ReturnType<typeof parseRegistration>) => (r.success ? {} : Object.fromEntries(r.errors.map((e) => [e.field, e.reason])));

describe('registration errors name the field', () => {
  it('names kind, sector and a param, not the body or the union', () => {
    const r = parseRegistration({ kind: 'pv', site: 'kh-1', sector: 'houses', params: { nameplate_kw: -5 } }, known);
    expect(fields(r)).toEqual(['kind', 'sector', 'params.nameplate_kw']);
    expect(reasons(r).kind).toBe('must be one of smart_meter, pv_inverter, biogas, ev_charger, got "pv"');
    expect(reasons(r).sector).toMatch(/^must be one of industry, .*, got "houses"$/);
    expect(reasons(r)['params.nameplate_kw']).toBe('must be > 0 (kW)');
  });

  it('says which fields are missing, and names an unknown field instead of dropping it', () => {
    expect(reasons(parseRegistration({}, known))).toEqual({
      kind: 'required: one of smart_meter, pv_inverter, biogas, ev_charger',
      site: 'required',
      sector: 'required: one of industry, residential_commercial, transport, environment, agriculture, forestry',
    });
    const typo = parseRegistration({ kind: 'pv_inverter', site: 's', sector: 'industry', measures: 'rooftop-pv' }, known);
    expect(fields(typo)).toEqual(['measures']);
    expect(reasons(typo).measures).toMatch(/^is not a field of a device \(kind, site, sector, measure, name, id, params\)$/);
  });

  it('treats a body with role as a viewer: its own errors, device fields refused by name', () => {
    expect(parseRegistration({ role: 'viewer' }, known)).toMatchObject({ success: true, data: { role: 'viewer' } });
    expect(reasons(parseRegistration({ role: 'admin' }, known))).toEqual({ role: 'must be "viewer" (leave role out to register a device), got "admin"' });
    expect(fields(parseRegistration({ role: 'viewer', kind: 'pv_inverter', params: {} }, known))).toEqual(['kind', 'params']);
  });

  it('names the params object and the body when they are not objects', () => {
    expect(reasons(parseRegistration({ kind: 'pv_inverter', site: 's', sector: 'industry', params: 'nameplate_kw=5' }, known))).toEqual({
      params: 'must be an object of method settings ({"nameplate_kw":50,…})',
    });
    for (const body of [null, 'x', [1], 5]) expect(fields(parseRegistration(body, known)), JSON.stringify(body)).toEqual(['body']);
  });
});

describe('known measures', () => {
  const device = (measure: string) => parseRegistration({ kind: 'pv_inverter', site: 's', sector: 'industry', measure }, known);

  it("accepts the budget's measures, the built-in ones and the added ones", () => {
    for (const m of budget) expect(device(m.id).success, m.id).toBe(true);
    for (const m of BUILT_IN_MEASURES) expect(device(m.id).success, m.id).toBe(true);
    expect(device('school-led-lighting').success).toBe(true);
  });

  it("keeps every demo device's measure known, so the demo fleet registers through the same check", () => {
    for (const d of DEMO_DEVICES) {
      const { model: _model, ...registration } = d;
      expect(parseRegistration(registration, known), d.id).toMatchObject({ success: true });
    }
  });

  it('refuses a typo with the closest known ids, and an unrelated name with the whole list', () => {
    const typo = device('rooftop-pvv');
    expect(fields(typo)).toEqual(['measure']);
    expect(reasons(typo).measure).toMatch(/^is not a known measure \(got "rooftop-pvv"\); did you mean rooftop-pv/);
    expect(reasons(typo).measure).toContain('netzero measures add --id ID --name NAME');
    expect(measureProblem('neimen', known)).toMatch(/did you mean neimen-methane or neimen-generation\?/);
    const far = measureProblem('zzzzzzzzzzzz', known)!;
    for (const m of known) expect(far).toContain(m.id);
  });

  it('reports the measure beside the other fields, in one answer', () => {
    expect(fields(parseRegistration({ kind: 'pv', site: 's', sector: 'industry', measure: 'nope-nope-nope' }, known))).toEqual(['kind', 'measure']);
  });
});

describe('unknown fields a sender chose', () => {
  it('are named even when empty or huge', () => {
    const r = parseRegistration({ kind: 'pv_inverter', site: 's', sector: 'industry', '': 1, ['k'.repeat(500)]: 2 }, known);
    expect(fields(r)).toEqual(['""', `${'k'.repeat(64)}…`]);
  });
});
