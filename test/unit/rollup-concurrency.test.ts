import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openHarness, type AccountsHarness } from '../helpers/accounts.js';
import type { WorkerOutcome } from '../helpers/rollup-worker.js';

/**
 * Several processes computing the same month of one data dir at once (the service's scheduler,
 * `netzero rollup`, `netzero report`, `netzero factors add`). Each worker (test/helpers/rollup-worker.ts)
 * opens its own state database handle (`openServiceState`) and accounting room (`openAccounts`) over
 * its own reading store, and runs several computations at once; this process holds a third handle
 * (the accounts harness) to write data and read back what was stored.
 *
 * Every call must succeed; the month's revisions must be numbered 1..k with no gap and no double, each
 * revision must hold exactly one row per device, a revision is written only when the rows changed (no
 * two revisions hold the same rows), and a computation that started before a factor version was added
 * never lands after one that used it.
 *
 * Separate processes, not two handles in this one: better-sqlite3 is synchronous, so a handle waiting
 * (busy_timeout) for the write lock that another handle of the same process holds blocks the event
 * loop that would release it, and fails with "database is locked" after 5 s.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKER = path.join(ROOT, 'test/helpers/rollup-worker.ts');
const MONTH = '2025-10';
const DEVICES = ['pv-a', 'pv-b', 'pv-c', 'pv-d'];
const WORKERS = 4;
/** computations each worker starts at once per round */
const CALLS_PER_WORKER = 6;
const CALLS = WORKERS * CALLS_PER_WORKER;

interface Worker {
  proc: ChildProcess;
  lines: AsyncIterator<string>;
  stderr: () => string;
}

let h: AccountsHarness | undefined;
const workers: Worker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) {
    if (w.proc.exitCode === null && w.proc.signalCode === null) {
      const exited = new Promise((r) => w.proc.once('exit', r));
      w.proc.stdin!.end('exit\n');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    }
  }
  await h?.close();
  h = undefined;
});

async function next(w: Worker, what: string): Promise<string> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`worker ${w.proc.pid}: no ${what} within 60 s; stderr: ${w.stderr()}`)), 60_000));
  const r = await Promise.race([w.lines.next(), timeout]);
  if (r.done) throw new Error(`worker ${w.proc.pid} ended before ${what} (exit ${w.proc.exitCode}); stderr: ${w.stderr()}`);
  return r.value;
}

async function startWorkers(dir: string): Promise<void> {
  for (let i = 0; i < WORKERS; i++) {
    const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, dir, MONTH, String(CALLS_PER_WORKER)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const lines = readline.createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
    workers.push({ proc, lines, stderr: () => err.slice(-2000) });
  }
  for (const w of workers) expect(await next(w, 'ready')).toBe('ready');
}

/** One round: every worker computes the month CALLS_PER_WORKER times at once; `during` runs meanwhile. */
async function race(during?: () => Promise<unknown>): Promise<WorkerOutcome[]> {
  for (const w of workers) w.proc.stdin!.write('go\n');
  const [outs] = await Promise.all([Promise.all(workers.map((w) => next(w, 'outcomes'))), during?.()]);
  return outs.flatMap((line) => JSON.parse(line) as WorkerOutcome[]);
}

function succeeded(outcomes: WorkerOutcome[]): Array<{ revision: number; created: boolean }> {
  const errors = outcomes.flatMap((o) => ('error' in o ? [o.error] : []));
  expect(errors, `${errors.length} of ${outcomes.length} computations failed`).toEqual([]);
  expect(outcomes).toHaveLength(CALLS);
  return outcomes as Array<{ revision: number; created: boolean }>;
}

/** The month's revisions as stored, read straight from the tables: 1..k, each with every device once, no two alike. */
async function expectConsistent(k: number): Promise<void> {
  const revs = (await h!.state.selectFrom('rollup_revisions').select('revision').where('month', '=', MONTH).orderBy('revision').execute()) as Array<{ revision: number }>;
  const rows = (await h!.state
    .selectFrom('rollup_rows')
    .select(['revision', 'device', 'row'])
    .where('month', '=', MONTH)
    .orderBy('revision')
    .orderBy('device')
    .execute()) as Array<{ revision: number; device: string; row: string }>;
  expect(revs.map((r) => Number(r.revision))).toEqual(Array.from({ length: k }, (_, i) => i + 1));
  const contents: string[] = [];
  for (let rev = 1; rev <= k; rev++) {
    const mine = rows.filter((r) => Number(r.revision) === rev);
    expect(mine.map((r) => r.device), `devices of revision ${rev}`).toEqual(DEVICES);
    contents.push(JSON.stringify(mine.map((r) => r.row)));
  }
  expect(new Set(contents).size, 'revisions with identical rows').toBe(k);
  // no rows of a revision that has no revision record
  expect(new Set(rows.map((r) => Number(r.revision))).size).toBe(k);
}

describe('monthly rollups computed by several processes at once', () => {
  it('writes each revision once, numbered without gaps, complete, and only when the rows changed', async () => {
    h = await openHarness({ tz: 'Asia/Taipei' });
    for (const id of DEVICES) await h.addDevice({ id, kind: 'pv_inverter', sector: 'industry' });
    for (const [i, id] of DEVICES.entries()) {
      await h.write([
        { device: id, ts: '2025-10-02T00:00:00', seq: 1, energy_kwh: 0 },
        { device: id, ts: '2025-10-10T00:00:00', seq: 2, energy_kwh: 100 * (i + 1) },
      ]);
    }
    await startWorkers(h.dir);

    // round 1: never rolled up; every call answers revision 1, and exactly one of them wrote it
    const r1 = succeeded(await race());
    expect(r1.map((r) => r.revision)).toEqual(Array(CALLS).fill(1));
    expect(r1.filter((r) => r.created)).toHaveLength(1);
    await expectConsistent(1);
    // 2025 has no published grid factor yet: 2024's 0.474 stands in; pv-a: 100 kWh × 0.474 / 1000
    const rev1 = await h.accounts.rollups.get(MONTH);
    expect(rev1!.rows.find((r) => r.device === 'pv-a')!.avoided_tco2e).toBeCloseTo(0.0474, 9);

    // round 2: a late reading of pv-a lands in the month: revision 2, written once
    await h.write([{ device: 'pv-a', ts: '2025-10-20T00:00:00', seq: 3, energy_kwh: 150 }]);
    const r2 = succeeded(await race());
    expect(r2.map((r) => r.revision)).toEqual(Array(CALLS).fill(2));
    expect(r2.filter((r) => r.created)).toHaveLength(1);
    await expectConsistent(2);
    const rev2 = await h.accounts.rollups.get(MONTH);
    expect(rev2!.rows.find((r) => r.device === 'pv-a')!.energy_kwh).toBe(150);
    expect(rev2!.changes).toContainEqual({ device: 'pv-a', field: 'energy_kwh', from: 100, to: 150 });
    expect(rev2!.changes.every((c) => c.device === 'pv-a')).toBe(true);

    // round 3: a 2025 grid factor added (by this process), then all compute: revision 3 uses it, written once
    const v3 = await h.accounts.factors.add({ name: 'grid_ef', data_year: 2025, value: 0.5, unit: 'kgCO2e/kWh', source: 'test notice', status: 'published' });
    const r3 = succeeded(await race());
    expect(r3.map((r) => r.revision)).toEqual(Array(CALLS).fill(3));
    expect(r3.filter((r) => r.created)).toHaveLength(1);
    await expectConsistent(3);
    const rev3 = await h.accounts.rollups.get(MONTH);
    for (const row of rev3!.rows) expect(row.factors).toContain(v3.id);
    expect(rev3!.rows.find((r) => r.device === 'pv-a')!.avoided_tco2e).toBeCloseTo(0.075, 9); // 150 kWh × 0.5 / 1000

    // round 4: a correction added while they compute: however it interleaves, one revision 4 uses it and
    // no computation that still used 0.5 lands after it
    let v4id = '';
    const r4 = succeeded(
      await race(async () => {
        await new Promise((r) => setTimeout(r, 5));
        v4id = (await h!.accounts.factors.add({ name: 'grid_ef', data_year: 2025, value: 0.45, unit: 'kgCO2e/kWh', source: 'test correction', status: 'published' })).id;
      }),
    );
    expect(r4.every((r) => r.revision === 3 || r.revision === 4)).toBe(true);
    // and once more, after the add: every call answers revision 4; it was written once over both rounds
    const r5 = succeeded(await race());
    expect(r5.map((r) => r.revision)).toEqual(Array(CALLS).fill(4));
    expect([...r4, ...r5].filter((r) => r.created)).toHaveLength(1);
    await expectConsistent(4);
    const rev4 = await h.accounts.rollups.get(MONTH);
    for (const row of rev4!.rows) expect(row.factors).toContain(v4id);
    expect(rev4!.rows.find((r) => r.device === 'pv-a')!.avoided_tco2e).toBeCloseTo(0.0675, 9); // 150 kWh × 0.45 / 1000
  }, 180_000);
});
