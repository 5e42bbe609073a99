import { DateTime } from 'luxon';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium, screenshot, watchedPage, type WatchedPage } from '../helpers/browser.js';
import { registerDevice, startService, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The energy office view (`GET /`) against the real service, in Debian's Chromium driven by playwright-core:
 * devices registered with their programmes publish over MQTT; the page (zh-TW by default, English one click
 * away and remembered) must show what the APIs say for the same period (trend, budget, programmes,
 * drill-down), follow a new reading within 3 s without reloading, change period from its picker, drill down
 * from a sector to a device, and fit a laptop (1400 px) and a tablet (768 px).
 */

if (!haveChromium) console.warn('dashboard.test: skipping the browser checks: /usr/bin/chromium is absent (Debian package "chromium")');

const TZ = 'Asia/Taipei';
// the page's own string tables (a browser module, untyped)
const { STRINGS } = (await import('../../app/http/public/i18n.js' as string)) as { STRINGS: Record<'zh-TW' | 'en', Record<string, string>> };
type Trend = import('../../accounting/trend/trend.js').Trend;
type Breakdown = import('../../accounting/trend/breakdown.js').Breakdown;
type Budget = import('../../accounting/budget-progress.js').BudgetProgress;
type Summary = import('../../accounting/ledger/ledger.js').Summary;
type Programmes = { programmes: import('../../accounting/programmes/programmes.js').ProgrammeRollout[] };

const zh = (x: number, d: number) => new Intl.NumberFormat('zh-TW', { minimumFractionDigits: d, maximumFractionDigits: d }).format(Math.abs(x) < 0.5 * 10 ** -d ? 0 : x);

let svc: RunningService;
let pv: Registered;
const now = Date.now();
const monthStart = DateTime.fromMillis(now, { zone: TZ }).startOf('month').toMillis();
const t2 = Math.max(now - 3_600_000, monthStart + 120_000);
const t1 = Math.max(t2 - 3_600_000, monthStart);
const t3 = Math.min(t2 + 1_800_000, Math.max(now, t2 + 60_000));

async function publish(dev: Registered, readings: Array<Record<string, number>>): Promise<void> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: dev.id, password: dev.secret, clientId: `${dev.id}-test`, reconnectPeriod: 0 });
  try {
    for (const r of readings) await c.publishAsync(dev.topic, JSON.stringify(r), { qos: 1 });
  } finally {
    await c.endAsync();
  }
}

async function get<T>(p: string): Promise<T> {
  const r = await svc.api<T>('GET', p, undefined, null);
  expect(r.status, `${p}: ${JSON.stringify(r.body).slice(0, 300)}`).toBe(200);
  return r.body;
}

beforeAll(async () => {
  svc = await startService();
  pv = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-school-01', sector: 'residential_commercial', measure: 'rooftop-pv', params: { nameplate_kw: 2000, programme: 'pv-registration' } });
  const meter = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-school-01', sector: 'residential_commercial', params: { programme: 'school-ems' } });
  const saver = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-district-office-01', sector: 'residential_commercial', measure: 'public-sector-electricity-saving', params: { baseline_kwh_per_month: 1000 } });
  const sold = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-credit-site-01', sector: 'residential_commercial', params: { baseline_kwh_per_month: 2000, sold_as_credits: true } });
  await registerDevice(svc, { kind: 'smart_meter', site: 'kh-social-housing-01', sector: 'residential_commercial', params: { programme: 'social-housing-smart-meters', units: 12 } });
  await registerDevice(svc, { kind: 'ev_charger', site: 'kh-bus-depot-01', sector: 'transport', params: { programme: 'e-bus', units: 5, vehicle_class: 'bus' } });
  await publish(pv, [{ ts: t1, seq: 1, energy_kwh: 12_345.6 }, { ts: t2, seq: 2, energy_kwh: 13_580.1 }]);
  await publish(meter, [{ ts: t1, seq: 1, import_kwh: 500 }, { ts: t2, seq: 2, import_kwh: 620.25 }]);
  await publish(saver, [{ ts: t1, seq: 1, import_kwh: 100 }, { ts: t2, seq: 2, import_kwh: 100.005 }]);
  await publish(sold, [{ ts: t1, seq: 1, import_kwh: 40 }, { ts: t2, seq: 2, import_kwh: 40.005 }]);
  await waitFor('the readings in this month', async () => {
    const s = await get<Summary>('/api/summary');
    return s.energy_kwh.pv === 1234.5 && s.energy_kwh.consumption > 120 && s.sold_as_credits_tco2e > 0;
  }, 15_000);
}, 60_000);

afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
});

describe('office view APIs', () => {
  it('serves the page, its modules and ECharts from this server, nothing from outside', async () => {
    const html = await (await fetch(`${svc.base}/`)).text();
    expect(html).toContain('<html lang="zh-TW">');
    expect(html).toContain('src="/vendor/echarts.min.js"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    for (const p of ['/office.js', '/i18n.js', '/format.js', '/office-trend.js', '/office-drill.js', '/vendor/echarts.min.js']) {
      const r = await fetch(`${svc.base}${p}`);
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type'), p).toMatch(/javascript/);
    }
    expect((await fetch(`${svc.base}/`)).headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('trend totals equal the summary of the same window', async () => {
    const to = Date.now();
    const [tr, s] = [await get<Trend>(`/api/trend?to=${to}`), await get<Summary>(`/api/summary?to=${to}`)];
    expect(tr.totals.avoided_tco2e).toBe(s.avoided_tco2e);
    expect(tr.totals.inventory_tco2e).toBe(s.inventory_tco2e);
    expect(tr.totals.sold_tco2e).toBe(s.sold_as_credits_tco2e);
    expect(tr.totals.energy_kwh).toEqual(s.energy_kwh);
    expect(tr.totals.energy_kwh.pv).toBe(1234.5);
    expect(tr.totals.quality).toEqual(s.quality);
  });

  it('counts the programmes from the registered devices (hand-worked)', async () => {
    const p = Object.fromEntries((await get<Programmes>('/api/programmes')).programmes.map((x) => [x.id, x]));
    expect(p['pv-registration']!.connected).toBe(2000);
    expect(p['pv-registration']!.figures.map((f) => f.connected_pct)).toEqual([0.239234, 0.1]); // 2,000/836,000; 2,000/2,000,000
    expect(p['school-ems']!.connected).toBe(1);
    expect(p['school-ems']!.figures[0]!.connected_pct).toBe(0.282486); // 1/354
    expect(p['social-housing-smart-meters']!.connected).toBe(12);
    expect(p['social-housing-smart-meters']!.figures.map((f) => f.connected_pct)).toEqual([4.897959, 1.068566]); // 12/245, 12/1123
    expect(p['e-bus']!.connected).toBe(5);
    expect(JSON.stringify(p)).not.toMatch(/secret/i);
  });

  it('refuses bad parameters with 400 naming each, and bounds the window', async () => {
    const bad = async (q: string) => {
      const r = await svc.api<{ issues: Array<{ field: string; reason: string }> }>('GET', q, undefined, null);
      expect(r.status, q).toBe(400);
      return r.body.issues;
    };
    expect((await bad('/api/trend?bucket=week')).map((i) => i.field)).toEqual(['bucket']);
    expect((await bad('/api/trend?from=2026-02-30T00:00:00%2B08:00'))[0]).toMatchObject({ field: 'from', reason: expect.stringMatching(/not a valid date/) });
    expect((await bad('/api/trend?from=yesterday')).map((i) => i.field)).toEqual(['from']);
    expect((await bad('/api/trend?colour=red')).map((i) => i.field)).toEqual(['colour']);
    expect((await bad('/api/trend?from=2026-03-01T00:00:00%2B08:00&to=2026-02-01T00:00:00%2B08:00')).map((i) => i.field)).toEqual(['to']);
    const long = await bad('/api/trend?from=2024-01-01T00:00:00%2B08:00&to=2026-01-01T00:00:00%2B08:00&bucket=day');
    expect(long[0]).toMatchObject({ field: 'bucket', reason: expect.stringMatching(/731 days, more than 400 daily buckets; ask for bucket=month/) });
    expect((await bad('/api/trend?from=2020-01-01T00:00:00%2B08:00&bucket=month'))[0]).toMatchObject({ field: 'from', reason: expect.stringMatching(/longer than 1100 days/) });
    expect((await bad('/api/breakdown?site=kh-school-01')).map((i) => i.field)).toEqual(['site']);
    expect((await bad('/api/breakdown?sector=housing')).map((i) => i.field)).toEqual(['sector']);
    expect((await bad('/api/programmes?x=1')).map((i) => i.field)).toEqual(['x']);
    // two years by month is answered: 24 buckets
    expect((await get<Trend>('/api/trend?from=2027-01-01T00:00:00%2B08:00&to=2029-01-01T00:00:00%2B08:00&bucket=month')).buckets).toHaveLength(24);
  });
});

describe.skipIf(!haveChromium)('office view in headless Chromium', () => {
  let browser: Browser;
  let w: WatchedPage;
  let page: Page;
  const text = (testid: string) => page.locator(`[data-testid="${testid}"]`).first().innerText();
  const loaded = async () => {
    await page.waitForSelector('body[data-loaded="true"][data-budget-loaded="true"][data-programmes-loaded="true"]', { timeout: 20_000 });
    await page.waitForSelector('[data-testid="drill-row"]', { timeout: 20_000 });
  };

  beforeAll(async () => {
    browser = await launchChromium();
    w = await watchedPage(browser);
    page = w.page;
    await page.goto(`${svc.base}/`);
    await loaded();
    await page.waitForSelector('[data-testid="live-state"][data-state="live"]', { timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('is in Traditional Chinese by default, with no English UI string left', async () => {
    expect(await page.getAttribute('html', 'lang')).toBe('zh-TW');
    expect(await page.locator('h1').innerText()).toBe('高雄市淨零電表：碳帳戶總覽');
    const headings = await page.locator('h2').allInnerTexts();
    expect(headings).toContain('碳預算：部門上限與措施進度');
    for (const h of headings) expect(h, h).toMatch(/[\u4e00-\u9fff]/);
    const body = await page.locator('body').innerText();
    const zhStrings = new Set(Object.values(STRINGS['zh-TW']));
    const english = Object.values(STRINGS.en).filter((s) => /[a-z]{3,}/.test(s) && !zhStrings.has(s)).map((s) => s.replace(/\{\w+\}/g, '').split(/[:(]/)[0]!.trim()).filter((s) => s.length > 4);
    expect(english.length).toBeGreaterThan(50);
    for (const s of english) expect(body.includes(s), `"${s}" on the zh-TW page`).toBe(false);
    expect(body).toMatch(/2025 年（民國 114 年）全年試算/);
  });

  it('shows the trend figures of GET /api/trend for the same period', async () => {
    const url = (await page.getAttribute('body', 'data-trend-url'))!;
    const tr = await get<Trend>(url);
    expect(await text('avoided')).toBe(zh(tr.totals.avoided_tco2e, 3));
    expect(Number(await page.getAttribute('[data-testid="avoided"]', 'data-value'))).toBe(tr.totals.avoided_tco2e);
    expect(await text('inventory')).toBe(zh(tr.totals.inventory_tco2e, 3));
    expect(await text('sold')).toBe(zh(tr.totals.sold_tco2e, 3));
    expect(await text('pv-kwh')).toBe('1,234.5');
    expect(await text('consumption-kwh')).toBe(zh(tr.totals.energy_kwh.consumption, 1));
    const rows = page.locator('[data-testid="trend-row"]');
    expect(await rows.count()).toBe(tr.buckets.length);
    for (const [n, b] of tr.buckets.entries()) {
      const row = rows.nth(n);
      expect(Number(await row.locator('[data-testid="cell-avoided"]').getAttribute('data-value'))).toBe(b.avoided_tco2e);
      expect(Number(await row.locator('[data-testid="cell-inventory"]').getAttribute('data-value'))).toBe(b.inventory_tco2e);
      expect(Number(await row.locator('[data-testid="cell-pv"]').getAttribute('data-value'))).toBe(b.energy_kwh.pv);
      expect(Number(await row.locator('[data-testid="cell-consumption"]').getAttribute('data-value'))).toBe(b.energy_kwh.consumption);
    }
    expect(await page.locator('[data-testid="trend-total"] [data-testid="cell-avoided"]').textContent()).toBe(zh(tr.totals.avoided_tco2e, 3));
    for (const id of ['chart-stream', 'chart-sector', 'chart-energy', 'chart-drill']) expect(await page.locator(`[data-testid="${id}"] canvas`).count(), id).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="revision"]').count()).toBe(tr.months.length);
  });

  it('shows each sector cap against its inventory and each measure against its target, as GET /api/budget', async () => {
    const year = Number(await page.getAttribute('[data-testid="budget-status"]', 'data-year'));
    const b = await get<Budget>(`/api/budget?year=${year}`);
    expect(await page.getAttribute('[data-testid="budget-status"]', 'data-status')).toBe(b.period_status);
    const sectors = page.locator('[data-testid="sector-row"]');
    expect(await sectors.count()).toBe(6);
    for (const [n, s] of b.sectors.entries()) {
      expect(await sectors.nth(n).getAttribute('data-id')).toBe(s.id);
      expect(await sectors.nth(n).locator('[data-testid="sector-cap"]').innerText()).toBe(zh(s.cap_tco2e, 0));
      expect(Number(await sectors.nth(n).locator('[data-testid="sector-inventory"]').getAttribute('data-value'))).toBe(s.metered_inventory_tco2e);
    }
    // table 17: residential & commercial 442.23 萬噸
    expect(await page.locator('[data-testid="sector-row"][data-id="residential_commercial"] [data-testid="sector-cap"]').innerText()).toBe('4,422,300');
    const metered = b.measures.filter((m) => m.metered && m.sector !== null);
    const rows = page.locator('[data-testid="measure-row"]');
    expect(await rows.count()).toBe(metered.length);
    for (const [n, m] of metered.entries()) {
      expect(await rows.nth(n).getAttribute('data-id')).toBe(m.id);
      expect(await rows.nth(n).locator('[data-testid="measure-achieved"]').innerText()).toBe(zh(m.achieved_tco2e, 3));
      expect(await rows.nth(n).locator('[data-testid="measure-target"]').innerText()).toBe(zh(m.target_tco2e, 0));
      expect(await rows.nth(n).locator('[data-testid="measure-projected"]').innerText()).toBe(zh(m.projected_year_end_tco2e, 3));
      expect(await rows.nth(n).locator('[data-testid="measure-sold"]').count()).toBe(m.sold_as_credits || m.sold_tco2e > 0 ? 1 : 0);
    }
  });

  it('shows the programmes as GET /api/programmes counts them', async () => {
    const api = (await get<Programmes>('/api/programmes')).programmes;
    for (const p of api) {
      const first = page.locator(`[data-testid="programme-row"][data-id="${p.id}"]`).first();
      expect(Number(await first.locator('[data-testid="programme-connected"]').getAttribute('data-value')), p.id).toBe(p.connected);
      const pcts = await page.locator(`[data-testid="programme-row"][data-id="${p.id}"] [data-testid="programme-pct"]`).evaluateAll((ns) => ns.map((n) => n.getAttribute('data-value')));
      expect(pcts, p.id).toEqual(p.figures.map((f) => (f.connected_pct === null ? '' : String(f.connected_pct))));
    }
    expect(await page.locator('[data-testid="programme-row"][data-id="social-housing-smart-meters"] [data-testid="programme-connected"]').first().innerText()).toBe('12 戶');
    expect(await page.locator('[data-testid="programme-row"][data-id="pv-registration"] [data-testid="programme-connected"]').first().innerText()).toBe('2,000.0 kW');
  });

  // /api/live pushes a changed summary at most once a second; the page must follow it without a reload.
  // No wall-clock bound here: the suite shares two cores, so the wait is only a ceiling against hanging.
  it('follows a reading published over MQTT, pushed over /api/live without reloading', async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await publish(pv, [{ ts: t3, seq: 3, energy_kwh: 13_580.1 + 100 }]);
    await page.waitForFunction(() => document.querySelector('[data-testid="pv-kwh"]')!.textContent === '1,334.5', undefined, { timeout: 20_000 });
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
  });

  it('changes period from its picker: the URL, the API call and what is shown', async () => {
    await page.selectOption('[data-testid="preset"]', 'year');
    await page.selectOption('[data-testid="bucket"]', 'month');
    await page.click('[data-testid="apply"]');
    const year = DateTime.now().setZone(TZ).year;
    await page.waitForFunction((y) => (document.body.getAttribute('data-trend-url') || '').includes(`from=${y}-01-01T00%3A00%3A00%2B08%3A00`), year);
    expect(page.url()).toContain('period=year');
    expect(page.url()).toContain('bucket=month');
    const url = (await page.getAttribute('body', 'data-trend-url'))!;
    expect(url).toContain('bucket=month');
    const tr = await get<Trend>(url);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="trend-row"]').length === n, tr.buckets.length);
    expect(tr.buckets.length).toBe(DateTime.now().setZone(TZ).month);
    expect(await text('avoided')).toBe(zh(tr.totals.avoided_tco2e, 3));
    expect(await page.getAttribute('[data-testid="drill"]', 'data-url')).toContain('bucket=month');
    // the URL restores the period after a reload
    await page.reload();
    await loaded();
    expect(await page.inputValue('[data-testid="preset"]')).toBe('year');
    expect(await page.getAttribute('body', 'data-trend-url')).toBe(url);
  });

  it('drills down from a sector to a device and shows its share', async () => {
    const open = async (key: string) => {
      await page.locator(`[data-testid="drill-row"][data-key="${key}"] [data-testid="drill-open"]`).click();
    };
    await open('residential_commercial');
    await page.waitForSelector('[data-testid="drill"][data-level="measure"]');
    await open('rooftop-pv');
    await page.waitForSelector('[data-testid="drill"][data-level="site"]');
    await open('kh-school-01');
    await page.waitForSelector('[data-testid="drill"][data-level="device"]');
    const api = await get<Breakdown>((await page.getAttribute('[data-testid="drill"]', 'data-url'))!);
    expect(api.level).toBe('device');
    const item = api.items.find((i) => i.key === pv.id)!;
    // the PV inverter is the only device with claimed avoided tonnes outside the saving meter: its share by hand
    const total = (await get<Trend>((await page.getAttribute('body', 'data-trend-url'))!)).totals;
    expect(item.share.avoided_pct).toBeCloseTo((item.avoided_tco2e / total.avoided_tco2e) * 100, 5);
    const row = page.locator(`[data-testid="drill-row"][data-key="${pv.id}"]`);
    expect(Number(await row.locator('[data-testid="share-avoided"]').getAttribute('data-value'))).toBe(item.share.avoided_pct);
    expect(await row.locator('[data-testid="share-avoided"]').innerText()).toBe(`減碳 ${zh(item.share.avoided_pct!, 2)} %`);
    expect(Number(await row.locator('[data-testid="drill-avoided"]').getAttribute('data-value'))).toBe(item.avoided_tco2e);
    expect(await page.locator('[data-testid="crumb"]').allInnerTexts()).toEqual(['全市', '住商', 'rooftop-pv', 'kh-school-01']);
    // the factor versions one click away
    await page.click('[data-testid="factors-open"]');
    await page.waitForSelector('[data-testid="factors-dialog"][open] [data-testid="factor-row"]');
    expect(await page.locator('[data-testid="factor-row"]').evaluateAll((ns) => ns.map((n) => n.getAttribute('data-id')))).toEqual(api.factors);
    await page.keyboard.press('Escape');
  });

  it('switches to English and remembers it after a reload', async () => {
    await page.click('[data-testid="lang-switch"]');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('h1').innerText()).toBe(STRINGS.en.title);
    expect(await page.evaluate(() => localStorage.getItem('netzero.lang'))).toBe('en');
    await page.reload();
    await loaded();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('h2').first().innerText()).toBe('Period');
    const tr = await get<Trend>((await page.getAttribute('body', 'data-trend-url'))!);
    expect(await text('avoided')).toBe(new Intl.NumberFormat('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 }).format(tr.totals.avoided_tco2e));
    await page.click('[data-testid="lang-switch"]');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-TW');
  });

  it('fits 1400 px and 768 px, with screenshots, and had no console error or failed request', async () => {
    await page.goto(`${svc.base}/`);
    await loaded();
    await page.waitForTimeout(500);
    await screenshot(page, 'office-1400');
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.waitForTimeout(500);
    const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: document.documentElement.clientWidth }));
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    await screenshot(page, 'office-768');
    expect(w.problems).toEqual([]);
  });
});
