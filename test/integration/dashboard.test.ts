import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { registerDevice, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The energy office dashboard (`GET /`) against the real service: a PV inverter, a smart meter, a
 * smart meter saving electricity for the budget measure `public-sector-electricity-saving` and one
 * whose saving is sold as carbon credits publish over MQTT, then headless Chromium (Debian's, driven
 * over the DevTools protocol with `ws`, no extra dependency) loads the page and the rendered DOM must
 * show what `GET /api/summary` and `GET /api/budget` say, the charts must have drawn, the live feed
 * must be connected and update the page in place.
 */

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard.test: skipping the browser checks: ${CHROMIUM} is absent (Debian package "chromium")`);

const TZ = 'Asia/Taipei';
const WIDTH = 1400;
const HEIGHT = 1000;

// The API's own types: a change to the summary or budget answers breaks this test at compile time.
type Summary = import('../../accounting/ledger/ledger.js').Summary;
type Budget = import('../../accounting/budget-progress.js').BudgetProgress;

/** The five streams the stream chart shows, in its order. */
const STREAM_LABELS: Array<[keyof Summary['by_stream'], string]> = [
  ['pv', 'PV'],
  ['biogas', 'Biogas'],
  ['ev_charging', 'EV charging'],
  ['electricity_saving', 'Electricity saving'],
  ['generation', 'Other generation'],
];
const SAVING_MEASURE = 'public-sector-electricity-saving';

/** What the page must show: en-US, fixed decimals, thousands separators. */
const fmt = (x: number, decimals: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(Math.abs(x) < 0.5 * 10 ** -decimals ? 0 : x);

let svc: RunningService;
let pv: Registered;
let meter: Registered;
let saver: Registered;
let soldSaver: Registered;
const now = Date.now();
const monthStart = DateTime.fromMillis(now, { zone: TZ }).startOf('month').toMillis();
// Inside this month (Asia/Taipei) and never more than 5 minutes ahead of the clock.
const t2 = Math.max(now - 3_600_000, monthStart + 120_000);
const t1 = Math.max(t2 - 3_600_000, monthStart);
const t3 = Math.min(t2 + 1_800_000, Math.max(now, t2 + 60_000));

function connect(dev: Registered): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${svc.ports.mqtt}`, { username: dev.id, password: dev.secret, clientId: `${dev.id}-test`, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

async function publish(dev: Registered, readings: Array<Record<string, number>>): Promise<void> {
  const c = await connect(dev);
  try {
    for (const r of readings) await c.publishAsync(dev.topic, JSON.stringify(r), { qos: 1 });
  } finally {
    await c.endAsync();
  }
}

const summary = async () => {
  const r = await svc.api<Summary>('GET', '/api/summary', undefined, null);
  expect(r.status).toBe(200);
  return r.body;
};

const budget = async () => {
  const r = await svc.api<Budget>('GET', '/api/budget', undefined, null);
  expect(r.status).toBe(200);
  return r.body;
};

/** The measures the budget panel lists: metered ones with a sector (not the grid-factor row). */
const meteredMeasures = (b: Budget) => b.measures.filter((m) => m.metered && m.sector !== null);

// ---- a minimal DevTools-protocol client over `ws` ------------------------------------------------

interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

class Cdp {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  readonly events: CdpEvent[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result);
      } else if (msg.method) {
        this.events.push({ method: msg.method, params: msg.params ?? {}, sessionId: msg.sessionId });
      }
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error(`${p.method}: DevTools connection closed`));
      this.pending.clear();
    });
  }

  static async open(url: string): Promise<Cdp> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Cdp(ws);
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

interface Browser {
  proc: ChildProcess;
  cdp: Cdp;
  close: () => Promise<void>;
}

async function launchChromium(): Promise<Browser> {
  const profile = tempDir('netzero-chromium-');
  const proc = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      '--mute-audio',
      `--user-data-dir=${profile}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      `--window-size=${WIDTH},${HEIGHT}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const wsUrl = await waitFor(
    'Chromium DevTools endpoint',
    () => {
      if (proc.exitCode !== null) throw new Error(`chromium exited with ${proc.exitCode}: ${err.slice(-2000)}`);
      return /DevTools listening on (ws:\/\/\S+)/.exec(err)?.[1];
    },
    30_000,
  ).catch((e: Error) => {
    proc.kill('SIGKILL');
    throw e;
  });
  const cdp = await Cdp.open(wsUrl);
  return {
    proc,
    cdp,
    close: async () => {
      await cdp.send('Browser.close').catch(() => undefined);
      cdp.close();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

interface PageState {
  loaded: boolean;
  source: string | null;
  live: string | null;
  liveState: string | null;
  text: Record<string, string>;
  values: Record<string, string | null>;
  provisionalHidden: boolean;
  soldHidden: boolean;
  soldTitle: string;
  bodyText: string;
  provisionalTitle: string;
  charts: Record<string, { rendered: boolean; canvases: number; svgs: number; width: number; height: number }>;
  factorRows: string[][];
  factorsUsed: Array<{ id: string | null; text: string }>;
  streamChart: { categories: string[]; values: number[] } | null;
  budget: {
    loaded: boolean;
    status: string | null;
    statusText: string;
    errorHidden: boolean;
    rows: Array<{
      id: string | null;
      zh: string;
      en: string;
      devices: string;
      achieved: string;
      achievedValue: string | null;
      targetToDate: string;
      progress: string;
      progressValue: string | null;
      projected: string;
      sold: string | null;
      barWidth: string;
    }>;
    unlinkedHidden: boolean;
    unlinked: string[];
  };
  externalRefs: string[];
}

/** Read back what the page rendered (the live DOM after its scripts ran). */
const READ_PAGE = `(() => {
  const q = (id) => document.querySelector('[data-testid="' + id + '"]');
  const ids = ['avoided', 'inventory', 'sold', 'pv-kwh', 'consumption-kwh', 'ev-kwh', 'biogas-kwh', 'generation-kwh', 'methane-t', 'period',
    'live-state', 'quality-ok', 'quality-reset', 'quality-wrap', 'quality-implausible', 'gwp-set', 'budget-period'];
  const text = {}, values = {};
  for (const id of ids) { const n = q(id); text[id] = n ? n.textContent.trim() : null; values[id] = n ? n.getAttribute('data-value') : null; }
  const charts = {};
  for (const id of ['chart-stream', 'chart-sector']) {
    const n = q(id);
    const r = n ? n.getBoundingClientRect() : { width: 0, height: 0 };
    charts[id] = { rendered: !!n && n.getAttribute('data-rendered') === 'true', canvases: n ? n.querySelectorAll('canvas').length : 0,
      svgs: n ? n.querySelectorAll('svg').length : 0, width: r.width, height: r.height };
  }
  const p = q('provisional');
  const sold = q('sold-card');
  const hidden = (n) => !n || n.hidden || getComputedStyle(n).display === 'none';
  const inRow = (tr, id) => { const n = tr.querySelector('[data-testid="' + id + '"]'); return n ? n.textContent.trim() : ''; };
  const chart = q('chart-stream') && window.echarts && window.echarts.getInstanceByDom(q('chart-stream'));
  const option = chart ? chart.getOption() : null;
  const budget = {
    loaded: !!q('budget') && q('budget').getAttribute('data-loaded') === 'true',
    status: q('budget-status') && q('budget-status').getAttribute('data-status'),
    statusText: q('budget-status') ? q('budget-status').textContent.trim() : '',
    errorHidden: hidden(q('budget-error')),
    rows: [...document.querySelectorAll('[data-testid="measure-row"]')].map((tr) => ({
      id: tr.getAttribute('data-measure'),
      zh: inRow(tr, 'measure-name-zh'),
      en: inRow(tr, 'measure-name-en'),
      devices: inRow(tr, 'measure-devices'),
      achieved: inRow(tr, 'measure-achieved'),
      achievedValue: tr.querySelector('[data-testid="measure-achieved"]').getAttribute('data-value'),
      targetToDate: inRow(tr, 'measure-target-to-date'),
      progress: inRow(tr, 'measure-progress'),
      progressValue: tr.querySelector('[data-testid="measure-progress"]').getAttribute('data-value'),
      projected: inRow(tr, 'measure-projected'),
      sold: tr.querySelector('[data-testid="measure-sold"]') ? inRow(tr, 'measure-sold') : null,
      barWidth: (tr.querySelector('.bar > span') || { style: { width: '' } }).style.width,
    })),
    unlinkedHidden: hidden(q('unlinked-devices')),
    unlinked: [...document.querySelectorAll('[data-testid="unlinked-device"]')].map((n) => n.textContent.trim()),
  };
  const externalRefs = [...document.querySelectorAll('script[src], link[href], img[src]')]
    .map((n) => n.getAttribute('src') || n.getAttribute('href'))
    .filter((u) => /^(https?:)?\\/\\//i.test(u));
  return {
    loaded: document.body.getAttribute('data-loaded') === 'true',
    source: document.body.getAttribute('data-source'),
    live: q('live-state') && q('live-state').getAttribute('data-state'),
    liveState: text['live-state'],
    text, values,
    provisionalHidden: !p || p.hidden || getComputedStyle(p).display === 'none',
    provisionalTitle: p ? p.title : '',
    soldHidden: hidden(sold),
    soldTitle: sold ? sold.title : '',
    bodyText: document.body.innerText,
    charts,
    factorRows: [...document.querySelectorAll('[data-testid="factor-row"]')].map((tr) => [...tr.cells].map((c) => c.textContent.trim())),
    factorsUsed: [...document.querySelectorAll('[data-testid="factor-used"]')].map((n) => ({ id: n.getAttribute('data-id'), text: n.textContent.trim() })),
    streamChart: option ? { categories: option.yAxis[0].data, values: option.series[0].data.map((d) => (typeof d === 'object' ? d.value : d)) } : null,
    budget,
    externalRefs,
  };
})()`;

beforeAll(async () => {
  svc = await startService();
  pv = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-school-01', sector: 'residential_commercial', measure: 'rooftop-pv', name: 'School rooftop PV' });
  meter = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-school-01', sector: 'residential_commercial', name: 'School main meter' });
  // Electricity saving for the budget measure: a declared 1,000 kWh/month baseline, almost no use.
  saver = await registerDevice(svc, {
    kind: 'smart_meter',
    site: 'kh-district-office-01',
    sector: 'residential_commercial',
    measure: SAVING_MEASURE,
    name: 'District office main meter',
    params: { baseline_kwh_per_month: 1000 },
  });
  // A saving sold as carbon credits: shown on its own card, claimed nowhere.
  soldSaver = await registerDevice(svc, {
    kind: 'smart_meter',
    site: 'kh-credit-site-01',
    sector: 'residential_commercial',
    name: 'Credit project meter',
    params: { baseline_kwh_per_month: 2000, sold_as_credits: true },
  });
  await publish(pv, [
    { ts: t1, seq: 1, energy_kwh: 12_345.6 },
    { ts: t2, seq: 2, energy_kwh: 13_580.1 },
  ]);
  await publish(meter, [
    { ts: t1, seq: 1, import_kwh: 500 },
    { ts: t2, seq: 2, import_kwh: 620.25 },
  ]);
  // Tiny consumption against the pro-rated baseline: the saving is positive even minutes into the month.
  await publish(saver, [
    { ts: t1, seq: 1, import_kwh: 100 },
    { ts: t2, seq: 2, import_kwh: 100.005 },
  ]);
  await publish(soldSaver, [
    { ts: t1, seq: 1, import_kwh: 40 },
    { ts: t2, seq: 2, import_kwh: 40.005 },
  ]);
  await waitFor('PV, consumption, the saving and the sold saving in this month', async () => {
    const s = await summary();
    return s.energy_kwh.pv > 0 && s.energy_kwh.consumption > 0.01 && s.by_stream.electricity_saving > 0 && s.sold_as_credits_tco2e > 0;
  }, 15_000);
  await waitFor('the saving in the budget progress', async () => {
    const m = (await budget()).measures.find((x) => x.id === SAVING_MEASURE);
    return !!m && m.achieved_tco2e > 0 && m.devices === 1;
  }, 15_000);
});

afterAll(async () => {
  const code = await svc?.stop();
  expect(code).toBe(0);
});

describe('dashboard assets', () => {
  it('serves the page, its script and ECharts from this server, with no outside references', async () => {
    const page = await fetch(`${svc.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('Kaohsiung net-zero meters — live carbon account');
    expect(html).toContain('src="/vendor/echarts.min.js"');
    expect(html).toContain('src="/dashboard.js"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    for (const p of ['/dashboard.js', '/vendor/echarts.min.js']) {
      const r = await fetch(`${svc.base}${p}`);
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type'), p).toMatch(/javascript/);
      expect((await r.text()).length, p).toBeGreaterThan(1000);
    }
  });

  it('has metered PV energy, a saving and a sold saving this month to show', async () => {
    const s = await summary();
    expect(s.energy_kwh.pv).toBeCloseTo(1234.5, 3);
    expect(s.avoided_tco2e).toBeGreaterThan(0);
    expect(s.inventory_tco2e).toBeGreaterThan(0);
    expect(s.by_stream.electricity_saving).toBeGreaterThan(0);
    // sold tonnes are shown apart and claimed nowhere: not in the avoided total, the streams or the sectors
    expect(s.sold_as_credits_tco2e).toBeGreaterThan(0);
    const streams = Object.values(s.by_stream).reduce((a, x) => a + x, 0);
    const sectors = Object.values(s.by_sector).reduce((a, x) => a + x, 0);
    expect(streams).toBeCloseTo(s.avoided_tco2e, 5);
    expect(sectors).toBeCloseTo(s.avoided_tco2e, 5);
    expect(s.grid_factors.length).toBeGreaterThan(0);
  });

  it('has the saving measure in the budget, and the PV of a measure outside it as unlinked', async () => {
    const b = await budget();
    expect(b.budget.period).toEqual({ from: '2027-01-01', to: '2028-12-31' });
    const saving = b.measures.find((m) => m.id === SAVING_MEASURE)!;
    expect(saving).toMatchObject({ metered: true, sector: 'residential_commercial', stream: 'electricity_saving', devices: 1 });
    expect(saving.achieved_tco2e).toBeGreaterThan(0);
    expect(b.unlinked_devices).toEqual([{ device: pv.id, measure: 'rooftop-pv' }]);
  });
});

describe.skipIf(!haveChromium)('dashboard in headless Chromium', () => {
  let browser: Browser;
  let session: string;
  const shots = tempDir('netzero-dashboard-');

  const evaluate = async <T,>(expression: string): Promise<T> => {
    const r = await browser.cdp.send<{ result: { value: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>(
      'Runtime.evaluate',
      { expression, returnByValue: true, awaitPromise: true },
      session,
    );
    if (r.exceptionDetails) throw new Error(`page evaluate failed: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  };
  const readPage = () => evaluate<PageState>(READ_PAGE);
  const pageProblems = () =>
    browser.cdp.events
      .filter((e) => e.sessionId === session)
      .filter(
        (e) =>
          e.method === 'Runtime.exceptionThrown' ||
          (e.method === 'Runtime.consoleAPICalled' && ['error', 'warning'].includes(String(e.params.type))) ||
          (e.method === 'Log.entryAdded' && (e.params.entry as { level?: string }).level === 'error'),
      )
      .map((e) => JSON.stringify(e.params).slice(0, 500));

  beforeAll(async () => {
    browser = await launchChromium();
    const { targetId } = await browser.cdp.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    ({ sessionId: session } = await browser.cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true }));
    await browser.cdp.send('Runtime.enable', {}, session);
    await browser.cdp.send('Log.enable', {}, session);
    await browser.cdp.send('Page.enable', {}, session);
    await browser.cdp.send('Emulation.setDeviceMetricsOverride', { width: WIDTH, height: HEIGHT, deviceScaleFactor: 1, mobile: false }, session);
    await browser.cdp.send('Page.navigate', { url: `${svc.base}/` }, session);
    await waitFor(
      'the dashboard to load, connect live and draw its charts',
      async () => {
        const s = await readPage();
        return s.loaded && s.live === 'live' && s.charts['chart-stream']!.rendered && s.charts['chart-sector']!.rendered && s.budget.loaded;
      },
      20_000,
      100,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\npage: ${JSON.stringify(await readPage().catch(() => null))}\nproblems: ${pageProblems().join('\n')}`);
    });
  });

  afterAll(async () => {
    // the browser goes first: it holds the live (SSE) connection open
    await browser?.close();
  });

  it('shows the same numbers as GET /api/summary, formatted', async () => {
    const page = await readPage();
    const s = await summary();
    expect(page.text.avoided).toBe(fmt(s.avoided_tco2e, 3));
    expect(page.text.avoided).toMatch(/^\d{1,3}(,\d{3})*\.\d{3}$/);
    expect(page.text.inventory).toBe(fmt(s.inventory_tco2e, 3));
    expect(page.text['pv-kwh']).toBe(fmt(s.energy_kwh.pv, 1));
    expect(page.text['pv-kwh']).toBe('1,234.5');
    expect(page.text['consumption-kwh']).toBe(fmt(s.energy_kwh.consumption, 1));
    expect(page.text['ev-kwh']).toBe(fmt(s.energy_kwh.ev_charging, 1));
    expect(page.text['biogas-kwh']).toBe(fmt(s.energy_kwh.biogas_generation, 1));
    expect(page.text['generation-kwh']).toBe(fmt(s.energy_kwh.generation, 1));
    expect(page.text['methane-t']).toBe(fmt(s.methane_t, 3));
    expect(page.text['quality-ok']).toBe(fmt(s.quality.ok!, 0));
    expect(page.text['quality-implausible']).toBe(fmt(s.quality.implausible!, 0));
    // never netted: both accounts are shown, each with its own value
    expect(Number(page.values.avoided)).toBe(s.avoided_tco2e);
    expect(Number(page.values.inventory)).toBe(s.inventory_tco2e);
    // sold as carbon credits: its own card (non-zero here), with the reason on hover
    expect(s.sold_as_credits_tco2e).toBeGreaterThan(0);
    expect(page.soldHidden).toBe(false);
    expect(page.text.sold).toBe(fmt(s.sold_as_credits_tco2e, 3));
    expect(Number(page.values.sold)).toBe(s.sold_as_credits_tco2e);
    expect(page.soldTitle).toMatch(/not claimed by the city/i);
  });

  it('charts all five streams, with no "method pending" left', async () => {
    const page = await readPage();
    const s = await summary();
    expect(page.streamChart!.categories).toEqual(STREAM_LABELS.map(([, label]) => label));
    expect(page.streamChart!.values).toEqual(STREAM_LABELS.map(([k]) => s.by_stream[k]));
    expect(s.by_stream.electricity_saving).toBeGreaterThan(0);
    expect(page.bodyText).not.toMatch(/method pending|method not in this version/i);
  });

  it('shows the period in Asia/Taipei, the provisional badge and the grid factors used', async () => {
    const page = await readPage();
    const s = await summary();
    const from = DateTime.fromISO(s.from, { setZone: true });
    expect(page.text.period).toContain(`${from.day} ${from.toFormat('LLL yyyy', { locale: 'en-US' })} 00:00`);
    expect(page.text.period).toContain('Asia/Taipei');
    expect(page.provisionalHidden).toBe(!s.provisional);
    if (s.provisional) expect(page.provisionalTitle).toMatch(/not published yet; the latest published one stands in/);
    // one row per year of the energy, from `grid_factors`
    expect(page.factorRows.map((r) => r[0])).toEqual(s.grid_factors.map((f) => f.id));
    expect(page.factorRows.map((r) => r[1])).toEqual(s.grid_factors.map((f) => String(f.year)));
    expect(page.factorRows.map((r) => r[2])).toEqual(s.grid_factors.map((f) => fmt(f.kgco2e_per_kwh, 3)));
    expect(page.factorRows.map((r) => r[3]!.startsWith('provisional'))).toEqual(s.grid_factors.map((f) => f.provisional));
    // every factor version used: id, value, unit; and the GWP set
    expect(page.factorsUsed.map((f) => f.id)).toEqual(s.factors.map((f) => f.id));
    expect(page.factorsUsed.map((f) => f.text)).toEqual(s.factors.map((f) => `${f.id}${f.value} ${f.unit}`));
    expect(page.text['gwp-set']).toBe(s.gwp_set.toUpperCase());
  });

  it('shows the budget period, its status and the metered measures of GET /api/budget', async () => {
    const page = await readPage();
    const b = await budget();
    expect(page.budget.errorHidden).toBe(true);
    expect(page.text['budget-period']).toBe('2027–2028');
    expect(page.budget.status).toBe(b.period_status);
    if (b.period_status === 'before_period') {
      expect(page.budget.statusText).toContain(`before the period`);
      expect(page.budget.statusText).toContain(`progress shown for ${b.year} against the 2028 targets`);
    }
    const metered = meteredMeasures(b);
    expect(metered.length).toBeGreaterThan(0);
    expect(metered.some((m) => m.id === 'grid-factor')).toBe(false);
    expect(page.budget.rows.map((r) => r.id)).toEqual(metered.map((m) => m.id));
    expect(page.budget.rows.map((r) => r.zh)).toEqual(metered.map((m) => m.name_zh));
    expect(page.budget.rows.map((r) => r.en)).toEqual(metered.map((m) => m.name_en));
    expect(page.budget.rows.map((r) => r.devices)).toEqual(metered.map((m) => String(m.devices)));
    expect(page.budget.rows.map((r) => r.achieved)).toEqual(metered.map((m) => fmt(m.achieved_tco2e, 3)));
    expect(page.budget.rows.map((r) => Number(r.achievedValue))).toEqual(metered.map((m) => m.achieved_tco2e));
    expect(page.budget.rows.map((r) => r.targetToDate)).toEqual(metered.map((m) => fmt(m.target_to_date_tco2e, 0)));
    expect(page.budget.rows.map((r) => r.projected)).toEqual(metered.map((m) => fmt(m.projected_year_end_tco2e, 3)));
    expect(page.budget.rows.map((r) => r.progress)).toEqual(metered.map((m) => (m.progress_pct === null ? '—' : `${fmt(m.progress_pct, 2)} %`)));
    // the measures sold as carbon credits (Neimen) carry the marker, the others do not
    expect(page.budget.rows.map((r) => r.sold !== null)).toEqual(metered.map((m) => m.sold_as_credits || m.sold_tco2e > 0));
    expect(metered.some((m) => m.sold_as_credits)).toBe(true);
    // the PV linked to a measure outside the budget is listed briefly
    expect(page.budget.unlinkedHidden).toBe(false);
    expect(page.budget.unlinked).toEqual(b.unlinked_devices.map((u) => `${u.device} → ${u.measure}`));
  });

  it("shows the saving meter's measure with a non-zero achieved value", async () => {
    const page = await readPage();
    const m = (await budget()).measures.find((x) => x.id === SAVING_MEASURE)!;
    const row = page.budget.rows.find((r) => r.id === SAVING_MEASURE)!;
    expect(row).toBeDefined();
    expect(row.zh).toBe('公部門節電');
    expect(row.en).toBe('Public-sector electricity saving');
    expect(row.devices).toBe('1');
    expect(Number(row.achievedValue)).toBeGreaterThan(0);
    expect(Number(row.achievedValue)).toBe(m.achieved_tco2e);
    expect(row.achieved).toBe(fmt(m.achieved_tco2e, 3));
    expect(Number(row.progressValue)).toBe(m.progress_pct);
    expect(row.sold).toBeNull();
    // the other metered measures have no device linked: nothing achieved
    for (const r of page.budget.rows.filter((x) => x.id !== SAVING_MEASURE)) expect(Number(r.achievedValue), r.id!).toBe(0);
  });

  it('draws both ECharts charts and loads nothing from outside', async () => {
    const page = await readPage();
    for (const id of ['chart-stream', 'chart-sector']) {
      const c = page.charts[id]!;
      expect(c.canvases + c.svgs, id).toBeGreaterThan(0);
      expect(c.width, id).toBeGreaterThan(200);
      expect(c.height, id).toBeGreaterThan(200);
    }
    expect(page.externalRefs).toEqual([]);
    expect(pageProblems()).toEqual([]);
  });

  it('updates in place from the live feed when a new reading arrives', async () => {
    const before = await summary();
    await publish(pv, [{ ts: t3, seq: 3, energy_kwh: 13_580.1 + 100 }]);
    const after = await waitFor('the new reading in the summary', async () => {
      const s = await summary();
      return s.energy_kwh.pv > before.energy_kwh.pv ? s : null;
    }, 10_000);
    await waitFor('the page to follow', async () => {
      const page = await readPage();
      return page.text['pv-kwh'] === fmt(after.energy_kwh.pv, 1) && page.text.avoided === fmt(after.avoided_tco2e, 3) && page.source === 'live';
    }, 10_000);
    expect((await readPage()).live).toBe('live');
  });

  it('saves a screenshot', async () => {
    // let the chart animations settle before the picture
    await new Promise((r) => setTimeout(r, 800));
    const height = await evaluate<number>('Math.ceil(document.documentElement.scrollHeight)');
    const shot = await browser.cdp.send<{ data: string }>(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width: WIDTH, height: Math.max(height, HEIGHT), scale: 1 } },
      session,
    );
    const file = path.join(shots, 'dashboard.png');
    fs.writeFileSync(file, Buffer.from(shot.data, 'base64'));
    console.log(`dashboard screenshot: ${file}`);
    const png = fs.readFileSync(file);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('fits a phone-width screen without the page scrolling sideways', async () => {
    const narrow = 390;
    await browser.cdp.send('Emulation.setDeviceMetricsOverride', { width: narrow, height: 844, deviceScaleFactor: 1, mobile: true }, session);
    // the charts follow their containers (ResizeObserver); wide tables scroll inside their own box
    await waitFor('the charts to fit the narrow screen', async () => {
      const page = await readPage();
      return page.charts['chart-stream']!.width <= narrow && page.charts['chart-sector']!.width <= narrow;
    }, 5_000);
    await new Promise((r) => setTimeout(r, 500));
    const widths = await evaluate<{ doc: number; view: number; budget: number }>(
      `({ doc: document.documentElement.scrollWidth, view: document.documentElement.clientWidth,
          budget: document.querySelector('[data-testid="budget"]').getBoundingClientRect().right })`,
    );
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    expect(widths.budget).toBeLessThanOrEqual(narrow);
    const height = await evaluate<number>('Math.ceil(document.documentElement.scrollHeight)');
    const shot = await browser.cdp.send<{ data: string }>(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width: narrow, height, scale: 1 } },
      session,
    );
    const file = path.join(shots, 'dashboard-narrow.png');
    fs.writeFileSync(file, Buffer.from(shot.data, 'base64'));
    console.log(`dashboard screenshot (narrow): ${file}`);
    expect(pageProblems()).toEqual([]);
  });
});
