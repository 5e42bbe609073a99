import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthWindow } from '../../accounting/periods.js';
import { buildReportModel } from '../../accounting/reports/index.js';
import { RollupScheduler } from '../../accounting/rollups/scheduler.js';
import { pino } from 'pino';
import { openHarness, type AccountsHarness } from '../helpers/accounts.js';

/**
 * The review queue (accounting/review/): an interval left out of totals (implausible) is the energy
 * office's open question; accepting it counts it, rejecting keeps it out, every decision is kept, and the
 * months it touches get a new rollup revision that names the decision. Hand-worked with the 2024 grid
 * factor, 0.474 kgCO2e/kWh.
 */

let h: AccountsHarness;
let scheduler: RollupScheduler;
beforeEach(async () => {
  h = await openHarness();
  scheduler = new RollupScheduler({ rollups: h.accounts.rollups, store: h.store, log: pino({ level: 'silent' }) }, { tz: h.tz, lateCheckS: 3600 });
});
afterEach(async () => {
  await h.close();
});

const MONTH = '2024-03';

async function scenario() {
  // a 10 kW inverter: 10 kWh, then 500 kWh in one hour (10 × 1 × 1.2 = 12 allowed: implausible, held out), then 8 kWh
  await h.addDevice({ id: 'pv-1', kind: 'pv_inverter', sector: 'industry', params: { nameplate_kw: 10 } });
  await h.write([
    { device: 'pv-1', ts: '2024-03-05T10:00:00', seq: 1, energy_kwh: 1000 },
    { device: 'pv-1', ts: '2024-03-05T11:00:00', seq: 2, energy_kwh: 1010 },
    { device: 'pv-1', ts: '2024-03-05T12:00:00', seq: 3, energy_kwh: 1510 },
    { device: 'pv-1', ts: '2024-03-05T13:00:00', seq: 4, energy_kwh: 1518 },
  ]);
}

describe('review queue', () => {
  it('lists the held-out interval with why; accepting counts it and restates the month naming the decision; rejecting takes it out again', async () => {
    await scenario();
    const w = monthWindow(MONTH, h.tz);
    expect((await h.accounts.ledger.summary(w)).energy_kwh.pv).toBe(18); // 10 + 8: the 500 is held out
    expect((await h.accounts.rollups.compute(MONTH, 'manual')).revision).toBe(1);

    const open = await h.accounts.queue.list(w, { status: 'open', limit: 10 });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ device: 'pv-1', counter: 'energy_kwh', amount: 500, quality: 'implausible', status: 'open', decision: null, months: [MONTH] });
    expect(open[0]!.reason).toMatch(/more than nameplate 10 kW allows/);

    const t1 = Date.parse(open[0]!.t1);
    const accepted = await h.accounts.queue.decide({ device: 'pv-1', counter: 'energy_kwh', t1, seq1: 3, decision: 'accept', reason: 'a backlog sent after an outage, checked on site', by: 'Chen' });
    const cause = { review: { id: accepted.decision.id, device: 'pv-1', counter: 'energy_kwh', t0: open[0]!.t0, t1: open[0]!.t1, amount: 500, decision: 'accept' as const, reason: accepted.decision.reason, by: 'Chen' } };
    const [r2] = await scheduler.restateForReview(accepted.months, cause);
    expect(r2).toMatchObject({ month: MONTH, revision: 2, created: true });
    // 10 + 500 + 8 = 518 kWh × 0.474 = 245.532 kg
    expect((await h.accounts.ledger.summary(w)).energy_kwh.pv).toBe(518);
    const rollup = (await h.accounts.rollups.get(MONTH))!;
    expect(rollup).toMatchObject({ revision: 2, trigger: 'review', cause });
    expect(rollup.rows[0]!.avoided_tco2e).toBeCloseTo(0.245532, 9);
    const model = buildReportModel({ rollup, factors: await h.accounts.factors.list(), measures: [], tz: h.tz, generatedAt: new Date(), gwpSet: 'ar5' });
    expect(model.revision.trigger_label).toMatch(/review decision on held-out energy #1: accepted 500 of pv-1 energy_kwh .* by Chen: a backlog sent after an outage/);

    expect(await h.accounts.queue.list(w, { status: 'open', limit: 10 })).toEqual([]);
    expect((await h.accounts.queue.list(w, { status: 'decided', limit: 10 }))[0]).toMatchObject({ status: 'accepted', decision: { by: 'Chen' } });

    const rejected = await h.accounts.queue.decide({ device: 'pv-1', counter: 'energy_kwh', t1, seq1: 3, decision: 'reject', reason: 'on second look: a register glitch', by: 'Lin' });
    const [r3] = await scheduler.restateForReview(rejected.months, { review: { ...cause.review, id: rejected.decision.id, decision: 'reject', reason: rejected.decision.reason, by: 'Lin' } });
    expect(r3).toMatchObject({ revision: 3, created: true });
    expect((await h.accounts.ledger.summary(w)).energy_kwh.pv).toBe(18);
    // every decision is kept
    expect((await h.accounts.reviews.history(w, 10)).map((d) => [d.decision, d.by])).toEqual([['reject', 'Lin'], ['accept', 'Chen']]);
  });

  it('the monthly report lists held-out energy nobody has reviewed under "check before sending"', async () => {
    await scenario();
    await h.accounts.rollups.compute(MONTH, 'manual');
    const openReviews = await h.accounts.queue.list(monthWindow(MONTH, h.tz), { status: 'open', limit: 100 });
    const model = buildReportModel({ rollup: (await h.accounts.rollups.get(MONTH))!, factors: await h.accounts.factors.list(), measures: [], tz: h.tz, generatedAt: new Date(), gwpSet: 'ar5', openReviews });
    expect(model.warnings).toEqual([expect.stringMatching(/^not reviewed: pv-1 energy_kwh .* 500 left out of totals \(implausible: /)]);
  });

  it('refuses a decision on an interval that is not held out, saying what to look at', async () => {
    await scenario();
    await expect(h.accounts.queue.decide({ device: 'pv-1', counter: 'energy_kwh', t1: Date.parse('2024-03-05T03:00:00Z'), seq1: 2, decision: 'accept', reason: 'x', by: 'y' })).rejects.toThrow(/is left out of totals \(GET \/api\/intervals\/review/);
  });
});
