/* netzero-sunspec: reads a SunSpec inverter or meter over Modbus TCP on each input and sends the
 * contract's fields as a reading, ready for netzero-out. A thin node over the service's own SunSpec
 * reader (dist/devices/sunspec/reader.js: base address, model chain, scale factors) and its Modbus
 * connection (dist/ingest/sources/modbus/connection.js: one connection per read, cut at the timeout),
 * so a flow reads a device exactly as the service's Modbus poller does.
 */
/* global require, module, AbortController */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes with require() */
/* eslint-disable @typescript-eslint/no-this-alias -- `const node = this`: Node-RED's idiom, the node inside its callbacks */
'use strict';

const { loadDist, loadErrorText, short } = require('./lib/contract.cjs');

const SUNSPEC_KINDS = ['pv_inverter', 'smart_meter'];
const DEFAULT_PORT = 502;
const TIMEOUT_S = { default: 5, max: 60 };

/** "host", "host:port" or "[v6]:port" → {host, port}, or a reason. */
function parseAddress(text, defaultPort) {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) return { problem: `address "${text}" is not host or host:port` };
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { problem: `port must be 1-65535, got ${m[3] ?? defaultPort}` };
  return { host: m[1] ?? m[2], port };
}

function settings(config) {
  const address = String(config.address ?? '').trim();
  // `${NETZERO_…}` left as it is: Node-RED found no such environment variable
  if (!address || /^\$\{[^}]+\}$/.test(address)) return { problem: address ? `set ${address.slice(2, -1)} in the service's environment` : 'address is not set' };
  const port = String(config.port ?? '').trim() === '' ? DEFAULT_PORT : Number(config.port);
  const target = parseAddress(address, port);
  if (target.problem) return target;
  const unitId = String(config.unit ?? '').trim() === '' ? 1 : Number(config.unit);
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255) return { problem: `unit id must be 0-255, got ${config.unit}` };
  if (!SUNSPEC_KINDS.includes(config.kind)) return { problem: `kind must be ${SUNSPEC_KINDS.join(' or ')}` };
  const timeoutS = String(config.timeout ?? '').trim() === '' ? TIMEOUT_S.default : Number(config.timeout);
  if (!(timeoutS > 0 && timeoutS <= TIMEOUT_S.max)) return { problem: `timeout must be over 0 and at most ${TIMEOUT_S.max} s, got ${config.timeout}` };
  return { target: { host: target.host, port: target.port, unitId }, kind: config.kind, timeoutMs: timeoutS * 1000 };
}

module.exports = function (RED) {
  function NetzeroSunSpecNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const s = settings(config);
    let location;
    let busy = false;
    const controller = new AbortController();

    if (s.problem) node.status({ fill: 'red', shape: 'ring', text: short(s.problem) });

    node.on('input', async (msg, send, done) => {
      if (s.problem) {
        done(`netzero-sunspec: ${s.problem}`);
        return;
      }
      if (busy) {
        // one read at a time: an input while a read runs (a slow device) is dropped, not queued
        node.status({ fill: 'yellow', shape: 'ring', text: 'still reading: input skipped' });
        done();
        return;
      }
      busy = true;
      const where = `${s.target.host}:${s.target.port} unit ${s.target.unitId}`;
      try {
        const [{ readSunSpec }, { withModbus }] = await Promise.all([loadDist('devices/sunspec/reader.js'), loadDist('ingest/sources/modbus/connection.js')]);
        node.status({ fill: 'blue', shape: 'ring', text: `reading ${where}` });
        const r = await withModbus(s.target, s.timeoutMs, (client) => readSunSpec(client, { kind: s.kind, location }), controller.signal);
        location = r.location;
        msg.payload = { ts: Date.now(), ...r.fields };
        msg.sunspec = { model: r.location.model.id, base: r.location.base, device: r.location.common ?? null, missing: r.missing };
        const shown = Object.entries(r.fields).map(([k, v]) => `${k} ${v}`).join(', ');
        node.status({ fill: 'green', shape: 'dot', text: short(`${shown} · ${new Date().toLocaleTimeString('en-GB')}`) });
        send(msg);
        done();
      } catch (err) {
        node.status({ fill: 'red', shape: 'dot', text: short(loadErrorText(err)) });
        done(`SunSpec read of ${where} failed: ${err.message}`);
      } finally {
        busy = false;
      }
    });

    node.on('close', () => controller.abort());
  }

  RED.nodes.registerType('netzero-sunspec', NetzeroSunSpecNode);
};

module.exports.parseAddress = parseAddress;
