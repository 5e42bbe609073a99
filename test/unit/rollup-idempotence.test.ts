import { afterEach, expect, it } from 'vitest';
import { DEMO_DEVICES } from '../../devices/simulators/demo-fleet.js';
import { modelFor } from '../../devices/simulators/models.js';
import { openHarness, type AccountsHarness } from '../helpers/accounts.js';

/** A month of demo-fleet data rolled up twice gives identical rows, and so does a second store fed the same readings. */

const harnesses: AccountsHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function monthOfDemoData(): Promise<AccountsHarness> {
  const h = await openHarness();
  harnesses.push(h);
  const from = Date.parse('2026-10-01T00:00:00+08:00');
  const to = Date.parse('2026-11-01T00:00:00+08:00');
  for (const d of DEMO_DEVICES) {
    await h.addDevice({ id: d.id, kind: d.kind, site: d.site, sector: d.sector, measure: d.measure, params: d.params });
    const model = modelFor(d.kind, d.id, d.model ?? {});
    const batch = [];
    // a 5-minute grid, plus the first reading of November so October's last interval closes
    for (let ts = from; ts <= to; ts += 5 * 60_000) batch.push({ device: d.id, ts, seq: ts / 1000, ...model.reading(ts) });
    for (let i = 0; i < batch.length; i += 1000) await h.write(batch.slice(i, i + 1000));
  }
  return h;
}

it('rolls up a month of demo-fleet data twice with identical rows, and reproduces them from a second store', async () => {
  const a = await monthOfDemoData();
  const first = await a.accounts.rollups.compute('2026-10', 'manual');
  expect(first.created).toBe(true);
  expect(first.rows).toHaveLength(DEMO_DEVICES.length);
  expect(first.rows.some((r) => r.avoided_tco2e > 0)).toBe(true);
  expect(first.rows.every((r) => r.quality.implausible === 0 && r.quality.reset === 0)).toBe(true);

  const second = await a.accounts.rollups.compute('2026-10', 'manual');
  expect(second.created).toBe(false);
  expect(second.revision).toBe(1);
  const stored = await a.accounts.rollups.get('2026-10');
  expect(stored!.revisions).toHaveLength(1);
  expect(stored!.rows.map(({ month: _m, revision: _r, ...row }) => row)).toEqual(first.rows);

  const b = await monthOfDemoData();
  const again = await b.accounts.rollups.compute('2026-10', 'manual');
  expect(again.rows).toEqual(first.rows);
}, 120_000);
