import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { InfluxStore } from '../../store/influx/influx-store.js';
import { goldenScenarios } from '../golden/run-scenarios.js';
import { startInfluxd, type Influxd } from '../helpers/influxdb.js';

/** The accounting's golden scenarios with InfluxDB 1.6 (v1 API) as the store: the same numbers as on SQLite. */

let influx: Influxd;
let n = 0;
beforeAll(async () => {
  influx = await startInfluxd();
});
afterAll(async () => {
  await influx?.destroy();
});

goldenScenarios('InfluxDB 1.6', () => async (dir) => {
  const db = `golden_${++n}`;
  await influx.createDb(db);
  return new InfluxStore({ target: { url: influx.url, api: 'v1', db }, spoolDir: `${dir}/spool`, spoolMaxBytes: 64 * 1024 * 1024, log: pino({ level: 'silent' }) });
});
