import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, registerDevice, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * A charge point nobody on this project wrote: ocpp-ws-cli's simulator (`npx ocpp simulate`, OCPP 1.6)
 * against the real service. It has no non-interactive mode: it boots, sends BootNotification and
 * StatusNotification by itself, then waits for keys on stdin ([A]uthorize, s[T]art, [M]eterValues,
 * [E]nd, [Q]uit), which it reads from a pipe as well as from a terminal, so the test drives it through
 * its stdin, one key at a time, waiting for each step's effect on the service. It has no password
 * option either; its WebSocket library (ws) sends the URL's user:password as HTTP Basic auth, so the
 * charger's id and secret go into the endpoint URL.
 *
 * Its meter starts at 0 Wh and each [M] adds 14 Wh at about 5 kW (and one every 10 s while charging);
 * StartTransaction sends meterStart 0, StopTransaction meterStop = its meter.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'node_modules/ocpp-ws-cli/dist/index.js');

interface ReadingOut {
  ts: string;
  seq: number | null;
  fields: Record<string, number | string>;
}
interface IntervalOut {
  amount: number;
  quality: string;
}
interface StatusOut {
  device: string;
  online: boolean;
  detail: Record<string, unknown>;
}

let svc: RunningService;
let ocppPort: number;
let sim: Registered;
let proc: ChildProcessWithoutNullStreams | undefined;
let out = '';
const reportDir = tempDir('netzero-ocpp-report-');

const readings = async () => (await svc.api<ReadingOut[]>('GET', `/api/readings?device=${sim.id}&limit=1000`)).body;
const status = async () => (await svc.api<StatusOut[]>('GET', '/api/devices/status')).body.find((s) => s.device === sim.id);

beforeAll(async () => {
  ocppPort = await freePort();
  svc = await startService({ env: { NETZERO_OCPP_PORT: String(ocppPort) } });
  sim = await registerDevice(svc, { id: 'sim-cp-1', kind: 'ev_charger', site: 'kh-park-02', sector: 'transport' });
}, 60_000);

afterAll(async () => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  await svc?.stop();
  fs.rmSync(reportDir, { recursive: true, force: true });
});

describe('ocpp-ws-cli simulate against the service', () => {
  it('a full session from the simulator becomes the right ev_charger readings and intervals', async () => {
    proc = spawn(
      process.execPath,
      [CLI, 'simulate', '-e', `ws://${sim.id}:${sim.secret}@127.0.0.1:${ocppPort}/ocpp`, '-i', sim.id, '-t', 'SIM-TAG-7', '-p', 'ocpp1.6', '--report', 'json', '--report-dir', reportDir],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const key = (k: string) => proc!.stdin.write(k);
    const step = <T>(what: string, fn: () => Promise<T | undefined | null | false>) => waitFor(what, fn, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\n--- simulator output (last lines) ---\n${plain(out).slice(-2000)}`);
    });

    // it boots by itself: BootNotification, StatusNotification Available for connectors 0 and 1
    await step('the simulator online and Available', async () => (await status())?.detail.connector_1 === 'Available');
    key('a');
    await step('Preparing after Authorize', async () => (await status())?.detail.connector_1 === 'Preparing');
    key('t');
    const session = await step('Charging with a session', async () => {
      const s = await status();
      return s?.detail.connector_1 === 'Charging' && typeof s.detail.connector_1_session === 'string' ? (s.detail.connector_1_session as string) : null;
    });
    key('m');
    await step('the first MeterValues stored', async () => (await readings()).length >= 2);
    key('m');
    await step('the second MeterValues stored', async () => (await readings()).length >= 3);
    key('e');
    await step('the meterStop stored', async () => (await readings()).some((r) => r.seq === 12));
    // its dashboard (and the metrics its report keeps) refreshes once a second: let it catch up before [Q]
    await new Promise((r) => setTimeout(r, 1500));
    key('q');
    proc.stdin.end();
    const exited = await Promise.race([new Promise((r) => proc!.once('exit', () => r(true))), new Promise((r) => setTimeout(() => r(false), 10_000))]);
    if (!exited) proc.kill('SIGTERM');
    await waitFor('the simulator offline', async () => (await status())?.online === false, 10_000);

    // Two [M] (and one more for every 10 s it charged): meterStart 0 (seq 11: a new meter, confirmed by
    // 0.014 kWh 1-2 s later, far under 350 kW), the samples 0.014, 0.028, … (seq 10), meterStop (seq 12).
    const rs = await readings();
    const kwh = rs.map((r) => r.fields.energy_kwh as number);
    expect(rs[0]).toMatchObject({ seq: 11, fields: { energy_kwh: 0, session_id: session, connector: 1 } });
    expect(rs.at(-1)).toMatchObject({ seq: 12, fields: { session_id: session, connector: 1 } });
    const samples = rs.slice(1, -1);
    expect(samples.length).toBeGreaterThanOrEqual(2);
    samples.forEach((r, i) => {
      expect(r.seq).toBe(10);
      expect(r.fields.energy_kwh).toBeCloseTo(0.014 * (i + 1), 9);
      expect(r.fields.power_w).toBeGreaterThan(4800);
      expect(r.fields.session_id).toBe(session);
    });
    // the meter at the stop is the last sample's: no energy between them
    expect(kwh.at(-1)).toBeCloseTo(kwh.at(-2)!, 9);

    // its own report says how much it metered: the intervals add up to exactly that
    const report = JSON.parse(fs.readFileSync(path.join(reportDir, fs.readdirSync(reportDir).find((f) => f.endsWith('.json'))!), 'utf8')) as { metrics: { finalEnergy: string } };
    const finalWh = Number(/^([\d.]+) Wh$/.exec(report.metrics.finalEnergy)![1]);
    expect(finalWh).toBeCloseTo(14 * samples.length, 6);
    const iv = (await svc.api<IntervalOut[]>('GET', `/api/intervals?device=${sim.id}&limit=1000`)).body;
    expect(iv).toHaveLength(rs.length - 1);
    expect(iv.every((i) => i.quality === 'ok')).toBe(true);
    // e.g. two [M]: 0.014 + 0.014 + 0 = 0.028 kWh = 28 Wh
    expect(iv.reduce((s, i) => s + i.amount, 0)).toBeCloseTo(finalWh / 1000, 9);
    console.log(`ocpp-ws-cli simulate: ${rs.length} readings, ${iv.length} intervals, ${(finalWh / 1000).toFixed(3)} kWh; exited on its own after [Q]: ${exited}`);
  }, 90_000);
});

/** The simulator's terminal output without its colour and cursor codes. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}
