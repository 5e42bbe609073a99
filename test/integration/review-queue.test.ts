import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDevice, startService, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The review queue over HTTP on the real service (issue: numbers the city can trust). A 10 kW inverter
 * sends 10 kWh, then 500 kWh in one hour (at most 10 kW × 1 h × 1.2 = 12 kWh is plausible: held out),
 * then 8 kWh. Hand-worked: the month counts 18 kWh; accepting the 500 makes it 518 as revision 2 whose
 * trigger names the decision; rejecting it again makes it 18 as revision 3.
 */

const MONTH = '2024-03';
let svc: RunningService;
let pv: Registered;

interface ReviewItem {
  device: string;
  site: string;
  counter: string;
  t0: string;
  t1: string;
  seq1: number | null;
  amount: number;
  quality: string;
  reason: string;
  status: string;
  decision: null | { id: number; decision: string; reason: string; by: string };
  months: string[];
}
interface Rollup {
  revision: number;
  trigger: string;
  cause?: { review: { id: number; decision: string; amount: number; by: string; reason: string } };
  rows: Array<{ device: string; energy_kwh: number }>;
}

beforeAll(async () => {
  svc = await startService();
  pv = await registerDevice(svc, { kind: 'pv_inverter', site: 'review-site', sector: 'industry', params: { nameplate_kw: 10 } });
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: pv.id, password: pv.secret, clientId: pv.id, reconnectPeriod: 0 });
  for (const [seq, ts, kwh] of [[1, '2024-03-05T10:00:00+08:00', 1000], [2, '2024-03-05T11:00:00+08:00', 1010], [3, '2024-03-05T12:00:00+08:00', 1510], [4, '2024-03-05T13:00:00+08:00', 1518]] as const) {
    await c.publishAsync(pv.topic, JSON.stringify({ ts, seq, energy_kwh: kwh }), { qos: 1 });
  }
  await c.endAsync();
  await waitFor('three intervals', async () => (await svc.api<unknown[]>('GET', `/api/intervals?device=${pv.id}`)).body.length === 3, 10_000);
});
afterAll(async () => {
  await svc?.stop();
});

const pvKwh = (r: Rollup) => r.rows.find((x) => x.device === pv.id)!.energy_kwh;

describe('GET /api/intervals/review', () => {
  it('needs the admin token', async () => {
    expect((await svc.api('GET', '/api/intervals/review', undefined, null)).status).toBe(401);
    expect((await svc.api('POST', '/api/intervals/review', {}, null)).status).toBe(401);
  });

  it('lists the held-out interval with device, site, period, amount, quality and why', async () => {
    const r = await svc.api<ReviewItem[]>('GET', '/api/intervals/review');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      expect.objectContaining({
        device: pv.id,
        site: 'review-site',
        counter: 'energy_kwh',
        t0: '2024-03-05T03:00:00.000Z',
        t1: '2024-03-05T04:00:00.000Z',
        seq1: 3,
        amount: 500,
        quality: 'implausible',
        reason: expect.stringMatching(/500.*12/),
        status: 'open',
        decision: null,
        months: [MONTH],
      }),
    ]);
  });

  it('refuses a bad query naming the parameter', async () => {
    const r = await svc.api<{ issues: Array<{ field: string; reason: string }> }>('GET', '/api/intervals/review?status=maybe&from=2024-02-30T00:00:00%2B08:00');
    expect(r.status).toBe(400);
    expect(r.body.issues.map((i) => i.field).sort()).toEqual(['from', 'status']);
    expect(r.body.issues.find((i) => i.field === 'status')!.reason).toMatch(/open, decided or all/);
  });
});

describe('POST /api/intervals/review', () => {
  it('refuses a body without decision, reason and who, naming each field', async () => {
    const r = await svc.api<{ issues: Array<{ field: string }> }>('POST', '/api/intervals/review', { device: pv.id, counter: 'energy_kwh', t1: '2024-03-05T12:00:00+08:00', extra: 1 });
    expect(r.status).toBe(400);
    expect(r.body.issues.map((i) => i.field).sort()).toEqual(['by', 'decision', 'extra', 'reason']);
    const t = await svc.api<{ issues: Array<{ field: string; reason: string }> }>('POST', '/api/intervals/review', { device: pv.id, t1: 'yesterday', decision: 'maybe' });
    expect(t.status).toBe(400);
    expect(t.body.issues.map((i) => i.field).sort()).toEqual(['by', 'counter', 'decision', 'reason', 't1']);
    expect(t.body.issues.find((i) => i.field === 't1')!.reason).toMatch(/ISO 8601 with an offset/);
  });

  it('answers 404 with what to look at for an interval that is not held out', async () => {
    const r = await svc.api<{ reason: string }>('POST', '/api/intervals/review', { device: pv.id, counter: 'energy_kwh', t1: '2024-03-05T11:00:00+08:00', seq1: 2, decision: 'accept', reason: 'looks fine', by: 'Chen' });
    expect(r.status).toBe(404);
    expect(r.body.reason).toMatch(/is left out of totals \(GET \/api\/intervals\/review/);
  });

  it('accepting counts the energy and restates the month as a revision naming the decision; rejecting takes it out again', async () => {
    const first = await svc.api<{ revision: number }>('POST', `/api/rollups/monthly?month=${MONTH}`);
    expect(first.status).toBe(201);
    const r1 = (await svc.api<Rollup>('GET', `/api/rollups/monthly?month=${MONTH}`, undefined, null)).body;
    expect(pvKwh(r1)).toBe(18);

    const accept = await svc.api<{ decision: { id: number; decision: string; amount: number }; restated: Array<{ month: string; revision: number; created: boolean }> }>('POST', '/api/intervals/review', {
      device: pv.id,
      counter: 'energy_kwh',
      t1: '2024-03-05T12:00:00+08:00',
      seq1: 3,
      decision: 'accept',
      reason: 'a backlog sent after an outage',
      by: 'Chen',
    });
    expect(accept.status).toBe(201);
    expect(accept.body.decision).toMatchObject({ decision: 'accept', amount: 500 });
    expect(accept.body.restated).toEqual([{ month: MONTH, revision: r1.revision + 1, created: true }]);
    const r2 = (await svc.api<Rollup>('GET', `/api/rollups/monthly?month=${MONTH}`, undefined, null)).body;
    expect(r2.revision).toBe(r1.revision + 1);
    expect(r2.trigger).toBe('review');
    expect(r2.cause!.review).toMatchObject({ id: accept.body.decision.id, decision: 'accept', amount: 500, by: 'Chen', reason: 'a backlog sent after an outage' });
    expect(pvKwh(r2)).toBe(518);
    // the earlier revision is still readable, unchanged
    expect(pvKwh((await svc.api<Rollup>('GET', `/api/rollups/monthly?month=${MONTH}&revision=${r1.revision}`, undefined, null)).body)).toBe(18);

    const decided = await svc.api<ReviewItem[]>('GET', '/api/intervals/review?status=decided');
    expect(decided.body).toEqual([expect.objectContaining({ status: 'accepted', decision: expect.objectContaining({ decision: 'accept', by: 'Chen' }) })]);
    expect((await svc.api<ReviewItem[]>('GET', '/api/intervals/review')).body).toEqual([]);

    const reject = await svc.api<{ restated: Array<{ revision: number; created: boolean }> }>('POST', '/api/intervals/review', {
      device: pv.id,
      counter: 'energy_kwh',
      t1: Date.parse('2024-03-05T04:00:00Z'),
      seq1: 3,
      decision: 'reject',
      reason: 'the inverter was replaced that day; the register is wrong',
      by: 'Lin',
    });
    expect(reject.status).toBe(201);
    expect(reject.body.restated).toEqual([expect.objectContaining({ revision: r1.revision + 2, created: true })]);
    const r3 = (await svc.api<Rollup>('GET', `/api/rollups/monthly?month=${MONTH}`, undefined, null)).body;
    expect(r3.cause!.review).toMatchObject({ decision: 'reject', by: 'Lin' });
    expect(pvKwh(r3)).toBe(18);
  });
});
