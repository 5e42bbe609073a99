/* One device's MQTT connection to the service's broker, shared by every netzero-out node that
 * publishes as that device (the netzero-device config node owns it).
 *
 * - QoS 1, one message in flight at a time: the next goes out when the broker's PUBACK for the last
 *   one is in, so the service paces a backfill (a PUBACK comes only once a reading is stored, and
 *   after the device's rate limit) and readings arrive in the order they were sent.
 * - A bounded queue: while the broker is away (or slow), messages wait here; over the limit a
 *   message is refused at once, never held without bound.
 * - Reconnects with a back-off of 1 s doubling to 60 s; a message in flight when the connection drops
 *   is resent by MQTT.js after the reconnect (a resent reading is stored once).
 * - On connect it subscribes to the device's own `errors` topic. The broker grants that only to this
 *   device with its registered site, so a refusal means the site (or id) is wrong: the link stops
 *   instead of publishing to a topic the broker would close the connection for, again and again.
 *   What arrives there (rejections, warnings, conflicts) is passed on as `feedback`.
 */
/* global require, module, setTimeout */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes with require() */
'use strict';

const crypto = require('node:crypto');
const { EventEmitter } = require('node:events');
const mqtt = require('mqtt');

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60_000;
/** At close: how long the `offline` status and a message in flight may take before the socket is cut. */
const CLOSE_GRACE_MS = 2000;

class DeviceLink extends EventEmitter {
  /**
   * @param {object} opts
   * @param {string} opts.url broker URL (mqtt://, mqtts://, ws://, wss://)
   * @param {string} opts.device device id (the MQTT username)
   * @param {string} opts.secret device secret (the MQTT password)
   * @param {{telemetry: string, status: string, errors: string}} opts.topics the device's topics
   * @param {number} opts.queueLimit messages waiting or in flight at most
   * @param {boolean} opts.announce publish a retained `online` on connect, `offline` at close and as the Last Will
   */
  constructor(opts) {
    super();
    this.opts = opts;
    /** waiting messages: {topic, text, resolve, reject, queuedAt} */
    this.queue = [];
    this.inFlight = null;
    /** connecting | ready | refused | closed */
    this.state = 'connecting';
    this.reason = '';
    this.client = null;
  }

  start() {
    const { url, device, secret, topics, announce } = this.opts;
    const client = mqtt.connect(url, {
      username: device,
      password: secret,
      // a random suffix: two flows publishing as one device must not take each other's connection over
      clientId: `${device}-nodered-${crypto.randomBytes(3).toString('hex')}`,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: BACKOFF_MIN_MS,
      ...(announce ? { will: { topic: topics.status, payload: 'offline', qos: 1, retain: true } } : {}),
    });
    this.client = client;
    client.on('connect', () => void this.onConnect());
    // back off while the broker stays away (1 s, 2 s, 4 s … 60 s); a successful connect resets it
    client.on('reconnect', () => {
      client.options.reconnectPeriod = Math.min(client.options.reconnectPeriod * 2, BACKOFF_MAX_MS);
    });
    client.on('close', () => {
      if (this.state === 'ready') this.setState('connecting', this.reason || 'disconnected');
    });
    client.on('error', (err) => {
      if (this.state === 'connecting' || this.state === 'ready') this.setState('connecting', describeError(err));
    });
    client.on('message', (topic, payload) => {
      if (topic !== topics.errors) return;
      let body;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        body = { raw: payload.toString('utf8') };
      }
      this.emit('feedback', { topic, payload: body });
    });
  }

  async onConnect() {
    const { client } = this;
    const { topics, device, announce } = this.opts;
    client.options.reconnectPeriod = BACKOFF_MIN_MS;
    let refused;
    try {
      const granted = await client.subscribeAsync(topics.errors, { qos: 1 });
      refused = !granted[0] || granted[0].qos === 128;
    } catch (err) {
      // MQTT.js rejects a negative SUBACK (0x80) with the packet; anything else is a dropped connection,
      // and the next connect tries again
      if (!err.packet?.granted?.includes(128)) return;
      refused = true;
    }
    if (this.state === 'closed') return;
    if (refused) {
      this.refuse(`the broker refused ${topics.errors}: is the site the one ${device} was registered with?`);
      return;
    }
    if (announce) client.publish(topics.status, 'online', { qos: 1, retain: true });
    this.setState('ready', '');
    this.pump();
  }

  /**
   * Queue one telemetry message; resolves when the broker acknowledged it (the service stored it),
   * with `{ackMs, queuedMs}`; rejects when the queue is full or the link stopped.
   */
  send(text) {
    if (this.state === 'refused' || this.state === 'closed') return Promise.reject(new Error(`not sent: ${this.reason}`));
    const { queueLimit } = this.opts;
    if (this.queue.length + (this.inFlight ? 1 : 0) >= queueLimit) {
      return Promise.reject(new Error(`not sent: the queue is full (${queueLimit} messages wait for the broker${this.state === 'ready' ? '' : `, which is away: ${this.reason || 'connecting'}`})`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ text, resolve, reject, queuedAt: Date.now() });
      this.pump();
      this.emitState();
    });
  }

  pump() {
    if (this.inFlight || this.state !== 'ready' || this.queue.length === 0) return;
    const item = this.queue.shift();
    this.inFlight = item;
    const sentAt = Date.now();
    this.client.publish(this.opts.topics.telemetry, item.text, { qos: 1, retain: false }, (err) => {
      if (this.inFlight !== item) return; // settled by close()
      this.inFlight = null;
      if (err) item.reject(new Error(`not acknowledged: ${err.message}`));
      else item.resolve({ ackMs: Date.now() - sentAt, queuedMs: sentAt - item.queuedAt });
      this.emitState();
      this.pump();
    });
  }

  /** Stop for good: everything still waiting is refused with the reason. */
  refuse(reason) {
    this.setState('refused', reason);
    this.failAll(`not sent: ${reason}`);
    // a clean DISCONNECT: the broker drops the Last Will (on a status topic it would refuse as well)
    this.client?.end(false);
  }

  failAll(text) {
    const waiting = this.inFlight ? [this.inFlight, ...this.queue] : this.queue;
    this.inFlight = null;
    this.queue = [];
    for (const item of waiting) item.reject(new Error(text));
  }

  /** Says `offline` (when announcing), lets a message in flight finish for a moment, then closes. */
  async close() {
    const wasReady = this.state === 'ready';
    this.setState('closed', 'the flow was stopped');
    for (const item of this.queue) item.reject(new Error('not sent: the flow was stopped before the broker took it'));
    this.queue = [];
    const { client } = this;
    if (!client) return;
    const { announce, topics } = this.opts;
    const graceful = new Promise((resolve) => {
      if (wasReady && announce) client.publish(topics.status, 'offline', { qos: 1, retain: true }, () => client.end(false, {}, resolve));
      else client.end(false, {}, resolve);
    });
    const timer = new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([graceful, timer]);
    client.end(true);
    this.failAll('not acknowledged: the flow was stopped before the broker acknowledged it');
  }

  setState(state, reason) {
    this.state = state;
    this.reason = reason;
    this.emitState();
  }

  emitState() {
    this.emit('state', { state: this.state, reason: this.reason, waiting: this.queue.length + (this.inFlight ? 1 : 0) });
  }
}

/** MQTT.js errors in the words an operator needs. */
function describeError(err) {
  if (err && err.code === 5) return 'not authorized: check the device id and secret (a rotated secret stops working at once; a disabled device is refused: see the operator page /operators)';
  if (err && err.code === 4) return 'bad username or password: check the device id and secret';
  if (err && (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH')) return `broker unreachable (${err.code})`;
  return err && err.message ? err.message : String(err);
}

module.exports = { DeviceLink, BACKOFF_MIN_MS, BACKOFF_MAX_MS };
