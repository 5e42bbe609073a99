import type { Summary } from '../../accounting/ledger/ledger.js';
import { thisMonthSoFar } from '../../accounting/periods.js';
import type { HttpDeps } from './server.js';

type Listener = (s: Summary) => void;

/**
 * One summary computation shared by every `GET /api/live` subscriber: at most once a second, only
 * while someone listens, pushed only when a total changed (the moving `to` alone is not a change).
 * When a computation takes long (a month of many devices), the next one waits ten times as long, so an
 * open dashboard never keeps the machine busy.
 */
export class LiveSummary {
  private listeners = new Set<Listener>();
  private timer?: NodeJS.Timeout;
  private last?: Summary;
  private lastKey = '';
  private busy = false;
  private notBefore = 0;
  private lastPush = 0;

  constructor(private readonly deps: Pick<HttpDeps, 'accounts' | 'timeZone' | 'log'>) {}

  /**
   * When the last changed summary was pushed (epoch ms, 0 before the first): a result computed before it
   * may miss what it announced, so the office routes answer none that started earlier.
   */
  get pushedAt(): number {
    return this.lastPush;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.last) listener(this.last);
    else void this.tick();
    if (!this.timer) this.timer = setInterval(() => void this.tick(), 1000);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private async tick(): Promise<void> {
    if (this.busy || Date.now() < this.notBefore) return;
    this.busy = true;
    const started = Date.now();
    try {
      const now = Date.now();
      const s = await this.deps.accounts.ledger.summary(thisMonthSoFar(now, this.deps.timeZone));
      const key = JSON.stringify({ ...s, to: undefined });
      if (key !== this.lastKey || !this.last) {
        this.lastKey = key;
        this.last = s;
        this.lastPush = Date.now();
        for (const l of this.listeners) l(s);
      }
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'live summary failed');
    } finally {
      this.busy = false;
      this.notBefore = Date.now() + 10 * (Date.now() - started);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }
}
