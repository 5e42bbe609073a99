import path from 'node:path';
import type { Logger } from 'pino';
import type { StoredReading } from '../ingest/reading.js';
import { InfluxStore } from './influx/influx-store.js';
import type { StoreMetrics } from './metrics.js';
import { SqliteStore } from './sqlite-store.js';
import type { ReadingStore } from './types.js';

/** InfluxDB settings (`INFLUX_*`). */
export interface InfluxSettings {
  url: string;
  token?: string;
  org?: string;
  bucket?: string;
  api: 'v1' | 'v2';
  db?: string;
}

/** The store's slice of the settings. */
export interface StoreSettings {
  dataDir: string;
  /** disk budget of the spool in front of InfluxDB */
  spoolMaxBytes: number;
  /** absent: the embedded SQLite store */
  influx?: InfluxSettings;
}

/**
 * The reading store the settings ask for: InfluxDB (with the on-disk spool in `<data dir>/spool`) when
 * `INFLUX_URL` is set, else the embedded SQLite store. `queryOnly` opens InfluxDB without the spool, for
 * commands that run beside the service and only read.
 */
export function openReadingStore(
  settings: StoreSettings,
  deps: { log: Logger; metrics?: StoreMetrics; onRejected?: (readings: StoredReading[], reason: string) => Promise<void>; queryOnly?: boolean },
): ReadingStore {
  if (!settings.influx) return SqliteStore.inDataDir(settings.dataDir, deps.metrics);
  const i = settings.influx;
  return new InfluxStore({
    target: { url: i.url, api: i.api, token: i.token, org: i.org, bucket: i.bucket, db: i.db },
    spoolDir: deps.queryOnly ? undefined : path.join(settings.dataDir, 'spool'),
    spoolMaxBytes: settings.spoolMaxBytes,
    log: deps.log,
    metrics: deps.metrics,
    onRejected: deps.onRejected,
  });
}
