import path from 'node:path';
import type { Config } from '../app/config.js';
import type { Logger } from '../app/logger.js';
import type { Metrics } from '../app/metrics.js';
import { InfluxStore } from './influx/influx-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { ReadingStore, StoredReading } from './types.js';

/**
 * The reading store the settings ask for: InfluxDB (with the on-disk spool in `<data dir>/spool`) when
 * `INFLUX_URL` is set, else the embedded SQLite store. `queryOnly` opens InfluxDB without the spool, for
 * commands that run beside the service and only read.
 */
export function openReadingStore(
  config: Config,
  deps: { log: Logger; metrics?: Metrics; onRejected?: (readings: StoredReading[], reason: string) => Promise<void>; queryOnly?: boolean },
): ReadingStore {
  if (!config.influx) return SqliteStore.inDataDir(config.dataDir);
  const i = config.influx;
  return new InfluxStore({
    target: { url: i.url, api: i.api, token: i.token, org: i.org, bucket: i.bucket, db: i.db },
    spoolDir: deps.queryOnly ? undefined : path.join(config.dataDir, 'spool'),
    spoolMaxBytes: config.spoolMaxBytes,
    log: deps.log,
    metrics: deps.metrics,
    onRejected: deps.onRejected,
  });
}
