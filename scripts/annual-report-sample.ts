/**
 * A sample annual report from a year of simulated data, in every format: the demo fleet's device models
 * (devices/simulators/) as real devices, two readings a day for the year (one charger installed in
 * March, one that stops in October), written to a SQLite store and state database in a temp dir, the
 * twelve months rolled up, then `accounting/reports/annual`. README.md's screenshot is page 1 of its PDF:
 *
 *   npx tsx scripts/annual-report-sample.ts 2025 /tmp/annual
 *   pdftoppm -png -r 80 -f 1 -l 1 -singlefile /tmp/annual/annual-2025.pdf docs/annual-report-first-page
 *
 * Needs Chromium, fonts-noto-cjk (scripts/install-system-deps.sh) for the PDF.
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderAnnual, ANNUAL_FORMATS } from '../accounting/reports/annual/index.js';
import { DEMO_DEVICES } from '../devices/simulators/demo-fleet.js';
import { modelFor } from '../devices/simulators/models.js';
import { openHarness } from '../test/helpers/accounts.js';

const year = Number(process.argv[2] ?? 2025);
const outDir = path.resolve(process.argv[3] ?? 'annual-sample');
const STEP_MS = 12 * 3_600_000;
fs.mkdirSync(outDir, { recursive: true });

const h = await openHarness();
try {
  const start = Date.parse(`${year}-01-01T00:00:00+08:00`);
  const end = Date.parse(`${year + 1}-01-01T00:00:00+08:00`);
  for (const d of DEMO_DEVICES) {
    const id = d.id.replace(/^demo-/, 'kh-');
    await h.addDevice({ id, kind: d.kind, site: d.site.replace(/^demo-/, 'kh-'), sector: d.sector, measure: d.measure, params: d.params });
    const model = modelFor(d.kind, id, { ...d.model, commissioned: `${year - 1}-12-01` });
    const from = id === 'kh-scooter-charger' ? Date.parse(`${year}-03-10T00:00:00+08:00`) : start;
    const to = id === 'kh-carpark-charger' ? Date.parse(`${year}-10-20T00:00:00+08:00`) : end;
    const readings = [];
    for (let t = from, seq = 1; t <= to; t += STEP_MS, seq++) readings.push({ device: id, ts: t, seq, ...model.reading(t) });
    for (let i = 0; i < readings.length; i += 1000) await h.write(readings.slice(i, i + 1000));
  }
  for (let m = 1; m <= 12; m++) await h.accounts.rollups.compute(`${year}-${String(m).padStart(2, '0')}`, 'manual');
  const current = await h.accounts.annual.current(year);
  if (!current) throw new Error(`no month of ${year} rolled up`);
  const report = await h.accounts.annual.view(current.report, { tz: h.tz, generatedAt: new Date() });
  for (const format of ANNUAL_FORMATS) {
    const file = path.join(outDir, `annual-${year}.${format}`);
    fs.writeFileSync(file, await renderAnnual(report, format));
    process.stderr.write(`wrote ${file}\n`);
  }
} finally {
  await h.close();
}
