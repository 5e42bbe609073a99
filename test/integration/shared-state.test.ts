import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDevice, startService, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The running service and `netzero` commands sharing one data dir (README: the commands "work beside a
 * running service"): a factor version added from the command line reaches the service's answers
 * without a restart, and rollups of one month run by several commands at once all succeed.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** June 2024 in Asia/Taipei: 2024's grid factor is published (0.474 kgCO2e/kWh, grid_ef-2024-v1) */
const MONTH = '2024-06';
const FROM = '2024-06-01T00:00:00+08:00';
const TO = '2024-07-01T00:00:00+08:00';
const KWH = 200;

let svc: RunningService;
let pv: Registered;

interface SummaryOut {
  avoided_tco2e: number;
  energy_kwh: { pv: number };
  provisional: boolean;
  factors: Array<{ id: string; value: number }>;
  grid_factors: Array<{ year: number; id: string; kgco2e_per_kwh: number; provisional: boolean }>;
}

interface RollupOut {
  revision: number;
  revisions: Array<{ revision: number }>;
  rows: Array<{ device: string; energy_kwh: number; avoided_tco2e: number; factors: string[] }>;
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/netzero.js'), ...args], { env: { ...process.env, NETZERO_DATA_DIR: svc.dataDir }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const summary = () => svc.api<SummaryOut>('GET', `/api/summary?from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`, undefined, null);

beforeAll(async () => {
  svc = await startService();
  pv = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-shared', sector: 'residential_commercial' });
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: pv.id, password: pv.secret, reconnectPeriod: 0 });
  // QoS 1: acknowledged once stored
  await c.publishAsync(pv.topic, JSON.stringify({ readings: [
    { ts: '2024-06-03T00:00:00+08:00', seq: 1, energy_kwh: 1000 },
    { ts: '2024-06-20T00:00:00+08:00', seq: 2, energy_kwh: 1000 + KWH },
  ] }), { qos: 1 });
  await c.endAsync();
});
afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
});

describe('a factor version added from the command line beside the running service', () => {
  it('is used by /api/summary without a restart', async () => {
    const before = await summary();
    expect(before.status).toBe(200);
    expect(before.body.energy_kwh.pv).toBe(KWH);
    expect(before.body.avoided_tco2e).toBeCloseTo((KWH * 0.474) / 1000, 9);
    expect(before.body.grid_factors).toEqual([{ year: 2024, id: 'grid_ef-2024-v1', kgco2e_per_kwh: 0.474, provisional: false }]);

    const added = await cli(['factors', 'add', '--name', 'grid_ef', '--year', '2024', '--value', '0.5', '--unit', 'kgCO2e/kWh', '--source', 'test notice', '--data-dir', svc.dataDir]);
    expect(added.code, added.stderr).toBe(0);
    const id = /added (\S+) = 0\.5 /.exec(added.stdout)?.[1];
    expect(id, added.stdout).toBe('grid_ef-2024-v2');

    // the service answers with the new version within a few seconds (it never did before: it kept its snapshot until a restart)
    let last: SummaryOut | undefined;
    const after = await waitFor(
      'the summary to use the version added from the command line',
      async () => {
        last = (await summary()).body;
        return last.grid_factors?.[0]?.id === id ? last : null;
      },
      5_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; it still answers ${JSON.stringify({ avoided_tco2e: last?.avoided_tco2e, grid_factors: last?.grid_factors })}`);
    });
    expect(after.avoided_tco2e).toBeCloseTo((KWH * 0.5) / 1000, 9);
    expect(after.energy_kwh.pv).toBe(KWH);
    expect(after.grid_factors).toEqual([{ year: 2024, id, kgco2e_per_kwh: 0.5, provisional: false }]);
    expect(after.factors.map((f) => f.id)).toContain(id);
    expect(after.factors.map((f) => f.id)).not.toContain('grid_ef-2024-v1');

    // and the service's own factor list has it
    const list = await svc.api<Array<{ id: string; value: number }>>('GET', '/api/factors', undefined, null);
    expect(list.body.find((f) => f.id === id)?.value).toBe(0.5);
  });
});

describe('rollups of one month by several commands at once, beside the service', () => {
  it('all succeed and leave one complete revision per content', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => cli(['rollup', '--month', MONTH, '--json', '--data-dir', svc.dataDir])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const revisions = runs.map((r) => (JSON.parse(r.stdout) as RollupOut).revision);
    // nothing changes between them: they all answer the same revision
    expect(new Set(revisions).size).toBe(1);

    const got = await svc.api<RollupOut>('GET', `/api/rollups/monthly?month=${MONTH}`, undefined, null);
    expect(got.status).toBe(200);
    expect(got.body.revision).toBe(revisions[0]);
    expect(got.body.revisions.map((r) => r.revision)).toEqual(Array.from({ length: got.body.revision }, (_, i) => i + 1));
    expect(got.body.rows.map((r) => r.device)).toEqual([pv.id]);
    expect(got.body.rows[0]).toMatchObject({ energy_kwh: KWH, factors: ['grid_ef-2024-v2'] });
    expect(got.body.rows[0]!.avoided_tco2e).toBeCloseTo((KWH * 0.5) / 1000, 9);
  });
});
