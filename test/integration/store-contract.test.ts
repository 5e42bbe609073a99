import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { InfluxStore } from '../../store/influx/influx-store.js';
import { storeContract } from '../contract/store-suite.js';
import { startInfluxd, type Influxd } from '../helpers/influxdb.js';

/**
 * The store contract (../contract/store-suite.ts) against the InfluxDB store: Debian's real InfluxDB
 * 1.6.7 over the v1 API, with the on-disk spool in front. One influxd for the file; every test gets a
 * fresh database and a fresh spool dir, so tests share no points and no remembered series.
 */

let influx: Influxd;
let n = 0;

beforeAll(async () => {
  influx = await startInfluxd();
});

afterAll(async () => {
  await influx?.destroy();
});

storeContract('InfluxStore (InfluxDB 1.6, v1 API)', async () => {
  const db = `contract_${process.pid}_${++n}`;
  await influx.createDb(db);
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-spool-'));
  const make = async () => {
    const s = new InfluxStore({
      target: { url: influx.url, api: 'v1', db },
      spoolDir,
      spoolMaxBytes: 64 * 1024 * 1024,
      log: pino({ level: 'silent' }),
    });
    await s.start();
    return s;
  };
  let current = await make();
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await make();
      return current;
    },
    cleanup: async () => {
      await current.close();
      fs.rmSync(spoolDir, { recursive: true, force: true });
      await influx.query(`DROP DATABASE "${db}"`).catch(() => undefined);
    },
  };
});
