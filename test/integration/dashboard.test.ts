import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { registerDevice, startService, tempDir, waitFor, type Registered, type RunningService } from '../helpers/service.js';

/**
 * The energy office dashboard (`GET /`) against the real service: a PV inverter and a smart meter
 * publish over MQTT, then headless Chromium (Debian's, driven over the DevTools protocol with `ws`,
 * no extra dependency) loads the page and the rendered DOM must show what `GET /api/summary` says,
 * the charts must have drawn, the live feed must be connected and update the page in place.
 */

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard.test: skipping the browser checks: ${CHROMIUM} is absent (Debian package "chromium")`);

const TZ = 'Asia/Taipei';
const WIDTH = 1400;
const HEIGHT = 1000;

interface Summary {
  from: string;
  to: string;
  avoided_tco2e: number;
  inventory_tco2e: number;
  by_stream: Record<string, number>;
  by_sector: Record<string, number>;
  energy_kwh: { pv: number; biogas_generation: number; ev_charging: number; consumption: number };
  methane_t: number;
  provisional: boolean;
  factors: Array<{ id: string; year: number; kgco2e_per_kwh: number; provisional: boolean }>;
  quality: Record<string, number>;
}

/** What the page must show: en-US, fixed decimals, thousands separators. */
const fmt = (x: number, decimals: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(Math.abs(x) < 0.5 * 10 ** -decimals ? 0 : x);

let svc: RunningService;
let pv: Registered;
let meter: Registered;
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
  provisionalTitle: string;
  charts: Record<string, { rendered: boolean; canvases: number; svgs: number; width: number; height: number }>;
  factorRows: string[][];
  externalRefs: string[];
}

/** Read back what the page rendered (the live DOM after its scripts ran). */
const READ_PAGE = `(() => {
  const q = (id) => document.querySelector('[data-testid="' + id + '"]');
  const ids = ['avoided', 'inventory', 'pv-kwh', 'consumption-kwh', 'ev-kwh', 'biogas-kwh', 'methane-t', 'period', 'live-state',
    'quality-ok', 'quality-reset', 'quality-wrap', 'quality-implausible', 'methods-pending'];
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
    charts,
    factorRows: [...document.querySelectorAll('[data-testid="factor-row"]')].map((tr) => [...tr.cells].map((c) => c.textContent.trim())),
    externalRefs,
  };
})()`;

beforeAll(async () => {
  svc = await startService();
  pv = await registerDevice(svc, { kind: 'pv_inverter', site: 'kh-school-01', sector: 'residential_commercial', measure: 'rooftop-pv', name: 'School rooftop PV' });
  meter = await registerDevice(svc, { kind: 'smart_meter', site: 'kh-school-01', sector: 'residential_commercial', name: 'School main meter' });
  await publish(pv, [
    { ts: t1, seq: 1, energy_kwh: 12_345.6 },
    { ts: t2, seq: 2, energy_kwh: 13_580.1 },
  ]);
  await publish(meter, [
    { ts: t1, seq: 1, import_kwh: 500 },
    { ts: t2, seq: 2, import_kwh: 620.25 },
  ]);
  await waitFor('PV and consumption in this month', async () => {
    const s = await summary();
    return s.energy_kwh.pv > 0 && s.energy_kwh.consumption > 0;
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

  it('has metered PV energy this month to show', async () => {
    const s = await summary();
    expect(s.energy_kwh.pv).toBeCloseTo(1234.5, 3);
    expect(s.avoided_tco2e).toBeGreaterThan(0);
    expect(s.inventory_tco2e).toBeGreaterThan(0);
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
        return s.loaded && s.live === 'live' && s.charts['chart-stream']!.rendered && s.charts['chart-sector']!.rendered;
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
    expect(page.text['methane-t']).toBe(fmt(s.methane_t, 3));
    expect(page.text['quality-ok']).toBe(fmt(s.quality.ok!, 0));
    expect(page.text['quality-implausible']).toBe(fmt(s.quality.implausible!, 0));
    // never netted: both accounts are shown, each with its own value
    expect(Number(page.values.avoided)).toBe(s.avoided_tco2e);
    expect(Number(page.values.inventory)).toBe(s.inventory_tco2e);
  });

  it('shows the period in Asia/Taipei, the provisional badge and the grid factors used', async () => {
    const page = await readPage();
    const s = await summary();
    const from = DateTime.fromISO(s.from, { setZone: true });
    expect(page.text.period).toContain(`${from.day} ${from.toFormat('LLL yyyy', { locale: 'en-US' })} 00:00`);
    expect(page.text.period).toContain('Asia/Taipei');
    expect(page.provisionalHidden).toBe(!s.provisional);
    if (s.provisional) expect(page.provisionalTitle).toMatch(/not published yet; the latest published one stands in/);
    expect(page.factorRows.map((r) => r[0])).toEqual(s.factors.map((f) => f.id));
    expect(page.factorRows.map((r) => r[2])).toEqual(s.factors.map((f) => fmt(f.kgco2e_per_kwh, 3)));
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
});
