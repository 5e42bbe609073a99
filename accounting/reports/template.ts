/**
 * The monthly report's HTML template (Eta, autoEscape on: `<%= %>` escapes, `<%~ %>` is raw and only
 * used for the server-rendered chart SVGs). Kept as a string constant so tsc compiles it into dist and
 * nothing is read from disk at runtime. `it` is the `HtmlView` built in html.ts.
 */
export const REPORT_TEMPLATE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="netzero-meters monthly report">
<title><%= it.m.title %></title>
<style>
  @page { size: A4; margin: 14mm 12mm 16mm 12mm; }
  * { box-sizing: border-box; }
  html { background: #e9ecef; }
  body {
    margin: 0 auto; padding: 14mm 12mm; max-width: 210mm; background: #fff; color: #1d2329;
    font-family: "Noto Sans TC", "Noto Sans CJK TC", "PingFang TC", "Microsoft JhengHei", "Helvetica Neue", Arial, sans-serif;
    font-size: 9.5pt; line-height: 1.4;
    -webkit-print-color-adjust: exact; print-color-adjust: exact;
  }
  h1 { font-size: 17pt; margin: 0; line-height: 1.2; }
  h2 { font-size: 12pt; margin: 16px 0 6px; padding-bottom: 3px; border-bottom: 2px solid #1f5f8b; color: #1f5f8b; }
  h2 .zh { font-weight: normal; color: #4a5a68; margin-left: 6px; }
  h3 { font-size: 10pt; margin: 0 0 4px; }
  p { margin: 4px 0; }
  .subtitle { font-size: 12pt; color: #4a5a68; margin: 2px 0 6px; }
  .meta { color: #4a5a68; font-size: 8.5pt; }
  .meta span + span::before { content: " · "; }
  header { border-bottom: 3px solid #1f5f8b; padding-bottom: 8px; margin-bottom: 10px; }
  .muted { color: #7a8793; }
  .small { font-size: 8pt; }
  .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 8pt; }
  .box { border: 1px solid #c9d2da; border-radius: 4px; padding: 8px 10px; margin: 8px 0; break-inside: avoid; }
  .rev { background: #f4f7fa; }
  .rev.restated { border: 2px solid #c77700; background: #fff6e5; }
  .rev.restated h3 { color: #8a5200; }
  .rev ul { margin: 4px 0 0; padding-left: 18px; }
  .rev li { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 8pt; }
  .warn { border: 2px solid #b42318; background: #fdecea; color: #7a1a12; }
  .warn h3 { color: #b42318; }
  .warn-soft { border-color: #c77700; background: #fff6e5; color: #5c3b00; }
  .ledgers { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; margin: 8px 0 2px; }
  .ledger { border: 1px solid #c9d2da; border-top: 5px solid #2e7d32; border-radius: 4px; padding: 8px 10px; break-inside: avoid; }
  .ledger.inventory { border-top-color: #6a3d9a; }
  .ledger .label { font-size: 8.5pt; text-transform: uppercase; letter-spacing: .04em; color: #4a5a68; }
  .ledger .big { font-size: 20pt; font-weight: 700; line-height: 1.15; margin: 2px 0; }
  .ledger .big .unit { font-size: 10pt; font-weight: normal; color: #4a5a68; }
  .ledger table { width: 100%; margin-top: 4px; }
  .ledger td { padding: 1px 0; border: 0; }
  .never-netted { text-align: center; font-size: 8.5pt; color: #4a5a68; border: 1px dashed #9aa7b2; border-radius: 4px; padding: 4px 8px; margin: 4px 0 8px; }
  .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; break-inside: avoid; }
  .chart { border: 1px solid #e1e6ea; border-radius: 4px; padding: 4px 6px; }
  .chart svg { width: 100%; height: auto; display: block; }
  .chart .empty { padding: 30px 0; text-align: center; color: #7a8793; }
  table { border-collapse: collapse; width: 100%; }
  th, td { padding: 3px 5px; border-bottom: 1px solid #e1e6ea; vertical-align: top; text-align: left; }
  th { background: #eef2f5; font-size: 8pt; font-weight: 600; border-bottom: 1px solid #9aa7b2; }
  thead { display: table-header-group; }
  tfoot td { font-weight: 700; border-top: 1px solid #9aa7b2; border-bottom: 0; }
  tr { break-inside: avoid; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  td.n { white-space: nowrap; }
  .nowrap { white-space: nowrap; }
  td.id { overflow-wrap: anywhere; min-width: 24mm; }
  tr.empty td { color: #9aa7b2; }
  table.data { font-size: 8.5pt; }
  table.devices { font-size: 7.5pt; }
  table.devices td, table.devices th { padding: 2px 3px; }
  table.factors { font-size: 7.5pt; }
  table.factors td.src { word-break: break-word; }
  .tag { display: inline-block; font-size: 7pt; padding: 0 4px; border-radius: 3px; margin: 1px 1px 0 0; white-space: nowrap; }
  .tag.sold { background: #fde7c8; color: #7a4500; }
  .tag.prov { background: #fdecea; color: #b42318; }
  .tag.status-published { background: #e3f1e4; color: #1e5b22; }
  .tag.status-provisional, .tag.status-target_path, .tag.status-unknown { background: #fdecea; color: #b42318; }
  .legend { font-size: 8pt; color: #4a5a68; margin-top: 4px; }
  footer { margin-top: 18px; padding-top: 6px; border-top: 1px solid #c9d2da; font-size: 8pt; color: #4a5a68; }
  .break { break-before: page; }
  @media print {
    html { background: #fff; }
    body { margin: 0; padding: 0; max-width: none; }
    a { color: inherit; text-decoration: none; }
  }
</style>
</head>
<body>
<header>
  <h1><%= it.m.title %></h1>
  <div class="subtitle" lang="zh-Hant"><%= it.m.subtitle_zh %></div>
  <div class="meta">
    <span>Month <strong><%= it.m.month %></strong> (<%= it.m.tz %>)</span>
    <span>Revision <strong><%= it.m.revision.revision %></strong> of <%= it.m.revision.of %></span>
    <span><%= it.m.totals.devices %> device(s)</span>
    <span>CH4 GWP set <%= it.m.gwp_set.toUpperCase() %></span>
    <span>Generated <%= it.m.generated_at_local %></span>
  </div>
</header>

<section class="box rev<%= it.m.revision.revision > 1 ? ' restated' : '' %>">
<% if (it.m.revision.revision > 1) { %>
  <h3>Revision <%= it.m.revision.revision %> of <%= it.m.revision.of %> — this report restates revision <%= it.m.revision.revision - 1 %> · 修正版</h3>
<% } else { %>
  <h3>Revision <%= it.m.revision.revision %> of <%= it.m.revision.of %> — first computation of this month</h3>
<% } %>
  <p>Computed at <strong><%= it.m.revision.computed_at_local %></strong> · trigger: <strong><%= it.m.revision.trigger_label %></strong> (<span class="mono"><%= it.m.revision.trigger %></span>)</p>
<% if (!it.m.revision.latest) { %>
  <p><strong>A newer revision (<%= it.m.revision.of %>) of this month exists.</strong> This document shows revision <%= it.m.revision.revision %> as it was computed.</p>
<% } %>
<% if (it.m.revision.change_lines.length > 0) { %>
  <p>What changed from revision <%= it.m.revision.revision - 1 %> (<%= it.m.revision.change_lines.length %> change(s) on <%= it.m.revision.changed_devices %> device(s)):</p>
  <ul>
<% it.changeLines.forEach(function (line) { %>
    <li><%= line %></li>
<% }) %>
  </ul>
<% if (it.changeLinesMore > 0) { %>
  <p class="small muted">… and <%= it.changeLinesMore %> more change(s): the JSON format lists them all.</p>
<% } %>
<% } else if (it.m.revision.revision > 1) { %>
  <p class="muted">No per-device changes were recorded for this revision.</p>
<% } %>
</section>

<% if (it.m.provisional.any) { %>
<section class="box warn">
  <h3>Provisional results · 暫定值</h3>
<% it.m.provisional.messages.forEach(function (msg) { %>
  <p><%= msg %></p>
<% }) %>
  <p class="small">Provisional device rows (<%= it.m.provisional.devices.length %>): <span class="mono"><%= it.m.provisional.devices.join(', ') %></span></p>
</section>
<% } %>

<% if (it.m.warnings.length > 0) { %>
<section class="box warn warn-soft">
  <h3>Check before sending</h3>
  <ul>
<% it.m.warnings.forEach(function (w) { %>
    <li><%= w %></li>
<% }) %>
  </ul>
</section>
<% } %>

<h2>Headline numbers <span class="zh">主要數據</span></h2>
<div class="ledgers">
  <div class="ledger avoided">
    <div class="label">Avoided emissions — reduction ledger · 減量帳</div>
    <div class="big"><%= it.fmt.t(it.m.totals.avoided_claimed_tco2e) %> <span class="unit">tCO2e claimed</span></div>
    <table>
      <tr><td>Sold as carbon credits (shown, not claimed by the city)</td><td class="n"><%= it.fmt.t(it.m.totals.avoided_sold_tco2e) %> t</td></tr>
      <tr><td>All metered avoided tonnes (claimed + sold)</td><td class="n"><%= it.fmt.t(it.m.totals.avoided_tco2e) %> t</td></tr>
      <tr><td>Methane treated (CH4)</td><td class="n"><%= it.fmt.t(it.m.totals.methane_t) %> t</td></tr>
    </table>
    <div class="legend">Compared with the budget measures' reduction targets.</div>
  </div>
  <div class="ledger inventory">
    <div class="label">Emissions inventory — inventory ledger · 排放盤查帳</div>
    <div class="big"><%= it.fmt.t(it.m.totals.inventory_tco2e) %> <span class="unit">tCO2e emitted</span></div>
    <table>
      <tr><td>Metered electricity import</td><td class="n"><%= it.fmt.kwh(it.m.totals.consumption_kwh) %> kWh</td></tr>
      <tr><td>Method</td><td class="n">import × location-based grid factor</td></tr>
    </table>
    <div class="legend">Compared with the sector caps of the carbon budget.</div>
  </div>
</div>
<div class="never-netted"><strong>The two ledgers are never netted</strong> against each other: avoided tonnes do not reduce the inventory, and tonnes sold as carbon credits are not claimed by the city. · 減量與排放分別列帳，不互相抵銷。</div>

<table class="data">
  <thead><tr><th>Stream</th><th class="n">Energy (kWh)</th><th class="n">Avoided (tCO2e, claimed + sold)</th></tr></thead>
  <tbody>
<% it.streams.forEach(function (s) { %>
    <tr><td><%= s.label %> <span class="muted" lang="zh-Hant"><%= s.zh %></span></td><td class="n"><%= it.fmt.kwh(s.energy) %></td><td class="n"><%= it.fmt.t(s.avoided) %></td></tr>
<% }) %>
<% if (it.streams.length === 0) { %>
    <tr class="empty"><td colspan="3">No device rows this month.</td></tr>
<% } %>
  </tbody>
</table>

<h2>Avoided tonnes by sector and by stream <span class="zh">各部門及各類別減量</span></h2>
<div class="charts">
  <div class="chart">
    <h3>Avoided by sector (tCO2e)</h3>
<% if (it.charts.sector) { %><%~ it.charts.sector %><% } else { %><div class="empty">No avoided tonnes this month.</div><% } %>
  </div>
  <div class="chart">
    <h3>Avoided by stream (tCO2e)</h3>
<% if (it.charts.stream) { %><%~ it.charts.stream %><% } else { %><div class="empty">No avoided tonnes this month.</div><% } %>
  </div>
</div>
<div class="legend">Bars stack the tonnes the city claims and the tonnes sold as carbon credits (shown, not claimed).</div>

<h2>By sector <span class="zh">部門</span></h2>
<table class="data">
  <thead><tr><th>Sector</th><th class="n">Devices</th><th class="n">Avoided claimed (t)</th><th class="n">Sold as credits (t)</th><th class="n">Inventory (t)</th></tr></thead>
  <tbody>
<% it.m.sectors.forEach(function (s) { %>
    <tr<%~ s.devices === 0 ? ' class="empty"' : '' %>><td><span lang="zh-Hant"><%= s.name_zh || '' %></span> <%= s.name_en || s.sector %> <span class="mono muted"><%= s.sector %></span></td><td class="n"><%= s.devices %></td><td class="n"><%= it.fmt.t(s.avoided_claimed_tco2e) %></td><td class="n"><%= it.fmt.t(s.avoided_sold_tco2e) %></td><td class="n"><%= it.fmt.t(s.inventory_tco2e) %></td></tr>
<% }) %>
  </tbody>
  <tfoot><tr><td>Total</td><td class="n"><%= it.m.totals.devices %></td><td class="n"><%= it.fmt.t(it.m.totals.avoided_claimed_tco2e) %></td><td class="n"><%= it.fmt.t(it.m.totals.avoided_sold_tco2e) %></td><td class="n"><%= it.fmt.t(it.m.totals.inventory_tco2e) %></td></tr></tfoot>
</table>

<h2>By budget measure <span class="zh">減量措施</span></h2>
<table class="data">
  <thead><tr><th>Measure</th><th class="n">Devices</th><th class="n">Avoided claimed (t)</th><th class="n">Sold as credits (t)</th><th class="n">Annual target (t)</th><th class="n">Target ÷ 12 (t, reference)</th></tr></thead>
  <tbody>
<% it.m.measures.forEach(function (x) { %>
    <tr><td><% if (x.measure === null) { %><em>No budget measure</em> <span class="muted" lang="zh-Hant">未連結措施</span> <span class="small muted">(inventory only)</span><% } else { %><span lang="zh-Hant"><%= x.name_zh || '' %></span> <%= x.name_en || '' %> <span class="mono muted"><%= x.measure %></span><% if (x.name_en === null) { %> <span class="tag prov">not in budget</span><% } %><% } %></td><td class="n"><%= x.devices %></td><td class="n"><%= it.fmt.t(x.avoided_claimed_tco2e) %></td><td class="n"><%= it.fmt.t(x.avoided_sold_tco2e) %></td><td class="n"><%= x.target_annual_tco2e === null ? '—' : it.fmt.t0(x.target_annual_tco2e) %></td><td class="n"><%= x.target_month_ref_tco2e === null ? '—' : it.fmt.t0(x.target_month_ref_tco2e) %></td></tr>
<% }) %>
<% if (it.m.measures.length === 0) { %>
    <tr class="empty"><td colspan="6">No device rows this month.</td></tr>
<% } %>
  </tbody>
</table>
<div class="legend">Targets are the budget's annual reductions for each measure city-wide; target ÷ 12 is shown for reference only. Metered devices cover part of a measure.</div>

<section class="break">
<h2>By device <span class="zh">各設備明細</span></h2>
<table class="devices">
  <thead><tr><th>Device<br>site · kind · stream</th><th>Sector<br>measure</th><th class="n">Energy<br>kWh</th><th class="n">Import<br>kWh</th><th class="n">CH4<br>t</th><th class="n">Avoided<br>t</th><th class="n">Claimed<br>t</th><th class="n">Inventory<br>t</th><th>Flags</th><th class="n">Intervals<br>ok/reset/wrap/impl.</th></tr></thead>
  <tbody>
<% it.m.devices.forEach(function (d) { %>
    <tr><td class="id"><strong><%= d.device %></strong><br><span class="muted"><%= d.site %> · <%= d.kind %> · <%= d.stream === null ? 'no stream' : d.stream %></span></td><td class="id"><%= it.sectorLabel(d.sector) %><br><span class="muted"><%= d.measure === null ? '—' : d.measure %></span></td><td class="n"><%= it.fmt.kwh(d.energy_kwh) %></td><td class="n"><%= it.fmt.kwh(d.consumption_kwh) %></td><td class="n"><%= it.fmt.t(d.methane_t) %></td><td class="n"><%= it.fmt.t(d.avoided_tco2e) %></td><td class="n"><%= it.fmt.t(d.claimed_avoided_tco2e) %></td><td class="n"><%= it.fmt.t(d.inventory_tco2e) %></td><td><% if (d.sold_as_credits) { %><span class="tag sold">sold as credits</span><% } %><% if (d.provisional) { %><span class="tag prov">provisional</span><% } %></td><td class="n"><%= it.fmt.int(d.quality.ok) %>/<%= d.quality.reset %>/<%= d.quality.wrap %>/<%= d.quality.implausible %></td></tr>
<% }) %>
<% if (it.m.devices.length === 0) { %>
    <tr class="empty"><td colspan="10">No device rows this month.</td></tr>
<% } %>
  </tbody>
</table>
<div class="legend">Avoided = all tonnes the device avoided; Claimed = what the city may claim (0 when sold as carbon credits). Inventory = import × grid factor. Implausible intervals are flagged and left out of every total.</div>
</section>

<section class="break">
<h2>Factor versions used <span class="zh">使用之係數版本</span></h2>
<table class="factors">
  <thead><tr><th>Factor version</th><th class="n">Value</th><th>Unit</th><th class="n">Data year</th><th>Status</th><th>Published</th><th class="n">Rows</th><th>Source</th></tr></thead>
  <tbody>
<% it.m.factors.forEach(function (f) { %>
    <tr><td class="mono"><%= f.id %></td><td class="n"><%= f.value === null ? '—' : f.value %></td><td><%= f.unit || '—' %></td><td class="n"><%= f.data_year === null ? '—' : f.data_year %></td><td><span class="tag status-<%= f.status || 'unknown' %>"><%= f.status || 'not in registry' %></span></td><td class="nowrap"><%= f.published_at || '—' %></td><td class="n"><%= f.devices %></td><td class="src"><%= f.source || '—' %><% if (f.note) { %><br><span class="muted"><%= f.note %></span><% } %></td></tr>
<% }) %>
<% if (it.m.factors.length === 0) { %>
    <tr class="empty"><td colspan="8">No factor was used this month.</td></tr>
<% } %>
  </tbody>
</table>

<h2>Interval quality <span class="zh">資料品質</span></h2>
<table class="data" style="width:auto">
  <thead><tr><th>Intervals</th><th class="n">Count</th><th>Meaning</th></tr></thead>
  <tbody>
    <tr><td>ok</td><td class="n"><%= it.fmt.int(it.m.quality.ok) %></td><td>delta between consecutive readings</td></tr>
    <tr><td>reset</td><td class="n"><%= it.fmt.int(it.m.quality.reset) %></td><td>counter went down (restart or meter replacement): counted from zero</td></tr>
    <tr><td>wrap</td><td class="n"><%= it.fmt.int(it.m.quality.wrap) %></td><td>counter rolled over its declared maximum</td></tr>
    <tr><td>implausible</td><td class="n"><%= it.fmt.int(it.m.quality.implausible) %></td><td>more than nameplate × hours × 1.2: kept, flagged, left out of totals</td></tr>
  </tbody>
  <tfoot><tr><td>Total</td><td class="n"><%= it.fmt.int(it.m.quality.total) %></td><td></td></tr></tfoot>
</table>

<% if (it.m.notes.length > 0) { %>
<h2>Notes <span class="zh">備註</span></h2>
<ul class="small">
<% it.m.notes.forEach(function (n) { %>
  <li><span class="mono"><%= n.device %></span>: <%= n.note %></li>
<% }) %>
</ul>
<% } %>

<% if (it.m.revision.history.length > 0) { %>
<h2>Revisions of <%= it.m.month %> <span class="zh">修正紀錄</span></h2>
<table class="data" style="width:auto">
  <thead><tr><th class="n">Revision</th><th>Computed at</th><th>Trigger</th><th class="n">Devices changed</th></tr></thead>
  <tbody>
<% it.m.revision.history.forEach(function (h) { %>
    <tr><td class="n"><%= h.revision %><%= h.revision === it.m.revision.revision ? ' (this report)' : '' %></td><td><%= h.computed_at_local %></td><td><%= h.trigger %></td><td class="n"><%= h.changed_devices %></td></tr>
<% }) %>
  </tbody>
</table>
<% } %>
</section>

<footer>
  Generated <%= it.m.generated_at_local %> (<span class="mono"><%= it.m.generated_at %></span>) by netzero-meters from rollup revision <%= it.m.revision.revision %> of <%= it.m.month %>.
  CH4 GWP set: <strong><%= it.m.gwp_set.toUpperCase() %></strong> (one set for the whole report). Grid factors are location-based, by the year the energy flowed.
  Avoided and inventory tonnes are separate ledgers and are never netted; tonnes sold as carbon credits are shown and not claimed.
</footer>
</body>
</html>
`;
