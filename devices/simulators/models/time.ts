// Time for the models: 5-minute slots and Asia/Taipei local days.
//
// Local time. Asia/Taipei has had no daylight saving since 1979, so a fixed +08:00 offset gives the
// same local days and clock times as a zone database, at a fraction of the cost per 5-minute step.

export const SLOT_MS = 5 * 60_000;
export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const OFFSET_MS = 8 * HOUR_MS;
export const SLOTS_PER_DAY = DAY_MS / SLOT_MS;
export const SLOT_H = SLOT_MS / HOUR_MS;

/** Local (Taipei) day number: days since 1970-01-01 local. */
export const localDay = (ms: number): number => Math.floor((ms + OFFSET_MS) / DAY_MS);
export const dayStart = (day: number): number => day * DAY_MS - OFFSET_MS;
/** Local clock time in hours, 0 ≤ h < 24. */
export const localHour = (ms: number): number => (ms - dayStart(localDay(ms))) / HOUR_MS;
export const slotIndex = (ms: number): number => Math.floor(ms / SLOT_MS);

interface Calendar {
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
  month: number;
  dayOfYear: number;
}

// One-entry cache: integration walks a whole day of slots at a time, so this saves a Date per slot.
let lastCalendar: { day: number; cal: Calendar } | undefined;

export function calendar(day: number): Calendar {
  if (lastCalendar?.day === day) return lastCalendar.cal;
  const d = new Date(day * DAY_MS);
  const cal = {
    weekday: d.getUTCDay(),
    month: d.getUTCMonth() + 1,
    dayOfYear: Math.round((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1,
  };
  lastCalendar = { day, cal };
  return cal;
}
export const yyyymmdd = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');

/** ISO 8601 with the +08:00 offset, e.g. `2026-11-22T10:00:00+08:00`. */
export function isoTaipei(ms: number): string {
  const s = new Date(ms + OFFSET_MS).toISOString();
  return `${s.endsWith('.000Z') ? s.slice(0, -5) : s.slice(0, -1)}+08:00`;
}
