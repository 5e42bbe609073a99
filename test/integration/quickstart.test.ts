import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerDevice, startService, waitFor, type RunningService } from '../helpers/service.js';

/**
 * Quick start: a fresh data dir with the demo fleet on gives non-zero PV energy and avoided tCO2e
 * within 60 s; registering the first real device stops the demo and takes it out of the accounts.
 */

interface Summary {
  avoided_tco2e: number;
  inventory_tco2e: number;
  energy_kwh: { pv: number; consumption: number; ev_charging: number; biogas_generation: number };
  by_stream: { pv: number };
  methane_t: number;
}

let svc: RunningService;
const started = Date.now();

beforeAll(async () => {
  svc = await startService({ env: { NETZERO_DEMO: '1', NETZERO_DEMO_INTERVAL_S: '2' } });
});
afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
});

// The last 48 hours always contain daylight in Kaohsiung, whatever the hour CI runs at.
const last48h = () => `/api/summary?from=${Date.now() - 48 * 3_600_000}&to=${Date.now()}`;

it('shows non-zero PV energy and avoided tCO2e from the demo fleet within 60 s', async () => {
  const s = await waitFor(
    'demo PV in the summary',
    async () => {
      const r = await svc.api<Summary>('GET', last48h(), undefined, null);
      const e = r.body.energy_kwh;
      // each demo device backfills 48 h in its own batches; wait until every stream has landed
      return e.pv > 0 && r.body.avoided_tco2e > 0 && e.consumption > 0 && e.ev_charging > 0 && e.biogas_generation > 0 ? r.body : null;
    },
    60_000 - (Date.now() - started),
    500,
  );
  expect(s.by_stream.pv).toBeGreaterThan(0);
  expect(s.energy_kwh.consumption).toBeGreaterThan(0);
  expect(s.inventory_tco2e).toBeGreaterThan(0);
  expect(s.energy_kwh.ev_charging).toBeGreaterThan(0);
  expect(s.energy_kwh.biogas_generation).toBeGreaterThan(0);
  expect(s.methane_t).toBeGreaterThan(0);
  // the default period (this month so far) answers too
  expect((await svc.api('GET', '/api/summary', undefined, null)).status).toBe(200);
});

it('stops the demo and leaves it out of the accounts once a real device is registered', async () => {
  const devices = await svc.api<Array<{ id: string; demo: boolean }>>('GET', '/api/devices');
  expect(devices.body.filter((d) => d.demo).length).toBeGreaterThanOrEqual(4);
  await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-real', sector: 'industry' });
  const s = await waitFor(
    'demo excluded',
    async () => {
      const r = await svc.api<Summary>('GET', last48h(), undefined, null);
      return r.body.energy_kwh.pv === 0 ? r.body : null;
    },
    20_000,
    500,
  );
  expect(s.avoided_tco2e).toBe(0);
  await waitFor('demo fleet stopped', () => /demo fleet stopping: a real device was registered/.test(svc.output()), 20_000, 500);
});
