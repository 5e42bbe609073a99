import { DateTime } from 'luxon';
import type { RollupChange } from '../rollups/monthly.js';

/** An ISO time shown in the report's zone: `2026-11-22 10:00:00 (Asia/Taipei, UTC+08:00)`. */
export const localTime = (iso: string, tz: string): string => {
  const dt = DateTime.fromISO(iso, { zone: 'utc' }).setZone(tz);
  return dt.isValid ? `${dt.toFormat('yyyy-MM-dd HH:mm:ss')} (${tz}, UTC${dt.toFormat('ZZ')})` : iso;
};

/** A number in a change line: 3 decimals, more when needed to tell two values apart. */
function changeNumber(n: number, other: unknown): string {
  const digits = typeof other === 'number' && n.toFixed(3) === other.toFixed(3) && n !== other ? 9 : 3;
  return Number.isInteger(n) && (typeof other !== 'number' || Number.isInteger(other)) ? String(n) : n.toFixed(digits);
}

function changeValue(v: unknown, other: unknown): string {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'number') return changeNumber(v, other);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return v === '' ? '""' : v;
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map((x) => changeValue(x, undefined)).join(', ');
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${changeValue(x, undefined)}`)
      .join(', ');
  }
  return String(v);
}

/** One change as a readable line. */
export function changeLine(c: RollupChange): string {
  if (c.field === 'added') return `device ${c.device}: added (${changeValue(c.to, undefined)})`;
  if (c.field === 'removed') return `device ${c.device}: removed`;
  return `device ${c.device}: ${c.field} ${changeValue(c.from, c.to)} → ${changeValue(c.to, c.from)}`;
}

