/** What a device sent lately, as the operator view shows it: counts over the last 24 h and its latest reading. */
export interface ActivitySnapshot {
  accepted_24h: number;
  rejected_24h: number;
  warned_24h: number;
  /** when the counts started: the service's start when that is less than 24 h ago (they are kept in memory) */
  counted_since: string;
  /** when a message of the device last came in (accepted or not), ISO 8601 */
  last_seen: string | null;
  /** the reading with the latest `ts`: accepted since the service started, or read back from the store once (`seedLast`) */
  last_reading: { ts: string; seq: number | null; received_at: string; values: Record<string, unknown> } | null;
}

const HOUR_MS = 3_600_000;
const HOURS = 24;

interface Counts {
  /** the hour (ms since epoch / HOUR_MS) each slot counts, and its counts: a ring of 24 slots */
  hour: number[];
  accepted: number[];
  rejected: number[];
  warned: number[];
  lastSeen: number | null;
  /** the store was asked for the latest reading (after a restart), whatever it answered */
  lastLookedUp: boolean;
  last: { ts: number; seq: number | null; receivedAt: number; values: Record<string, unknown> } | null;
  warnings: Array<ActivityWarning & { at: string }>;
}

/** A stored interval that is not `ok`, as the device's `errors` topic told it. */
export interface ActivityWarning {
  counter: string;
  quality: string;
  t0: string;
  t1: string;
  amount: number;
  reason: string;
}

/** Warnings kept per device for the operator view. */
export const KEEP_WARNINGS = 20;

/**
 * Per-device counters kept as messages go by (a few arrays per device; O(1) per message, never a scan of
 * readings): accepted readings, rejected readings (quarantined, refused by the store or for a disabled
 * device) and warnings (intervals that are not `ok`), in hourly slots over the last 24 h, and the latest
 * reading. In memory: a restart starts counting again (`counted_since` says from when).
 */
export class DeviceActivity {
  private readonly byDevice = new Map<string, Counts>();
  private readonly started: number;

  constructor(private readonly now: () => number = Date.now) {
    this.started = now();
  }

  private slot(device: string): { c: Counts; i: number } {
    let c = this.byDevice.get(device);
    if (!c) {
      c = { hour: new Array<number>(HOURS).fill(-1), accepted: new Array<number>(HOURS).fill(0), rejected: new Array<number>(HOURS).fill(0), warned: new Array<number>(HOURS).fill(0), lastSeen: null, lastLookedUp: false, last: null, warnings: [] };
      this.byDevice.set(device, c);
    }
    const hour = Math.floor(this.now() / HOUR_MS);
    const i = hour % HOURS;
    if (c.hour[i] !== hour) {
      c.hour[i] = hour;
      c.accepted[i] = 0;
      c.rejected[i] = 0;
      c.warned[i] = 0;
    }
    return { c, i };
  }

  /** Readings of the device stored now; `latest`: the one of them with the latest ts. */
  accepted(device: string, n: number, latest?: { ts: number; seq: number | null; values: Record<string, unknown> }): void {
    const { c, i } = this.slot(device);
    c.accepted[i]! += n;
    c.lastSeen = this.now();
    if (latest && (!c.last || latest.ts >= c.last.ts)) c.last = { ts: latest.ts, seq: latest.seq, values: latest.values, receivedAt: this.now() };
  }

  /** Whether the device's latest reading is unknown here and the store has not been asked for it yet. */
  needsLast(device: string): boolean {
    const c = this.byDevice.get(device);
    return !c || (!c.last && !c.lastLookedUp);
  }

  /**
   * The latest stored reading, read back once after a restart (null: the device has none). Never replaces
   * a later one seen since, and leaves the 24 h counts alone (they count what this process saw).
   */
  seedLast(device: string, stored: { ts: number; seq: number | null; receivedAt: number; values: Record<string, unknown> } | null): void {
    let c = this.byDevice.get(device);
    if (!c) {
      this.slot(device);
      c = this.byDevice.get(device)!;
    }
    c.lastLookedUp = true;
    if (stored && (!c.last || stored.ts > c.last.ts)) c.last = stored;
  }

  rejected(device: string, n: number): void {
    const { c, i } = this.slot(device);
    c.rejected[i]! += n;
    c.lastSeen = this.now();
  }

  /** Intervals of the device stored with a quality other than `ok`: counted, and the newest few kept with their reasons. */
  warned(device: string, warnings: readonly ActivityWarning[]): void {
    const { c, i } = this.slot(device);
    c.warned[i]! += warnings.length;
    const at = new Date(this.now()).toISOString();
    c.warnings = [...warnings.map((w) => ({ ...w, at })).reverse(), ...c.warnings].slice(0, KEEP_WARNINGS);
  }

  /** The newest warnings of the device (at most `KEEP_WARNINGS`), newest first. */
  warnings(device: string): Array<ActivityWarning & { at: string }> {
    return this.byDevice.get(device)?.warnings ?? [];
  }

  snapshot(device: string): ActivitySnapshot {
    const c = this.byDevice.get(device);
    const now = this.now();
    const hour = Math.floor(now / HOUR_MS);
    const sum = (a: number[] | undefined) => (c && a ? a.reduce((t, v, i) => (c.hour[i]! > hour - HOURS ? t + v : t), 0) : 0);
    return {
      accepted_24h: sum(c?.accepted),
      rejected_24h: sum(c?.rejected),
      warned_24h: sum(c?.warned),
      counted_since: new Date(Math.max(this.started, now - HOURS * HOUR_MS)).toISOString(),
      last_seen: c?.lastSeen ? new Date(c.lastSeen).toISOString() : null,
      last_reading: c?.last ? { ts: new Date(c.last.ts).toISOString(), seq: c.last.seq, received_at: new Date(c.last.receivedAt).toISOString(), values: c.last.values } : null,
    };
  }
}
