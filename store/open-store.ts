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
  /** the city's zone (`NETZERO_TZ`): the SQLite store keeps its interval sums' days in it */
  timeZone?: string;
}

/**
 * The reading store the settings ask for: InfluxDB (with the on-disk spool in `<data dir>/spool`) when
 * `INFLUX_URL` is set, else the embedded SQLite store. `queryOnly` opens InfluxDB without the spool, and
 * SQLite without moving its interval sums' days to the zone, for commands that run beside the service.
 */
export function openReadingStore(
  settings: StoreSettings,
  deps: { log: Logger; metrics?: StoreMetrics; onRejected?: (readings: StoredReading[], reason: string) => Promise<void>; queryOnly?: boolean },
): ReadingStore {
  // a command beside the service (queryOnly) leaves the sums' days as the service keeps them: rebuilding
  // them would hold the database's write lock for as long as reading every interval takes
  if (!settings.influx) return SqliteStore.inDataDir(settings.dataDir, deps.metrics, { timeZone: deps.queryOnly ? undefined : settings.timeZone, log: deps.log });
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
