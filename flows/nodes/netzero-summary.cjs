/* netzero-summary: the service's live summary for operators' own automations.
 *
 * - Live (on by default): subscribes to the service's `GET /api/live` (Server-Sent Events, one
 *   `summary` event each time a total changes, at most once a second) and sends each summary that
 *   differs from the last one sent (the moving `to` alone is not a change). Reconnects with a
 *   back-off of 1 s doubling to 60 s.
 * - On input: asks `GET /api/summary` (this month so far, or `from`/`to` from the message) and sends
 *   the answer.
 * The HTTP base is the one configured, else the service's own (global `netzero.httpUrl`).
 */
/* global require, module, URL, URLSearchParams, AbortController, AbortSignal, TextDecoder, fetch, setTimeout, clearTimeout */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes with require() */
/* eslint-disable @typescript-eslint/no-this-alias -- `const node = this`: Node-RED's idiom, the node inside its callbacks */
'use strict';

const { short } = require('./lib/contract.cjs');

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60_000;
/** An SSE event larger than this is not a summary: the stream is dropped and opened again. */
const MAX_EVENT_CHARS = 1024 * 1024;
/** Time to the response headers (SSE) or the whole answer (a summary asked on input). */
const REQUEST_TIMEOUT_MS = 30_000;

/** The summary without the moving end of its period: what "changed" means. */
const changeKey = (summary) => JSON.stringify({ ...summary, to: undefined });

/** Splits an SSE stream into events: `{event, data}` per blank-line-terminated block. */
function parseEvents(buffer) {
  const events = [];
  let rest = buffer.replace(/\r\n?/g, '\n');
  let end;
  while ((end = rest.indexOf('\n\n')) !== -1) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

module.exports = function (RED) {
  function NetzeroSummaryNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const configured = String(config.url ?? '').trim().replace(/\/+$/, '');
    const live = config.live !== false && config.live !== 'false';
    let closed = false;
    let abort;
    let retryTimer;
    let backoff = BACKOFF_MIN_MS;
    let lastKey = '';

    function base() {
      if (configured) return configured;
      const netzero = node.context().global.get('netzero');
      return netzero && typeof netzero.httpUrl === 'string' ? netzero.httpUrl.replace(/\/+$/, '') : '';
    }

    const problem = (() => {
      if (!configured) return base() ? null : 'no service URL: set one, or run the flow inside the netzero service (global netzero.httpUrl)';
      try {
        const u = new URL(configured);
        return u.protocol === 'http:' || u.protocol === 'https:' ? null : `URL must be http:// or https://, got ${u.protocol}`;
      } catch {
        return `"${configured}" is not a URL (http://host:8080)`;
      }
    })();

    function emitIfChanged(summary) {
      const key = changeKey(summary);
      if (key === lastKey) return;
      lastKey = key;
      node.status({ fill: 'green', shape: 'dot', text: short(`${summary.avoided_tco2e} tCO2e avoided · ${new Date().toLocaleTimeString('en-GB')}`) });
      node.send({ topic: 'netzero/summary', payload: summary });
    }

    async function stream() {
      abort = new AbortController();
      const headersTimer = setTimeout(() => abort.abort(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
      const res = await fetch(`${base()}/api/live`, { headers: { accept: 'text/event-stream' }, signal: abort.signal }).finally(() => clearTimeout(headersTimer));
      if (res.status !== 200) throw new Error(`GET /api/live answered ${res.status}`);
      if (!res.body) throw new Error('GET /api/live sent no body');
      node.status({ fill: 'green', shape: 'ring', text: 'live' });
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        const { events, rest } = parseEvents(buffer);
        buffer = rest;
        if (buffer.length > MAX_EVENT_CHARS) throw new Error(`an event of over ${MAX_EVENT_CHARS} characters: not a summary`);
        for (const e of events) {
          if (e.event !== 'summary') continue;
          backoff = BACKOFF_MIN_MS;
          emitIfChanged(JSON.parse(e.data));
        }
      }
      throw new Error('the service closed the live stream');
    }

    function follow() {
      if (closed) return;
      stream().catch((err) => {
        if (closed) return;
        const reason = err.cause?.code ?? err.message;
        node.status({ fill: 'red', shape: 'ring', text: short(`live: ${reason}; again in ${Math.round(backoff / 1000)} s`) });
        retryTimer = setTimeout(follow, backoff);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      });
    }

    if (problem) node.status({ fill: 'red', shape: 'ring', text: short(problem) });
    else if (live) follow();
    else node.status({});

    node.on('input', async (msg, send, done) => {
      if (problem) {
        done(`netzero-summary: ${problem}`);
        return;
      }
      const period = msg.payload && typeof msg.payload === 'object' ? msg.payload : {};
      const from = msg.from ?? period.from;
      const to = msg.to ?? period.to;
      const query = new URLSearchParams();
      if (from !== undefined) query.set('from', String(from));
      if (to !== undefined) query.set('to', String(to));
      const url = `${base()}/api/summary${query.size > 0 ? `?${query}` : ''}`;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const body = await res.json().catch(() => null);
        if (res.status !== 200) {
          const why = body && Array.isArray(body.issues) ? body.issues.map((i) => `${i.field} ${i.reason}`).join('; ') : body?.reason ?? body?.error ?? '';
          throw new Error(`GET /api/summary answered ${res.status}${why ? `: ${why}` : ''}`);
        }
        msg.payload = body;
        send(msg);
        done();
      } catch (err) {
        node.status({ fill: 'red', shape: 'dot', text: short(err.message) });
        done(err.name === 'TimeoutError' ? `GET /api/summary: no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : err.message);
      }
    });

    node.on('close', () => {
      closed = true;
      clearTimeout(retryTimer);
      abort?.abort(new Error('closed'));
    });
  }

  RED.nodes.registerType('netzero-summary', NetzeroSummaryNode);
};

module.exports.parseEvents = parseEvents;
