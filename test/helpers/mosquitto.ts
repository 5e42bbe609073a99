import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, tempDir, waitFor } from './service.js';

/** Debian's mosquitto and mosquitto-clients, driven by the integration tests. */

export interface Mosquitto {
  port: number;
  proc: ChildProcess;
  stop: () => Promise<void>;
}

export async function startMosquitto(): Promise<Mosquitto> {
  const dir = tempDir('netzero-mosquitto-');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', ''].join('\n'));
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor('mosquitto to listen', () =>
    new Promise<boolean>((resolve) => {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${err}`);
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    }),
  );
  return {
    port,
    proc,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const done = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      await done;
    },
  };
}

export interface PubResult {
  code: number;
  stderr: string;
}

/** `mosquitto_pub`: a client nobody here wrote. */
export function mosquittoPub(args: { port: number; topic: string; message: string; user?: string; password?: string; qos?: 0 | 1; id?: string }): Promise<PubResult> {
  const argv = ['-h', '127.0.0.1', '-p', String(args.port), '-t', args.topic, '-m', args.message, '-q', String(args.qos ?? 1), '-V', 'mqttv311'];
  if (args.user) argv.push('-u', args.user);
  if (args.password) argv.push('-P', args.password);
  if (args.id) argv.push('-i', args.id);
  return new Promise((resolve) => {
    execFile('mosquitto_pub', argv, { timeout: 15_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr: String(stderr) });
    });
  });
}
