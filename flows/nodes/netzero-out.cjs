/* netzero-out: checks a reading (or a batch) with the service's own payload validation and publishes
 * it to the device's telemetry topic on the service's broker, with the device's credentials (the
 * netzero-device config node), at QoS 1. The message goes on (output 1) once the broker acknowledged
 * it, which the service does only after the reading is stored. An invalid message is never sent: the
 * node raises an error (a catch node sees it) naming each field and reason, and its status turns red.
 * Output 2 carries what the service says on the device's `errors` topic (rejections, warnings,
 * conflicts), for what only the service can judge (a wrong kind, a counter stepping back).
 */
/* global require, module */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes with require() */
/* eslint-disable @typescript-eslint/no-this-alias -- `const node = this`: Node-RED's idiom, the node inside its callbacks */
'use strict';

const { loadContract, loadErrorText, payloadText, short } = require('./lib/contract.cjs');

/** Errors named in one error message at most (a batch of 1,000 bad readings stays readable). */
const ERRORS_NAMED = 10;

function errorsText(errors) {
  const named = errors.slice(0, ERRORS_NAMED).map((e) => `${e.field} ${e.reason}`);
  if (errors.length > ERRORS_NAMED) named.push(`and ${errors.length - ERRORS_NAMED} more`);
  return named.join('; ');
}

const clock = () => new Date().toLocaleTimeString('en-GB');

module.exports = function (RED) {
  function NetzeroOutNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const device = RED.nodes.getNode(config.device);
    /** this node's messages waiting for a PUBACK */
    let waiting = 0;
    let linkState = { state: 'connecting', reason: '', waiting: 0 };
    /** the last outcome shown, kept while nothing is waiting */
    let outcome = null;
    /** rejections the service published on the errors topic so far */
    let rejections = 0;

    function showStatus() {
      if (waiting > 0) {
        const away = linkState.state === 'ready' ? '' : `, broker away: ${linkState.reason || 'connecting'}`;
        node.status({ fill: 'yellow', shape: linkState.state === 'ready' ? 'dot' : 'ring', text: short(`${waiting} waiting for PUBACK${away}`) });
      } else if (linkState.state === 'refused') {
        node.status({ fill: 'red', shape: 'ring', text: short(linkState.reason) });
      } else if (outcome) {
        node.status(outcome);
      } else if (linkState.state === 'ready') {
        node.status({ fill: 'green', shape: 'ring', text: 'connected' });
      } else {
        node.status({ fill: 'yellow', shape: 'ring', text: short(linkState.reason ? `connecting: ${linkState.reason}` : 'connecting') });
      }
    }

    if (!device) {
      node.status({ fill: 'red', shape: 'ring', text: 'no device: choose a netzero-device' });
    } else if (device.problem) {
      node.status({ fill: 'red', shape: 'ring', text: short(device.problem) });
    } else {
      node.onLinkState = (s) => {
        linkState = s;
        if (s.state === 'connecting' && s.reason) outcome = null;
        showStatus();
      };
      node.onFeedback = (f) => {
        const body = f.payload || {};
        if (Array.isArray(body.errors) && body.errors.length > 0) {
          const text = `the service rejected a reading of ${device.device}: ${errorsText(body.errors)}`;
          rejections += 1;
          outcome = { fill: 'red', shape: 'dot', text: short(`service: ${body.errors[0].field} ${body.errors[0].reason}`) };
          node.error(text, { topic: f.topic, payload: body });
        } else if (Array.isArray(body.warnings) && body.warnings.length > 0) {
          const w = body.warnings[0];
          outcome = { fill: 'yellow', shape: 'dot', text: short(`service: ${w.counter} ${w.quality}`) };
          node.warn(`the service stored a reading of ${device.device} with a warning: ${body.warnings.map((x) => x.reason || `${x.counter} ${x.quality}`).join('; ')}`);
        }
        showStatus();
        node.send([null, { topic: f.topic, payload: body }]);
      };
      device.use(node);
      // connect at deploy, so the status says at once whether the device's settings work
      device.link().catch((err) => node.status({ fill: 'red', shape: 'ring', text: short(loadErrorText(err)) }));
    }

    node.on('input', async (msg, send, done) => {
      if (!device) {
        done('netzero-out has no netzero-device: choose the device it publishes as');
        return;
      }
      let c;
      let link;
      try {
        [c, link] = await Promise.all([loadContract(), device.link()]);
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: short(loadErrorText(err)) });
        done(`not sent: ${err.message}`);
        return;
      }

      const text = payloadText(msg.payload);
      const result = c.parsePayload(device.kind, text, Date.now());
      const errors = result.rejections.flatMap((r) => r.errors);
      if (errors.length > 0) {
        msg.netzero = { errors };
        outcome = { fill: 'red', shape: 'dot', text: short(`${errors[0].field} ${errors[0].reason}`) };
        showStatus();
        done(`not sent, invalid ${device.kind} reading for ${device.device}: ${errorsText(errors)}`);
        return;
      }

      waiting += 1;
      showStatus();
      device.sentBy(node);
      const rejectionsBefore = rejections;
      try {
        const ack = await link.send(text);
        const n = result.readings.length;
        msg.netzero = { topic: link.opts.topics.telemetry, readings: n, ack_ms: ack.ackMs, queued_ms: ack.queuedMs };
        // a rejection the service published meanwhile (it comes before the PUBACK) keeps the status red
        if (rejections === rejectionsBefore) outcome = { fill: 'green', shape: 'dot', text: `${n} reading${n === 1 ? '' : 's'} acknowledged ${clock()}` };
        send([msg, null]);
        done();
      } catch (err) {
        outcome = { fill: 'red', shape: 'dot', text: short(err.message) };
        done(err.message);
      } finally {
        waiting -= 1;
        showStatus();
      }
    });

    node.on('close', () => {
      device?.release(node);
    });
  }

  RED.nodes.registerType('netzero-out', NetzeroOutNode);
};
