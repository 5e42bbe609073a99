import type { Logger } from 'pino';

type Level = 'info' | 'warn' | 'error';

interface Kind {
  level: Level;
  msg: string;
  logged: number;
  suppressed: number;
  examples: Array<Record<string, unknown>>;
}

const EXAMPLES = 3;

/**
 * One log line per event, up to `perWindow` lines per kind of event per `windowMs`; past that the
 * events are counted, and once per window a summary line says how many were left out, with a few
 * examples. So every reason shows up in the log at once, and a flood of refusals costs a bounded
 * number of lines (at most `perWindow` + 1 per kind per window).
 */
export class ThrottledLog {
  private readonly kinds = new Map<string, Kind>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    private readonly opts: { perWindow: number; windowMs: number } = { perWindow: 5, windowMs: 10_000 },
  ) {}

  note(kind: string, level: Level, fields: Record<string, unknown>, msg: string): void {
    let k = this.kinds.get(kind);
    if (!k) {
      k = { level, msg, logged: 0, suppressed: 0, examples: [] };
      this.kinds.set(kind, k);
    }
    if (k.logged < this.opts.perWindow) {
      k.logged++;
      this.log[level]({ ...fields, kind }, msg);
    } else {
      k.suppressed++;
      if (k.examples.length < EXAMPLES) k.examples.push(fields);
    }
    this.timer ??= setTimeout(() => this.flush(), this.opts.windowMs).unref();
  }

  /** Ends the window: a summary line for each kind that had events left out. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [kind, k] of this.kinds) {
      if (k.suppressed > 0) {
        this.log[k.level]({ kind, suppressed: k.suppressed, examples: k.examples, windowS: this.opts.windowMs / 1000 }, `${k.msg} (${k.suppressed} more not logged one by one)`);
      }
    }
    this.kinds.clear();
  }
}
