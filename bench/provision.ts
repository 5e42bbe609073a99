/**
 * Provisioning (issue: city-scale speed): how long registering BENCH_PROVISION_DEVICES devices (default
 * 20,000) takes, goal < 60 s, three ways:
 * - `netzero devices import FILE.csv` on a data dir with no service (the CLI writes the state database);
 * - the same command with the service running on the data dir (it sends one `POST /api/devices` list);
 * - one `POST /api/devices` with a JSON array, timed from the request to the 201.
 * The CLI is timed as a process (node's start included). Each way runs BENCH_RUNS times (default 3) with
 * new ids; medians reported. Afterwards one device of each way logs in over MQTT with its secret. See
 * bench/README.md.
 *
 *   npm run bench:provision
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { connectClient } from '../test/helpers/mqtt-abuse.js';
import { ADMIN_TOKEN, startService, tempDir, type Registered } from '../test/helpers/service.js';
import { machine, median, pressure, rssMiB, serviceNodeArgs, writeResult } from './machine.js';

const exec = promisify(execFile);
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'netzero.js');
const DEVICES = Number(process.env.BENCH_PROVISION_DEVICES ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const GOAL_S = 60;

const row = (prefix: string, i: number) => ({ id: `${prefix}-${i}`, kind: 'smart_meter', site: `site-${i % 100}`, sector: 'residential_commercial', measure: 'social-housing-smart-meters', params: { max_readings_per_s: 10 } });

function csvOf(prefix: string): string {
  const lines = ['id,kind,site,sector,measure,param.max_readings_per_s'];
  for (let i = 0; i < DEVICES; i++) {
    const r = row(prefix, i);
    lines.push(`${r.id},${r.kind},${r.site},${r.sector},${r.measure},10`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `netzero devices import`; the seconds of the whole process, and one registration from the credentials file. */
async function cliImport(dir: string, prefix: string, dataDir: string): Promise<{ seconds: number; sample: Registered; stdout: string }> {
  const file = path.join(dir, `${prefix}.csv`);
  fs.writeFileSync(file, csvOf(prefix));
  const out = path.join(dir, `${prefix}-credentials.csv`);
  const t0 = performance.now();
  const { stdout } = await exec(process.execPath, [CLI, 'devices', 'import', file, '--credentials-out', out, '--data-dir', dataDir], {
    env: { ...process.env, NETZERO_ADMIN_TOKEN: ADMIN_TOKEN },
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - t0) / 1000;
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  if (lines.length !== DEVICES + 1) throw new Error(`${out} holds ${lines.length - 1} credentials, not ${DEVICES}`);
  const [id, secret, , topic] = lines[1]!.split(',') as [string, string, string, string];
  return { seconds, sample: { id, secret, topic }, stdout };
}

async function main() {
  process.stdout.write(`provisioning benchmark: ${DEVICES} devices, ${RUNS} runs of each way; ${JSON.stringify(machine())}; pressure ${JSON.stringify(pressure())}\n`);
  const dir = tempDir('netzero-bench-provision-');
  const runs: Array<Record<string, number>> = [];
  const samples: Registered[] = [];

  // 1. the CLI on a data dir with no service: a new data dir each run
  const offline: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const r = await cliImport(dir, `off${run}`, path.join(dir, `offline-${run}`));
    if (!r.stdout.includes('in the data dir')) throw new Error(`expected a direct import, got: ${r.stdout}`);
    offline.push(r.seconds);
    samples.push(r.sample);
  }

  // 2. and 3. against the running service
  const svc = await startService({ env: { NETZERO_LOG_LEVEL: 'warn' }, nodeArgs: serviceNodeArgs() });
  const viaService: number[] = [];
  const post: number[] = [];
  let rss: number | null = null;
  try {
    for (let run = 0; run < RUNS; run++) {
      const r = await cliImport(dir, `cli${run}`, svc.dataDir);
      if (!r.stdout.includes('through the service')) throw new Error(`expected an import through the service, got: ${r.stdout}`);
      viaService.push(r.seconds);
      samples.push(r.sample);

      const body = JSON.stringify(Array.from({ length: DEVICES }, (_, i) => row(`api${run}`, i)));
      const t0 = performance.now();
      const res = await fetch(`${svc.base}/api/devices`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body });
      const regs = (await res.json()) as Registered[];
      post.push((performance.now() - t0) / 1000);
      if (res.status !== 201 || regs.length !== DEVICES) throw new Error(`POST /api/devices answered ${res.status}: ${JSON.stringify(regs).slice(0, 300)}`);
      samples.push(regs[DEVICES - 1]!);
      runs.push({ cli_offline_s: offline[run]!, cli_via_service_s: viaService[run]!, post_list_s: post[run]! });
      process.stdout.write(`run ${run + 1}: CLI, no service ${offline[run]!.toFixed(2)} s; CLI through the service ${viaService[run]!.toFixed(2)} s; one POST ${post[run]!.toFixed(2)} s\n`);
    }
    rss = rssMiB(svc.proc.pid!);
    // the secrets work: one device of each way (the offline data dirs' devices exist in those dirs only)
    for (const s of samples.slice(RUNS, RUNS + 2)) {
      const c = await connectClient(svc.ports.mqtt!, { username: s.id, password: s.secret, clientId: s.id });
      c.end(true);
    }
    const listed = (await svc.api<unknown[]>('GET', '/api/devices')).body.length;
    if (listed !== 2 * RUNS * DEVICES) throw new Error(`the service lists ${listed} devices, not ${2 * RUNS * DEVICES}`);
  } finally {
    await svc.stop();
    fs.rmSync(svc.dataDir, { recursive: true, force: true });
  }

  const rows = [
    { figure: `${DEVICES} devices: netzero devices import, no service (process, node start included)`, seconds: median(offline) },
    { figure: `${DEVICES} devices: netzero devices import through the running service`, seconds: median(viaService) },
    { figure: `${DEVICES} devices: one POST /api/devices with a list (request to 201)`, seconds: median(post) },
  ];
  process.stdout.write('\nfigure                                                                              seconds   devices/s   goal\n');
  for (const r of rows) {
    process.stdout.write(`${r.figure.padEnd(82)} ${r.seconds.toFixed(2).padStart(8)} ${(DEVICES / r.seconds).toFixed(0).padStart(11)}   < ${GOAL_S} s${r.seconds < GOAL_S ? '' : '  (missed)'}\n`);
  }
  process.stdout.write(`service resident memory with ${2 * RUNS * DEVICES} devices registered: ${rss?.toFixed(0)} MiB\n`);
  process.stdout.write(`written ${writeResult('provision', { settings: { DEVICES, RUNS }, runs, rows, service_rss_mib: rss, pressure_after: pressure() })}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
