import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir, waitFor } from './service.js';

/**
 * Debian's InfluxDB 1.x (`/usr/bin/influxd`, 1.6.7 here: /write and /query only, no /api/v2)
 * in a child process: its own temp dir, config file and free ports on 127.0.0.1.
 */

/** /query's JSON, loosely typed for tests (results[].series[].values[][]). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type QueryJson = any;

export interface Influxd {
  url: string;
  port: number;
  /** temp dir holding influxd.conf, meta/, data/, wal/ */
  dir: string;
  /** SIGTERM and wait for exit (data stays in `dir`) */
  stop(): Promise<void>;
  /** start again on the same port and data dir; waits for /ping */
  start(): Promise<void>;
  /** GET /query?epoch=ns; integers beyond 2^53 (ns times) come back as decimal strings so they stay exact */
  query(q: string, db?: string): Promise<QueryJson>;
  createDb(name: string): Promise<void>;
  /** stop and remove the temp dir */
  destroy(): Promise<void>;
  /** influxd's stdout and stderr so far (log level warn) */
  output(): string;
}

export interface InfluxdOptions {
  /** [http] max-body-size in bytes (influxd answers 413 above it); default 25 MB */
  maxBodySize?: number;
  /** [http] auth-enabled */
  authEnabled?: boolean;
}

const INFLUXD = process.env.INFLUXD_BIN ?? 'influxd';

function config(dir: string, httpPort: number, rpcPort: number, opts: InfluxdOptions): string {
  const q = (p: string) => JSON.stringify(path.join(dir, p));
  return [
    // 1.x upstream spells it reporting-disabled, Debian's build reporting-enabled; unknown keys are ignored.
    'reporting-disabled = true',
    'reporting-enabled = false',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = ${q('meta')}`,
    '  logging-enabled = false',
    '[data]',
    `  dir = ${q('data')}`,
    `  wal-dir = ${q('wal')}`,
    '  query-log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '[retention]',
    '  enabled = false',
    '[shard-precreation]',
    '  enabled = false',
    '[subscriber]',
    '  enabled = false',
    '[continuous_queries]',
    '  enabled = false',
    '  log-enabled = false',
    '[admin]',
    '  enabled = false',
    '[http]',
    '  enabled = true',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    `  auth-enabled = ${opts.authEnabled ? 'true' : 'false'}`,
    '  log-enabled = false',
    '  pprof-enabled = false',
    `  max-body-size = ${opts.maxBodySize ?? 25_000_000}`,
    '[ifql]',
    '  enabled = false',
    '[[graphite]]',
    '  enabled = false',
    '[[collectd]]',
    '  enabled = false',
    '[[opentsdb]]',
    '  enabled = false',
    '[[udp]]',
    '  enabled = false',
    '[logging]',
    '  level = "warn"',
    '  suppress-logo = true',
    '',
  ].join('\n');
}

/** Quotes integer literals outside strings whose magnitude exceeds 2^53, then parses. */
export function parseJsonExactInts(text: string): QueryJson {
  const num = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      num.lastIndex = i;
      const m = num.exec(text);
      if (!m) return JSON.parse(text); // not JSON where a number should be: let JSON.parse report it
      const tok = m[0];
      const isInt = m[1] === undefined && m[2] === undefined;
      out += isInt && !Number.isSafeInteger(Number(tok)) ? `"${tok}"` : tok;
      i += tok.length;
    } else {
      out += ch;
      i++;
    }
  }
  return JSON.parse(out);
}

export async function startInfluxd(opts: InfluxdOptions = {}): Promise<Influxd> {
  const dir = tempDir('netzero-influxd-');
  const port = await freePort();
  let rpcPort = await freePort();
  while (rpcPort === port) rpcPort = await freePort();
  const conf = path.join(dir, 'influxd.conf');
  fs.writeFileSync(conf, config(dir, port, rpcPort, opts));
  const url = `http://127.0.0.1:${port}`;

  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let out = '';
  const killOnExit = () => proc?.kill('SIGKILL');

  async function ping(): Promise<boolean> {
    const p = proc;
    if (p && (p.exitCode !== null || p.signalCode !== null)) throw new Error(`influxd exited: ${out.slice(-2000)}`);
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      return res.status === 204;
    } catch {
      return false;
    }
  }

  async function start(): Promise<void> {
    if (proc && proc.exitCode === null && proc.signalCode === null) return;
    const p = spawn(INFLUXD, ['-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
    };
    p.stdout!.on('data', keep);
    p.stderr!.on('data', keep);
    p.once('error', (err) => (out += `\nspawn error: ${err.message}`));
    process.removeListener('exit', killOnExit);
    process.once('exit', killOnExit);
    await waitFor('influxd /ping', ping, 30_000, 50);
  }

  async function stop(): Promise<void> {
    const p = proc;
    process.removeListener('exit', killOnExit);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }

  async function query(q: string, db?: string): Promise<QueryJson> {
    const u = new URL(`${url}/query`);
    u.searchParams.set('epoch', 'ns');
    u.searchParams.set('q', q);
    if (db) u.searchParams.set('db', db);
    const res = await fetch(u, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`influxd /query ${res.status}: ${text}`);
    return parseJsonExactInts(text);
  }

  async function createDb(name: string): Promise<void> {
    const res = await fetch(`${url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: `CREATE DATABASE "${name.replace(/["\\]/g, '\\$&')}"` }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { results?: { error?: string }[]; error?: string };
    const err = body.error ?? body.results?.[0]?.error;
    if (!res.ok || err) throw new Error(`CREATE DATABASE ${name}: ${res.status} ${err ?? ''}`);
  }

  await start();
  return {
    url,
    port,
    dir,
    start,
    stop,
    query,
    createDb,
    destroy: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    output: () => out,
  };
}
