import { describe, expect, it } from 'vitest';
import { DeviceStatusBoard } from '../../ingest/device-status.js';

describe('DeviceStatusBoard', () => {
  it('publishes the retained status only when online changes, keeps since, merges detail while the state holds', () => {
    let t = Date.UTC(2026, 10, 20, 2, 0, 0);
    const published: Array<[string, string]> = [];
    const board = new DeviceStatusBoard({ publishRetained: (topic, text) => published.push([topic, text]), now: () => t });
    const dev = { id: 'evc-1', site: 'kh-park-01' };

    board.set(dev, true, 'ocpp', { connector_1: 'Available' });
    t += 60_000;
    board.set(dev, true, 'ocpp', { connector_1: 'Charging' });
    expect(published).toEqual([['netzero/v1/kh-park-01/evc-1/status', 'online']]);
    expect(board.get('evc-1')).toMatchObject({ online: true, since: '2026-11-20T02:00:00.000Z', updated: '2026-11-20T02:01:00.000Z', detail: { connector_1: 'Charging' } });

    t += 60_000;
    board.set(dev, false, 'ocpp', { reason: 'the websocket closed' });
    expect(published.at(-1)).toEqual(['netzero/v1/kh-park-01/evc-1/status', 'offline']);
    // a change of state starts the detail afresh
    expect(board.get('evc-1')).toMatchObject({ online: false, since: '2026-11-20T02:02:00.000Z', detail: { reason: 'the websocket closed' } });

    board.set({ id: 'inv-1', site: 'kh-school-01' }, true, 'modbus');
    expect(board.list().map((s) => s.device)).toEqual(['evc-1', 'inv-1']);
    board.forget('evc-1');
    expect(board.list().map((s) => s.device)).toEqual(['inv-1']);
  });
});
