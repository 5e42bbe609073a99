import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLine, nsTimestamp } from '../../store/influx/line-protocol.js';
import { createLineWriter, type LineWriter } from '../../store/influx/writer.js';
import { startInfluxd, type Influxd } from '../helpers/influxdb.js';

/**
 * The v1 writer against a real InfluxDB 1.x (Debian's influxd 1.6.7, no /api/v2) started by
 * the helper on free ports: what goes in comes back out of /query exactly, conflicts are
 * rejected with the server's words, resends overwrite, an outage is a retry.
 */

const DB = 'meters';
const T0 = 1795334400123; // 2026-11-22T…Z, epoch ms

let influx: Influxd;
let writer: LineWriter;

interface Series {
  name: string;
  columns: string[];
  values: unknown[][];
}

async function select(q: string): Promise<Series[]> {
  const body = await influx.query(q, DB);
  const r = body.results[0];
  if (r.error) throw new Error(r.error);
  return (r.series ?? []) as Series[];
}

/** Rows as objects keyed by column name. */
async function rows(q: string): Promise<Record<string, unknown>[]> {
  const [s] = await select(q);
  if (!s) return [];
  return s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
}

beforeAll(async () => {
  influx = await startInfluxd();
  await influx.createDb(DB);
  writer = createLineWriter({ url: influx.url, api: 'v1', db: DB }, { timeoutMs: 5000 });
});

afterAll(async () => {
  await influx?.destroy();
});

describe('v1 writer → influxd 1.6.7', () => {
  it('writes lines that read back with their values, tags and exact nanosecond times', async () => {
    const lines = [
      formatLine('electricity', { device: 'meter-1', site: 'Kaohsiung Port', kind: 'electricity', sector: 'commercial' }, { import_kwh: 1234.5678, export_kwh: 0.1 + 0.2, rssi: { int: -71 }, fw: 'v1.2 "beta", x=y\\z', ok: true }, nsTimestamp(T0, 41)),
      formatLine('electricity', { device: 'meter-1', site: 'Kaohsiung Port', kind: 'electricity', sector: 'commercial' }, { import_kwh: 1234.6, export_kwh: 1e-7, rssi: { int: -70 }, fw: 'line\nbreak', ok: false }, nsTimestamp(T0, 42)),
      formatLine('electricity', { device: 'meter 2,b=c', site: 'Kaohsiung Port', kind: 'electricity', sector: 'commercial' }, { import_kwh: 7, rssi: { int: 9007199254740993n } }, nsTimestamp(T0, null)),
    ];
    expect(await writer.write(lines)).toEqual({ kind: 'ok' });

    const got = await rows('SELECT * FROM electricity ORDER BY time');
    expect(got).toHaveLength(3);
    expect(got.map((r) => r.time)).toEqual(['1795334400123000000', '1795334400123000042', '1795334400123000043']);
    expect(got[0]).toMatchObject({ device: 'meter 2,b=c', import_kwh: 7, rssi: '9007199254740993' });
    expect(got[1]).toMatchObject({ device: 'meter-1', site: 'Kaohsiung Port', sector: 'commercial', import_kwh: 1234.5678, export_kwh: 0.30000000000000004, rssi: -71, fw: 'v1.2 "beta", x=y\\z', ok: true });
    expect(got[2]).toMatchObject({ import_kwh: 1234.6, export_kwh: 1e-7, rssi: -70, fw: 'line\nbreak', ok: false });

    const [count] = await rows('SELECT count(import_kwh) FROM electricity');
    expect(count!.count).toBe(3);
    const types = await rows('SHOW FIELD KEYS FROM electricity');
    expect(Object.fromEntries(types.map((t) => [t.fieldKey, t.fieldType]))).toEqual({ export_kwh: 'float', fw: 'string', import_kwh: 'float', ok: 'boolean', rssi: 'integer' });
  });

  it('a field-type conflict → reject with the server message', async () => {
    const good = formatLine('pv', { device: 'pv-1' }, { gen_kwh: 1.5 }, nsTimestamp(T0, 1));
    expect(await writer.write([good])).toEqual({ kind: 'ok' });
    const conflict = formatLine('pv', { device: 'pv-1' }, { gen_kwh: 'oops' }, nsTimestamp(T0, 2));
    const o = await writer.write([conflict]);
    expect(o.kind).toBe('reject');
    if (o.kind !== 'reject') return;
    expect(o.status).toBe(400);
    expect(o.reason).toMatch(/field type conflict/);
    expect(o.reason).toMatch(/gen_kwh/);
    expect(o.reason).not.toMatch(/^\{/); // the message, not the JSON envelope
    expect(await rows('SELECT * FROM pv')).toHaveLength(1);
  });

  it('writing the same point twice leaves one point (a resend overwrites)', async () => {
    const ts = nsTimestamp(T0 + 60_000, 7);
    const line = formatLine('biogas', { device: 'bg-1', site: 's' }, { biogas_m3: 10.25, gen_kwh: 3.5 }, ts);
    expect(await writer.write([line])).toEqual({ kind: 'ok' });
    expect(await writer.write([line])).toEqual({ kind: 'ok' });
    // a corrected resend of the same (device, ts, seq) replaces the values of that one point
    const corrected = formatLine('biogas', { device: 'bg-1', site: 's' }, { biogas_m3: 10.5, gen_kwh: 3.5 }, ts);
    expect(await writer.write([corrected, corrected])).toEqual({ kind: 'ok' });
    const got = await rows('SELECT * FROM biogas');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ time: ts, biogas_m3: 10.5, gen_kwh: 3.5 });
    // the next seq in the same millisecond is a different point
    expect(await writer.write([formatLine('biogas', { device: 'bg-1', site: 's' }, { biogas_m3: 10.75 }, nsTimestamp(T0 + 60_000, 8))])).toEqual({ kind: 'ok' });
    expect(await rows('SELECT * FROM biogas')).toHaveLength(2);
  });

  it('a missing database → retry (a settings problem: readings wait in the spool) with the server message', async () => {
    const w = createLineWriter({ url: influx.url, api: 'v1', db: 'no_such_db' });
    expect(await w.write([formatLine('m', {}, { v: 1 }, '1')])).toMatchObject({ kind: 'retry', serverAsked: false, reason: expect.stringContaining('database not found: "no_such_db"') });
  });

  it('a large batch in one request', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => formatLine('ev', { device: `cp-${i % 10}` }, { energy_kwh: i / 8 }, nsTimestamp(T0 + i, i)));
    expect(await writer.write(lines)).toEqual({ kind: 'ok' });
    const [count] = await rows('SELECT count(energy_kwh) FROM ev');
    expect(count!.count).toBe(5000);
  });

  it('influxd stopped → retry; started again → ok, and earlier points survived the restart', async () => {
    await influx.stop();
    const line = formatLine('outage', { device: 'm-9' }, { v: 1 }, nsTimestamp(T0, 0));
    const down = await writer.write([line]);
    expect(down.kind).toBe('retry');
    if (down.kind === 'retry') {
      expect(down.reason).toMatch(/ECONNREFUSED/);
      expect(down.afterMs).toBeGreaterThanOrEqual(0);
      expect(down.afterMs).toBeLessThanOrEqual(30_000);
    }
    await influx.start();
    expect(await writer.write([line])).toEqual({ kind: 'ok' });
    expect(await rows('SELECT * FROM outage')).toHaveLength(1);
    expect(await rows('SELECT * FROM electricity')).toHaveLength(3);
  });
});

describe('v1 writer → influxd with a small max-body-size', () => {
  let small: Influxd;
  beforeAll(async () => {
    small = await startInfluxd({ maxBodySize: 4096 });
    await small.createDb(DB);
  });
  afterAll(async () => {
    await small?.destroy();
  });

  it('a body over the limit → split; the halves → ok', async () => {
    const w = createLineWriter({ url: small.url, api: 'v1', db: DB });
    const lines = Array.from({ length: 200 }, (_, i) => formatLine('pv', { device: 'pv-1' }, { gen_kwh: i + 0.5 }, nsTimestamp(T0 + i, null)));
    expect(lines.join('\n').length).toBeGreaterThan(4096);
    const o = await w.write(lines);
    expect(o.kind).toBe('split');
    for (let k = 0; k < 4; k++) expect(await w.write(lines.slice(k * 50, (k + 1) * 50))).toEqual({ kind: 'ok' });
    const body = await small.query('SELECT count(gen_kwh) FROM pv', DB);
    expect(body.results[0].series[0].values[0][1]).toBe(200);
  });
});
