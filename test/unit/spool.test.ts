import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Spool, type SpoolOptions } from '../../store/spool/spool.js';

/**
 * The on-disk spool (store/spool/README.md): real files in a temp dir, a real child process killed with
 * SIGKILL, outcomes read back through a fresh Spool.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HEADER = 20;

interface Rec {
  i: number;
  pad: string;
}
const rec = (i: number, pad = 'x'.repeat(30)): Rec => ({ i, pad });
/** framed size of a record on disk */
const sizeOf = (v: unknown): number => HEADER + Buffer.byteLength(JSON.stringify(v));

let dir: string;
let spools: Spool<Rec>[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-spool-'));
  spools = [];
});

afterEach(async () => {
  for (const s of spools) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function openSpool(opts: Partial<SpoolOptions> = {}): Promise<Spool<Rec>> {
  const s = new Spool<Rec>({ dir, maxBytes: 1024 * 1024, ...opts });
  spools.push(s);
  await s.open();
  return s;
}

const segFiles = (d = dir): string[] => fs.readdirSync(d).filter((f) => f.endsWith('.seg')).sort();
const values = async (s: Spool<Rec>, max = 1_000_000): Promise<number[]> => (await s.peek(max)).map((e) => e.value.i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** whether a promise has settled, without waiting for it */
function track<T>(p: Promise<T>): { settled: () => boolean; p: Promise<T> } {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  return { settled: () => done, p };
}

describe('options', () => {
  it('are validated in the constructor, which does no I/O', () => {
    expect(() => new Spool({ dir: '', maxBytes: 0 })).toThrow(/invalid options.*dir.*maxBytes/s);
    expect(() => new Spool({ dir, maxBytes: 10, segmentBytes: -1 })).toThrow(/segmentBytes/);
    const nowhere = path.join(dir, 'not-yet');
    new Spool({ dir: nowhere, maxBytes: 10 });
    expect(fs.existsSync(nowhere)).toBe(false);
  });

  it('open() creates the directory; a second Spool on the same directory in this process is refused', async () => {
    const sub = path.join(dir, 'a', 'b');
    const s = new Spool<Rec>({ dir: sub, maxBytes: 1000 });
    spools.push(s);
    await s.open();
    expect(fs.statSync(sub).isDirectory()).toBe(true);
    await expect(new Spool({ dir: sub, maxBytes: 1000 }).open()).rejects.toThrow(/already open/);
  });
});

describe('append / peek / ack', () => {
  it('returns records in append order; peek does not consume; ack does', async () => {
    const s = await openSpool();
    for (let i = 0; i < 5; i++) await s.append(rec(i));

    const first = await s.peek(3);
    expect(first.map((e) => e.value)).toEqual([rec(0), rec(1), rec(2)]);
    expect(await values(s, 3)).toEqual([0, 1, 2]); // peek again: same records
    expect(await values(s)).toEqual([0, 1, 2, 3, 4]);

    await s.ack(first[1]!.position);
    expect(await values(s)).toEqual([2, 3, 4]);
    await s.ack(first[1]!.position); // acking an already consumed position again is harmless
    expect(await values(s)).toEqual([2, 3, 4]);

    const rest = await s.peek(10);
    await s.ack(rest.at(-1)!.position);
    expect(await s.peek(10)).toEqual([]);
    expect(s.stats().records).toBe(0);

    await s.append(rec(5));
    expect(await values(s)).toEqual([5]);
  });

  it('peek(0) is empty; positions increase; ack needs a record boundary within the durable data', async () => {
    const s = await openSpool();
    await s.append(rec(0));
    await s.append(rec(1));
    expect(await s.peek(0)).toEqual([]);
    const [a, b] = await s.peek(2);
    expect(a!.position.segment).toBe(b!.position.segment);
    expect(b!.position.offset - a!.position.offset).toBe(sizeOf(rec(1)));

    await expect(s.ack({ segment: a!.position.segment, offset: a!.position.offset - 1 })).rejects.toThrow(/not the end of a record/);
    await expect(s.ack({ segment: b!.position.segment, offset: b!.position.offset + 1 })).rejects.toThrow(/beyond the last durable record/);
    await expect(s.ack({ segment: -1, offset: 0 })).rejects.toThrow(/position from peek/);
    expect(await values(s)).toEqual([0, 1]);
    // a boundary ack without a preceding peek (read from disk)
    await s.close();
    const s2 = await openSpool();
    await s2.ack(a!.position);
    expect(await values(s2)).toEqual([1]);
  });

  it('keeps call order for concurrent appends and shares fsyncs between them (group fsync)', async () => {
    const probe = await fs.promises.open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const s = await openSpool();
    const spy = vi.spyOn(proto, 'datasync');
    try {
      await Promise.all(Array.from({ length: 300 }, (_, i) => s.append(rec(i))));
      expect(spy.mock.calls.length).toBeGreaterThan(0);
      expect(spy.mock.calls.length).toBeLessThan(30);
    } finally {
      spy.mockRestore();
    }
    expect(await values(s)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('rejects values that are not JSON, and every call after close()', async () => {
    const s = await openSpool();
    await expect(s.append(undefined as unknown as Rec)).rejects.toThrow(/not JSON-serialisable/);
    await s.close();
    await expect(s.append(rec(1))).rejects.toThrow(/closed/);
    await expect(s.peek(1)).rejects.toThrow(/closed/);
    await expect(s.waitForData()).rejects.toThrow(/closed/);
  });
});

describe('waitForData', () => {
  it('resolves at once when data is there, on the next append otherwise, and honours an AbortSignal', async () => {
    const s = await openSpool();
    const w = track(s.waitForData());
    await sleep(20);
    expect(w.settled()).toBe(false);
    await s.append(rec(0));
    await w.p;
    await s.waitForData(); // immediately

    await s.ack((await s.peek(1))[0]!.position);
    const ac = new AbortController();
    const aborted = s.waitForData(ac.signal);
    ac.abort();
    await expect(aborted).rejects.toThrow(/abort/i);

    const pending = expect(s.waitForData()).rejects.toThrow(/closed/);
    await s.close();
    await pending;
  });
});

describe('stats', () => {
  it('counts unconsumed records and bytes and the oldest appendedAt', async () => {
    const s = await openSpool({ maxBytes: 5000 });
    expect(s.stats()).toEqual({ records: 0, bytes: 0, oldestAppendedAt: null, appendWaiting: 0, maxBytes: 5000 });

    const t0 = Date.now();
    await s.append(rec(0));
    await sleep(5);
    await s.append(rec(1, 'yy'));
    const t1 = Date.now();
    const [a, b] = await s.peek(2);
    const st = s.stats();
    expect(st.records).toBe(2);
    expect(st.bytes).toBe(sizeOf(rec(0)) + sizeOf(rec(1, 'yy')));
    expect(st.oldestAppendedAt).toBe(a!.appendedAt);
    expect(a!.appendedAt).toBeGreaterThanOrEqual(t0);
    expect(b!.appendedAt).toBeLessThanOrEqual(t1);
    expect(b!.appendedAt).toBeGreaterThan(a!.appendedAt);

    await s.ack(a!.position);
    expect(s.stats()).toMatchObject({ records: 1, bytes: sizeOf(rec(1, 'yy')), oldestAppendedAt: b!.appendedAt });
    await s.ack(b!.position);
    expect(s.stats()).toMatchObject({ records: 0, bytes: 0, oldestAppendedAt: null });
  });
});

describe('restart', () => {
  it('a new Spool on the same directory resumes from the durable cursor', async () => {
    const s = await openSpool();
    for (let i = 0; i < 10; i++) await s.append(rec(i));
    const four = await s.peek(4);
    await s.ack(four[3]!.position);
    await s.close();
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'cursor'), 'utf8'))).toMatchObject({ version: 1, ...four[3]!.position });

    const s2 = await openSpool();
    expect(await values(s2)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(s2.stats()).toMatchObject({ records: 6, bytes: 6 * sizeOf(rec(0)) });
    expect(s2.stats().oldestAppendedAt).toBe((await s2.peek(1))[0]!.appendedAt);
    await s2.append(rec(10));
    expect(await values(s2)).toEqual([4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('segments', () => {
  it('rolls to a new segment file when full and deletes segments once wholly consumed', async () => {
    const size = sizeOf(rec(10));
    const s = await openSpool({ segmentBytes: 4 * size }); // 4 records per segment
    for (let i = 10; i < 30; i++) await s.append(rec(i));
    expect(segFiles()).toEqual(['00000001.seg', '00000002.seg', '00000003.seg', '00000004.seg', '00000005.seg']);
    expect(fs.statSync(path.join(dir, '00000001.seg')).size).toBe(4 * size);

    const six = await s.peek(6);
    expect(six.map((e) => e.position.segment)).toEqual([1, 1, 1, 1, 2, 2]);
    await s.ack(six[5]!.position);
    expect(segFiles()).toEqual(['00000002.seg', '00000003.seg', '00000004.seg', '00000005.seg']);

    await s.ack(six[3]!.position); // older position: nothing changes
    expect(await values(s, 1)).toEqual([16]);

    const all = await s.peek(100);
    expect(all.map((e) => e.value.i)).toEqual(Array.from({ length: 14 }, (_, k) => 16 + k));
    await s.ack(all.at(-1)!.position);
    // the active segment stays until it is sealed
    expect(segFiles()).toEqual(['00000005.seg']);

    await s.append(rec(30)); // segment 5 is full: roll to 6, and 5 (consumed) goes
    expect(segFiles()).toEqual(['00000006.seg']);
    await s.close();

    const s2 = await openSpool({ segmentBytes: 4 * size });
    expect(await values(s2)).toEqual([30]);
  });

  it('puts a record larger than segmentBytes alone in its own segment', async () => {
    const s = await openSpool({ segmentBytes: 100 });
    await s.append(rec(0));
    await s.append(rec(1, 'z'.repeat(300)));
    await s.append(rec(2));
    expect(segFiles()).toEqual(['00000001.seg', '00000002.seg', '00000003.seg']);
    expect(await values(s)).toEqual([0, 1, 2]);
  });
});

describe('back-pressure', () => {
  it('holds an append while the budget is full and releases it when ack frees space', async () => {
    const size = sizeOf(rec(0));
    const s = await openSpool({ maxBytes: 3 * size });
    for (let i = 0; i < 3; i++) await s.append(rec(i));
    expect(s.stats().bytes).toBe(3 * size);

    const fourth = track(s.append(rec(3)));
    const fifth = track(s.append(rec(4)));
    await sleep(100);
    expect(fourth.settled()).toBe(false);
    expect(fifth.settled()).toBe(false);
    expect(s.stats()).toMatchObject({ records: 3, appendWaiting: 2 });

    await s.ack((await s.peek(1))[0]!.position);
    await fourth.p;
    await sleep(50);
    expect(fifth.settled()).toBe(false);
    expect(s.stats()).toMatchObject({ records: 3, appendWaiting: 1 });

    await s.ack((await s.peek(1))[0]!.position);
    await fifth.p;
    expect(s.stats()).toMatchObject({ records: 3, appendWaiting: 0, bytes: 3 * size });
    expect(await values(s)).toEqual([2, 3, 4]);

    // an appender still waiting at close() is rejected; the data on disk is untouched
    const sixth = expect(s.append(rec(5))).rejects.toThrow(/closed while the append waited for space/);
    await sleep(20);
    expect(s.stats().appendWaiting).toBe(1);
    await s.close();
    await sixth;
    const s2 = await openSpool({ maxBytes: 3 * size });
    expect(await values(s2)).toEqual([2, 3, 4]);
  });

  it('rejects a record bigger than maxBytes with a clear message', async () => {
    const s = await openSpool({ maxBytes: 100 });
    await expect(s.append(rec(0, 'x'.repeat(200)))).rejects.toThrow(/record of 2\d\d bytes .* larger than maxBytes 100 and can never fit/);
    await s.append(rec(1)); // the spool is still usable
    expect(await values(s)).toEqual([1]);
  });
});

describe('recovery', () => {
  it('discards a torn tail (half a record, or garbage) and later appends work', async () => {
    // half of a real framed record, taken from a scratch spool
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-spool-scratch-'));
    const sp = new Spool<Rec>({ dir: scratch, maxBytes: 10_000 });
    await sp.open();
    await sp.append(rec(99));
    await sp.close();
    const whole = fs.readFileSync(path.join(scratch, segFiles(scratch)[0]!));
    fs.rmSync(scratch, { recursive: true, force: true });

    for (const tail of [whole.subarray(0, Math.floor(whole.length / 2)), whole.subarray(0, 7), Buffer.from('garbage that is no record')]) {
      fs.rmSync(dir, { recursive: true, force: true });
      const onCorrupt = vi.fn();
      const s = await openSpool({ onCorrupt });
      for (let i = 0; i < 3; i++) await s.append(rec(i));
      await s.close();
      const last = path.join(dir, segFiles().at(-1)!);
      const good = fs.statSync(last).size;
      fs.appendFileSync(last, tail);

      const s2 = await openSpool({ onCorrupt });
      expect(fs.statSync(last).size).toBe(good);
      expect(await values(s2)).toEqual([0, 1, 2]);
      expect(s2.stats()).toMatchObject({ records: 3, bytes: good });
      await s2.append(rec(3));
      await s2.close();
      const s3 = await openSpool({ onCorrupt });
      expect(await values(s3)).toEqual([0, 1, 2, 3]);
      await s3.close();
      expect(onCorrupt).not.toHaveBeenCalled();
      expect(fs.existsSync(path.join(dir, 'corrupt'))).toBe(false);
    }
  });

  it('a corrupt record in a middle segment: the segment goes to corrupt/, onCorrupt is told, later good records are kept', async () => {
    const size = sizeOf(rec(10));
    const s = await openSpool({ segmentBytes: 4 * size });
    for (let i = 10; i < 22; i++) await s.append(rec(i)); // segments 1, 2, 3
    const entries = await s.peek(100);
    await s.close();

    const victim = entries.find((e) => e.value.i === 15)!; // second record of segment 2
    expect(victim.position.segment).toBe(2);
    const seg2 = path.join(dir, '00000002.seg');
    const bytes = fs.readFileSync(seg2);
    bytes.writeUInt8(bytes.readUInt8(victim.position.offset - 5) ^ 0x55, victim.position.offset - 5); // inside its JSON payload
    fs.writeFileSync(seg2, bytes);

    const messages: string[] = [];
    const s2 = await openSpool({ segmentBytes: 4 * size, onCorrupt: (m) => messages.push(m) });
    expect(await values(s2)).toEqual([10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21]);
    expect(s2.stats().records).toBe(11);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/00000002\.seg is corrupt at offset \d+ \(checksum mismatch\).*corrupt\/00000002\.seg\.\d+.*2 later record\(s\) salvaged/);
    const aside = fs.readdirSync(path.join(dir, 'corrupt'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, 'corrupt', aside[0]!))).toEqual(bytes); // the evidence, byte for byte

    // the repaired spool works on: reopen is quiet, ack and append as usual
    await s2.append(rec(22));
    await s2.close();
    const s3 = await openSpool({ segmentBytes: 4 * size, onCorrupt: (m) => messages.push(m) });
    expect(await values(s3)).toEqual([10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 22]);
    expect(messages).toHaveLength(1);
  });

  it('a corrupt record in the middle of the last segment is not mistaken for a torn tail', async () => {
    const s = await openSpool();
    for (let i = 0; i < 6; i++) await s.append(rec(i));
    const entries = await s.peek(100);
    await s.close();
    const seg = path.join(dir, '00000001.seg');
    const bytes = fs.readFileSync(seg);
    bytes[entries[2]!.position.offset - sizeOf(rec(2))] = 0; // first magic byte of record 2
    fs.writeFileSync(seg, bytes);

    const onCorrupt = vi.fn();
    const s2 = await openSpool({ onCorrupt });
    expect(await values(s2)).toEqual([0, 1, 3, 4, 5]);
    expect(onCorrupt).toHaveBeenCalledOnce();
    expect(onCorrupt.mock.calls[0]![0]).toMatch(/bad magic/);
  });

  it('an unreadable cursor file replays everything (at-least-once) and is reported', async () => {
    const s = await openSpool();
    for (let i = 0; i < 3; i++) await s.append(rec(i));
    await s.ack((await s.peek(2))[1]!.position);
    await s.close();
    fs.writeFileSync(path.join(dir, 'cursor'), '{"version":1,"segment":1,"offset":9999,"check":1}');
    const onCorrupt = vi.fn();
    const s2 = await openSpool({ onCorrupt });
    expect(await values(s2)).toEqual([0, 1, 2]);
    expect(onCorrupt.mock.calls[0]![0]).toMatch(/cursor file is unreadable/);
  });
});

describe('crash (SIGKILL of a child process mid-stream)', () => {
  const distSpool = path.join(ROOT, 'dist/store/spool/spool.js');

  beforeAll(() => {
    // `npx tsc -p tsconfig.build.json`, only when dist/ is older than the source
    const srcDir = path.join(ROOT, 'store/spool');
    const src = Math.max(...fs.readdirSync(srcDir).filter((f) => f.endsWith('.ts')).map((f) => fs.statSync(path.join(srcDir, f)).mtimeMs));
    const fresh = () => fs.existsSync(distSpool) && fs.statSync(distSpool).mtimeMs >= src;
    if (fresh()) return;
    let log = '';
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    } catch (err) {
      log = String((err as { stdout?: Buffer }).stdout ?? err); // other files may have type errors; tsc still emits
    }
    if (!fresh()) throw new Error(`tsc did not emit ${distSpool}:\n${log.slice(0, 2000)}`);
  }, 120_000);

  it('every append reported as resolved survives, once and in order; acked records do not come back', async () => {
    const child = path.join(dir, 'child.mjs');
    const data = path.join(dir, 'spool');
    fs.writeFileSync(
      child,
      `import { Spool } from ${JSON.stringify(pathToFileURL(distSpool).href)};
const spool = new Spool({ dir: process.argv[2], maxBytes: 64 * 1024 * 1024, segmentBytes: 4096 });
await spool.open();
let next = 0;
const pad = 'p'.repeat(40);
async function producer() {
  for (;;) {
    const i = next++;
    await spool.append({ i, pad });
    process.stdout.write('ok ' + i + '\\n');
  }
}
async function consumer() {
  for (;;) {
    await new Promise((r) => setTimeout(r, 10));
    const batch = await spool.peek(25);
    if (batch.length === 0) continue;
    const last = batch[batch.length - 1];
    process.stdout.write('acking ' + last.value.i + '\\n');
    await spool.ack(last.position);
    process.stdout.write('acked ' + last.value.i + '\\n');
  }
}
for (let w = 0; w < 8; w++) void producer();
void consumer();
`,
    );

    const proc = spawn(process.execPath, [child, data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child made too little progress:\n${out.slice(-500)}\n${err}`)), 30_000);
      proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const oks = out.match(/^ok /gm)?.length ?? 0;
        const acks = out.match(/^acked /gm)?.length ?? 0;
        if (oks >= 1500 && acks >= 3 && proc.exitCode === null) {
          clearTimeout(timer);
          proc.kill('SIGKILL');
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        if (code !== null) reject(new Error(`child exited with ${code}: ${err}`));
      });
    });
    await closed;
    expect(proc.signalCode).toBe('SIGKILL');

    const lines = out.split('\n').filter((l) => /^(ok|acking|acked) \d+$/.test(l)); // a cut last line is not a report
    const nums = (kind: string) => lines.filter((l) => l.startsWith(`${kind} `)).map((l) => Number(l.split(' ')[1]));
    const reported = nums('ok');
    const acked = Math.max(...nums('acked'));
    const acking = Math.max(...nums('acking'));

    const s = new Spool<{ i: number }>({ dir: data, maxBytes: 64 * 1024 * 1024, segmentBytes: 4096 });
    await s.open();
    try {
      const got = (await s.peek(1_000_000)).map((e) => e.value.i);
      expect(got.length).toBeGreaterThan(0);
      // exactly once and in order: a contiguous run of ids
      expect(got).toEqual(Array.from({ length: got.length }, (_, k) => got[0]! + k));
      // the consumer's cursor: the last ack that resolved, or the one in flight at the kill
      expect([acked + 1, acking + 1]).toContain(got[0]);
      // every append that resolved before the kill and was not acked is there
      const present = new Set(got);
      const missing = reported.filter((i) => i > acking && !present.has(i));
      expect(missing).toEqual([]);
      expect(s.stats().records).toBe(got.length);

      await s.append({ i: -1 });
      expect((await s.peek(1_000_000)).at(-1)!.value.i).toBe(-1);
    } finally {
      await s.close();
    }
  });
});
