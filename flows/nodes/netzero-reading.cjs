/* netzero-reading: a Node-RED node that checks a reading against the device contract
 * (docs/contract.md, "Payload") before it is published to the device's telemetry topic.
 *
 * CommonJS because Node-RED loads nodes with require(); `.cjs` because the project is "type": "module".
 * The validation is the service's own: the compiled dist/devices/payload.js (`npm run build`), loaded
 * with import() so the node and the pipeline can never disagree about what a valid reading is.
 */
/* global require, module */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes with require() */
'use strict';

const { KINDS, loadContract, payloadText } = require('./lib/contract.cjs');

/** The readings that passed, in the form they were sent (a single reading, or a smaller batch). */
function acceptedText(text, rejections) {
  if (rejections.length === 0) return text;
  const doc = JSON.parse(text);
  const bad = new Set(rejections.map((r) => r.index));
  return JSON.stringify({ ...doc, readings: doc.readings.filter((_, i) => !bad.has(i)) });
}

module.exports = function (RED) {
  function NetzeroReadingNode(config) {
    RED.nodes.createNode(this, config);
    setup(this, config);
  }

  function setup(node, config) {
    node.kind = config.kind;
    node.site = String(config.site ?? '').trim();
    node.device = String(config.device ?? '').trim();

    let configError = null;
    if (!KINDS.includes(node.kind)) configError = `kind must be one of ${KINDS.join(', ')}`;
    else if (!node.site) configError = 'site is not set';
    else if (!node.device) configError = 'device id is not set';
    if (configError) node.status({ fill: 'red', shape: 'ring', text: configError });

    loadContract().then(
      (c) => {
        if (configError) return;
        if (!c.ID_PATTERN.test(node.site)) node.status({ fill: 'red', shape: 'ring', text: `site "${node.site}" is not a valid id` });
        else if (!c.ID_PATTERN.test(node.device)) node.status({ fill: 'red', shape: 'ring', text: `device "${node.device}" is not a valid id` });
        else node.status({});
      },
      (err) => node.status({ fill: 'red', shape: 'ring', text: err.message.includes('npm run build') ? 'dist/ missing: run npm run build' : err.message }),
    );

    node.on('input', async (msg, send, done) => {
      if (configError) {
        done(new Error(`netzero-reading is not configured: ${configError}`));
        return;
      }
      let c;
      try {
        c = await loadContract();
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: 'dist/ missing: run npm run build' });
        done(err);
        return;
      }
      if (!c.ID_PATTERN.test(node.site) || !c.ID_PATTERN.test(node.device)) {
        done(new Error(`netzero-reading: site "${node.site}" and device "${node.device}" must be ids (letters, digits, _ . -)`));
        return;
      }

      const text = payloadText(msg.payload);
      const result = c.parsePayload(node.kind, text, Date.now());
      const errors = result.rejections.flatMap((r) => r.errors);

      let good = null;
      if (result.readings.length > 0) {
        good = result.rejections.length > 0 ? RED.util.cloneMessage(msg) : msg;
        good.topic = c.topicFor(node.site, node.device, 'telemetry');
        good.payload = acceptedText(text, result.rejections);
        good.qos = 1;
        good.retain = false;
      }
      let bad = null;
      if (errors.length > 0) {
        bad = msg;
        bad.payload = errors;
        bad.rejections = result.rejections;
      }
      send([good, bad]);

      if (bad) {
        const first = errors[0];
        const reason = `${first.field} ${first.reason}`;
        node.status({ fill: 'red', shape: 'dot', text: reason.length > 60 ? `${reason.slice(0, 57)}...` : reason });
        node.error(`reading rejected for ${node.device}: ${errors.map((e) => `${e.field} ${e.reason}`).join('; ')}`, bad);
      } else {
        const n = result.readings.length;
        node.status({ fill: 'green', shape: 'dot', text: `${n} reading${n === 1 ? '' : 's'} ok at ${new Date().toLocaleTimeString('en-GB')}` });
      }
      done();
    });
  }

  RED.nodes.registerType('netzero-reading', NetzeroReadingNode);
};
