import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { StateDb, TableSet } from '../lib/state-db.js';
import { generateSecret, hashSecret, hashSecretNow, needsRehash, verifySecret } from './credentials.js';
import { KINDS, SECTORS, type Kind, type Sector } from './kinds.js';
import { deviceParamsSchema, type DeviceParams } from './params.js';
import { ID_PATTERN, topicFor } from './topics.js';

const idField = (what: string) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : `must be a string`) })
    .regex(ID_PATTERN, {
      error: `must be 1-64 characters of letters, digits, "_", "-" or "." (one MQTT topic level, no wildcards) for the ${what}`,
    });

/** Body of `POST /api/devices` and flags of `netzero devices add`: a device of one kind. */
export const newDeviceSchema = z.object({
  id: idField('device id').optional(),
  kind: z.enum(KINDS, { error: `must be one of ${KINDS.join(', ')}` }),
  site: idField('site'),
  sector: z.enum(SECTORS, { error: `must be one of ${SECTORS.join(', ')}` }),
  measure: z.string().min(1).max(200).optional(),
  name: z.string().max(200).optional(),
  params: deviceParamsSchema.optional(),
});

/** `{"role":"viewer"}`: a read-only MQTT user that may subscribe to netzero/v1/#. */
export const newViewerSchema = z.object({
  role: z.literal('viewer'),
  id: idField('user id').optional(),
  name: z.string().max(200).optional(),
});

export const registrationSchema = z.union([newViewerSchema, newDeviceSchema], {
  error: 'expected a device ({"kind","site","sector",...}) or a viewer ({"role":"viewer"})',
});
export type NewDevice = z.infer<typeof newDeviceSchema>;
export type NewViewer = z.infer<typeof newViewerSchema>;

export interface Device {
  id: string;
  role: 'device' | 'viewer';
  kind: Kind | null;
  site: string;
  sector: Sector | null;
  measure: string | null;
  name: string | null;
  params: DeviceParams;
  demo: boolean;
  createdAt: string;
}

export interface Registration {
  id: string;
  /** shown once; only its hash is stored */
  secret: string;
  /** telemetry topic for a device; the subscription filter for a viewer */
  topic: string;
}

export class DuplicateIdError extends Error {}

export interface DevicesTable {
  id: string;
  role: 'device' | 'viewer';
  kind: string | null;
  site: string;
  sector: string | null;
  measure: string | null;
  name: string | null;
  params: string; // JSON
  secret_hash: string;
  demo: number; // 1 for the built-in demo fleet
  created_at: string; // ISO
}

interface Tables {
  devices: DevicesTable;
}

/** The registry's table in the state database. `ifNotExists`: data dirs from before each room kept its own migrations already have it. */
export const registryTables: TableSet = {
  owner: 'registry',
  migrations: {
    '0001_devices': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('devices')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('kind', 'text')
          .addColumn('site', 'text', (c) => c.notNull())
          .addColumn('sector', 'text')
          .addColumn('measure', 'text')
          .addColumn('name', 'text')
          .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('demo', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
  },
};

const PREFIX: Record<Kind, string> = { smart_meter: 'sm', pv_inverter: 'pv', biogas: 'bg', ev_charger: 'ev' };
const CACHE_MS = 5_000;

type Row = Awaited<ReturnType<DeviceRegistry['rawRow']>>;

function toDevice(row: NonNullable<Row>): Device {
  return {
    id: row.id,
    role: row.role,
    kind: (row.kind as Kind | null) ?? null,
    site: row.site,
    sector: (row.sector as Sector | null) ?? null,
    measure: row.measure,
    name: row.name,
    params: JSON.parse(row.params) as DeviceParams,
    demo: row.demo === 1,
    createdAt: row.created_at,
  };
}

/** The device registry: ids, kinds, sites, sectors, measures, params and secret hashes. */
export class DeviceRegistry {
  private cache = new Map<string, { at: number; device: Device | null; hash: string | null }>();
  private readonly db: Kysely<Tables>;

  constructor(state: StateDb) {
    this.db = state;
  }

  private rawRow(id: string) {
    return this.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async register(input: NewDevice | NewViewer, opts: { demo?: boolean } = {}): Promise<Registration> {
    const secret = generateSecret();
    const secret_hash = await hashSecret(secret);
    const created_at = new Date().toISOString();
    if ('role' in input) {
      const id = input.id ?? `viewer-${randomBytes(4).toString('hex')}`;
      await this.insert({
        id, role: 'viewer', kind: null, site: '*', sector: null, measure: null, name: input.name ?? null,
        params: '{}', secret_hash, demo: opts.demo ? 1 : 0, created_at,
      });
      return { id, secret, topic: 'netzero/v1/#' };
    }
    const id = input.id ?? `${PREFIX[input.kind]}-${randomBytes(4).toString('hex')}`;
    await this.insert({
      id, role: 'device', kind: input.kind, site: input.site, sector: input.sector, measure: input.measure ?? null,
      name: input.name ?? null, params: JSON.stringify(input.params ?? {}), secret_hash, demo: opts.demo ? 1 : 0, created_at,
    });
    return { id, secret, topic: topicFor(input.site, id, 'telemetry') };
  }

  private async insert(row: Parameters<DeviceRegistry['insertRow']>[0]) {
    try {
      await this.insertRow(row);
    } catch (err) {
      if (/UNIQUE|PRIMARY KEY|duplicate key/i.test(String(err))) {
        throw new DuplicateIdError(`id "${row.id}" is already registered`);
      }
      throw err;
    }
    this.cache.delete(row.id);
  }

  private insertRow(row: {
    id: string; role: 'device' | 'viewer'; kind: string | null; site: string; sector: string | null;
    measure: string | null; name: string | null; params: string; secret_hash: string; demo: number; created_at: string;
  }) {
    return this.db.insertInto('devices').values(row).execute();
  }

  /** Replace a device's secret (the demo fleet does this at each start); returns the new secret. */
  async rotateSecret(id: string): Promise<string> {
    const secret = generateSecret();
    await this.db.updateTable('devices').set({ secret_hash: await hashSecret(secret) }).where('id', '=', id).execute();
    this.cache.delete(id);
    return secret;
  }

  async list(): Promise<Device[]> {
    const rows = await this.db.selectFrom('devices').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toDevice);
  }

  /** Number of registered devices that are not part of the demo fleet (viewers don't count). */
  async countReal(): Promise<number> {
    const r = await this.db
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('demo', '=', 0)
      .where('role', '=', 'device')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  private async lookup(id: string) {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    const row = await this.rawRow(id);
    const entry = { at: Date.now(), device: row ? toDevice(row) : null, hash: row?.secret_hash ?? null };
    if (row) this.cache.set(id, entry);
    else this.cache.delete(id);
    return entry;
  }

  /** The device with this id, or null; cached for a few seconds (ingest asks once per message). */
  async get(id: string): Promise<Device | null> {
    return (await this.lookup(id)).device;
  }

  /**
   * The device with its stored secret hash, or null; cached like `get`. The broker checks the secret
   * itself (a current-form hash at once, a legacy one through its bounded queue: broker/auth.ts).
   */
  async credentials(id: string): Promise<{ device: Device; hash: string } | null> {
    const entry = await this.lookup(id);
    return entry.device && entry.hash ? { device: entry.device, hash: entry.hash } : null;
  }

  /**
   * After a successful login with a legacy (scrypt) hash: store `to`, the same secret in the current
   * form, but only if the stored hash is still `from` (a secret rotated meanwhile wins). True if written.
   */
  async upgradeHash(id: string, from: string, to: string): Promise<boolean> {
    const r = await this.db.updateTable('devices').set({ secret_hash: to }).where('id', '=', id).where('secret_hash', '=', from).executeTakeFirst();
    this.cache.delete(id);
    return Number(r.numUpdatedRows) > 0;
  }

  /** The device if id and secret match, else null; a legacy hash is re-hashed to the current form. */
  async authenticate(id: string, secret: string): Promise<Device | null> {
    const found = await this.credentials(id);
    if (!found || !(await verifySecret(secret, found.hash))) return null;
    if (needsRehash(found.hash)) await this.upgradeHash(id, found.hash, hashSecretNow(secret));
    return found.device;
  }
}
