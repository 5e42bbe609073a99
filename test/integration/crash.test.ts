import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startInfluxd, type Influxd } from '../helpers/influxdb.js';
import { registerDevice, startService, waitFor, type RunningService } from '../helpers/service.js';

/**
 * Crash test: a QoS 1 publisher with a persistent session streams readings; the service is killed with
 * SIGKILL mid-stream three times and restarted on the same ports each time; after the client resends,
 * every reading it got a PUBACK for is in the store exactly once. On SQLite and on InfluxDB (spool).
 */

const TOTAL = 1500;
/** acknowledged readings at which the service is killed */
const KILLS = [300, 700, 1100];
let svc: RunningService | undefined;
let influx: Influxd | undefined;

afterEach(async () => {
  await svc?.stop();
  svc = undefined;
});
afterAll(async () => {
  await influx?.destroy();
});

/** Each acknowledged seq, how many times it is stored. */
type Counter = (device: string) => Promise<{ perSeq: Map<number, number>; total: number }>;

const sqliteCount = (dataDir: string): Counter => async (device) => {
  const db = new Database(path.join(dataDir, 'readings.sqlite'), { readonly: true });
  const rows = db.prepare('SELECT seq, COUNT(*) AS n FROM readings WHERE device = ? GROUP BY seq').all(device) as Array<{ seq: number; n: number }>;
  const total = (db.prepare('SELECT COUNT(*) AS n FROM readings WHERE device = ?').get(device) as { n: number }).n;
  db.close();
  return { perSeq: new Map(rows.map((r) => [r.seq, r.n])), total };
};

const influxCount = (db: string): Counter => async (device) => {
  const r = await influx!.query(`SELECT seq FROM smart_meter WHERE device = '${device}'`, db);
  const seqs = ((r.results?.[0]?.series?.[0]?.values ?? []) as Array<[unknown, number]>).map((v) => Number(v[1]));
  const perSeq = new Map<number, number>();
  for (const s of seqs) perSeq.set(s, (perSeq.get(s) ?? 0) + 1);
  return { perSeq, total: seqs.length };
};

describe.each([
  { store: 'SQLite', setUp: async () => ({ env: {} as Record<string, string>, count: (dataDir: string) => sqliteCount(dataDir) }) },
  {
    store: 'InfluxDB',
    setUp: async () => {
      influx ??= await startInfluxd();
      await influx.createDb('crash');
      return { env: { INFLUX_URL: influx.url, INFLUX_API: 'v1', INFLUX_DB: 'crash', NETZERO_LOG_LEVEL: 'warn' }, count: () => influxCount('crash') };
    },
  },
])('on $store', ({ setUp }) => {
it('keeps every acknowledged reading exactly once across three SIGKILLs and restarts', async () => {
  const { env, count } = await setUp();
  svc = await startService({ env });
  const dev = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-crash', sector: 'residential_commercial' });
  const { mqtt: mqttPort, http: httpPort } = svc.ports;
  const dataDir = svc.dataDir;

  const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: `${dev.id}-crash`,
    username: dev.id,
    password: dev.secret,
    clean: false,
    reconnectPeriod: 200,
    connectTimeout: 5000,
  });
  await new Promise<void>((r) => client.once('connect', () => r()));

  const acked = new Set<number>();
  const t0 = Date.UTC(2026, 10, 1);
  let sent = 0;
  let kills = 0;
  let ackedAtKill = 0;
  let sentAtKill = 0;
  let restarted: Promise<void> = Promise.resolve();

  // Kill the service each time the acknowledged readings pass the next mark: checked right after each
  // round of publishes (so readings are in flight at the kill), and after everything was sent.
  const maybeKill = () => {
    if (kills >= KILLS.length || acked.size < KILLS[kills]!) return;
    if (kills === 0) {
      ackedAtKill = acked.size;
      sentAtKill = sent;
    }
    kills++;
    restarted = restarted.then(async () => {
      await svc!.kill();
      svc = await startService({
        dataDir,
        env: { ...env, NETZERO_MQTT_PORT: String(mqttPort), NETZERO_HTTP_PORT: String(httpPort) },
      });
    });
  };
  let killer: NodeJS.Timeout | undefined;
  try {
    // Publish steadily; errors on a publish only mean "not acknowledged yet": MQTT.js keeps it and resends.
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        for (let k = 0; k < 10 && sent < TOTAL; k++) {
          const seq = ++sent;
          const payload = JSON.stringify({ ts: t0 + seq * 60_000, seq, import_kwh: seq * 0.5 });
          client.publish(dev.topic, payload, { qos: 1 }, (err) => {
            if (!err) acked.add(seq);
          });
        }
        maybeKill();
        if (sent >= TOTAL) {
          clearInterval(tick);
          resolve();
        }
      }, 5);
    });
    killer = setInterval(maybeKill, 10);
    // the first kill really came mid-stream: readings were in flight and most were still to come
    expect(ackedAtKill).toBeLessThan(TOTAL / 2);
    expect(sentAtKill).toBeGreaterThan(ackedAtKill);
    await waitFor('every reading acknowledged after the restarts', () => acked.size === TOTAL, 90_000, 200);
  } finally {
    clearInterval(killer);
    await restarted;
  }
  expect(kills).toBe(KILLS.length);
  await client.endAsync();
  await svc!.stop();
  svc = await startService({ dataDir, env });
  await waitFor('the spool drained', async () => ((await svc!.api<{ spool?: { records: number } }>('GET', '/healthz', undefined, null)).body.spool?.records ?? 0) === 0, 30_000);

  const { perSeq: stored, total } = await count(dataDir)(dev.id);
  const missing = [...acked].filter((s) => stored.get(s) !== 1);
  expect(missing, 'acknowledged readings not stored exactly once').toEqual([]);
  expect(total).toBe(acked.size);
  // The interval chain is intact: consecutive readings 0.5 kWh apart → 1,499 intervals summing to 749.5 kWh.
  const iv = await svc!.api<Array<{ amount: number; quality: string }>>('GET', `/api/intervals?device=${dev.id}&limit=10000`);
  expect(iv.body).toHaveLength(TOTAL - 1);
  expect(iv.body.reduce((a, i) => a + i.amount, 0)).toBeCloseTo((TOTAL - 1) * 0.5, 6);
  expect(iv.body.every((i) => i.quality === 'ok')).toBe(true);
}, 180_000);
});
