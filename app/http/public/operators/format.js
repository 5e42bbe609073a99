// Dates in Asia/Taipei and numbers, in the page's language.
import { currentLang } from './i18n.js';

const TZ = 'Asia/Taipei';

/** An ISO 8601 time as a date and time in Asia/Taipei, or '' for none. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(currentLang(), {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(d);
}

export function num(x) {
  if (typeof x !== 'number' || !isFinite(x)) return String(x);
  return new Intl.NumberFormat(currentLang(), { maximumFractionDigits: 3 }).format(x);
}

/** A reading's values as "field=value" pairs (numbers formatted, other values as JSON). */
export function values(v) {
  if (!v || typeof v !== 'object') return '';
  return Object.keys(v).map(function (k) {
    const x = v[k];
    return k + '=' + (typeof x === 'number' ? num(x) : JSON.stringify(x));
  }).join(' · ');
}

/** Now as ISO 8601 in Asia/Taipei (+08:00), whole seconds: the example payload's ts. */
export function nowTaipei() {
  return new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 19) + '+08:00';
}
