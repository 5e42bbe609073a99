/**
 * City-scale accounting benchmark (issue 12): the monthly rollup of a 10,000-device fleet and
 * `/api/summary` over a month of it, on a data dir built with SQL (bench/rollup-fixture.ts). See
 * bench/README.md, "npm run bench:rollup".
 *
 *   npm run bench:rollup                                             # 10,000 devices × 1 day × 1 min
 *   BENCH_ROLLUP_DAYS=30 BENCH_ROLLUP_STEP_MIN=15 BENCH_ROLLUP_BIOGAS_STEP_MIN=1 npm run bench:rollup
 *                                      # the whole month: meters every 15 min, biogas plants every minute
 *   BENCH_ROLLUP_DAYS=1,2,4 npm run bench:rollup                      # three sizes, one after the other
 *
 * Per size: the fixture is built in a temp data dir; `netzero rollup --month` runs twice as a user runs it
 * (a new revision, then the same month again: unchanged), each under /usr/bin/time -v for its peak RSS;
 * then the service starts on the data dir (`node bin/netzero.js start`, free ports), the rollup runs once
 * more through `POST /api/rollups/monthly` (the scheduler's queue, inside the service), and `/api/summary`
 * is loaded at a steady rate, open loop (each request's latency counts from the moment it was due, so a
 * slow answer delays no later request's clock): the same month window every time, then a different
 * window per request (the month's start to a different second of the data's last day).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { migrate, SCHEMA } from '../store/sqlite/schema.js';
import { dayOffsetOf } from '../store/sqlite/interval-sums.js';
import { totalRows } from '../accounting/totals.js';
import type { LedgerRow } from '../accounting/ledger/device-row.js';
import type { Window } from '../store/types.js';
import { buildFixture, reuseFixture, type Fixture } from './rollup-fixture.js';
import { startService, tempDir } from '../test/helpers/service.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const TZ = process.env.NETZERO_TZ ?? 'Asia/Taipei';
const DEVICES = Number(process.env.BENCH_ROLLUP_DEVICES ?? 10_000);
const DAYS = (process.env.BENCH_ROLLUP_DAYS ?? '1').split(',').map(Number);
const STEP_MIN = Number(process.env.BENCH_ROLLUP_STEP_MIN ?? 1);
/** biogas plants' step: the methane method reads their intervals one by one, so theirs count at full rate */
const BIOGAS_STEP_MIN = Number(process.env.BENCH_ROLLUP_BIOGAS_STEP_MIN ?? STEP_MIN);
const MONTH = process.env.BENCH_ROLLUP_MONTH ?? DateTime.now().setZone(TZ).minus({ months: 1 }).toFormat('yyyy-MM');
const RPS = Number(process.env.BENCH_SUMMARY_RPS ?? 20);
const SECONDS = Number(process.env.BENCH_SUMMARY_SECONDS ?? 30);
const KEEP = process.env.BENCH_KEEP === '1';
/** a data dir kept by an earlier run (BENCH_KEEP=1): measured again without building it (its month's rollups are taken away first) */
const REUSE = process.env.BENCH_ROLLUP_DATA_DIR;
/**
 * What to measure (comma-separated, default all): `writes` (the sums' cost per interval written),
 * `rollup` (netzero rollup twice; the service's rollup is always run: the office view reads it),
 * `summary` (the first /api/summary and the two loads), `office` (the office view's trend, drill-down and
 * budget of the month: cold, warm and in a row). With `office` alone on a kept data dir, a quick run.
 */
const PARTS = new Set((process.env.BENCH_ROLLUP_PARTS ?? 'writes,rollup,summary,office').split(','));
/** the issue's fleet: 10,000 devices every minute for a month */
const FULL = { devices: 10_000, stepMin: 1 };
const GOALS = { rollup_s: 10, summary_p99_ms: 200 };

interface Timed {
  seconds: number;
  max_rss_mib: number | null;
  output: string;
}

interface Load {
  window: string;
  requests: number;
  ok: number;
  /** status → count, for answers other than 200 (503: over the query limit or budget); the percentiles are of the 200s */
  failed: Record<string, number>;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  /** requests per second actually sent (the schedule, kept unless the client itself falls behind) */
  sent_per_s: number;
}

interface OfficeFigure {
  figure: string;
  path: string;
  /** the first request on the service (the data dir's pages may be cached by the OS from earlier runs) */
  first: { status: number; ms: number };
  /** the same again once the trend's shared result (2 s) has expired: computed again, settled parts kept */
  again: { status: number; ms: number };
  /** `OFFICE_IN_A_ROW` more, each once the shared result expired, one after the other: median and max */
  in_a_row: { statuses: number[]; median_ms: number; max_ms: number };
}

/** Requests per figure after the first two. */
const OFFICE_IN_A_ROW = 5;
/** A shared trend or drill-down result is answered for 2 s (app/http/office-routes.ts): wait it out. */
const SHARED_MS = 2_000;

/**
 * The office view's figures other than the summary, one request at a time: the drill-down and the trend
 * of the month by day (the two share their rows: the drill-down first, so it is the cold one), the trend by
 * month of the month and of its year, and /api/budget (the data's year). Each request waits for the
 * shared result of the one before to expire, so each is computed.
 */
async function officeView(base: string, month: Window): Promise<OfficeFigure[]> {
  const q = (from: number, to: number) => `from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`;
  const year = DateTime.fromMillis(month.from, { zone: TZ }).startOf('year');
  const figures: Array<[string, string]> = [
    ['/api/breakdown of the month by day (sector level)', `/api/breakdown?${q(month.from, month.to)}&bucket=day`],
    ['/api/trend of the month by day', `/api/trend?${q(month.from, month.to)}&bucket=day`],
    ['/api/trend of the month by month', `/api/trend?${q(month.from, month.to)}&bucket=month`],
    ["/api/trend of the month's year by month", `/api/trend?${q(year.toMillis(), year.plus({ years: 1 }).toMillis())}&bucket=month`],
    ["/api/budget of the month's year", `/api/budget?year=${year.year}`],
  ];
  const once = async (p: string) => {
    await new Promise((r) => setTimeout(r, SHARED_MS + 200));
    const t = performance.now();
    const res = await fetch(`${base}${p}`, { signal: AbortSignal.timeout(60_000) });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t };
  };
  const out: OfficeFigure[] = [];
  for (const [figure, p] of figures) {
    const first = await once(p);
    const again = await once(p);
    const row = [];
    for (let i = 0; i < OFFICE_IN_A_ROW; i++) row.push(await once(p));
    const ms = row.map((r) => r.ms);
    out.push({ figure, path: p, first, again, in_a_row: { statuses: row.map((r) => r.status), median_ms: quantile(ms, 0.5), max_ms: Math.max(...ms) } });
    process.stderr.write(`  ${figure}: first ${first.status} in ${first.ms.toFixed(0)} ms, again ${again.status} in ${again.ms.toFixed(0)} ms, ${OFFICE_IN_A_ROW} in a row: median ${quantile(ms, 0.5).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms (${row.map((r) => r.status).join(' ')})\n`);
  }
  return out;
}

interface SizeResult {
  fixture: Fixture;
  days: number;
  step_min: number;
  biogas_step_min: number;
  rollup_cli_first?: Omit<Timed, 'output'>;
  rollup_cli_again?: Omit<Timed, 'output'>;
  rollup_service_s?: number;
  first_summary_ms?: number;
  first_summary_status?: number;
  summary_matches_rollup?: boolean;
  summary_same?: Load;
  summary_varied?: Load;
  office?: OfficeFigure[];
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

/** Runs a command under /usr/bin/time -v (when it exists): wall time from here, peak RSS from time. */
function timed(args: string[], env: Record<string, string>): Promise<Timed> {
  const haveTime = fs.existsSync('/usr/bin/time');
  const cmd = haveTime ? '/usr/bin/time' : process.execPath;
  const argv = haveTime ? ['-v', process.execPath, ...args] : args;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited with ${code}: ${err.slice(-2000)}`));
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      resolve({ seconds, max_rss_mib: rss ? Number(rss[1]) / 1024 : null, output: out });
    });
  });
}

/** `/api/summary` at a steady `RPS` for `SECONDS`, open loop; `url(i)` gives the i-th request's address. */
async function load(label: string, url: (i: number) => string): Promise<Load> {
  const n = Math.round(RPS * SECONDS);
  const latencies: number[] = [];
  const failed: Record<string, number> = {};
  const start = performance.now() + 100;
  const sentAt: number[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const due = start + (i * 1000) / RPS;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sentAt.push(performance.now());
      try {
        const res = await fetch(url(i), { signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        if (res.status === 200) latencies.push(performance.now() - due);
        else failed[res.status] = (failed[res.status] ?? 0) + 1;
      } catch (err) {
        const key = (err as Error).name === 'TimeoutError' ? 'timeout' : 'error';
        failed[key] = (failed[key] ?? 0) + 1;
      }
    }),
  );
  const span = (Math.max(...sentAt) - Math.min(...sentAt)) / 1000;
  const bad = Object.values(failed).reduce((a, b) => a + b, 0);
  return {
    window: label,
    requests: n,
    ok: n - bad,
    failed,
    p50_ms: quantile(latencies, 0.5),
    p90_ms: quantile(latencies, 0.9),
    p99_ms: quantile(latencies, 0.99),
    max_ms: latencies.length ? Math.max(...latencies) : NaN,
    sent_per_s: span > 0 ? (n - 1) / span : n,
  };
}

const iso = (ms: number) => DateTime.fromMillis(ms, { zone: TZ }).toISO({ suppressMilliseconds: true })!;

async function oneSize(days: number): Promise<SizeResult> {
  const dataDir = REUSE ?? tempDir('netzero-bench-rollup-');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    let fixture: Fixture;
    if (REUSE) {
      fixture = await reuseFixture(REUSE, MONTH);
      log(`reusing ${REUSE}: ${JSON.stringify(fixture.settings)}`);
    } else {
      log(`building ${DEVICES} devices × ${days} day(s) × ${STEP_MIN} min (biogas ${BIOGAS_STEP_MIN} min) in ${dataDir} …`);
      fixture = await buildFixture({ dataDir, devices: DEVICES, days, stepMin: STEP_MIN, biogasStepMin: BIOGAS_STEP_MIN, month: MONTH, tz: TZ, log });
    }
    log(`  ${fixture.intervals.toLocaleString('en-US')} intervals in ${fixture.series} series, ${(fixture.readings_bytes / 2 ** 30).toFixed(2)} GiB, built in ${fixture.build_s.toFixed(1)} s`);

    const env = { NETZERO_TZ: TZ, NETZERO_LOG_LEVEL: 'warn' };
    const result: SizeResult = { fixture, days: fixture.settings.days, step_min: fixture.settings.stepMin, biogas_step_min: fixture.settings.biogasStepMin };
    const cli = ['bin/netzero.js', 'rollup', '--month', MONTH, '--data-dir', dataDir];
    if (PARTS.has('rollup')) {
      const first = await timed(cli, env);
      if (!/revision 1 \(new\)/.test(first.output)) throw new Error(`the first rollup did not make revision 1:\n${first.output.slice(0, 500)}`);
      log(`  netzero rollup --month ${MONTH}: ${first.seconds.toFixed(2)} s, peak RSS ${first.max_rss_mib?.toFixed(0)} MiB`);
      const again = await timed(cli, env);
      if (!/unchanged/.test(again.output)) throw new Error(`the second rollup was not unchanged:\n${again.output.slice(0, 500)}`);
      log(`  again (unchanged): ${again.seconds.toFixed(2)} s, peak RSS ${again.max_rss_mib?.toFixed(0)} MiB`);
      const { output: _a, ...firstT } = first;
      const { output: _b, ...againT } = again;
      Object.assign(result, { rollup_cli_first: firstT, rollup_cli_again: againT });
    }

    let t = performance.now();
    const svc = await startService({ dataDir, env });
    log(`  the service started in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    try {
      t = performance.now();
      const posted = await svc.api<{ revision: number; created: boolean }>('POST', `/api/rollups/monthly?month=${MONTH}`);
      if (posted.status !== 200) throw new Error(`POST /api/rollups/monthly: ${posted.status} ${JSON.stringify(posted.body).slice(0, 300)}`);
      const rollupServiceS = (performance.now() - t) / 1000;
      log(`  POST /api/rollups/monthly (in the service): ${rollupServiceS.toFixed(2)} s`);
      result.rollup_service_s = rollupServiceS;
      const month = { from: DateTime.fromFormat(MONTH, 'yyyy-MM', { zone: TZ }).toMillis(), to: DateTime.fromFormat(MONTH, 'yyyy-MM', { zone: TZ }).plus({ months: 1 }).toMillis() };

      if (PARTS.has('summary')) {
        const rollup = await svc.api<{ rows: LedgerRow[] }>('GET', `/api/rollups/monthly?month=${MONTH}`);
        const totals = totalRows(rollup.body.rows).all;
        const same = `${svc.base}/api/summary?from=${encodeURIComponent(iso(month.from))}&to=${encodeURIComponent(iso(month.to))}`;
        t = performance.now();
        const firstSummary = await fetch(same);
        const summary = (await firstSummary.json()) as { avoided_tco2e: number; inventory_tco2e: number; sold_as_credits_tco2e: number; reason?: string };
        const firstSummaryMs = performance.now() - t;
        const matches =
          firstSummary.status === 200 &&
          Math.abs(summary.avoided_tco2e - totals.claimed_avoided_tco2e) < 1e-6 &&
          Math.abs(summary.inventory_tco2e - totals.inventory_tco2e) < 1e-6 &&
          Math.abs(summary.sold_as_credits_tco2e - totals.sold_tco2e) < 1e-6;
        log(`  first /api/summary of the month: ${firstSummary.status} in ${firstSummaryMs.toFixed(0)} ms${firstSummary.status === 200 ? `; equals the rollup's totals: ${matches ? 'yes' : 'NO'}` : ` (${summary.reason})`}`);

        const sameLoad = await load('the month, the same window every request', () => same);
        log(`  summary, same window: p50 ${sameLoad.p50_ms.toFixed(0)} ms, p99 ${sameLoad.p99_ms.toFixed(0)} ms, failed ${JSON.stringify(sameLoad.failed)}`);
        // the month's start to a different second of the data's last day, one per request
        const lastDay = Math.max(fixture.from + 3_600_000, fixture.to - 86_400_000);
        const variedLoad = await load("the month's start to a different second of the data's last day", (i) => {
          const to = lastDay + Math.floor(((i * 7919) % 86_400) * ((fixture.to - lastDay) / 86_400)) * 1000 + 1000;
          return `${svc.base}/api/summary?from=${encodeURIComponent(iso(month.from))}&to=${to}`;
        });
        log(`  summary, varied windows: p50 ${variedLoad.p50_ms.toFixed(0)} ms, p99 ${variedLoad.p99_ms.toFixed(0)} ms, failed ${JSON.stringify(variedLoad.failed)}`);
        Object.assign(result, { first_summary_ms: firstSummaryMs, first_summary_status: firstSummary.status, summary_matches_rollup: matches, summary_same: sameLoad, summary_varied: variedLoad });
      }
      if (PARTS.has('office')) result.office = await officeView(svc.base, month);
      return result;
    } finally {
      // a query the request budget stopped goes on in its worker until SQLite returns; do not wait for it
      const stopped = await Promise.race([svc.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))]);
      if (!stopped) {
        log('  the service did not stop within 60 s of SIGTERM (queries stopped by the budget still running in their workers): killed');
        await svc.kill();
      }
    }
  } finally {
    if (KEEP || REUSE) log(`  kept ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * What the interval sums cost the write path: intervals written as series.ts writes them (INSERT OR
 * REPLACE, in time order, `synchronous = FULL`, WAL, 1,000 per transaction like a group commit) into the
 * schema without the sums (SCHEMA alone) and with them (`migrate`), µs per interval, three times each in
 * turn, medians. Only the interval writes: the readings and counter points each reading also writes are
 * not in it.
 */
function writeCost(): { without_us: number; with_us: number; intervals: number } {
  const series = 1000;
  const steps = 300;
  const measure = (withSums: boolean) => {
    const dir = tempDir('netzero-bench-writes-');
    try {
      const db = new Database(path.join(dir, 'readings.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      if (withSums) migrate(db, { day: { offsetMs: dayOffsetOf(TZ), tz: TZ } }); // the day level as the service keeps it
      else db.exec(SCHEMA);
      const put = db.prepare(`INSERT OR REPLACE INTO intervals (device, counter, t0, seq0, t1, seq1, v0, v1, amount, quality, kind, site, sector, ctx, reason)
        VALUES (?, 'import_kwh', ?, ?, ?, ?, ?, ?, ?, 'ok', 'smart_meter', 'bench-site', 'residential_commercial', '{}', '')`);
      const rows: Array<[string, number, number, number, number, number, number, number]> = [];
      const base = Date.UTC(2026, 10, 1);
      for (let k = 0; k < steps; k++) {
        for (let d = 0; d < series; d++) {
          const t0 = base + k * 60_000 + (d % 60) * 1000;
          rows.push([`bench-sm-${d}`, t0, k, t0 + 60_000, k + 1, k * 0.1, (k + 1) * 0.1, 0.1]);
        }
      }
      const batch = db.transaction((xs: typeof rows) => {
        for (const r of xs) put.run(...r);
      });
      const t0 = performance.now();
      for (let i = 0; i < rows.length; i += 1000) batch(rows.slice(i, i + 1000));
      const us = ((performance.now() - t0) * 1000) / rows.length;
      db.close();
      return us;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  measure(true); // warm up
  const without: number[] = [];
  const withSums: number[] = [];
  for (let i = 0; i < 3; i++) {
    without.push(measure(false));
    withSums.push(measure(true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  return { without_us: median(without), with_us: median(withSums), intervals: series * steps };
}

/** Least squares t = a + b·x over the measured sizes (with one size: through the origin). */
function fit(points: Array<[number, number]>): { a: number; b: number } {
  if (points.length === 1) return { a: 0, b: points[0]![1] / points[0]![0] };
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const b = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return { a: my - b * mx, b };
}

async function main() {
  const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30) };
  process.stdout.write(`rollup benchmark: ${DEVICES} devices, ${DAYS.join(', ')} day(s) of ${MONTH} (${TZ}) every ${STEP_MIN} min (biogas ${BIOGAS_STEP_MIN} min); summary at ${RPS}/s for ${SECONDS} s; ${JSON.stringify(machine)}\n`);
  const writes = PARTS.has('writes') ? writeCost() : undefined;
  if (writes) process.stderr.write(`write cost: ${writes.without_us.toFixed(1)} µs per interval without the sums, ${writes.with_us.toFixed(1)} µs with them\n`);
  const sizes: SizeResult[] = [];
  for (const days of REUSE ? [0] : DAYS) sizes.push(await oneSize(days));

  const monthDays = DateTime.fromFormat(MONTH, 'yyyy-MM', { zone: TZ }).daysInMonth!;
  const seriesPerDevice = sizes[0]!.fixture.series / sizes[0]!.fixture.devices;
  const fullIntervals = Math.round(FULL.devices * seriesPerDevice * ((monthDays * 1440) / FULL.stepMin + 1));
  const line = (figure: string, measured: string, goal: string) => process.stdout.write(`${figure.padEnd(78)} ${measured.padStart(22)}   ${goal}\n`);
  process.stdout.write(`\n${'figure'.padEnd(78)} ${'measured'.padStart(22)}   goal\n`);
  for (const s of sizes) {
    const size = `${s.fixture.devices} dev × ${s.days} d × ${s.step_min} min${s.biogas_step_min !== s.step_min ? ` (biogas ${s.biogas_step_min})` : ''} = ${(s.fixture.intervals / 1e6).toFixed(1)} M intervals`;
    if (s.rollup_cli_first && s.rollup_cli_again) {
      line(`rollup, netzero rollup --month (new revision), ${size}`, `${s.rollup_cli_first.seconds.toFixed(2)} s, ${s.rollup_cli_first.max_rss_mib?.toFixed(0)} MiB`, `< ${GOALS.rollup_s} s`);
      line(`rollup, the same month again (unchanged)`, `${s.rollup_cli_again.seconds.toFixed(2)} s, ${s.rollup_cli_again.max_rss_mib?.toFixed(0)} MiB`, '');
    }
    if (s.rollup_service_s !== undefined) line(`rollup in the service (POST /api/rollups/monthly)`, `${s.rollup_service_s.toFixed(2)} s`, '');
    if (s.first_summary_ms !== undefined && s.summary_same && s.summary_varied) {
      const answer = s.first_summary_status === 200 ? `equals the rollup: ${s.summary_matches_rollup ? 'yes' : 'NO'}` : `answered ${s.first_summary_status}`;
      line(`/api/summary of the month, first request (${answer})`, `${s.first_summary_ms.toFixed(0)} ms`, '');
      for (const l of [s.summary_same, s.summary_varied]) {
        const bad = Object.entries(l.failed).map(([k, v]) => `${v}×${k}`).join(' ');
        line(`/api/summary ${RPS}/s: ${l.window}`, `p50 ${l.p50_ms.toFixed(0)} p99 ${l.p99_ms.toFixed(0)} ms`, `p99 < ${GOALS.summary_p99_ms} ms${bad ? `  (${l.ok} of ${l.requests} answered; failed: ${bad}; the percentiles are of the answered)` : ''}`);
      }
    }
    for (const o of s.office ?? []) {
      const status = (x: { status: number }) => (x.status === 200 ? '' : ` (${x.status})`);
      line(o.figure, `${o.first.ms.toFixed(0)}${status(o.first)} / ${o.again.ms.toFixed(0)}${status(o.again)} ms`, `first / again; ${OFFICE_IN_A_ROW} more: median ${o.in_a_row.median_ms.toFixed(0)} ms, max ${o.in_a_row.max_ms.toFixed(0)} ms${o.in_a_row.statuses.some((x) => x !== 200) ? ` (${o.in_a_row.statuses.join(' ')})` : ''}`);
    }
  }
  if (writes) line(`write cost of the interval sums: µs per interval written (INSERT OR REPLACE, FULL sync, 1,000 per commit)`, `${writes.without_us.toFixed(1)} → ${writes.with_us.toFixed(1)} µs`, '');
  const timedSizes = sizes.filter((s) => s.rollup_cli_first);
  const f = fit(timedSizes.map((s) => [s.fixture.intervals, s.rollup_cli_first!.seconds]));
  const extrapolated = f.a + f.b * fullIntervals;
  if (timedSizes.length > 0) {
    line(
      `EXTRAPOLATED as if the time grew with the intervals stored (${timedSizes.length} size(s)) to ${FULL.devices} devices × ${monthDays} d × ${FULL.stepMin} min = ${(fullIntervals / 1e6).toFixed(0)} M intervals`,
      `${extrapolated.toFixed(1)} s`,
      `< ${GOALS.rollup_s} s`,
    );
  process.stdout.write(
    '  (true of a rollup that reads every interval, the code before the interval sums; with the sums an upper bound: they are read per series,\n' +
      '   about 8 + days rows whatever the step; the whole month is measured with BENCH_ROLLUP_DAYS=30, bench/README.md)\n',
    );
  }

  const dir = path.join(HERE, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `rollup-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({ at: new Date().toISOString(), machine, settings: { DEVICES, DAYS, STEP_MIN, BIOGAS_STEP_MIN, MONTH, TZ, RPS, SECONDS }, write_cost: writes, sizes, extrapolation: { model: 'seconds = a + b × intervals', ...f, full_intervals: fullIntervals, seconds: extrapolated }, goals: GOALS }, null, 2),
  );
  process.stdout.write(`written ${path.relative(process.cwd(), file)}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
