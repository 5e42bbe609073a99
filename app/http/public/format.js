// Number and date formatting for the dashboard: en-US numbers, dates as the server wrote them (its time zone).

const LOCALE = 'en-US';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const formatters = {};
/** Fixed decimals with thousands separators; a value that rounds to zero is shown as 0 (never "-0.000"). */
export function fmt(x, decimals) {
  if (typeof x !== 'number' || !isFinite(x)) return '—';
  if (Math.abs(x) < 0.5 * Math.pow(10, -decimals)) x = 0;
  let f = formatters[decimals];
  if (!f) f = formatters[decimals] = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return f.format(x);
}
export const tco2e = function (x) { return fmt(x, 3); };
/** Budget targets: whole tonnes (they come from a report in 萬噸). */
export const tonnes = function (x) { return fmt(x, 0); };
export const kwh = function (x) { return fmt(x, 1); };

/** Local date and time of an ISO 8601 timestamp with offset, as the server wrote it (its time zone). */
export function parseLocal(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.exec(iso || '');
  if (!m) return null;
  return { y: +m[1], mo: +m[2], d: +m[3], h: m[4], mi: m[5], s: m[6] || '00', offset: m[7] === 'Z' ? '+00:00' : m[7] };
}
function zoneName(offset) {
  return offset === '+08:00' || offset === '+0800' ? 'Asia/Taipei' : 'UTC' + offset;
}
export function formatLocal(p) {
  return p.d + ' ' + MONTHS[p.mo - 1] + ' ' + p.y + ' ' + p.h + ':' + p.mi;
}
export function formatPeriod(from, to) {
  const a = parseLocal(from);
  const b = parseLocal(to);
  if (!a || !b) return from + ' – ' + to;
  return formatLocal(a) + ' – ' + formatLocal(b) + ' (' + zoneName(b.offset) + ')';
}
/** The browser's clock shown in the service's time zone (offset taken from the summary). */
export function clockIn(offset) {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset || '+08:00');
  const minutes = m ? (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +m[3]) : 480;
  const t = new Date(Date.now() + minutes * 60000);
  const pad = function (n) { return (n < 10 ? '0' : '') + n; };
  return pad(t.getUTCHours()) + ':' + pad(t.getUTCMinutes()) + ':' + pad(t.getUTCSeconds());
}

// ---- the office view's formats (zh-TW default, en): numbers by Intl, ROC years beside Gregorian ones ----

const LOCALES = { 'zh-TW': 'zh-TW', en: 'en-US' };
const formattersIn = {};
/** Fixed decimals in the language's number format; a value that rounds to zero is 0 (never "-0.000"). */
export function numberIn(lang, x, decimals) {
  if (typeof x !== 'number' || !isFinite(x)) return '—';
  if (Math.abs(x) < 0.5 * Math.pow(10, -decimals)) x = 0;
  const key = lang + ':' + decimals;
  let f = formattersIn[key];
  if (!f) f = formattersIn[key] = new Intl.NumberFormat(LOCALES[lang] || 'zh-TW', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return f.format(x);
}
/** A percentage with two decimals and its sign, "12.34 %"; null → "—". */
export function pctIn(lang, x) {
  return x === null || x === undefined ? '—' : numberIn(lang, x, 2) + ' %';
}
/** 民國 (Republic of China) year: Gregorian − 1911. */
export function rocYear(y) {
  return y - 1911;
}
/** A year as the city's reports write it: "2027 年（民國 116 年）", in English "2027 (ROC 116)". */
export function yearLabel(lang, y) {
  return lang === 'en' ? y + ' (ROC ' + rocYear(y) + ')' : y + ' 年（民國 ' + rocYear(y) + ' 年）';
}
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** A bucket's label: YYYY-MM-DD → "2026/11/3" or "3 Nov 2026"; YYYY-MM → "2026 年 11 月" or "Nov 2026". */
export function bucketLabel(lang, label) {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(label || '');
  if (!m) return label;
  const y = +m[1];
  const mo = +m[2];
  if (m[3]) return lang === 'en' ? +m[3] + ' ' + MONTHS_EN[mo - 1] + ' ' + y : y + '/' + mo + '/' + +m[3];
  return lang === 'en' ? MONTHS_EN[mo - 1] + ' ' + y : y + ' 年 ' + mo + ' 月';
}
/** A short axis label: day "11/3", month "2026/11". */
export function axisLabel(label) {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(label || '');
  if (!m) return label;
  return m[3] ? +m[2] + '/' + +m[3] : m[1] + '/' + m[2];
}
/** An ISO time with offset, in the server's zone as written: "2026/11/22 10:00" or "22 Nov 2026 10:00". */
export function timeIn(lang, iso) {
  const p = parseLocal(iso);
  if (!p) return iso || '—';
  return lang === 'en' ? p.d + ' ' + MONTHS_EN[p.mo - 1] + ' ' + p.y + ' ' + p.h + ':' + p.mi : p.y + '/' + p.mo + '/' + p.d + ' ' + p.h + ':' + p.mi;
}
