/* The device contract as the project nodes see it: the service's own compiled modules
 * (dist/devices/payload.js, topics.js, kinds.js from `npm run build`), loaded with import() so a node
 * and the ingest pipeline can never disagree about what a valid reading or a topic is.
 *
 * CommonJS because Node-RED loads nodes with require(); `.cjs` because the project is "type": "module".
 * Node-RED skips `lib/` folders when it scans for nodes, so this file is never taken for a node.
 */
/* global require, module, __dirname, Buffer */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes with require() */
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');

const KINDS = ['smart_meter', 'pv_inverter', 'biogas', 'ev_charger'];

/**
 * The netzero project's root: the first folder above this one with a package.json that is not a
 * Node-RED module (flows/nodes/package.json is this node module's own and is skipped).
 */
function projectRoot() {
  let dir = path.dirname(__dirname);
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        if (!JSON.parse(fs.readFileSync(file, 'utf8'))['node-red']) return dir;
      } catch {
        /* an unreadable package.json is not the project's: keep walking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The compiled contract modules, loaded once per process. */
let contract;
function loadContract() {
  contract ??= (async () => {
    const root = projectRoot();
    if (!root) throw new Error('cannot find the netzero project root (no package.json above flows/nodes)');
    const file = (rel) => path.join(root, 'dist', 'devices', rel);
    for (const rel of ['payload.js', 'topics.js', 'kinds.js']) {
      if (!fs.existsSync(file(rel))) throw new Error(`${file(rel)} is missing: run \`npm run build\` in ${root}`);
    }
    const [payload, topics, kinds] = await Promise.all(['payload.js', 'topics.js', 'kinds.js'].map((rel) => import(pathToFileURL(file(rel)).href)));
    return {
      parsePayload: payload.parsePayload,
      MAX_BATCH: payload.MAX_BATCH,
      MAX_PAYLOAD_BYTES: payload.MAX_PAYLOAD_BYTES,
      topicFor: topics.topicFor,
      ID_PATTERN: topics.ID_PATTERN,
      KINDS: kinds.KINDS,
    };
  })();
  // a failed load is retried on the next message (e.g. after `npm run build`)
  contract.catch(() => (contract = undefined));
  return contract;
}

/** Other compiled modules of the service (`dist/<rel>`), loaded once each; a failed load is retried. */
const modules = new Map();
function loadDist(rel) {
  if (!modules.has(rel)) {
    const p = (async () => {
      const root = projectRoot();
      if (!root) throw new Error('cannot find the netzero project root (no package.json above flows/nodes)');
      const file = path.join(root, 'dist', rel);
      if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` in ${root}`);
      return import(pathToFileURL(file).href);
    })();
    p.catch(() => modules.delete(rel));
    modules.set(rel, p);
  }
  return modules.get(rel);
}

/** A load error as a short status text. */
function loadErrorText(err) {
  return err.message.includes('npm run build') ? 'dist/ missing: run npm run build' : err.message;
}

/** msg.payload as text: a string as is, a Buffer decoded, anything else as JSON. */
function payloadText(payload) {
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  return JSON.stringify(payload) ?? '';
}

/** A status text of at most 60 characters (the editor cuts longer ones anyway). */
function short(text) {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

module.exports = { KINDS, projectRoot, loadContract, loadDist, loadErrorText, payloadText, short };
