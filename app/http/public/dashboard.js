// Energy office dashboard: plain browser JavaScript, no build step. Reads GET /api/summary once, then
// follows GET /api/live (Server-Sent Events, `event: summary`) and updates the page in place.
// Charts use ECharts 5 served by this server at /vendor/echarts.min.js.
/* global window, document, getComputedStyle, ResizeObserver, fetch, EventSource, setInterval, setTimeout */
(function () {
  'use strict';

  const LOCALE = 'en-US';
  const STREAMS = [
    { key: 'pv', label: 'PV' },
    { key: 'biogas', label: 'Biogas' },
    { key: 'ev_charging', label: 'EV charging' },
    { key: 'electricity_saving', label: 'Electricity saving' },
  ];
  const STREAM_NAMES = { pv: 'PV', biogas: 'biogas', ev_charging: 'EV charging', electricity_saving: 'electricity saving' };
  const SECTORS = [
    { key: 'industry', label: '工業 industry' },
    { key: 'residential_commercial', label: '住商 residential & commercial' },
    { key: 'transport', label: '運輸 transport' },
    { key: 'environment', label: '環境 environment' },
    { key: 'agriculture', label: '農業 agriculture' },
    { key: 'forestry', label: '林業 forestry' },
  ];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const FONT = getComputedStyle(document.documentElement).getPropertyValue('--font').trim() || 'sans-serif';

  const formatters = {};
  /** Fixed decimals with thousands separators; a value that rounds to zero is shown as 0 (never "-0.000"). */
  function fmt(x, decimals) {
    if (typeof x !== 'number' || !isFinite(x)) return '—';
    if (Math.abs(x) < 0.5 * Math.pow(10, -decimals)) x = 0;
    let f = formatters[decimals];
    if (!f) f = formatters[decimals] = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    return f.format(x);
  }
  const tco2e = function (x) { return fmt(x, 3); };
  const kwh = function (x) { return fmt(x, 1); };

  function el(testid) {
    return document.querySelector('[data-testid="' + testid + '"]');
  }

  function setValue(testid, value, text) {
    const node = el(testid);
    if (!node) return;
    node.textContent = text;
    node.setAttribute('data-value', String(value));
  }

  /** Local date and time of an ISO 8601 timestamp with offset, as the server wrote it (its time zone). */
  function parseLocal(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.exec(iso || '');
    if (!m) return null;
    return { y: +m[1], mo: +m[2], d: +m[3], h: m[4], mi: m[5], s: m[6] || '00', offset: m[7] === 'Z' ? '+00:00' : m[7] };
  }
  function zoneName(offset) {
    return offset === '+08:00' || offset === '+0800' ? 'Asia/Taipei' : 'UTC' + offset;
  }
  function formatLocal(p) {
    return p.d + ' ' + MONTHS[p.mo - 1] + ' ' + p.y + ' ' + p.h + ':' + p.mi;
  }
  function formatPeriod(from, to) {
    const a = parseLocal(from);
    const b = parseLocal(to);
    if (!a || !b) return from + ' – ' + to;
    return formatLocal(a) + ' – ' + formatLocal(b) + ' (' + zoneName(b.offset) + ')';
  }
  /** The browser's clock shown in the service's time zone (offset taken from the summary). */
  function clockIn(offset) {
    const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset || '+08:00');
    const minutes = m ? (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +m[3]) : 480;
    const t = new Date(Date.now() + minutes * 60000);
    const pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return pad(t.getUTCHours()) + ':' + pad(t.getUTCMinutes()) + ':' + pad(t.getUTCSeconds());
  }

  // ---- charts ---------------------------------------------------------------------------------------

  const charts = {};
  function makeChart(testid) {
    const node = el(testid);
    if (!node || typeof window.echarts === 'undefined') return null;
    const chart = window.echarts.init(node, null, { renderer: 'canvas' });
    chart.on('finished', function () { node.setAttribute('data-rendered', 'true'); });
    const onResize = function () {
      chart.resize();
      if (current) chart.setOption({ xAxis: { splitNumber: splitFor(chart) } });
    };
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(onResize).observe(node);
    else window.addEventListener('resize', onResize);
    return chart;
  }

  function baseOption() {
    return {
      animationDuration: 400,
      animationDurationUpdate: 0,
      textStyle: { fontFamily: FONT, color: '#1c2530' },
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        valueFormatter: function (v) { return tco2e(v) + ' tCO2e'; },
      },
    };
  }

  /** Fewer value-axis ticks on a narrow chart so the numbers never run into each other. */
  function splitFor(chart) {
    return chart.getWidth() < 420 ? 3 : 5;
  }

  function valueAxis(chart) {
    return {
      type: 'value',
      name: 'tCO2e',
      nameTextStyle: { color: '#5b6775' },
      splitNumber: splitFor(chart),
      axisLabel: { color: '#5b6775', fontFamily: FONT },
    };
  }

  /** Horizontal bars: a category per row, labels (which can be long) on the left. */
  function categoryAxis(items) {
    return {
      type: 'category',
      inverse: true, // first item on top
      data: items.map(function (x) { return x.label; }),
      // the font is set here too: ECharts sizes the grid for the labels (containLabel) with the axis label's own font
      axisLabel: { color: '#39434f', fontFamily: FONT, interval: 0 },
    };
  }

  function renderStreamChart(s) {
    if (!charts.stream) charts.stream = makeChart('chart-stream');
    if (!charts.stream) return;
    const pending = s.methods_pending || [];
    const opt = baseOption();
    opt.grid = { left: 8, right: 110, top: 28, bottom: 8, containLabel: true };
    opt.yAxis = categoryAxis(STREAMS);
    opt.xAxis = valueAxis(charts.stream);
    opt.series = [
      {
        type: 'bar',
        name: 'Avoided',
        barMaxWidth: 28,
        data: STREAMS.map(function (x) {
          const v = (s.by_stream && s.by_stream[x.key]) || 0;
          return { value: v, itemStyle: { color: pending.indexOf(x.key) >= 0 ? '#b7c2cc' : '#1f8a5b' } };
        }),
        label: {
          show: true,
          position: 'right',
          color: '#1c2530',
          fontFamily: FONT,
          formatter: function (p) { return pending.indexOf(STREAMS[p.dataIndex].key) >= 0 ? 'method pending' : tco2e(p.value); },
        },
      },
    ];
    charts.stream.setOption(opt);
    const note = el('methods-pending');
    if (note) {
      note.hidden = pending.length === 0;
      note.textContent = pending.length
        ? 'Method not in this version yet (counted as 0): ' + pending.map(function (k) { return STREAM_NAMES[k] || k; }).join(', ') + '.'
        : '';
    }
  }

  function renderSectorChart(s) {
    if (!charts.sector) charts.sector = makeChart('chart-sector');
    if (!charts.sector) return;
    const opt = baseOption();
    opt.grid = { left: 8, right: 64, top: 28, bottom: 8, containLabel: true };
    opt.yAxis = categoryAxis(SECTORS);
    opt.xAxis = valueAxis(charts.sector);
    opt.series = [
      {
        type: 'bar',
        name: 'Avoided',
        barMaxWidth: 26,
        itemStyle: { color: '#2f6fb3' },
        data: SECTORS.map(function (x) { return (s.by_sector && s.by_sector[x.key]) || 0; }),
        label: { show: true, position: 'right', color: '#1c2530', fontFamily: FONT, formatter: function (p) { return tco2e(p.value); } },
      },
    ];
    charts.sector.setOption(opt);
  }

  // ---- tables ---------------------------------------------------------------------------------------

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function renderFactors(s) {
    const tbody = document.querySelector('[data-testid="factors"] tbody');
    if (!tbody) return;
    tbody.textContent = '';
    const factors = s.factors || [];
    if (factors.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, 'No grid factor applied yet: no metered electricity this period.', 'empty').colSpan = 4;
      tbody.appendChild(tr);
      return;
    }
    factors.forEach(function (f) {
      const tr = document.createElement('tr');
      tr.setAttribute('data-testid', 'factor-row');
      cell(tr, f.id, 'id');
      cell(tr, String(f.year), 'num');
      cell(tr, fmt(f.kgco2e_per_kwh, 3), 'num');
      cell(tr, f.provisional ? 'provisional (stand-in: ' + f.year + ' not published yet)' : 'published', 'status');
      tbody.appendChild(tr);
    });
  }

  function renderQuality(s) {
    const q = s.quality || {};
    ['ok', 'reset', 'wrap', 'implausible'].forEach(function (k) {
      const v = typeof q[k] === 'number' ? q[k] : NaN;
      setValue('quality-' + k, v, fmt(v, 0));
    });
  }

  // ---- the page -------------------------------------------------------------------------------------

  let lastTo = -Infinity;
  let current = null;

  function apply(s, source) {
    if (!s || typeof s !== 'object') return;
    const to = Date.parse(s.to);
    // A summary older than the one shown (e.g. a cached live one vs. a fresh fetch) is not applied.
    if (isFinite(to) && to < lastTo) return;
    if (isFinite(to)) lastTo = to;
    current = s;

    const e = s.energy_kwh || {};
    setValue('avoided', s.avoided_tco2e, tco2e(s.avoided_tco2e));
    setValue('inventory', s.inventory_tco2e, tco2e(s.inventory_tco2e));
    setValue('pv-kwh', e.pv, kwh(e.pv));
    setValue('consumption-kwh', e.consumption, kwh(e.consumption));
    setValue('ev-kwh', e.ev_charging, kwh(e.ev_charging));
    setValue('biogas-kwh', e.biogas_generation, kwh(e.biogas_generation));
    setValue('methane-t', s.methane_t, tco2e(s.methane_t));

    const period = el('period');
    period.textContent = formatPeriod(s.from, s.to);
    period.setAttribute('data-from', s.from);
    period.setAttribute('data-to', s.to);
    const to_ = parseLocal(s.to);
    el('updated').textContent = clockIn(to_ ? to_.offset : '+08:00');

    const badge = el('provisional');
    badge.hidden = !s.provisional;
    const standIns = (s.factors || []).filter(function (f) { return f.provisional; });
    badge.title = s.provisional
      ? 'Provisional: the grid emission factor of ' +
        (standIns.map(function (f) { return f.year; }).join(', ') || 'this year') +
        ' is not published yet; the latest published one stands in' +
        (standIns.length ? ' (' + standIns.map(function (f) { return f.id + ', ' + fmt(f.kgco2e_per_kwh, 3) + ' kgCO2e/kWh'; }).join('; ') + ')' : '') +
        '. Totals will be restated when it is published.'
      : '';

    renderFactors(s);
    renderQuality(s);
    renderStreamChart(s);
    renderSectorChart(s);

    showError(null);
    document.body.setAttribute('data-loaded', 'true');
    document.body.setAttribute('data-source', source);
  }

  function showError(message) {
    const box = el('error');
    if (!box) return;
    box.hidden = !message;
    box.textContent = message || '';
  }

  function setLive(state) {
    const node = el('live-state');
    node.setAttribute('data-state', state);
    node.textContent = state === 'live' ? 'live' : state === 'reconnecting' ? 'reconnecting…' : 'connecting…';
  }

  function loadOnce() {
    return fetch('/api/summary', { headers: { accept: 'application/json' }, cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (s) { apply(s, 'summary'); })
      .catch(function (err) {
        if (!current) showError('Could not load /api/summary: ' + err.message + '. Waiting for the live feed…');
      });
  }

  let source = null;
  let retryDelay = 1000;
  function connect() {
    if (typeof EventSource === 'undefined') {
      setLive('reconnecting');
      setInterval(loadOnce, 10000); // no SSE in this browser: poll instead
      return;
    }
    source = new EventSource('/api/live');
    source.onopen = function () {
      retryDelay = 1000;
      setLive('live');
    };
    source.addEventListener('summary', function (ev) {
      setLive('live');
      try {
        apply(JSON.parse(ev.data), 'live');
      } catch (err) {
        console.warn('bad live summary', err);
      }
    });
    source.onerror = function () {
      setLive('reconnecting');
      // The browser retries by itself while CONNECTING; once CLOSED (e.g. an HTTP error) we retry.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      }
    };
  }

  if (typeof window.echarts === 'undefined') console.warn('ECharts did not load; charts are off');
  setLive('connecting');
  loadOnce();
  connect();
})();
