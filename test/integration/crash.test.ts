import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { registerDevice, startService, waitFor, type RunningService } from '../helpers/service.js';

/**
 * Crash test: a QoS 1 publisher with a persistent session streams readings; the service is killed with
 * SIGKILL mid-stream and restarted on the same ports; after the client resends, every reading it got a
 * PUBACK for is in the store exactly once.
 */

const TOTAL = 1500;
let svc: RunningService | undefined;

afterAll(async () => {
  await svc?.stop();
});

it('keeps every acknowledged reading exactly once across SIGKILL and restart', async () => {
  svc = await startService();
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
  let killed = false;
  let ackedAtKill = 0;
  let sentAtKill = 0;
  let restarted: Promise<void> | undefined;

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
      if (!killed && acked.size >= 300) {
        killed = true;
        ackedAtKill = acked.size;
        sentAtKill = sent;
        restarted = (async () => {
          await svc!.kill();
          svc = await startService({
            dataDir,
            env: { NETZERO_MQTT_PORT: String(mqttPort), NETZERO_HTTP_PORT: String(httpPort) },
          });
        })();
      }
      if (sent >= TOTAL) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  expect(killed).toBe(true);
  // the kill really came mid-stream: readings were in flight and most were still to come
  expect(ackedAtKill).toBeLessThan(TOTAL / 2);
  expect(sentAtKill).toBeGreaterThan(ackedAtKill);
  await restarted;
  await waitFor('every reading acknowledged after the restart', () => acked.size === TOTAL, 60_000, 200);
  await client.endAsync();

  const db = new Database(path.join(dataDir, 'readings.sqlite'), { readonly: true });
  const rows = db.prepare('SELECT seq, COUNT(*) AS n FROM readings WHERE device = ? GROUP BY seq').all(dev.id) as Array<{ seq: number; n: number }>;
  const total = (db.prepare('SELECT COUNT(*) AS n FROM readings WHERE device = ?').get(dev.id) as { n: number }).n;
  db.close();
  const stored = new Map(rows.map((r) => [r.seq, r.n]));
  const missing = [...acked].filter((s) => stored.get(s) !== 1);
  expect(missing, 'acknowledged readings not stored exactly once').toEqual([]);
  expect(total).toBe(acked.size);
  // The interval chain is intact: consecutive readings 0.5 kWh apart → 1,499 intervals summing to 749.5 kWh.
  const iv = await svc.api<Array<{ amount: number; quality: string }>>('GET', `/api/intervals?device=${dev.id}&limit=10000`);
  expect(iv.body).toHaveLength(TOTAL - 1);
  expect(iv.body.reduce((a, i) => a + i.amount, 0)).toBeCloseTo((TOTAL - 1) * 0.5, 6);
  expect(iv.body.every((i) => i.quality === 'ok')).toBe(true);
}, 120_000);
