/* netzero-device: a Node-RED config node for one registered device: its id, site, kind and secret
 * (a Node-RED credential, so it is stored encrypted with the runtime's credential secret and never
 * exported with the flow), and the one MQTT connection that netzero-out nodes publish through as
 * that device (lib/device-link.cjs).
 */
/* global require, module, URL */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes with require() */
/* eslint-disable @typescript-eslint/no-this-alias -- `const node = this`: Node-RED's idiom, the node inside its callbacks */
'use strict';

const { KINDS, loadContract } = require('./lib/contract.cjs');
const { DeviceLink } = require('./lib/device-link.cjs');

const QUEUE_DEFAULT = 1000;
const QUEUE_MAX = 100_000;
const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'];

/** A positive integer setting within [1, max], the default when empty; null when it is not one. */
function boundedInt(value, dflt, max) {
  if (value === undefined || value === null || String(value).trim() === '') return dflt;
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : null;
}

/** What is wrong with the settings that can be checked without the contract, or null. */
function settingsProblem(node, secret, queueLimit) {
  if (!node.device) return 'device id is not set';
  if (!node.site) return 'site is not set';
  if (!KINDS.includes(node.kind)) return `kind must be one of ${KINDS.join(', ')}`;
  if (!secret) return 'the secret is not set (the one shown when the device was registered)';
  if (queueLimit === null) return `queue must be a whole number 1-${QUEUE_MAX}`;
  if (node.broker) {
    let url;
    try {
      url = new URL(node.broker);
    } catch {
      return `broker "${node.broker}" is not a URL (mqtt://host:1883)`;
    }
    if (!BROKER_PROTOCOLS.includes(url.protocol)) return `broker must be an mqtt://, mqtts://, ws:// or wss:// URL, got ${url.protocol}`;
  }
  return null;
}

module.exports = function (RED) {
  function NetzeroDeviceNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.device = String(config.device ?? '').trim();
    node.site = String(config.site ?? '').trim();
    node.kind = config.kind;
    node.broker = String(config.broker ?? '').trim();
    node.announce = config.announce !== false && config.announce !== 'false';
    const queueLimit = boundedInt(config.queue, QUEUE_DEFAULT, QUEUE_MAX);
    const secret = String(node.credentials?.secret ?? '');
    node.problem = settingsProblem(node, secret, queueLimit);

    const users = new Set();
    let lastSender;
    let link;
    let starting;

    function brokerUrl() {
      if (node.broker) return node.broker;
      const netzero = node.context().global.get('netzero');
      return netzero && typeof netzero.mqttUrl === 'string' ? netzero.mqttUrl : '';
    }

    /** The device's topics, once the contract is loaded and the ids are checked. */
    async function topics() {
      const c = await loadContract();
      if (!c.ID_PATTERN.test(node.device)) throw new Error(`device id "${node.device}" is not an id (letters, digits, _ . -)`);
      if (!c.ID_PATTERN.test(node.site)) throw new Error(`site "${node.site}" is not an id (letters, digits, _ . -)`);
      return { telemetry: c.topicFor(node.site, node.device, 'telemetry'), status: c.topicFor(node.site, node.device, 'status'), errors: c.topicFor(node.site, node.device, 'errors') };
    }

    /** The started link; rejects with what is wrong with the settings. Started on first use. */
    node.link = () => {
      if (link) return Promise.resolve(link);
      starting ??= (async () => {
        if (node.problem) throw new Error(node.problem);
        const t = await topics();
        const url = brokerUrl();
        if (!url) throw new Error('no broker: set the broker URL on the device, or run the flow inside the netzero service (global netzero.mqttUrl)');
        const l = new DeviceLink({ url, device: node.device, secret, topics: t, queueLimit, announce: node.announce });
        l.on('state', (s) => users.forEach((u) => u.onLinkState?.(s)));
        l.on('feedback', (f) => {
          // the service's answer goes to the node that sent last (it is most likely about that message)
          const to = lastSender && users.has(lastSender) ? [lastSender] : [...users];
          to.forEach((u) => u.onFeedback?.(f));
        });
        if (!closed) l.start();
        link = l;
        return l;
      })();
      // a settings problem stays until the next deploy; a missing dist/ may be fixed by a build meanwhile
      starting.catch(() => (starting = undefined));
      return starting;
    };

    node.use = (user) => {
      users.add(user);
      if (link) user.onLinkState?.({ state: link.state, reason: link.reason, waiting: link.queue.length + (link.inFlight ? 1 : 0) });
    };
    node.release = (user) => users.delete(user);
    node.sentBy = (user) => (lastSender = user);
    node.topics = topics;

    let closed = false;
    node.on('close', (_removed, done) => {
      closed = true;
      const l = link;
      link = undefined;
      (l ? l.close() : Promise.resolve()).then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('netzero-device', NetzeroDeviceNode, {
    credentials: { secret: { type: 'password' } },
  });
};
