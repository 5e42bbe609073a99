import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Settings of the Node-RED runtime embedded in the service (see flows/README.md).
 * The names are Node-RED 4's (node_modules/node-red/settings.js); everything here is plain data except
 * `loadOrCreateCredentialSecret`, which is the one function that touches the disk.
 */

/**
 * Where the project's own nodes are: the SOURCE folder flows/nodes (tsc does not copy .html files to dist/).
 * It is a Node-RED module (its package.json has a "node-red" section), so Node-RED 4 loads it as one
 * when it is the `nodesDir`, examples/ included (flows/README.md, "How the examples are packaged").
 */
export function projectNodesDir(from: string = import.meta.url): string {
  return path.join(repoRoot(from), 'flows', 'nodes');
}

/** The repository root: the first folder above `from` holding a package.json (works from flows/ and dist/flows/). */
export function repoRoot(from: string = import.meta.url): string {
  let dir = path.dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}: cannot find the project root`);
    dir = up;
  }
}

export const CREDENTIAL_SECRET_FILE = '.credential-secret';

/**
 * The key Node-RED encrypts flow credentials (MQTT passwords, …) with: generated once, kept in
 * `<userDir>/.credential-secret` (mode 0600). Losing it makes the stored credentials unreadable.
 */
export function loadOrCreateCredentialSecret(userDir: string): string {
  fs.mkdirSync(userDir, { recursive: true, mode: 0o700 });
  const file = path.join(userDir, CREDENTIAL_SECRET_FILE);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
    throw new Error(`${file} is shorter than 32 characters; delete it only if no flow credentials are stored yet`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = crypto.randomBytes(32).toString('base64url');
  // `wx`: never overwrite a secret another process wrote in the meantime.
  try {
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8').trim();
    throw err;
  }
  return secret;
}

export interface NodeRedSettingsInput {
  /** the service's data directory; Node-RED's userDir is `<dataDir>/nodered` */
  dataDir: string;
  port: number;
  host: string;
  credentialSecret: string;
  /** URL of the broker flows should publish to (the embedded one, or NETZERO_MQTT_URL) */
  mqttUrl?: string;
  /** base URL of the service's HTTP API (`http://127.0.0.1:8080`), for netzero-summary */
  httpUrl?: string;
  /**
   * When set, the editor and admin API need it: log in as `admin` with this password, or send
   * `Authorization: Bearer <token>` to the admin API. Without it the editor is open to anyone who reaches the port.
   */
  adminToken?: string;
  /** override for tests; defaults to the source folder flows/nodes */
  nodesDir?: string;
}

/** Node-RED's settings object (only what we set; Node-RED fills in the rest). */
export type NodeRedSettings = Record<string, unknown> & {
  userDir: string;
  flowFile: string;
  nodesDir: string;
  httpAdminRoot: string;
  httpNodeRoot: string;
  uiPort: number;
  uiHost: string;
};

export const NODE_CATEGORY = 'netzero';

export function nodeRedSettings(input: NodeRedSettingsInput): NodeRedSettings {
  const userDir = nodeRedUserDir(input.dataDir);
  return {
    userDir,
    flowFile: 'flows.json',
    flowFilePretty: true,
    credentialSecret: input.credentialSecret,
    nodesDir: input.nodesDir ?? projectNodesDir(),
    uiPort: input.port,
    uiHost: input.host,
    // the editor at the root of its own port; flows' `http in` endpoints under /api
    httpAdminRoot: '/',
    httpNodeRoot: '/api',
    ...(input.adminToken ? { adminAuth: adminAuth(input.adminToken) } : {}),
    // Node-RED's own console logger; the service's JSON logs stay the service's
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    // nothing phones home, nothing runtime-critical is switchable from the editor
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: {
      tours: false,
      page: { title: 'netzero · Node-RED' },
      header: { title: 'netzero · Node-RED' },
      palette: {
        categories: {
          order: [NODE_CATEGORY, 'common', 'function', 'network', 'sequence', 'parser', 'storage'],
          descriptions: { [NODE_CATEGORY]: 'Project nodes: publish readings as a device, checked against the netzero contract; the live summary' },
        },
      },
      projects: { enabled: false },
      multiplayer: { enabled: false },
    },
    exportGlobalContextKeys: false,
    functionGlobalContext: {
      netzero: { ...(input.mqttUrl ? { mqttUrl: input.mqttUrl } : {}), ...(input.httpUrl ? { httpUrl: input.httpUrl } : {}), topicRoot: 'netzero/v1' },
    },
    mqttReconnectTime: 15_000,
    debugMaxLength: 1000,
  };
}

export function nodeRedUserDir(dataDir: string): string {
  return path.join(dataDir, 'nodered');
}

/** One user, `admin`, whose password (and API bearer token) is the service's admin token. */
function adminAuth(token: string): Record<string, unknown> {
  const admin = { username: 'admin', permissions: '*' };
  const same = (given: unknown): boolean => {
    if (typeof given !== 'string') return false;
    const a = crypto.createHash('sha256').update(given).digest();
    const b = crypto.createHash('sha256').update(token).digest();
    return crypto.timingSafeEqual(a, b);
  };
  return {
    type: 'credentials',
    users: async (username: string) => (username === admin.username ? admin : null),
    authenticate: async (username: string, password: string) => (username === admin.username && same(password) ? admin : null),
    tokens: async (bearer: string) => (same(bearer) ? admin : null),
  };
}
