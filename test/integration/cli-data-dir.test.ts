import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/service.js';

/**
 * Commands that read the data dir refuse one that does not exist or holds no state database (one line
 * naming `--data-dir` or `NETZERO_DATA_DIR` and the path, exit 2) instead of creating an empty one and
 * answering "no devices" or "revision 1 (new)". `devices add` and `measures add` may create it: registering
 * the first device before the first start is a legitimate first step, and they say so on stderr.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function cli(args: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const merged: Record<string, string | undefined> = { ...process.env, NETZERO_DATA_DIR: undefined, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/netzero.js'), ...args], { env: merged as NodeJS.ProcessEnv, cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const READERS: string[][] = [
  ['devices', 'list'],
  ['rollup', '--month', '2026-01'],
  ['report', '--month', '2026-01', '--format', 'csv'],
  ['factors', 'list'],
  ['factors', 'add', '--name', 'ch4_gwp', '--variant', 'ar5', '--value', '28', '--unit', 'tCO2e/tCH4', '--source', 'IPCC AR5'],
  ['measures', 'list'],
];

describe('a data dir that is not there', () => {
  it('is refused by every command that reads one, naming --data-dir and the path, and is not created', async () => {
    const missing = path.join(tempDir(), 'typo');
    const results = await Promise.all(READERS.map((args) => cli([...args, '--data-dir', missing])));
    results.forEach((r, i) => {
      const what = READERS[i]!.join(' ');
      expect(r.code, `${what}: ${r.stderr}`).toBe(2);
      expect(r.stdout, what).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, what).toHaveLength(1);
      expect(lines[0], what).toMatch(new RegExp(`^netzero ${READERS[i]![0]}( \\w+)?: --data-dir: ${missing} does not exist: netzero start creates a data dir`));
    });
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('names NETZERO_DATA_DIR when the path came from it, and the default when neither was given', async () => {
    const missing = path.join(tempDir(), 'from-env');
    const env = await cli(['devices', 'list'], { NETZERO_DATA_DIR: missing });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(new RegExp(`^netzero devices list: NETZERO_DATA_DIR: ${missing} does not exist`));
    const cwd = tempDir();
    const dflt = await cli(['factors', 'list'], {}, cwd);
    expect(dflt.code).toBe(2);
    expect(dflt.stderr).toContain(`--data-dir: ${path.join(fs.realpathSync(cwd), 'data')} (the default ./data: neither --data-dir nor NETZERO_DATA_DIR is set) does not exist`);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('refuses an empty directory or one without a state database, and leaves it as it was', async () => {
    const empty = tempDir();
    const r = await cli(['rollup', '--month', '2026-01', '--data-dir', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--data-dir: .* is empty \(no state database, state\.sqlite\)/);
    expect(fs.readdirSync(empty)).toEqual([]);
    const other = tempDir();
    fs.writeFileSync(path.join(other, 'notes.txt'), 'not a data dir');
    const add = await cli(['devices', 'add', '--kind', 'pv_inverter', '--site', 's', '--sector', 'industry', '--data-dir', other]);
    expect(add.code).toBe(2);
    expect(add.stderr).toMatch(/--data-dir: .* holds files but no state database \(state\.sqlite\), so it is not a netzero data dir/);
    expect(fs.readdirSync(other)).toEqual(['notes.txt']);
  });
});

describe('a new install', () => {
  it('devices add creates the data dir (and says so), and then the readers find the device', async () => {
    const fresh = path.join(tempDir(), 'data');
    const bad = await cli(['devices', 'add', '--kind', 'pv', '--site', 'kh-1', '--sector', 'industry', '--data-dir', fresh]);
    expect(bad.code).toBe(2);
    expect(fs.existsSync(fresh), 'a usage error creates nothing').toBe(false);

    const add = await cli(['devices', 'add', '--kind', 'pv_inverter', '--site', 'kh-1', '--sector', 'industry', '--measure', 'rooftop-pv', '--id', 'pv-first', '--data-dir', fresh]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toBe(`netzero devices add: created a new data dir at ${fresh} (--data-dir); start the service on it with NETZERO_DATA_DIR=${fresh}\n`);
    expect(fs.existsSync(path.join(fresh, 'state.sqlite'))).toBe(true);

    const list = await cli(['devices', 'list', '--data-dir', fresh]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/pv-first\s+pv_inverter\s+kh-1\s+industry\s+rooftop-pv/);
    const second = await cli(['devices', 'add', '--kind', 'smart_meter', '--site', 'kh-1', '--sector', 'industry', '--data-dir', fresh]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr, 'said only when created').toBe('');
    const dup = await cli(['devices', 'add', '--kind', 'smart_meter', '--site', 'kh-1', '--sector', 'industry', '--id', 'pv-first', '--data-dir', fresh]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toBe('netzero devices add: --id: id "pv-first" is already registered\n');
  });

  it('measures add creates it too, so a new measure can come before the first device', async () => {
    const fresh = path.join(tempDir(), 'data');
    const add = await cli(['measures', 'add', '--id', 'school-led-lighting', '--name', 'LED lighting in schools'], { NETZERO_DATA_DIR: fresh });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toContain(`created a new data dir at ${fresh} (NETZERO_DATA_DIR)`);
    const dev = await cli(['devices', 'add', '--kind', 'smart_meter', '--site', 'kh-2', '--sector', 'residential_commercial', '--measure', 'school-led-lighting'], { NETZERO_DATA_DIR: fresh });
    expect(dev.code, dev.stderr).toBe(0);
    const list = await cli(['measures', 'list'], { NETZERO_DATA_DIR: fresh });
    expect(list.stdout).toMatch(/school-led-lighting\s+added\s+LED lighting in schools/);
    expect(list.stdout).toMatch(/neimen-methane\s+budget\s+/);
  });
});
