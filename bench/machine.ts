import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the figures of a bench were measured on, and where its JSON goes (bench/results/, not committed). */

const HERE = path.dirname(fileURLToPath(import.meta.url));

export function machine(): Record<string, unknown> {
  return { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30) };
}

/** Writes `bench/results/<name>-<time>.json`; returns its path relative to the working directory. */
export function writeResult(name: string, result: Record<string, unknown>): string {
  const dir = path.join(HERE, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine: machine(), ...result }, null, 2));
  return path.relative(process.cwd(), file);
}

/** Resident memory of a process in MiB (VmRSS of /proc/<pid>/status), or null when it is gone. */
export function rssMiB(pid: number): number | null {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time a process has used (user + system, /proc/<pid>/stat, at 100 ticks a second), in seconds; null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds of a process by thread: `main` (the event loop), the others by their name (workers, libuv, V8, GC). */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const name = tid === String(pid) ? 'main' : fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // the process is gone
  }
  return out;
}

/** What each thread used between two `threadCpuSeconds`, in percent of one core over `wallS`. */
export function threadShares(before: Record<string, number>, after: Record<string, number>, wallS: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, Math.round(((v - (before[k] ?? 0)) / wallS) * 100)] as const)
      .filter(([, pct]) => pct > 0),
  );
}

/**
 * How much of the last minute tasks of the machine waited for a CPU or for I/O (Linux PSI, "some" avg60, in
 * %): a bench on a shared machine says how contended it was; null where the kernel has no PSI.
 */
export function pressure(): { cpu: number | null; io: number | null } {
  const read = (what: string) => {
    try {
      return Number(/^some avg10=[\d.]+ avg60=([\d.]+)/m.exec(fs.readFileSync(`/proc/pressure/${what}`, 'utf8'))?.[1] ?? NaN);
    } catch {
      return null;
    }
  };
  return { cpu: read('cpu'), io: read('io') };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** `BENCH_SERVICE_NODE_ARGS`: node flags for the service only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
export const serviceNodeArgs = (): string[] | undefined => process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean);
