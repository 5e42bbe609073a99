import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadingStore } from '../../store/types.js';
import type { NewFactor } from '../../accounting/factors/types.js';
import type { Kind, Sector } from '../../devices/kinds.js';
import type { DeviceParams } from '../../devices/params.js';
import { localMs, openHarness, type AccountsHarness } from '../helpers/accounts.js';

/**
 * Golden scenarios: readings in, expected rollups and summaries out, each with its hand calculation in
 * the README beside it. Expectations are partial: only the keys written are checked; dotted keys reach
 * into objects (`by_stream.pv`); numbers match to 1e-9 (relative).
 */

const DIR = path.dirname(fileURLToPath(import.meta.url));

interface Scenario {
  description: string;
  tz: string;
  devices: Array<{ id: string; kind: Kind; sector: Sector; site?: string; measure?: string; params?: DeviceParams }>;
  steps: Step[];
}
type Expect = Record<string, unknown>;
type Step =
  | { write: Array<{ device: string; ts: string; seq?: number } & Record<string, unknown>> }
  | { rollup: string; expect: Expect }
  | { summary: { from: string; to: string }; expect: Expect }
  | { add_factor: NewFactor; expect: Expect }
  | { read: { month: string; revision?: number }; expect: Expect }
  | { count: string; expect: number }
  | { intervals: string; expect: Array<{ t0: string; t1: string; amount: number; quality?: string }> }
  | { review: { device: string; counter: string; t1: string; seq1?: number; decision: 'accept' | 'reject'; reason: string; by: string }; expect: Expect };

function get(obj: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[k]), obj);
}

function expectMatch(actual: unknown, expected: Expect, where: string): void {
  for (const [key, want] of Object.entries(expected)) {
    const got = get(actual, key);
    const at = `${where}.${key}`;
    if (typeof want === 'number') {
      expect(typeof got, `${at} should be a number, got ${JSON.stringify(got)}`).toBe('number');
      const tol = 1e-9 * Math.max(1, Math.abs(want));
      expect(Math.abs((got as number) - want), `${at}: expected ${want}, got ${got}`).toBeLessThanOrEqual(tol);
    } else if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
      expectMatch(got, want as Expect, at);
    } else {
      expect(got, at).toEqual(want);
    }
  }
}

function checkRollup(actual: { revision: number; rows: Array<{ device: string }>; changes?: Array<Record<string, unknown>> } & Record<string, unknown>, want: Expect, where: string) {
  const { rows, changes, revisions, ...rest } = want as { rows?: Record<string, Expect>; changes?: Expect[]; revisions?: number } & Expect;
  expectMatch(actual, rest, where);
  if (revisions !== undefined) expect((actual.revisions as unknown[]).length, `${where}.revisions`).toBe(revisions);
  for (const [device, row] of Object.entries(rows ?? {})) {
    const got = actual.rows.find((r) => r.device === device);
    expect(got, `${where}: no row for ${device}`).toBeDefined();
    expectMatch(got, row, `${where}.rows.${device}`);
  }
  for (const c of changes ?? []) {
    const found = (actual.changes ?? []).some((a) => Object.entries(c).every(([k, v]) => JSON.stringify(a[k]) === JSON.stringify(v)));
    expect(found, `${where}: change ${JSON.stringify(c)} not among ${JSON.stringify(actual.changes)}`).toBe(true);
  }
}

const scenarios = fs
  .readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(DIR, d.name, 'scenario.json')))
  .map((d) => d.name)
  .sort();

/** Declares the golden scenario tests on a store made by `store` (default: SQLite in the harness dir). */
export function goldenScenarios(name: string, store?: () => (dir: string) => Promise<ReadingStore>): void {
  let h: AccountsHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  describe(`golden scenarios on ${name}`, () => {
    it('has the scenarios the accounting issue asks for, each with its hand calculation', () => {
      for (const name of ['pv', 'biogas', 'ev-charging', 'electricity-saving', 'counter-reset', 'counter-wrap', 'implausible-jump', 'duplicate', 'out-of-order', 'month-boundary', 'provisional-restated', 'late-reading', 'backwards-step', 'meter-swap', 'glitch', 'default-bound-review']) {
        expect(scenarios).toContain(name);
        expect(fs.readFileSync(path.join(DIR, name, 'README.md'), 'utf8').length).toBeGreaterThan(100);
      }
    });

    it.each(scenarios)('%s', async (name) => {
      const sc = JSON.parse(fs.readFileSync(path.join(DIR, name, 'scenario.json'), 'utf8')) as Scenario;
      h = await openHarness({ tz: sc.tz, store: store?.() });
      for (const d of sc.devices) await h.addDevice(d);
      for (const [n, step] of sc.steps.entries()) {
        const where = `${name} step ${n + 1}`;
        if ('write' in step) await h.write(step.write);
        else if ('rollup' in step) {
          const r = await h.accounts.rollups.compute(step.rollup, 'manual');
          checkRollup({ ...r, rows: r.rows } as never, step.expect, where);
        } else if ('summary' in step) {
          const s = await h.accounts.ledger.summary({ from: localMs(step.summary.from, sc.tz), to: localMs(step.summary.to, sc.tz) });
          expectMatch(s, step.expect, where);
        } else if ('add_factor' in step) {
          const v = await h.accounts.factors.add(step.add_factor);
          const restated = await h.accounts.rollups.restateFor(v);
          const { restated: want, ...rest } = step.expect as { restated?: Record<string, Expect> } & Expect;
          expectMatch(v, rest, where);
          for (const [month, exp] of Object.entries(want ?? {})) expectMatch(restated.find((r) => r.month === month), exp, `${where}.restated.${month}`);
        } else if ('read' in step) {
          const r = await h.accounts.rollups.get(step.read.month, step.read.revision);
          expect(r, `${where}: no rollup`).toBeDefined();
          checkRollup(r as never, step.expect, where);
        } else if ('count' in step) {
          expect(await h.store.countReadings(step.count), where).toBe(step.expect);
        } else if ('intervals' in step) {
          const got = await h.store.intervals(step.intervals, { from: 0, to: Date.now() + 1e12 });
          const withQuality = step.expect.some((e) => e.quality !== undefined);
          expect(got.map((i) => ({ t0: i.t0, t1: i.t1, amount: i.amount, ...(withQuality ? { quality: i.quality } : {}) })), where).toEqual(
            step.expect.map((e) => ({ t0: localMs(e.t0, sc.tz), t1: localMs(e.t1, sc.tz), amount: e.amount, ...(withQuality ? { quality: e.quality } : {}) })),
          );
        } else if ('review' in step) {
          // a decision in the review queue, then the months it touches restated as the service does
          const d = await h.accounts.queue.decide({ ...step.review, t1: localMs(step.review.t1, sc.tz), seq1: step.review.seq1 ?? null });
          const cause = { review: { id: d.decision.id, device: d.decision.device, counter: d.decision.counter, t0: new Date(d.decision.t0).toISOString(), t1: new Date(d.decision.t1).toISOString(), amount: d.decision.amount, decision: d.decision.decision, reason: d.decision.reason, by: d.decision.by } };
          const restated = [];
          for (const month of d.months) if ((await h.accounts.rollups.latestRevision(month)) !== undefined) restated.push(await h.accounts.rollups.compute(month, 'review', cause));
          const { restated: want, ...rest } = step.expect as { restated?: Record<string, Expect> } & Expect;
          expectMatch(d.decision, rest, where);
          for (const [month, exp] of Object.entries(want ?? {})) expectMatch(restated.find((r) => r.month === month), exp, `${where}.restated.${month}`);
        }
      }
    });
  });
}
