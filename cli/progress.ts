import cliProgress from 'cli-progress';

/**
 * Progress of a long command on stderr: a bar (cli-progress) when stderr is a terminal, else a plain line
 * every `everyMs` (logs and CI keep a readable trace). stdout stays for the result (`--json`).
 */
export interface Progress {
  update(done: number, note: string): void;
  stop(): void;
}

export function progressOnStderr(opts: { label: string; total: number; everyMs?: number }): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: `${opts.label} [{bar}] {percentage}% | {note}`, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, opts.total), 0, { note: '' });
    return {
      update: (done, note) => bar.update(Math.min(done, opts.total), { note }),
      stop: () => bar.stop(),
    };
  }
  const everyMs = opts.everyMs ?? 5000;
  let last = Date.now();
  return {
    update(done, note) {
      if (Date.now() - last < everyMs) return;
      last = Date.now();
      const pct = opts.total > 0 ? Math.floor((100 * Math.min(done, opts.total)) / opts.total) : 100;
      process.stderr.write(`${opts.label}: ${pct}% ${note}\n`);
    },
    stop() {},
  };
}
