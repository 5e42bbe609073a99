import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Test harness: the real service (built `bin/netzero.js start`) in a child process on free ports. */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface RunningService {
  dataDir: string;
  ports: { mqtt?: number; ws?: number; http: number; nodered?: number; ocpp?: number };
  base: string;
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit */
  stop: () => Promise<number | null>;
  /** SIGKILL and wait for exit */
  kill: () => Promise<void>;
  api: <T = unknown>(method: string, p: string, body?: unknown, token?: string | null) => Promise<{ status: number; body: T }>;
}

export function tempDir(prefix = 'netzero-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ''}`);
}

export async function startService(opts: { env?: Record<string, string>; dataDir?: string; nodeArgs?: string[] } = {}): Promise<RunningService> {
  const dataDir = opts.dataDir ?? tempDir();
  const portsFile = path.join(dataDir, 'ports.json');
  fs.rmSync(portsFile, { force: true });
  const env = {
    ...process.env,
    NETZERO_DATA_DIR: dataDir,
    NETZERO_HOST: '127.0.0.1',
    NETZERO_MQTT_PORT: '0',
    NETZERO_MQTT_WS_PORT: '0',
    NETZERO_HTTP_PORT: '0',
    NETZERO_NODERED_PORT: '0',
    NETZERO_OCPP_PORT: '0',
    NETZERO_DEMO: '0',
    NETZERO_ADMIN_TOKEN: ADMIN_TOKEN,
    NETZERO_LOG_LEVEL: 'info',
    ...opts.env,
  };
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.join(ROOT, 'bin/netzero.js'), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const ports = await waitFor(
    'ports.json',
    () => {
      if (proc.exitCode !== null) throw new Error(`service exited with ${proc.exitCode}: ${out.slice(-2000)}`);
      return fs.existsSync(portsFile) ? (JSON.parse(fs.readFileSync(portsFile, 'utf8')) as RunningService['ports']) : null;
    },
    30_000,
  ).catch((err: Error) => {
    proc.kill('SIGKILL');
    throw new Error(`${err.message}\n--- service output ---\n${out.slice(-3000)}`);
  });
  const base = `http://127.0.0.1:${ports.http}`;
  await waitFor('healthz', async () => (await fetch(`${base}/healthz`)).status === 200, 15_000);

  return {
    dataDir,
    ports,
    base,
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
    },
    api: async <T,>(method: string, p: string, body?: unknown, token: string | null = ADMIN_TOKEN) => {
      const res = await fetch(`${base}${p}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed as T };
    },
  };
}

export interface Registered {
  id: string;
  secret: string;
  topic: string;
}

export async function registerDevice(svc: RunningService, body: Record<string, unknown>): Promise<Registered> {
  const r = await svc.api<Registered>('POST', '/api/devices', body);
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
