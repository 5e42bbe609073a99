// Energy office dashboard: plain browser JavaScript, no build step. Reads GET /api/summary once, then
// follows GET /api/live (Server-Sent Events, `event: summary`) and updates the page in place.
// The budget panel reads GET /api/budget on load and every 60 s.
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
    { key: 'generation', label: 'Other generation' },
  ];
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
  /** Budget targets: whole tonnes (they come from a report in 萬噸). */
  const tonnes = function (x) { return fmt(x, 0); };
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
      // a narrow plot area (long category labels on a phone) would otherwise print the ticks over each other
      axisLabel: { color: '#5b6775', fontFamily: FONT, hideOverlap: true },
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
    const opt = baseOption();
    opt.grid = { left: 8, right: 72, top: 28, bottom: 8, containLabel: true };
    opt.yAxis = categoryAxis(STREAMS);
    opt.xAxis = valueAxis(charts.stream);
    opt.series = [
      {
        type: 'bar',
        name: 'Avoided',
        barMaxWidth: 28,
        itemStyle: { color: '#1f8a5b' },
        data: STREAMS.map(function (x) {
          const v = (s.by_stream && s.by_stream[x.key]) || 0;
          // electricity saving can be negative (more use than the baseline): its label goes on the left
          return v < 0 ? { value: v, itemStyle: { color: '#b5542d' }, label: { position: 'left' } } : v;
        }),
        label: { show: true, position: 'right', color: '#1c2530', fontFamily: FONT, formatter: function (p) { return tco2e(p.value); } },
      },
    ];
    charts.stream.setOption(opt);
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

  /** Grid factor per year of the energy; a stand-in says which published factor it borrows. */
  function renderGridFactors(s) {
    const tbody = document.querySelector('[data-testid="factors"] tbody');
    if (!tbody) return;
    tbody.textContent = '';
    const grid = s.grid_factors || [];
    if (grid.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, 'No grid factor applied yet: no metered electricity this period.', 'empty').colSpan = 4;
      tbody.appendChild(tr);
      return;
    }
    const versions = {};
    (s.factors || []).forEach(function (f) { versions[f.id] = f; });
    grid.forEach(function (g) {
      const tr = document.createElement('tr');
      tr.setAttribute('data-testid', 'factor-row');
      cell(tr, g.id, 'id');
      cell(tr, String(g.year), 'num');
      cell(tr, fmt(g.kgco2e_per_kwh, 3), 'num');
      const v = versions[g.id];
      const from = v && v.data_year ? ' (' + v.data_year + ' factor)' : '';
      cell(tr, g.provisional ? 'provisional: ' + g.year + ' not published yet; stand-in' + from : 'published', 'status');
      tbody.appendChild(tr);
    });
  }

  /** Every factor version the period's numbers used: id, value, unit. */
  function renderFactorsUsed(s) {
    const list = el('factors-used');
    if (!list) return;
    list.textContent = '';
    const used = s.factors || [];
    if (used.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = 'No factor used yet this period.';
      list.appendChild(li);
    }
    used.forEach(function (f) {
      const li = document.createElement('li');
      li.setAttribute('data-testid', 'factor-used');
      li.setAttribute('data-id', f.id);
      li.title = f.name + (f.variant ? ' · ' + f.variant : '') + (f.data_year ? ' · data year ' + f.data_year : '') + ' · ' + f.status;
      const id = document.createElement('span');
      id.className = 'id';
      id.textContent = f.id;
      const v = document.createElement('span');
      v.className = 'v';
      v.textContent = String(f.value) + ' ' + f.unit;
      li.appendChild(id);
      li.appendChild(v);
      list.appendChild(li);
    });
    const gwp = el('gwp-set');
    if (gwp) {
      gwp.textContent = s.gwp_set ? String(s.gwp_set).toUpperCase() : '—';
      gwp.setAttribute('data-value', s.gwp_set || '');
    }
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
    setValue('generation-kwh', e.generation, kwh(e.generation));
    setValue('methane-t', s.methane_t, tco2e(s.methane_t));
    const sold = typeof s.sold_as_credits_tco2e === 'number' ? s.sold_as_credits_tco2e : 0;
    setValue('sold', sold, tco2e(sold));
    el('sold-card').hidden = sold === 0;
    el('sold-card').parentNode.classList.toggle('has-sold', sold !== 0);

    const period = el('period');
    period.textContent = formatPeriod(s.from, s.to);
    period.setAttribute('data-from', s.from);
    period.setAttribute('data-to', s.to);
    const to_ = parseLocal(s.to);
    el('updated').textContent = clockIn(to_ ? to_.offset : '+08:00');

    const badge = el('provisional');
    badge.hidden = !s.provisional;
    const standIns = (s.grid_factors || []).filter(function (f) { return f.provisional; });
    badge.title = s.provisional
      ? 'Provisional: the grid emission factor of ' +
        (standIns.map(function (f) { return f.year; }).join(', ') || 'this year') +
        ' is not published yet; the latest published one stands in' +
        (standIns.length ? ' (' + standIns.map(function (f) { return f.id + ', ' + fmt(f.kgco2e_per_kwh, 3) + ' kgCO2e/kWh'; }).join('; ') + ')' : '') +
        '. Totals will be restated when it is published.'
      : '';

    renderGridFactors(s);
    renderFactorsUsed(s);
    renderQuality(s);
    renderStreamChart(s);
    renderSectorChart(s);

    showError(null);
    document.body.setAttribute('data-loaded', 'true');
    document.body.setAttribute('data-source', source);
  }

  // ---- the budget panel ------------------------------------------------------------------------------

  const PERIOD_STATUS = {
    before_period: 'before the period',
    in_period: 'in the period',
    after_period: 'after the period',
  };

  function yearOf(date) {
    return String(date || '').slice(0, 4);
  }

  function statusText(b) {
    const targets = 'the ' + b.budget.target_year + ' targets';
    if (b.period_status === 'before_period') return 'progress shown for ' + b.year + ' against ' + targets;
    if (b.period_status === 'after_period') return 'progress shown for ' + b.year + ', after the period, against ' + targets;
    return 'progress for ' + b.year + ' against ' + targets;
  }

  /** Measures the devices can feed: metered and in a sector (the grid-factor row has no sector). */
  function meteredMeasures(b) {
    return (b.measures || []).filter(function (m) { return m.metered === true && m.sector !== null && m.sector !== undefined; });
  }

  function numCell(tr, testid, value, text) {
    const td = cell(tr, text, 'num');
    td.setAttribute('data-testid', testid);
    td.setAttribute('data-value', String(value));
    return td;
  }

  function renderBudget(b) {
    const panel = el('budget');
    const period = el('budget-period');
    period.textContent = yearOf(b.budget.period.from) + '–' + yearOf(b.budget.period.to);
    period.setAttribute('data-from', b.budget.period.from);
    period.setAttribute('data-to', b.budget.period.to);
    period.title = b.budget.name;

    const status = el('budget-status');
    status.setAttribute('data-status', b.period_status);
    status.setAttribute('data-year', String(b.year));
    status.textContent = '';
    const tag = document.createElement('span');
    tag.className = 'period-tag';
    tag.textContent = b.year + ': ' + (PERIOD_STATUS[b.period_status] || b.period_status);
    status.appendChild(tag);
    status.appendChild(document.createTextNode(statusText(b)));

    const sectorNames = {};
    (b.sectors || []).forEach(function (x) { sectorNames[x.id] = x.name_zh; });
    SECTORS.forEach(function (x) { if (!sectorNames[x.key]) sectorNames[x.key] = x.label; });

    const table = document.querySelector('[data-testid="budget-measures"]');
    const tbody = table.querySelector('tbody');
    const tfoot = table.querySelector('tfoot');
    tbody.textContent = '';
    tfoot.textContent = '';
    const measures = meteredMeasures(b);
    if (measures.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, 'This budget has no metered measure.', 'empty').colSpan = 8;
      tbody.appendChild(tr);
    }
    const sum = { achieved: 0, toDate: 0, projected: 0, target: 0, devices: 0 };
    measures.forEach(function (m) {
      const tr = document.createElement('tr');
      tr.setAttribute('data-testid', 'measure-row');
      tr.setAttribute('data-measure', m.id);

      const name = cell(tr, '', 'name');
      const zh = document.createElement('div');
      const zhName = document.createElement('span');
      zhName.className = 'zh';
      zhName.setAttribute('data-testid', 'measure-name-zh');
      zhName.textContent = m.name_zh;
      zh.appendChild(zhName);
      if (m.sold_as_credits || m.sold_tco2e) {
        const mark = document.createElement('span');
        mark.className = 'sold-tag';
        mark.setAttribute('data-testid', 'measure-sold');
        mark.setAttribute('data-value', String(m.sold_tco2e || 0));
        mark.textContent = m.sold_tco2e ? 'sold as credits: ' + tco2e(m.sold_tco2e) + ' t' : 'sold as credits';
        mark.title = 'Sold as carbon credits: the avoided tonnes of this measure' + (m.sold_tco2e ? ' (' + tco2e(m.sold_tco2e) + ' tCO2e to date)' : '') +
          ' are shown but not claimed by the city, so they are not in "achieved".';
        zh.appendChild(mark);
      }
      const en = document.createElement('div');
      en.className = 'en';
      en.setAttribute('data-testid', 'measure-name-en');
      en.textContent = m.name_en;
      const id = document.createElement('div');
      id.className = 'measure-id';
      id.textContent = m.id + (m.stream ? ' · ' + m.stream : '');
      name.appendChild(zh);
      name.appendChild(en);
      name.appendChild(id);

      cell(tr, sectorNames[m.sector] || m.sector, 'opt');
      numCell(tr, 'measure-devices', m.devices, fmt(m.devices, 0));
      numCell(tr, 'measure-achieved', m.achieved_tco2e, tco2e(m.achieved_tco2e));
      numCell(tr, 'measure-target-to-date', m.target_to_date_tco2e, tonnes(m.target_to_date_tco2e));

      const prog = cell(tr, '', 'progress');
      prog.setAttribute('data-testid', 'measure-progress');
      prog.setAttribute('data-value', m.progress_pct === null ? '' : String(m.progress_pct));
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('span');
      const pct = typeof m.progress_pct === 'number' ? m.progress_pct : 0;
      fill.style.width = Math.max(0, Math.min(100, pct)) + '%';
      if (pct > 0) fill.className = 'nonzero';
      bar.appendChild(fill);
      prog.appendChild(bar);
      prog.appendChild(document.createTextNode(m.progress_pct === null ? '—' : fmt(m.progress_pct, 2) + ' %'));

      numCell(tr, 'measure-projected', m.projected_year_end_tco2e, tco2e(m.projected_year_end_tco2e));
      numCell(tr, 'measure-target', m.target_tco2e, tonnes(m.target_tco2e)).className = 'num opt';
      tbody.appendChild(tr);

      sum.achieved += m.achieved_tco2e;
      sum.toDate += m.target_to_date_tco2e;
      sum.projected += m.projected_year_end_tco2e;
      sum.target += m.target_tco2e;
      sum.devices += m.devices;
    });
    if (measures.length > 0) {
      const tr = document.createElement('tr');
      cell(tr, 'Metered measures (' + measures.length + ')');
      cell(tr, '', 'opt');
      cell(tr, fmt(sum.devices, 0), 'num');
      numCell(tr, 'budget-achieved-total', sum.achieved, tco2e(sum.achieved));
      cell(tr, tonnes(sum.toDate), 'num');
      const pct = sum.toDate > 0 ? (sum.achieved / sum.toDate) * 100 : null;
      cell(tr, pct === null ? '—' : fmt(pct, 2) + ' %', 'progress');
      cell(tr, tco2e(sum.projected), 'num');
      cell(tr, tonnes(sum.target), 'num opt');
      tfoot.appendChild(tr);
    }

    const asOf = parseLocal(b.as_of);
    const meta = el('budget-meta');
    meta.textContent =
      'As of ' + (asOf ? formatLocal(asOf) : b.as_of) + ' · ' + fmt((b.elapsed_share_of_year || 0) * 100, 1) + ' % of ' + b.year + ' elapsed' +
      ' · target to date = target × elapsed share; projection = achieved at the same pace to the year end' +
      (b.totals ? ' · all measures of the budget: ' + tonnes(b.totals.target_tco2e) + ' tCO2e in ' + b.budget.target_year : '') +
      '. Tonnes sold as carbon credits are not counted as achieved.';

    const unlinked = el('unlinked-devices');
    const list = b.unlinked_devices || [];
    unlinked.hidden = list.length === 0;
    unlinked.setAttribute('data-count', String(list.length));
    unlinked.textContent = '';
    if (list.length) {
      unlinked.appendChild(document.createTextNode('Linked to measures outside this budget (not counted here): '));
      const shown = list.slice(0, 8);
      shown.forEach(function (u, i) {
        const code = document.createElement('code');
        code.setAttribute('data-testid', 'unlinked-device');
        code.textContent = u.device + ' → ' + u.measure;
        unlinked.appendChild(code);
        if (i < shown.length - 1) unlinked.appendChild(document.createTextNode(', '));
      });
      if (list.length > shown.length) unlinked.appendChild(document.createTextNode(' and ' + (list.length - shown.length) + ' more'));
      unlinked.appendChild(document.createTextNode('.'));
    }

    const err = el('budget-error');
    err.hidden = true;
    err.textContent = '';
    panel.setAttribute('data-loaded', 'true');
  }

  let budgetShown = false;
  function loadBudget() {
    return fetch('/api/budget', { headers: { accept: 'application/json' }, cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (b) {
        renderBudget(b);
        budgetShown = true;
      })
      .catch(function (err) {
        const box = el('budget-error');
        box.hidden = false;
        box.textContent = 'Could not load /api/budget: ' + err.message + (budgetShown ? '; showing the last figures.' : '; retrying every minute.');
      });
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
  loadBudget();
  setInterval(loadBudget, 60000);
})();
