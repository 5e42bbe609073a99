// The live feed: GET /api/summary once, then GET /api/live (Server-Sent Events, `event: summary`),
// reconnecting when the stream closes; the badge in the header says whether the page is live.
/* global EventSource, setInterval, setTimeout */
import { getJson } from './api.js';
import { el, showError } from './dom.js';

function setLive(state) {
  const node = el('live-state');
  node.setAttribute('data-state', state);
  node.textContent = state === 'live' ? 'live' : state === 'reconnecting' ? 'reconnecting…' : 'connecting…';
}

let apply = function () {};
let shown = function () { return false; };

function loadOnce() {
  return getJson('/api/summary')
    .then(function (s) { apply(s, 'summary'); })
    .catch(function (err) {
      if (!shown()) showError('Could not load /api/summary: ' + err.message + '. Waiting for the live feed…');
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

/** Shows "connecting…" until the feed is open. */
export function showConnecting() {
  setLive('connecting');
}

/**
 * Reads the summary once and follows the live feed. `onSummary(summary, source)` gets every summary
 * ('summary' or 'live'); `hasSummary()` says whether one is shown (a failed first read is then not an error).
 */
export function startLive(onSummary, hasSummary) {
  apply = onSummary;
  shown = hasSummary;
  loadOnce();
  connect();
}
