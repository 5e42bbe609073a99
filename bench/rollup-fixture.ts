/**
 * A city-scale data dir built directly with SQL for bench/rollup.ts: a month of minute data for 10,000
 * devices is 432 million readings, far beyond what this machine ingests in a bench run, so the intervals
 * are written with INSERT … SELECT into the real schema (store/sqlite/schema.ts `migrate`, so whatever
 * the schema maintains beside `intervals` is maintained by the same statements the store runs), and the
 * devices are registered through the real registry in the real state database.
 *
 * What it holds: `intervals` as ingest would leave them (cumulative counters v0 → v1, the amount between
 * them, a quality, the device's kind, site and sector, biogas context), one row per counter per step,
 * starting one step before the month so the first interval crosses the month's edge. Each device reports
 * at its own second of the minute (0–59 s), so intervals cross hour edges as real ones do. `readings` and
 * `counter_points` stay empty: nothing the rollup or /api/summary reads comes from them (they would add
 * disk, not work to these figures).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { migrate } from '../store/sqlite/schema.js';
import { dayOffsetOf } from '../store/sqlite/interval-sums.js';
import { openServiceState } from '../app/state.js';
import { openAccounts } from '../accounting/accounts.js';
import { DeviceRegistry, type NewDevice } from '../devices/registry.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Kind, Sector } from '../devices/kinds.js';

export interface FixtureOptions {
  dataDir: string;
  devices: number;
  days: number;
  stepMin: number;
  /** biogas plants' step (default `stepMin`): their intervals are read one by one by the methane method */
  biogasStepMin?: number;
  /** YYYY-MM in `tz` */
  month: string;
  tz: string;
  log?: (line: string) => void;
}

export interface Fixture {
  devices: number;
  /** device × counter series */
  series: number;
  intervals: number;
  by_kind: Record<string, number>;
  build_s: number;
  readings_bytes: number;
  /** the window the data covers (epoch ms): the month's start to `days` later */
  from: number;
  to: number;
  settings: { devices: number; days: number; stepMin: number; biogasStepMin: number; month: string; tz: string };
}

interface FleetDevice extends NewDevice {
  id: string;
  kind: Kind;
  sector: Sector;
  n: number;
  /** kWh (or m³) per hour at the profile's peak */
  scale: number;
  counters: Array<{ counter: string; profile: Profile; scale: number; ctx: string }>;
}

type Profile = 'pv' | 'load' | 'export' | 'ev' | 'gas' | 'flare' | 'gen';
const PROFILES: Profile[] = ['pv', 'load', 'export', 'ev', 'gas', 'flare', 'gen'];

/**
 * The fleet: 30 % PV inverters, 15 % EV chargers, 55 % smart meters (one in five also exporting; a third
 * of them under the public-sector saving measure with a declared baseline, a few with the 2023 baseline
 * year, which has no data here), and one biogas plant per 1,000 devices. Ten devices per site.
 */
export function cityFleet(n: number): FleetDevice[] {
  const out: FleetDevice[] = [];
  const width = String(n).length;
  for (let i = 0; i < n; i++) {
    const id = (short: string) => `city-${short}-${String(i).padStart(width, '0')}`;
    const site = `city-site-${String(Math.floor(i / 10)).padStart(width, '0')}`;
    const r = i % 20;
    const pseudo = ((i * 2654435761) % 1000) / 1000; // 0..1, stable per device
    if (i % 1000 === 999) {
      const ctx = JSON.stringify({ ch4_pct: 55 + pseudo * 10, temp_c: 30 + pseudo * 8, pressure_kpa: 101 + pseudo * 2 });
      out.push({
        id: id('bg'), n: i, kind: 'biogas', site, sector: 'agriculture', measure: i === 999 ? 'neimen-methane' : undefined,
        params: { flare_type: 'enclosed', nameplate_kw: 60 }, scale: 50,
        counters: [
          { counter: 'biogas_m3', profile: 'gas', scale: 50, ctx },
          { counter: 'flare_m3', profile: 'flare', scale: 50, ctx },
          { counter: 'gen_kwh', profile: 'gen', scale: 31, ctx }, // every counter of a biogas reading carries its context
        ],
      });
    } else if (r < 6) {
      const nameplate = Math.round(5 + pseudo * 495);
      const measure = ['rooftop-pv', 'school-rooftop-pv', 'fish-farm-pv'][i % 3]!;
      out.push({
        id: id('pv'), n: i, kind: 'pv_inverter', site, sector: measure === 'fish-farm-pv' ? 'agriculture' : 'residential_commercial', measure,
        params: { nameplate_kw: nameplate }, scale: nameplate * 0.8, counters: [{ counter: 'energy_kwh', profile: 'pv', scale: nameplate * 0.8, ctx: '{}' }],
      });
    } else if (r < 9) {
      const scooter = i % 2 === 0;
      const kw = scooter ? 1.5 : 7;
      out.push({
        id: id('ev'), n: i, kind: 'ev_charger', site, sector: 'transport', measure: scooter ? 'e-scooter-subsidy' : 'public-car-park-charging',
        params: { vehicle_class: scooter ? 'scooter' : 'car', nameplate_kw: kw }, scale: kw, counters: [{ counter: 'energy_kwh', profile: 'ev', scale: kw, ctx: '{}' }],
      });
    } else {
      const base = 5 + pseudo * 60;
      const kind3 = i % 3;
      const measure = kind3 === 0 ? 'public-sector-electricity-saving' : kind3 === 1 ? 'social-housing-smart-meters' : undefined;
      // a declared baseline for most saving meters; every tenth one falls back to the 2023 baseline year
      const params = kind3 === 0 && i % 30 !== 0 ? { baseline_kwh_per_month: Math.round(base * 24 * 30 * 0.75) } : {};
      const counters: FleetDevice['counters'] = [{ counter: 'import_kwh', profile: 'load', scale: base, ctx: '{}' }];
      if (i % 5 === 0) counters.push({ counter: 'export_kwh', profile: 'export', scale: base * 0.3, ctx: '{}' });
      out.push({ id: id('sm'), n: i, kind: 'smart_meter', site, sector: i % 7 === 0 ? 'industry' : 'residential_commercial', measure, params, scale: base, counters });
    }
  }
  return out;
}

/** Per hour of local time, the share of the profile's peak (deterministic, with a weather factor per day for PV). */
function profileAt(p: Profile, hour: number, day: number, k: number): number {
  const wiggle = 0.9 + 0.2 * (((k * 40503) % 997) / 997);
  switch (p) {
    case 'pv': {
      const sun = Math.max(0, Math.sin((Math.PI * (hour - 6)) / 12));
      const weather = 0.55 + 0.45 * (((day * 7919) % 101) / 101);
      return sun * weather * wiggle;
    }
    case 'load':
      return (hour >= 8 && hour < 18 ? 1 : hour >= 18 && hour < 23 ? 0.7 : 0.35) * wiggle;
    case 'export':
      return Math.max(0, Math.sin((Math.PI * (hour - 7)) / 10)) * 0.5 * wiggle;
    case 'ev':
      return (hour >= 7 && hour < 10) || (hour >= 17 && hour < 22) ? 0.8 * wiggle : 0.1 * wiggle;
    case 'gas':
      return 0.95 * wiggle;
    case 'flare':
      return 0.1 * wiggle;
    case 'gen':
      return 0.9 * wiggle;
  }
}

/** Builds the fixture into `dataDir` (created; must not hold a data dir yet). */
export async function buildFixture(opts: FixtureOptions): Promise<Fixture> {
  const log = opts.log ?? (() => undefined);
  const t0 = performance.now();
  fs.mkdirSync(opts.dataDir, { recursive: true });
  for (const m of [opts.stepMin, opts.biogasStepMin ?? opts.stepMin]) {
    if (!Number.isInteger(m) || m <= 0) throw new Error(`a step must be a whole number of minutes, got ${m}`);
  }
  const start = DateTime.fromFormat(opts.month, 'yyyy-MM', { zone: opts.tz });
  const monthEnd = start.plus({ months: 1 }).toMillis();
  const from = start.toMillis();
  const to = Math.min(monthEnd, from + opts.days * 86_400_000);

  // The state database: every room's tables, the built-in factors, then the devices through the registry.
  const fleet = cityFleet(opts.devices);
  const state = await openServiceState(opts.dataDir);
  try {
    const store = SqliteStore.inDataDir(opts.dataDir); // only so openAccounts has one; never started
    await openAccounts({ state, store, registry: new DeviceRegistry(state), tz: opts.tz, gwpSet: 'ar5' });
    for (let i = 0; i < fleet.length; i += 1000) {
      await state.transaction().execute(async (tx) => {
        const registry = new DeviceRegistry(tx);
        for (const d of fleet.slice(i, i + 1000)) {
          await registry.register({ id: d.id, kind: d.kind, site: d.site, sector: d.sector, measure: d.measure, params: d.params });
        }
      });
    }
  } finally {
    await state.destroy();
  }
  log(`registered ${fleet.length} devices`);

  // The readings database: the store's own schema, then the intervals per series in time order.
  const file = path.join(opts.dataDir, 'readings.sqlite');
  const db = new Database(file);
  fs.chmodSync(file, 0o600);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -1048576'); // 1 GiB while building
  migrate(db, { day: { offsetMs: dayOffsetOf(opts.tz), tz: opts.tz } }); // the sums' days in the city's zone, as the service keeps them
  // The series, then their intervals in time order, every series at each step, as live ingest writes them
  // (the table's rows lie in time order, the primary key's pages fill at random): the biogas plants (at
  // their own step) after the others. A rare backwards step (counted 0) and a rarer implausible jump, as
  // meters send them.
  db.exec('CREATE TEMP TABLE series (i INTEGER PRIMARY KEY, grp INTEGER, n INTEGER, device TEXT, counter TEXT, kind TEXT, site TEXT, sector TEXT, ctx TEXT, profile TEXT, scale REAL, base REAL, jitter INTEGER)');
  const insertSeriesRow = db.prepare('INSERT INTO series (grp, n, device, counter, kind, site, sector, ctx, profile, scale, base, jitter) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const groups = [
    { grp: 0, stepMin: opts.stepMin, kinds: (k: Kind) => k !== 'biogas' },
    { grp: 1, stepMin: opts.biogasStepMin ?? opts.stepMin, kinds: (k: Kind) => k === 'biogas' },
  ];
  const byKind: Record<string, number> = {};
  let series = 0;
  db.transaction(() => {
    for (const d of fleet) {
      const g = groups.find((x) => x.kinds(d.kind))!;
      for (const c of d.counters) {
        insertSeriesRow.run(g.grp, d.n, d.id, c.counter, d.kind, d.site, d.sector, c.ctx, c.profile, c.scale, 1000 + (d.n % 997) * 13.7, ((d.n * 37) % 60) * 1000);
        series++;
      }
    }
  })();
  let intervals = 0;
  for (const g of groups) {
    const stepMs = g.stepMin * 60_000;
    const steps = Math.round((to - from) / stepMs);
    db.exec(`CREATE TEMP TABLE steps (k INTEGER PRIMARY KEY, t0 INTEGER NOT NULL, ${PROFILES.map((p) => `f_${p} REAL NOT NULL, c_${p} REAL NOT NULL`).join(', ')})`);
    const insertStep = db.prepare(`INSERT INTO steps VALUES (?, ?, ${PROFILES.map(() => '?, ?').join(', ')})`);
    const cumulative: Record<Profile, number> = Object.fromEntries(PROFILES.map((p) => [p, 0])) as Record<Profile, number>;
    db.transaction(() => {
      // k = 0 is the step before the month: its interval crosses the month's start
      for (let k = 0; k <= steps; k++) {
        const t = from + (k - 1) * stepMs;
        const local = DateTime.fromMillis(t, { zone: opts.tz });
        const hour = local.hour + local.minute / 60;
        const values: number[] = [];
        for (const p of PROFILES) {
          const f = profileAt(p, hour, local.ordinal, k) * (stepMs / 3_600_000);
          values.push(f, cumulative[p]);
          cumulative[p] += f;
        }
        insertStep.run(k, t, ...values);
      }
    })();
    const col = (prefix: 'f' | 'c') => `CASE d.profile ${PROFILES.map((p) => `WHEN '${p}' THEN s.${prefix}_${p}`).join(' ')} END`;
    const backwards = '(d.n * 7919 + s.k * 104729) % 20011 = 0';
    const implausible = '(d.n * 6151 + s.k * 12289) % 400009 = 0';
    const insertSteps = db.prepare(`
      INSERT INTO intervals (device, counter, t0, seq0, t1, seq1, v0, v1, amount, quality, kind, site, sector, ctx, reason)
      SELECT d.device, d.counter, s.t0 + d.jitter, s.k, s.t0 + d.jitter + @step, s.k + 1,
        d.base + d.scale * (${col('c')}), d.base + d.scale * (${col('c')} + ${col('f')}),
        CASE WHEN ${backwards} THEN 0 WHEN ${implausible} THEN d.scale * 5000 ELSE d.scale * (${col('f')}) END,
        CASE WHEN ${backwards} THEN 'step_back' WHEN ${implausible} THEN 'implausible' ELSE 'ok' END,
        d.kind, d.site, d.sector, d.ctx,
        CASE WHEN ${backwards} THEN 'fixture: a backwards step (register read mid-update)'
             WHEN ${implausible} THEN 'fixture: a rise beyond the bound' ELSE '' END
      FROM steps s CROSS JOIN series d
      WHERE s.k >= @k0 AND s.k < @k1 AND d.grp = @grp`);
    const chunk = Math.max(1, Math.round(15 / g.stepMin)); // about a quarter hour of readings per statement
    let logged = 0;
    for (let k = 0; k <= steps; k += chunk) {
      const r = insertSteps.run({ step: stepMs, k0: k, k1: Math.min(steps + 1, k + chunk), grp: g.grp });
      intervals += r.changes;
      if (k / (steps + 1) >= logged + 0.1) {
        logged = Math.floor((k / (steps + 1)) * 10) / 10;
        log(`  ${g.grp === 1 ? 'biogas ' : ''}${Math.round(logged * 100)} %: ${intervals.toLocaleString('en-US')} intervals`);
      }
    }
    for (const d of fleet) if (g.kinds(d.kind)) byKind[d.kind] = (byKind[d.kind] ?? 0) + d.counters.length * (steps + 1);
    db.exec('DROP TABLE temp.steps');
  }
  db.exec('DROP TABLE temp.series');
  // no ANALYZE: a data dir the service wrote has no statistics either, so the query plans are the same
  db.pragma('journal_mode = WAL');
  db.close();
  const fixture: Fixture = {
    devices: fleet.length,
    series,
    intervals,
    by_kind: byKind,
    build_s: (performance.now() - t0) / 1000,
    readings_bytes: fs.statSync(file).size,
    from,
    to,
    settings: { devices: opts.devices, days: opts.days, stepMin: opts.stepMin, biogasStepMin: opts.biogasStepMin ?? opts.stepMin, month: opts.month, tz: opts.tz },
  };
  fs.writeFileSync(path.join(opts.dataDir, FIXTURE_FILE), JSON.stringify(fixture, null, 2));
  return fixture;
}

/** Where a built fixture describes itself (bench/rollup.ts reuses a kept data dir by it). */
export const FIXTURE_FILE = 'bench-fixture.json';

/**
 * A kept fixture, for measuring again without building it again: its description, after taking away the
 * month's rollups (so the first `netzero rollup` makes revision 1 again, as on a fresh fixture).
 */
export async function reuseFixture(dataDir: string, month: string): Promise<Fixture> {
  const fixture = JSON.parse(fs.readFileSync(path.join(dataDir, FIXTURE_FILE), 'utf8')) as Fixture;
  if (fixture.settings.month !== month) throw new Error(`${dataDir} holds ${fixture.settings.month}, not ${month}`);
  const state = await openServiceState(dataDir);
  try {
    await state.deleteFrom('rollup_rows').where('month', '=', month).execute();
    await state.deleteFrom('rollup_revisions').where('month', '=', month).execute();
  } finally {
    await state.destroy();
  }
  return { ...fixture, build_s: 0 };
}
