import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium, screenshot, watchedPage, type WatchedPage } from '../helpers/browser.js';
import { connectClient } from '../helpers/mqtt-abuse.js';
import { registerDevice, startService, waitFor, type RunningService } from '../helpers/service.js';

/**
 * The operator page (`/operators`) in Debian's Chromium (playwright-core) against the real service: zh-TW by
 * default and English one click away (remembered under `netzero.lang`); an operator of site-a logs in and
 * sees site-a's devices only (site-b's is neither in the table nor reachable); registers a device from the
 * page and the `mosquitto_pub` line it shows, run with the real mosquitto_pub, stores a reading; a payload
 * rejected over MQTT (MQTT.js) shows up with its reason within seconds, its raw payload as text; rotating from
 * the page ends the session using the old secret (CONNACK 5 for it after), the new one works; disabling
 * refuses the device with the reason and keeps its readings; a CSV upload shows its progress and the report.
 * No console errors and no failed requests; screenshots in test-output/screenshots/.
 */

const exec = promisify(execFile);
const haveMosquittoPub = fs.existsSync('/usr/bin/mosquitto_pub');

let svc: RunningService;
let browser: Browser;
let w: WatchedPage;
let opA: { id: string; secret: string };
const clients: MqttClient[] = [];

async function connect(id: string, secret: string): Promise<MqttClient> {
  const c = await connectClient(svc.ports.mqtt!, { username: id, password: secret, clientId: id, connectTimeout: 5000 });
  clients.push(c);
  return c;
}
const refusedCode = (id: string, secret: string) =>
  connect(id, secret).then(
    (c) => {
      c.end(true);
      return 0;
    },
    (err: { code?: number }) => err.code,
  );
const closed = (c: MqttClient) => new Promise<void>((resolve) => (c.disconnected ? resolve() : c.once('close', () => resolve())));
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

const page = () => w.page;
const text = async (testid: string) => (await page().locator(`[data-testid="${testid}"]`).first().textContent())?.trim() ?? '';
const row = (id: string) => page().locator(`tr[data-device="${id}"]`);

describe.skipIf(!haveChromium)('the operator page', () => {
  beforeAll(async () => {
    svc = await startService();
    opA = (await svc.api<{ id: string; secret: string }>('POST', '/api/operators', { id: 'op-a', name: '旗津太陽能', sites: ['site-a'] })).body;
    await svc.api('POST', '/api/operators', { id: 'op-b', name: 'Other', sites: ['site-b'] });
    await registerDevice(svc, { kind: 'pv_inverter', site: 'site-b', sector: 'residential_commercial', id: 'pv-other' });
    await registerDevice(svc, { kind: 'smart_meter', site: 'site-a', sector: 'residential_commercial', id: 'sm-a1', name: '一號電表', params: { programme: 'school-ems' } });
    browser = await launchChromium();
    w = await watchedPage(browser);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await browser?.close();
    await svc?.stop();
  });

  it('is zh-TW by default, logs an operator in and shows only its sites\' devices', async () => {
    await page().goto(`${svc.base}/operators`);
    await page().waitForSelector('body[data-loaded="true"]');
    expect(await page().getAttribute('html', 'lang')).toBe('zh-TW');
    expect(await page().title()).toContain('設備營運者');
    expect(await text('login-submit')).toBe('登入');
    await page().fill('[data-testid="login-id"]', opA.id);
    await page().fill('[data-testid="login-secret"]', opA.secret);
    await page().click('[data-testid="login-submit"]');
    await row('sm-a1').waitFor();
    expect(await text('who')).toContain('旗津太陽能（op-a）');
    expect(await page().locator('tr[data-device]').count()).toBe(1);
    expect(await row('pv-other').count()).toBe(0);
    await expect.poll(() => row('sm-a1').textContent()).toContain('智慧電表');
    expect(await row('sm-a1').textContent()).toContain('school-ems');
    // the page's session cookie is HttpOnly: the page's script cannot read it
    expect(await page().evaluate(() => document.cookie)).toBe('');
    // the API behind the page, with the page's own session cookie, refuses the other site's device
    const cookie = (await page().context().cookies()).find((c) => c.name === 'netzero_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const headers = { cookie: `netzero_session=${cookie.value}`, 'content-type': 'application/json' };
    expect((await fetch(`${svc.base}/api/operators/devices/pv-other`, { headers })).status).toBe(404);
    expect((await fetch(`${svc.base}/api/devices/pv-other/disable`, { method: 'POST', headers, body: '{"reason":"not mine"}' })).status).toBe(404);
    expect((await fetch(`${svc.base}/api/devices/pv-other/secret`, { method: 'POST', headers: { cookie: headers.cookie } })).status).toBe(404);
  });

  it('registers a device from the page: the secret once, and a mosquitto_pub line that works', async () => {
    await page().selectOption('[data-testid="reg-kind"]', 'pv_inverter');
    expect(await page().inputValue('[data-testid="reg-site"]')).toBe('site-a');
    await page().selectOption('[data-testid="reg-sector"]', 'residential_commercial');
    await page().fill('[data-testid="reg-params"]', '{"nameplate_kw": 50}');
    await page().click('[data-testid="reg-submit"]');
    await page().locator('[data-testid="reg-mosquitto"]').waitFor();
    const id = await text('reg-id');
    const secret = await text('reg-secret');
    const line = await text('reg-mosquitto');
    expect(id).toMatch(/^pv-[0-9a-f]{8}$/);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(line).toContain(`-p ${svc.ports.mqtt} `);
    expect(line).toContain(`-t 'netzero/v1/site-a/${id}/telemetry'`);
    await screenshot(page(), 'operators-registered');
    await row(id).waitFor();
    if (haveMosquittoPub) {
      await exec('sh', ['-c', line]);
      const readings = await waitFor('the reading sent with mosquitto_pub', async () => {
        const r = await svc.api<Array<{ seq: number; fields: { energy_kwh: number } }>>('GET', `/api/readings?device=${id}`);
        return r.body.length > 0 ? r.body : null;
      }, 10_000);
      expect(readings[0]).toMatchObject({ seq: 1, fields: { energy_kwh: 1234.5 } });
    }
    // the secret is not shown again anywhere: the detail never has it
    await row(id).click();
    await page().locator('[data-testid="detail-topic"]').waitFor();
    expect(await page().locator('[data-testid="detail"]').textContent()).not.toContain(secret);
  });

  it('shows a payload rejected over MQTT with its reason and raw payload (as text) within seconds', async () => {
    const dev = await svc.api<Array<{ id: string }>>('GET', '/api/devices');
    const id = dev.body.find((d) => d.id.startsWith('pv-') && d.id !== 'pv-other')!.id;
    const secret = (await svc.api<{ secret: string }>('POST', `/api/devices/${id}/secret`)).body.secret;
    await row(id).click();
    const c = await connect(id, secret);
    const started = Date.now();
    await c.publishAsync(`netzero/v1/site-a/${id}/telemetry`, JSON.stringify({ ts: minutesAgo(5), seq: 2, energy_kwh: '<img src=x onerror=alert(1)>' }), { qos: 1 });
    await page().locator('[data-testid="rejection"]').first().waitFor({ timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(8000);
    const rejection = await page().locator('[data-testid="rejection"]').first().textContent();
    expect(rejection).toContain('energy_kwh');
    expect(rejection).toMatch(/must be a finite number/);
    expect(await text('raw')).toContain('<img src=x onerror=alert(1)>');
    expect(await page().locator('[data-testid="detail"] img').count()).toBe(0);
    await waitFor('the rejected count', async () => (await row(id).locator('[data-testid="counts"]').textContent())?.replace(/\s/g, '') === '1/1/0', 8000);
    await screenshot(page(), 'operators-rejection');
    c.end(true);
  });

  it('rotates from the page: the old session ends, the old secret is refused, the new one works', async () => {
    const id = 'sm-a1';
    const secret = (await svc.api<{ secret: string }>('POST', `/api/devices/${id}/secret`)).body.secret;
    const old = await connect(id, secret);
    const gone = closed(old);
    await row(id).click();
    await page().waitForSelector(`[data-testid="detail"][data-device="${id}"]`);
    await page().click('[data-testid="rotate"]');
    await page().click('[data-testid="rotate-confirm"]');
    await page().locator('[data-testid="new-secret"]').waitFor();
    const fresh = await text('new-secret');
    expect(fresh).not.toBe(secret);
    await gone;
    expect(await refusedCode(id, secret)).toBe(5);
    const c = await connect(id, fresh);
    await c.publishAsync(`netzero/v1/site-a/${id}/telemetry`, JSON.stringify({ ts: minutesAgo(10), seq: 1, import_kwh: 500 }), { qos: 1 });
    c.end(true);
    expect((await svc.api<unknown[]>('GET', `/api/readings?device=${id}`)).body).toHaveLength(1);
  });

  it('disables from the page with a reason (refused, history kept) and enables again', async () => {
    const id = 'sm-a1';
    const secret = (await svc.api<{ secret: string }>('POST', `/api/devices/${id}/secret`)).body.secret;
    await page().fill('[data-testid="disable-reason"]', '電表更換中');
    await page().click('[data-testid="disable"]');
    await page().locator('[data-testid="detail-disabled"]').waitFor();
    expect(await text('detail-disabled')).toContain('電表更換中');
    expect(await text('detail-status')).toBe('已停用');
    expect(await refusedCode(id, secret)).toBe(5);
    const list = (await svc.api<Array<{ errors: Array<{ field: string; reason: string }> }>>('GET', `/api/quarantine?device=${id}`)).body;
    expect(list[0]!.errors[0]).toMatchObject({ field: 'device', reason: expect.stringContaining('電表更換中') });
    expect((await svc.api<unknown[]>('GET', `/api/readings?device=${id}`)).body).toHaveLength(1);
    await waitFor('the row says disabled', async () => (await row(id).getAttribute('data-status')) === 'disabled', 8000);
    await screenshot(page(), 'operators-disabled');
    await page().click('[data-testid="enable"]');
    await waitFor('the row says enabled', async () => (await row(id).getAttribute('data-status')) !== 'disabled', 8000);
    expect(await refusedCode(id, secret)).toBe(0);
  });

  it('uploads a CSV backfill in slices with a progress bar, then the report with rejected rows by line', async () => {
    const id = 'sm-a1';
    const start = Date.now() - 30 * 86_400_000;
    const lines = ['ts,import_kwh'];
    for (let i = 0; i < 1200; i++) lines.push(`${new Date(start + i * 900_000).toISOString()},${(100 + i * 0.5).toFixed(1)}`);
    lines[701] = `${new Date(start + 700 * 900_000).toISOString()},not-a-number`; // line 702 of the file
    await page().selectOption('[data-testid="upload-device"]', id);
    await page().setInputFiles('[data-testid="upload-file"]', { name: 'backfill.csv', mimeType: 'text/csv', buffer: Buffer.from(`${lines.join('\n')}\n`) });
    await page().click('[data-testid="upload-submit"]');
    await page().locator('[data-testid="upload-summary"]').waitFor({ timeout: 30_000 });
    expect(await page().getAttribute('[data-testid="upload-progress"]', 'data-done')).toBe('1200');
    expect(await text('upload-progress-text')).toBe('已送出 1,200／1,200 列');
    expect(await text('upload-summary')).toBe('匯入 1,200 列：新增 1,199、重複 0、衝突 0、拒絕 1');
    const rejected = page().locator('[data-testid="upload-rejected"] tr');
    expect(await rejected.count()).toBe(1);
    expect(await rejected.first().textContent()).toContain('702');
    expect((await svc.api<unknown[]>('GET', `/api/readings?device=${id}&limit=5000`)).body).toHaveLength(1 + 1199);
    await screenshot(page(), 'operators-upload');
  });

  it('switches to English and back, remembered under netzero.lang', async () => {
    await page().click('[data-testid="lang-switch"]');
    expect(await page().getAttribute('html', 'lang')).toBe('en');
    expect(await page().title()).toContain('Operators');
    await expect.poll(() => text('register')).toContain('Register a device');
    await expect.poll(() => row('sm-a1').textContent()).toContain('Smart meter');
    expect(await page().evaluate(() => localStorage.getItem('netzero.lang'))).toBe('en');
    await page().reload();
    await row('sm-a1').waitFor();
    expect(await page().getAttribute('html', 'lang')).toBe('en');
    await row('sm-a1').click();
    await page().locator('[data-testid="detail-topic"]').waitFor();
    await screenshot(page(), 'operators-en');
    await page().click('[data-testid="lang-switch"]');
    expect(await page().getAttribute('html', 'lang')).toBe('zh-TW');
    await expect.poll(() => row('sm-a1').textContent()).toContain('智慧電表');
    await page().setViewportSize({ width: 1400, height: 900 });
    await screenshot(page(), 'operators-zh-TW');
    expect(w.problems).toEqual([]);
  });
});
