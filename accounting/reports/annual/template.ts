import { REPORT_TEMPLATE } from '../template.js';

/**
 * The annual report's HTML template (Eta, autoEscape on: `<%= %>` escapes, `<%~ %>` is raw and only
 * used for the server-rendered chart SVGs and the style block). The look is the monthly report's: its
 * stylesheet is taken from the monthly template, with a few rules for the annual tables added. A
 * string constant, so tsc compiles it into dist and nothing is read from disk at runtime. `it` is the
 * view built in html.ts.
 */

/** The monthly report's stylesheet (the `<style>` block of its template). */
export const MONTHLY_STYLES: string = (() => {
  const m = /<style>([\s\S]*?)<\/style>/.exec(REPORT_TEMPLATE);
  if (!m?.[1]) throw new Error('the monthly report template has no <style> block to share');
  return m[1];
})();

export const ANNUAL_STYLES = `
  h2 .sub { font-weight: normal; color: #4a5a68; margin-left: 6px; }
  h1 .en { display: block; font-size: 12pt; font-weight: normal; color: #4a5a68; margin-top: 3px; }
  .en { color: #4a5a68; }
  td .en, th .en { display: block; font-weight: normal; font-size: 7pt; }
  table.measures, table.coverage, table.months, table.sectors { font-size: 7.5pt; }
  table.measures td, table.measures th { padding: 2px 3px; }
  table.measures td.name { min-width: 52mm; }
  table.measures td.agency { max-width: 34mm; }
  table.months td, table.months th, table.sectors td, table.sectors th, table.coverage td, table.coverage th { padding: 2px 4px; }
  h2 { break-after: avoid; }
  th.n { white-space: nowrap; }
  td .en .mono { font-size: 6.5pt; }
  tr.total td { font-weight: 700; border-top: 1px solid #9aa7b2; }
  .ledger td .en { display: block; font-size: 7pt; }
  footer { break-inside: avoid; }
  table.factors td.mono { font-size: 6.8pt; min-width: 40mm; max-width: 46mm; overflow-wrap: anywhere; }
  tr.group { break-after: avoid; page-break-after: avoid; }
  tr.group td { background: #f4f7fa; font-weight: 600; color: #1f5f8b; }
  tr.notrolled td { color: #9aa7b2; font-style: italic; }
  .chart.wide { break-inside: avoid; margin: 6px 0; }
  .chart.wide svg { width: 100%; height: auto; display: block; }
  .bar { display: inline-block; height: 7px; background: #1f5f8b; vertical-align: middle; margin-left: 4px; }
  .kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin: 6px 0; }
  .kpi { border: 1px solid #c9d2da; border-radius: 4px; padding: 5px 8px; break-inside: avoid; }
  .kpi .v { font-size: 13pt; font-weight: 700; }
  .kpi .l { font-size: 7.5pt; color: #4a5a68; }
  .def { font-size: 8pt; color: #4a5a68; margin: 4px 0 6px; }
  .rev li.month { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
  @media print { .chart.wide { page-break-inside: avoid; } }
`;

export const ANNUAL_TEMPLATE = `<!DOCTYPE html>
<html lang="zh-Hant-TW">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="netzero-meters annual report">
<title><%= it.m.title_zh %> · <%= it.m.title %></title>
<style>
<%~ it.styles %>
</style>
</head>
<body>
<header>
  <h1><%= it.m.title_zh %><span class="en" lang="en"><%= it.m.title %></span></h1>
  <div class="meta">
    <span>年度 Year <strong><%= it.m.year %></strong> (<%= it.m.tz %>)</span>
    <span>第 <strong><%= it.m.revision.revision %></strong> 版 Revision <strong><%= it.m.revision.revision %></strong> of <%= it.m.revision.of %></span>
    <span>已結算月份 Months rolled up <strong><%= it.m.period.months_rolled_up.length %></strong> / 12</span>
    <span><%= it.m.totals.devices %> 設備 device(s)</span>
    <span>CH4 GWP <%= it.m.gwp_set.toUpperCase() %></span>
  </div>
  <div class="meta"><span>碳預算 Budget: <%= it.m.budget.name_zh %> · <%= it.m.budget.name_en %><% if (!it.m.budget.year_in_period) { %> (<%= it.m.year %> 不在預算期間 is outside the budget period <%= it.m.budget.period.from %> – <%= it.m.budget.period.to %>)<% } %></span></div>
</header>

<section class="box rev<%= it.m.revision.revision > 1 ? ' restated' : '' %>">
<% if (it.m.revision.revision > 1) { %>
  <h3>第 <%= it.m.revision.revision %> 版（修正版）· Revision <%= it.m.revision.revision %> of <%= it.m.revision.of %>: restates revision <%= it.m.revision.revision - 1 %></h3>
<% } else { %>
  <h3>第 1 版 · Revision 1 of <%= it.m.revision.of %>: first report of <%= it.m.year %></h3>
<% } %>
  <p>計算時間 Computed at <strong><%= it.m.revision.created_at_local %></strong> from the latest rollup revision of each month then rolled up.</p>
<% if (!it.m.revision.latest) { %>
  <p><strong>已有較新版本 A newer revision (<%= it.m.revision.of %>) of this report exists.</strong> This document shows revision <%= it.m.revision.revision %> as it was computed.</p>
<% } %>
<% if (it.m.revision.change_lines.length > 0) { %>
  <p>與第 <%= it.m.revision.revision - 1 %> 版之差異 What changed from revision <%= it.m.revision.revision - 1 %>:</p>
  <ul>
<% it.m.revision.change_lines.forEach(function (line) { %>
    <li class="month"><%= line %></li>
<% }) %>
  </ul>
<% } %>
</section>

<% if (it.m.provisional.any) { %>
<section class="box warn">
  <h3>暫定值 Provisional results</h3>
<% it.m.provisional.messages.forEach(function (msg) { %>
  <p><%= msg %></p>
<% }) %>
  <p class="small">暫定月份 Provisional months: <span class="mono"><%= it.m.provisional.months.join(', ') %></span></p>
</section>
<% } %>

<% if (it.m.warnings.length > 0) { %>
<section class="box warn warn-soft">
  <h3>發送前請確認 Check before sending</h3>
  <ul>
<% it.m.warnings.forEach(function (w) { %>
    <li><%= w %></li>
<% }) %>
  </ul>
</section>
<% } %>

<h2>主要數據 <span class="sub" lang="en">Headline numbers</span></h2>
<div class="ledgers">
  <div class="ledger avoided">
    <div class="label">減量帳 Avoided emissions — reduction ledger</div>
    <div class="big"><%= it.fmt.t(it.m.totals.avoided_claimed_tco2e) %> <span class="unit">tCO2e 主張 claimed</span></div>
    <table>
      <tr><td>已售碳權（列示，不主張）<span class="en">Sold as carbon credits (shown, not claimed)</span></td><td class="n"><%= it.fmt.t(it.m.totals.avoided_sold_tco2e) %> t</td></tr>
      <tr><td>全部計量減量<span class="en">All metered avoided tonnes (claimed + sold)</span></td><td class="n"><%= it.fmt.t(it.m.totals.avoided_tco2e) %> t</td></tr>
      <tr><td>預算措施目標<span class="en">Budget measures' targets (<%= it.m.budget.target_year %>)</span></td><td class="n"><%= it.fmt.t0(it.m.measure_totals.target_tco2e) %> t</td></tr>
    </table>
    <div class="legend">與預算措施之減量目標比較 Compared with the budget measures' targets.</div>
  </div>
  <div class="ledger inventory">
    <div class="label">排放盤查帳 Emissions inventory — inventory ledger</div>
    <div class="big"><%= it.fmt.t(it.m.totals.inventory_tco2e) %> <span class="unit">tCO2e 排放 emitted</span></div>
    <table>
      <tr><td>計量用電<span class="en">Metered electricity import</span></td><td class="n"><%= it.fmt.kwh(it.m.totals.consumption_kwh) %> kWh</td></tr>
      <tr><td>方法<span class="en">Method</span></td><td class="n">用電 × 電力排放係數<span class="en">import × location-based grid factor</span></td></tr>
    </table>
    <div class="legend">與各部門碳預算上限比較 Compared with the sector caps.</div>
  </div>
</div>
<div class="kpis">
  <div class="kpi"><div class="v"><%= it.m.period.months_rolled_up.length %> / 12</div><div class="l">已結算月份 months rolled up</div></div>
  <div class="kpi"><div class="v"><%= it.pct1(it.m.coverage.share) %></div><div class="l">資料涵蓋率 coverage (device-hours with data)</div></div>
  <div class="kpi"><div class="v"><%= it.fmt.int(it.m.quality.total) %></div><div class="l">區間數 intervals (<%= it.fmt.int(it.m.quality.implausible) %> held out)</div></div>
  <div class="kpi"><div class="v"><%= it.m.review.open.intervals %></div><div class="l">待審區間 held out, not reviewed</div></div>
</div>
<div class="never-netted"><strong>減量與排放分別列帳，不互相抵銷。</strong> The two ledgers are never netted: avoided tonnes do not reduce the inventory, and tonnes sold as carbon credits are not claimed by the city.</div>

<h2>逐月 <span class="sub" lang="en">Month by month</span></h2>
<div class="chart wide">
  <h3>每月減量 Avoided per month (tCO2e)</h3>
<% if (it.charts.avoided) { %><%~ it.charts.avoided %><% } else { %><div class="empty">本年度無減量 No avoided tonnes this year.</div><% } %>
</div>
<div class="chart wide">
  <h3>每月排放 Inventory per month (tCO2e)</h3>
<% if (it.charts.inventory) { %><%~ it.charts.inventory %><% } else { %><div class="empty">本年度無排放盤查 No inventory this year.</div><% } %>
</div>
<div class="legend">各月份使用之結算版本見下表；「—」為尚未結算之月份。 A month marked "—" is not rolled up and not in the report.</div>
<table class="months data">
  <thead><tr><th>月份<span class="en">Month</span></th><th>結算版本<span class="en">Rollup revision</span></th><th class="n">設備<span class="en">Devices</span></th><th class="n">主張減量 t<span class="en">Avoided claimed</span></th><th class="n">已售碳權 t<span class="en">Sold as credits</span></th><th class="n">排放 t<span class="en">Inventory</span></th><th class="n">用電 kWh<span class="en">Import</span></th></tr></thead>
  <tbody>
<% it.m.months.forEach(function (x) { %>
<% if (x.rolled_up) { %>
    <tr><td class="nowrap"><%= x.month %><% if (x.provisional) { %> <span class="tag prov">暫定 provisional</span><% } %></td><td>第 <%= x.revision %> 版 rev. <%= x.revision %> <span class="muted small">(<%= x.trigger %>)</span></td><td class="n"><%= x.devices %></td><td class="n"><%= it.fmt.t(x.avoided_claimed_tco2e) %></td><td class="n"><%= it.fmt.t(x.avoided_sold_tco2e) %></td><td class="n"><%= it.fmt.t(x.inventory_tco2e) %></td><td class="n"><%= it.fmt.kwh(x.consumption_kwh) %></td></tr>
<% } else { %>
    <tr class="notrolled"><td><%= x.month %></td><td colspan="6">尚未結算 not rolled up</td></tr>
<% } %>
<% }) %>
  </tbody>
  <tfoot><tr><td>合計 Total</td><td></td><td class="n"><%= it.m.totals.devices %></td><td class="n"><%= it.fmt.t(it.m.totals.avoided_claimed_tco2e) %></td><td class="n"><%= it.fmt.t(it.m.totals.avoided_sold_tco2e) %></td><td class="n"><%= it.fmt.t(it.m.totals.inventory_tco2e) %></td><td class="n"><%= it.fmt.kwh(it.m.totals.consumption_kwh) %></td></tr></tfoot>
</table>

<section>
<h2>減量措施 <span class="sub" lang="en">Measures against their targets</span></h2>
<table class="measures">
  <thead><tr><th class="n">#</th><th>措施<span class="en">Measure</span></th><th>主管機關 · 指標<span class="en">Agency · indicator (unit)</span></th><th class="n">設備<span class="en">Devices</span></th><th class="n">主張減量 t<span class="en">Claimed</span></th><th class="n">已售碳權 t<span class="en">Sold</span></th><th class="n">目標 t<span class="en">Target</span></th><th class="n">達成率<span class="en">% of target</span></th></tr></thead>
  <tbody>
<% it.groups.forEach(function (g) { %>
    <tr class="group"><td colspan="8"><%= g.label %></td></tr>
<% g.lines.forEach(function (x) { %>
    <tr<%~ x.devices === 0 ? ' class="empty"' : '' %>><td class="n"><%= x.table12_row === null ? '' : x.table12_row %></td><td class="name"><% if (x.measure === null) { %>未連結措施<span class="en">No measure (inventory only)</span><% } else { %><%= x.name_zh || '' %><span class="en"><%= x.name_en || '' %> · <span class="mono"><%= x.measure %></span><% if (x.sector) { %> · <%= it.sectorLabel(x.sector) %><% } %><% if (x.scope) { %> · scope <%= x.scope %><% } %></span><% } %></td><td class="agency"><%= x.agency_zh || '—' %><% if (x.indicator) { %><span class="en"><%= x.indicator.label_zh %> (<%= x.indicator.unit %>)</span><% } %></td><td class="n"><%= x.devices %></td><td class="n"><%= it.fmt.t(x.avoided_claimed_tco2e) %></td><td class="n"><%= it.fmt.t(x.avoided_sold_tco2e) %></td><td class="n"><%= x.target_tco2e === null ? '—' : it.fmt.t0(x.target_tco2e) %></td><td class="n"><%= x.share_of_target_pct === null ? '—' : it.pct(x.share_of_target_pct) %></td></tr>
<% }) %>
<% if (g.total) { %>
    <tr class="total"><td></td><td>預算措施合計<span class="en">Budget measures, total</span></td><td><span class="en">target: the rows with a sector (the grid-factor row is split over the three allocation rows)</span></td><td></td><td class="n"><%= it.fmt.t(it.m.measure_totals.avoided_claimed_tco2e) %></td><td class="n"><%= it.fmt.t(it.m.measure_totals.avoided_sold_tco2e) %></td><td class="n"><%= it.fmt.t0(it.m.measure_totals.target_tco2e) %></td><td class="n"><%= it.m.measure_totals.share_of_target_pct === null ? '—' : it.pct(it.m.measure_totals.share_of_target_pct) %></td></tr>
<% } %>
<% }) %>
  </tbody>
</table>
<div class="legend">預算之措施（表 12）依序列出，含主管機關、指標與 <%= it.m.budget.target_year %> 年目標；系統另知之措施列於其後，無目標。達成率＝主張減量 ÷ 目標。 The budget's measures (table 12, in order) with the agency, the indicator their formula starts from and the <%= it.m.budget.target_year %> target; then the measures the system knows outside the budget (no target). % of target = claimed ÷ target. Metered devices cover part of a measure city-wide.</div>
</section>

<h2>部門 <span class="sub" lang="en">Sectors: inventory against the caps</span></h2>
<table class="sectors data">
  <thead><tr><th>部門<span class="en">Sector</span></th><th class="n">設備<span class="en">Devices</span></th><th class="n">計量排放 t<span class="en">Metered inventory</span></th><th class="n">部門碳預算 t<span class="en">Cap (<%= it.m.budget.target_year %>)</span></th><th class="n">占上限<span class="en">% of cap</span></th><th class="n">主張減量 t<span class="en">Avoided claimed</span></th><th class="n">已售碳權 t<span class="en">Sold</span></th></tr></thead>
  <tbody>
<% it.m.sectors.forEach(function (s) { %>
    <tr<%~ s.devices === 0 ? ' class="empty"' : '' %>><td><%= s.name_zh || '' %><span class="en"><%= s.name_en || s.sector %></span></td><td class="n"><%= s.devices %></td><td class="n"><%= it.fmt.t(s.inventory_tco2e) %></td><td class="n"><%= s.cap_tco2e === null ? '—' : it.fmt.t0(s.cap_tco2e) %></td><td class="n"><%= s.share_of_cap_pct === null ? '—' : it.pct(s.share_of_cap_pct) %></td><td class="n"><%= it.fmt.t(s.avoided_claimed_tco2e) %></td><td class="n"><%= it.fmt.t(s.avoided_sold_tco2e) %></td></tr>
<% }) %>
  </tbody>
  <tfoot><tr><td>合計 Total</td><td class="n"><%= it.m.totals.devices %></td><td class="n"><%= it.fmt.t(it.m.totals.inventory_tco2e) %></td><td></td><td></td><td class="n"><%= it.fmt.t(it.m.totals.avoided_claimed_tco2e) %></td><td class="n"><%= it.fmt.t(it.m.totals.avoided_sold_tco2e) %></td></tr></tfoot>
</table>
<div class="legend">部門碳預算為 <%= it.m.budget.target_year %> 年各部門上限（表 17）；計量設備僅占部門排放之一小部分。 The cap is the sector's <%= it.m.budget.target_year %> budget (table 17); metered devices are a small part of a sector.</div>

<section>
<h2>資料涵蓋率 <span class="sub" lang="en">Coverage</span></h2>
<p class="def"><%= it.m.coverage.definition %></p>
<p>整體 Overall: <strong><%= it.pct1(it.m.coverage.share) %></strong> (<%= it.fmt.int(it.m.coverage.hours_with_data) %> of <%= it.fmt.int(it.m.coverage.hours_expected) %> device-hours; <%= it.fmt.int(it.m.coverage.hours_in_period) %> hours in the months covered).</p>
<table class="coverage">
  <thead><tr><th>設備<span class="en">Device · site · kind</span></th><th>起算<span class="en">Expected from</span></th><th class="n">應有時數<span class="en">Hours expected</span></th><th class="n">有資料時數<span class="en">Hours with data</span></th><th class="n">涵蓋率<span class="en">Coverage</span></th><th class="n">區間數<span class="en">Intervals</span></th></tr></thead>
  <tbody>
<% it.m.coverage.devices.forEach(function (d) { %>
    <tr><td class="id"><strong><%= d.device %></strong><span class="en"><%= d.site %> · <%= d.kind %></span></td><td class="nowrap"><%= d.expected_from ? d.expected_from.slice(0, 16).replace('T', ' ') : '—' %></td><td class="n"><%= it.fmt.int(d.hours_expected) %></td><td class="n"><%= it.fmt.int(d.hours_with_data) %><%= d.truncated ? ' ≥' : '' %></td><td class="n nowrap"><%= it.pct1(d.share) %><span class="bar" style="width:<%= it.barWidth(d.share) %>px"></span></td><td class="n"><%= it.fmt.int(d.intervals) %></td></tr>
<% }) %>
<% if (it.m.coverage.devices.length === 0) { %>
    <tr class="empty"><td colspan="6">無設備 No device in the months covered.</td></tr>
<% } %>
  </tbody>
</table>

<h2>資料品質 <span class="sub" lang="en">Data quality</span></h2>
<table class="data" style="width:auto">
  <thead><tr><th>區間品質<span class="en">Interval quality</span></th><th class="n">數量<span class="en">Count</span></th><th>說明<span class="en">Meaning</span></th></tr></thead>
  <tbody>
<% it.qualities.forEach(function (q) { %>
    <tr><td class="mono"><%= q.id %></td><td class="n"><%= it.fmt.int(it.m.quality[q.id] || 0) %></td><td><%= q.meaning %></td></tr>
<% }) %>
  </tbody>
  <tfoot><tr><td>合計 Total</td><td class="n"><%= it.fmt.int(it.m.quality.total) %></td><td>summed from the months' rows (an interval counts in the month its end falls in)</td></tr></tfoot>
</table>
<h3 style="margin-top:10px">待審區間 Held-out intervals and their review</h3>
<p class="def"><%= it.m.review.definition %></p>
<table class="data" style="width:auto">
  <thead><tr><th>狀態<span class="en">Status</span></th><th class="n">區間<span class="en">Intervals</span></th><th class="n">kWh</th><th class="n">m³</th><th class="n">參考 tCO2e<span class="en">Indicative</span></th></tr></thead>
  <tbody>
<% it.reviewRows.forEach(function (r) { %>
    <tr><td><%= r.label %></td><td class="n"><%= it.fmt.int(r.f.intervals) %></td><td class="n"><%= it.fmt.kwh(r.f.kwh) %></td><td class="n"><%= it.fmt.kwh(r.f.m3) %></td><td class="n"><%= r.f.indicative_tco2e === null ? '—' : it.fmt.t(r.f.indicative_tco2e) %></td></tr>
<% }) %>
  </tbody>
</table>
<div class="legend">參考 tCO2e＝kWh × <%= it.m.year %> 年電力排放係數<% if (it.m.review.grid_factor) { %> (<span class="mono"><%= it.m.review.grid_factor.id %></span>, <%= it.m.review.grid_factor.value %> kgCO2e/kWh<%= it.m.review.grid_factor.provisional ? ', provisional' : '' %>)<% } %>: a scale only, in no total.</div>
</section>

<section>
<h2>使用之係數版本 <span class="sub" lang="en">Factor versions used</span></h2>
<table class="factors">
  <thead><tr><th>Factor version</th><th class="n">Value</th><th>Unit</th><th class="n">Data year</th><th>Status</th><th class="n">Rows<span class="en">device-months</span></th><th>Source</th></tr></thead>
  <tbody>
<% it.m.factors.forEach(function (f) { %>
    <tr><td class="mono"><%= f.id %></td><td class="n"><%= f.value === null ? '—' : f.value %></td><td><%= f.unit || '—' %></td><td class="n"><%= f.data_year === null ? '—' : f.data_year %></td><td><span class="tag status-<%= f.status || 'unknown' %>"><%= f.status || 'not in registry' %></span></td><td class="n"><%= f.devices %></td><td class="src"><%= f.source || '—' %></td></tr>
<% }) %>
<% if (it.m.factors.length === 0) { %>
    <tr class="empty"><td colspan="7">No factor was used.</td></tr>
<% } %>
  </tbody>
</table>

<h2>本報告之修正紀錄 <span class="sub" lang="en">Revisions of this report</span></h2>
<table class="data">
  <thead><tr><th class="n">版本<span class="en">Revision</span></th><th>計算時間<span class="en">Computed at</span></th><th class="n">月份<span class="en">Months</span></th><th>與前一版之差異<span class="en">What changed from the previous revision</span></th></tr></thead>
  <tbody>
<% it.m.revision.history.forEach(function (h) { %>
    <tr><td class="n"><%= h.revision %><%= h.revision === it.m.revision.revision ? ' (本版 this)' : '' %></td><td class="nowrap"><%= h.created_at_local %></td><td class="n"><%= h.months_rolled_up %></td><td class="small"><% if (h.change_lines.length === 0) { %>第一版 first revision<% } else { %><%= h.change_lines.join('; ') %><% } %></td></tr>
<% }) %>
  </tbody>
</table>
<p class="small">本版使用之月結算版本 Rollup revision of each month in this revision: <span class="mono"><%= it.monthRevisions %></span></p>
</section>

<footer>
  產製 Generated <%= it.m.generated_at_local %> (<span class="mono"><%= it.m.generated_at %></span>) by netzero-meters from annual report revision <%= it.m.revision.revision %> of <%= it.m.year %>.
  CH4 GWP set: <strong><%= it.m.gwp_set.toUpperCase() %></strong>. Grid factors are location-based, by the year the energy flowed.
  Budget: <%= it.m.budget.source %>.
  減量與排放分別列帳，不互相抵銷；已售碳權僅列示，不主張。 Avoided and inventory tonnes are never netted; tonnes sold as carbon credits are shown and not claimed.
</footer>
</body>
</html>
`;
