import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import { exclusiveTransaction, type StateDb, type TableSet } from '../lib/state-db.js';
import { generateSecret, hashSecret, hashSecretNow, needsRehash, SALT_BYTES, SECRET_BYTES, verifySecret } from './credentials.js';
import { KINDS, SECTORS, type Kind, type Sector } from './kinds.js';
import type { FieldError } from './payload.js';
import { deviceParamsSchema, type DeviceParams } from './params.js';
import { modbusKindProblems } from './modbus/params.js';
import { programmeKindProblem } from './programmes.js';
import { ID_PATTERN, topicFor } from './topics.js';

const idField = (what: string) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : `must be a string`) })
    .regex(ID_PATTERN, {
      error: `must be 1-64 characters of letters, digits, "_", "-" or "." (one MQTT topic level, no wildcards) for the ${what}`,
    });

const shown = (v: unknown): string => {
  const text = typeof v === 'string' ? JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v) : v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
  return `got ${text}`;
};
const oneOf = (values: readonly string[]) => (iss: { input?: unknown }) =>
  iss.input === undefined ? `required: one of ${values.join(', ')}` : `must be one of ${values.join(', ')}, ${shown(iss.input)}`;
const text = (max: number) =>
  z.string({ error: (iss) => `must be a string of at most ${max} characters, ${shown(iss.input)}` }).max(max, { error: `must be at most ${max} characters` });

const DEVICE_FIELDS = ['kind', 'site', 'sector', 'measure', 'name', 'id', 'params'] as const;
const VIEWER_FIELDS = ['role', 'id', 'name'] as const;

/**
 * Body of `POST /api/devices` and flags of `netzero devices add`: a device of one kind. Strict: a field
 * it does not know (a typo such as `"measures"`) is refused by name instead of being dropped. Whether the
 * measure is one the system knows is checked by `parseRegistration`, which is given the known measures.
 */
export const newDeviceSchema = z.strictObject({
  id: idField('device id').optional(),
  kind: z.enum(KINDS, { error: oneOf(KINDS) }),
  site: idField('site'),
  sector: z.enum(SECTORS, { error: oneOf(SECTORS) }),
  measure: z
    .string({ error: (iss) => `must be the id of a known measure (a string), ${shown(iss.input)}` })
    .min(1, { error: 'must not be empty (leave it out for no measure)' })
    .max(200, { error: 'must be at most 200 characters' })
    .optional(),
  name: text(200).optional(),
  params: deviceParamsSchema.optional(),
}).superRefine((d, ctx) => {
  // params.modbus against the kind: SunSpec models exist for some kinds only; a register map fills the kind's fields
  if (d.params?.modbus) for (const p of modbusKindProblems(d.kind, d.params.modbus)) ctx.addIssue({ code: 'custom', path: ['params', 'modbus', ...p.path], message: p.message });
  const programmeProblem = d.params?.programme ? programmeKindProblem(d.kind, d.params.programme) : null;
  if (programmeProblem) ctx.addIssue({ code: 'custom', path: ['params', 'programme'], message: programmeProblem });
});

/** `{"role":"viewer"}`: a read-only MQTT user that may subscribe to netzero/v1/#. Strict, like a device. */
export const newViewerSchema = z.strictObject({
  role: z.literal('viewer', { error: (iss) => `must be "viewer" (leave role out to register a device), ${shown(iss.input)}` }),
  id: idField('user id').optional(),
  name: text(200).optional(),
});

export type NewDevice = z.infer<typeof newDeviceSchema>;
export type NewViewer = z.infer<typeof newViewerSchema>;

/**
 * A measure a device may report on: the budget's (accounting/budget, passed in by the caller: devices/
 * comes before accounting/ on the data path), the built-in ones below, and those an operator added
 * with `netzero measures add` (the `measures` table).
 */
export interface KnownMeasure {
  id: string;
  name: string;
  source: 'budget' | 'built-in' | 'added';
}

/**
 * Measures outside the budget's table 12 that devices are linked to today. The budget has no PV
 * measure at all, so PV (the most common first meter) would otherwise have none to name.
 */
export const BUILT_IN_MEASURES: ReadonlyArray<KnownMeasure & { why: string }> = [
  { id: 'rooftop-pv', name: 'Rooftop PV on public and private buildings', source: 'built-in', why: 'the budget has no PV measure; the README\'s first example' },
  { id: 'school-rooftop-pv', name: 'Rooftop PV on schools', source: 'built-in', why: 'demo fleet (demo-school-pv)' },
  { id: 'fish-farm-pv', name: 'Fish-farm PV (漁電共生)', source: 'built-in', why: 'demo fleet (demo-fish-farm-pv)' },
  { id: 'social-housing-smart-meters', name: 'Smart meters in social housing', source: 'built-in', why: 'demo fleet (demo-social-housing-meter)' },
  { id: 'public-car-park-charging', name: 'EV charging in public car parks', source: 'built-in', why: 'demo fleet (demo-carpark-charger)' },
];

/** The measures known from the budget's list, the built-in ones and the added ones, in that order. */
export function knownMeasures(budget: ReadonlyArray<{ id: string; name_en: string }>, added: readonly KnownMeasure[]): KnownMeasure[] {
  return [
    ...budget.map((m) => ({ id: m.id, name: m.name_en, source: 'budget' as const })),
    ...BUILT_IN_MEASURES.map(({ id, name, source }) => ({ id, name, source })),
    ...added,
  ];
}

/** Why a new measure's id cannot be added (it is already known: the budget's, built in or added), or null. */
export function measureTaken(id: string, known: readonly KnownMeasure[]): string | null {
  const same = known.find((m) => m.id === id);
  return same ? `"${id}" is already a known measure (${same.source === 'budget' ? "the budget's" : same.source}: ${same.name})` : null;
}

const MEASURE_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** `netzero measures add`: a measure outside the budget, kebab-case like the budget's ids. */
export const newMeasureSchema = z.strictObject({
  id: z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : `must be a string, ${shown(iss.input)}`) })
    .max(64, { error: 'must be at most 64 characters' })
    .regex(MEASURE_ID, { error: (iss) => `must be kebab-case like the budget's ids (a-z, 0-9, single hyphens: rooftop-pv), ${shown(iss.input)}` }),
  name: z
    .string({ error: (iss) => (iss.input === undefined ? 'required: a human name' : `must be a string, ${shown(iss.input)}`) })
    .trim()
    .min(1, { error: 'required: a human name' })
    .max(200, { error: 'must be at most 200 characters' }),
});
export type NewMeasure = z.infer<typeof newMeasureSchema>;

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Why `id` is not a measure a device may name (with the closest known ids, or all of them), or null if it is one. */
export function measureProblem(id: string, known: readonly KnownMeasure[]): string | null {
  if (known.some((m) => m.id === id)) return null;
  const q = id.toLowerCase();
  const close = known
    .map((m) => ({ id: m.id, d: m.id.includes(q) || q.includes(m.id) ? 1 : editDistance(q, m.id) }))
    .filter((m) => m.d <= Math.max(2, Math.floor(q.length / 3)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((m) => m.id);
  const add = 'add one with netzero measures add --id ID --name NAME';
  return close.length > 0
    ? `is not a known measure (${shown(id)}); did you mean ${close.join(' or ')}? (every known id: netzero measures list; ${add})`
    : `is not a known measure (${shown(id)}); known: ${known.map((m) => m.id).join(', ')}; ${add}`;
}

function issuePath(base: string, p: ReadonlyArray<PropertyKey>): string {
  let out = base;
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : out === '' ? String(k) : `.${String(k)}`;
  return out;
}

/** A key the sender chose, as an error's field: never empty, never longer than 64 characters and "…". */
export function keyAsField(key: string): string {
  return key === '' ? '""' : key.length > 64 ? `${key.slice(0, 64)}…` : key;
}

/** zod issues as field errors, a strict object's unknown keys named one by one (zod reports them together at the object). */
function fieldErrors(error: z.ZodError, fields: readonly string[], what: string): FieldError[] {
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: issuePath('', [...i.path, keyAsField(k)]), reason: `is not a field of ${what} (${fields.join(', ')})` }))
      : [{ field: issuePath('', i.path) || 'body', reason: i.message }],
  );
}

export type RegistrationResult = { success: true; data: NewDevice | NewViewer } | { success: false; errors: FieldError[] };

/**
 * Checks a registration (`POST /api/devices`, `netzero devices add`): a body with `role` is a viewer,
 * any other object a device, so each error is that schema's and names its field (`kind`,
 * `params.nameplate_kw`, `measure`), never the union. `known`: the measures a device may name.
 */
export function parseRegistration(input: unknown, known: readonly KnownMeasure[]): RegistrationResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { success: false, errors: [{ field: 'body', reason: `must be a JSON object: a device {"kind","site","sector",…} or a viewer {"role":"viewer"}, ${shown(input)}` }] };
  }
  if ('role' in input) {
    const viewer = newViewerSchema.safeParse(input);
    return viewer.success ? viewer : { success: false, errors: fieldErrors(viewer.error, VIEWER_FIELDS, 'a viewer') };
  }
  const device = newDeviceSchema.safeParse(input);
  const errors = device.success ? [] : fieldErrors(device.error, DEVICE_FIELDS, 'a device');
  const measure = (input as { measure?: unknown }).measure;
  if (typeof measure === 'string' && measure !== '' && !errors.some((e) => e.field === 'measure')) {
    const problem = measureProblem(measure, known);
    if (problem) errors.push({ field: 'measure', reason: problem });
  }
  return device.success && errors.length === 0 ? device : { success: false, errors };
}

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
  /** set while the device is disabled: its connections are closed and refused, its readings refused; its history stays */
  disabled?: DeviceDisabled | null;
}

/** When, why and by whom a device was disabled. */
export interface DeviceDisabled {
  at: string;
  reason: string;
  by: string;
}

/** What changed about a registered device (other than a new registration): the service closes connections that no longer hold. */
export interface DeviceChange {
  id: string;
  what: 'secret' | 'disabled' | 'enabled';
}

export interface Registration {
  id: string;
  /** shown once; only its hash is stored */
  secret: string;
  /** telemetry topic for a device; the subscription filter for a viewer */
  topic: string;
}

export class DuplicateIdError extends Error {}

/** `registerMany`: ids of the list that are already registered (index in the list, id); nothing was registered. */
export class DuplicateIdsError extends DuplicateIdError {
  constructor(readonly taken: ReadonlyArray<{ index: number; id: string }>) {
    super(`${taken.length} of the ids ${taken.length === 1 ? 'is' : 'are'} already registered (${taken.slice(0, 3).map((t) => `"${t.id}"`).join(', ')}${taken.length > 3 ? ', …' : ''}); nothing was registered`);
  }
}

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
  disabled_at: string | null; // ISO, set while disabled
  disabled_reason: string | null;
  disabled_by: string | null;
}

/** Measures outside the budget added with `netzero measures add`. */
export interface MeasuresTable {
  id: string;
  name: string;
  created_at: string; // ISO
}

interface Tables {
  devices: DevicesTable;
  measures: MeasuresTable;
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
    '0002_disabled': {
      async up(db: Kysely<unknown>) {
        for (const column of ['disabled_at', 'disabled_reason', 'disabled_by']) await db.schema.alterTable('devices').addColumn(column, 'text').execute();
      },
    },
  },
};

/** The measures operators added (`netzero measures add`): the budget's and the built-in ones are not stored. */
export const measureTables: TableSet = {
  owner: 'measures',
  migrations: {
    '0001_measures': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('measures')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
  },
};

const PREFIX: Record<Kind, string> = { smart_meter: 'sm', pv_inverter: 'pv', biogas: 'bg', ev_charger: 'ev' };
const CACHE_MS = 5_000;

type Row = Awaited<ReturnType<DeviceRegistry['rawRow']>>;
type CacheEntry = { at: number; device: Device | null; hash: string | null };

/** A row of `devices` as inserted (the disabled columns start empty). */
type NewRow = Omit<DevicesTable, 'disabled_at' | 'disabled_reason' | 'disabled_by'>;

/** Rows per INSERT of `registerMany`: 11 columns each, well under SQLite's 32,766 bound parameters. */
const INSERT_ROWS = 500;
/** Ids per `IN (…)` look-up. */
const LOOKUP_IDS = 500;

const generatedId = (input: NewDevice | NewViewer): string =>
  'role' in input ? `viewer-${randomBytes(4).toString('hex')}` : `${PREFIX[input.kind]}-${randomBytes(4).toString('hex')}`;

/** The row to insert and what the caller is told (the secret once). */
function rowOf(input: NewDevice | NewViewer, secret: string, secret_hash: string, created_at: string, demo: boolean): { row: NewRow; reg: Registration } {
  if ('role' in input) {
    const id = input.id ?? generatedId(input);
    const row: NewRow = { id, role: 'viewer', kind: null, site: '*', sector: null, measure: null, name: input.name ?? null, params: '{}', secret_hash, demo: demo ? 1 : 0, created_at };
    return { row, reg: { id, secret, topic: 'netzero/v1/#' } };
  }
  const id = input.id ?? generatedId(input);
  const row: NewRow = {
    id, role: 'device', kind: input.kind, site: input.site, sector: input.sector, measure: input.measure ?? null,
    name: input.name ?? null, params: JSON.stringify(input.params ?? {}), secret_hash, demo: demo ? 1 : 0, created_at,
  };
  return { row, reg: { id, secret, topic: topicFor(input.site, id, 'telemetry') } };
}

/** A generated id drawn again (it was taken). */
function redraw(b: { row: NewRow; reg: Registration; input: NewDevice | NewViewer }): void {
  const id = generatedId(b.input);
  b.row.id = id;
  b.reg.id = id;
  if (!('role' in b.input)) b.reg.topic = topicFor(b.input.site, id, 'telemetry');
}

/** Which of `ids` are registered. */
async function existingIds(db: StateDb, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += LOOKUP_IDS) {
    const rows = await db.selectFrom('devices').select('id').where('id', 'in', ids.slice(i, i + LOOKUP_IDS)).execute();
    for (const r of rows as Array<{ id: string }>) found.add(r.id);
  }
  return found;
}

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
    disabled: row.disabled_at ? { at: row.disabled_at, reason: row.disabled_reason ?? '', by: row.disabled_by ?? '' } : null,
  };
}

/**
 * Writes to the devices table per state database connection, by any registry on it: with SQLite's
 * `data_version` (which counts only other connections' commits) they tell whether a kept list still holds.
 */
const localWrites = new WeakMap<object, number>();

/** The device registry: ids, kinds, sites, sectors, measures, params and secret hashes. */
export class DeviceRegistry {
  private cache = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<CacheEntry>>();
  /** ids to read in the next turn of the event loop, with who waits for each */
  private batch = new Map<string, { resolve: (entry: CacheEntry) => void; reject: (err: unknown) => void }>();
  private readonly db: Kysely<Tables>;
  private readonly registered = new Set<(id: string) => void>();
  private readonly changed = new Set<(change: DeviceChange) => void>();
  /** the whole list as last read, and the versions of the database it was read at */
  private listed?: { dataVersion: number; localWrites: number; devices: Promise<Device[]> };

  constructor(state: StateDb) {
    this.db = state;
  }

  private rawRow(id: string) {
    return this.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async register(input: NewDevice | NewViewer, opts: { demo?: boolean } = {}): Promise<Registration> {
    const secret = generateSecret();
    const { row, reg } = rowOf(input, secret, await hashSecret(secret), new Date().toISOString(), opts.demo ?? false);
    await this.insert(row);
    return reg;
  }

  /**
   * Registers every item or none, in one write transaction (`BEGIN IMMEDIATE`: the id check and the inserts
   * cannot interleave with another writer): DuplicateIdsError names the items whose ids are taken. A
   * generated id that happens to be taken (in the database or the list) is drawn again. Secrets are hashed
   * with the fast keyed hash, so 20,000 cost well under a second.
   */
  async registerMany(inputs: ReadonlyArray<NewDevice | NewViewer>, opts: { demo?: boolean; onProgress?: (done: number) => void } = {}): Promise<Registration[]> {
    const created_at = new Date().toISOString();
    // one draw of random bytes for every secret and salt instead of two system calls per device
    const pool = randomBytes(inputs.length * (SECRET_BYTES + SALT_BYTES));
    const built = inputs.map((input, i) => {
      const at = i * (SECRET_BYTES + SALT_BYTES);
      const secret = generateSecret(pool.subarray(at, at + SECRET_BYTES));
      return { ...rowOf(input, secret, hashSecretNow(secret, pool.subarray(at + SECRET_BYTES, at + SECRET_BYTES + SALT_BYTES)), created_at, opts.demo ?? false), input };
    });
    const generated = (b: (typeof built)[number]) => b.input.id === undefined;
    const ids = new Set<string>();
    for (const b of built) {
      while (generated(b) && ids.has(b.row.id)) redraw(b);
      ids.add(b.row.id);
    }
    await exclusiveTransaction(this.db as StateDb, async (tx) => {
      const taken = await existingIds(tx, built.map((b) => b.row.id));
      const given = built.flatMap((b, index) => (!generated(b) && taken.has(b.row.id) ? [{ index, id: b.row.id }] : []));
      if (given.length > 0) throw new DuplicateIdsError(given);
      let redrawn = built.filter((b) => generated(b) && taken.has(b.row.id));
      while (redrawn.length > 0) {
        for (const b of redrawn) {
          ids.delete(b.row.id);
          do redraw(b);
          while (ids.has(b.row.id));
          ids.add(b.row.id);
        }
        const again = await existingIds(tx, redrawn.map((b) => b.row.id));
        redrawn = redrawn.filter((b) => again.has(b.row.id));
      }
      for (let i = 0; i < built.length; i += INSERT_ROWS) {
        await tx.insertInto('devices').values(built.slice(i, i + INSERT_ROWS).map((b) => b.row)).execute();
        opts.onProgress?.(Math.min(built.length, i + INSERT_ROWS));
      }
    });
    this.wrote();
    for (const b of built) {
      this.cache.delete(b.row.id);
      for (const fn of this.registered) fn(b.row.id);
    }
    return built.map((b) => b.reg);
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
    this.wrote();
    this.cache.delete(row.id);
    for (const fn of this.registered) fn(row.id);
  }

  /**
   * Calls `fn` with the id of each device or viewer registered through this registry (the service's own
   * `POST /api/devices`); one registered by another process (the CLI) is seen only by reading the list
   * again. Returns a function that removes `fn`.
   */
  onRegistered(fn: (id: string) => void): () => void {
    this.registered.add(fn);
    return () => this.registered.delete(fn);
  }

  private insertRow(row: NewRow) {
    return this.db.insertInto('devices').values(row).execute();
  }

  /** The measures added with `netzero measures add`, oldest first. */
  async addedMeasures(): Promise<KnownMeasure[]> {
    const rows = await this.db.selectFrom('measures').select(['id', 'name']).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, source: 'added' as const }));
  }

  /** Every measure a device may name: the budget's (passed in), the built-in ones and the added ones. */
  async knownMeasures(budget: ReadonlyArray<{ id: string; name_en: string }>): Promise<KnownMeasure[]> {
    return knownMeasures(budget, await this.addedMeasures());
  }

  /** Adds a measure outside the budget; DuplicateIdError if the id is already known (budget, built-in or added). */
  async addMeasure(input: NewMeasure, budget: ReadonlyArray<{ id: string; name_en: string }>): Promise<KnownMeasure> {
    const taken = measureTaken(input.id, await this.knownMeasures(budget));
    if (taken) throw new DuplicateIdError(taken);
    try {
      await this.db.insertInto('measures').values({ id: input.id, name: input.name, created_at: new Date().toISOString() }).execute();
    } catch (err) {
      if (/UNIQUE|PRIMARY KEY|duplicate key/i.test(String(err))) throw new DuplicateIdError(`"${input.id}" is already a known measure (added)`);
      throw err;
    }
    return { id: input.id, name: input.name, source: 'added' };
  }

  /** Replace a device's secret (the demo fleet does this at each start); returns the new secret. */
  async rotateSecret(id: string): Promise<string> {
    const secret = generateSecret();
    await this.db.updateTable('devices').set({ secret_hash: await hashSecret(secret) }).where('id', '=', id).execute();
    this.wrote();
    this.cache.delete(id);
    this.tell({ id, what: 'secret' });
    return secret;
  }

  /** Disables a device (`{reason, by}`) or enables it again (`null`); returns the device as it is now, or null when no such id. */
  async setDisabled(id: string, disabled: { reason: string; by: string } | null): Promise<Device | null> {
    const values = disabled
      ? { disabled_at: new Date().toISOString(), disabled_reason: disabled.reason, disabled_by: disabled.by }
      : { disabled_at: null, disabled_reason: null, disabled_by: null };
    const r = await this.db.updateTable('devices').set(values).where('id', '=', id).executeTakeFirst();
    this.wrote();
    this.cache.delete(id);
    if (Number(r.numUpdatedRows) === 0) return null;
    this.tell({ id, what: disabled ? 'disabled' : 'enabled' });
    return this.get(id);
  }

  /**
   * Calls `fn` when a device's secret is replaced or it is disabled or enabled through this registry (the
   * service's own API; the CLI goes through the running service for these). Returns a function that removes `fn`.
   */
  onChanged(fn: (change: DeviceChange) => void): () => void {
    this.changed.add(fn);
    return () => this.changed.delete(fn);
  }

  private tell(change: DeviceChange): void {
    for (const fn of this.changed) fn(change);
  }

  /**
   * Every device and viewer, oldest first. The list is kept until the database changes: a write through any
   * registry on this connection, or a commit by another connection or process (SQLite's `data_version`).
   * A city's 10,000 devices took 150–210 ms of the event loop to read and parse, once per summary.
   */
  async list(): Promise<Device[]> {
    const [{ data_version: dataVersion }] = (await sql<{ data_version: number }>`PRAGMA data_version`.execute(this.db)).rows as [{ data_version: number }];
    const writes = localWrites.get(this.db) ?? 0;
    const kept = this.listed;
    if (kept && kept.dataVersion === dataVersion && kept.localWrites === writes) return [...(await kept.devices)];
    const entry = { dataVersion, localWrites: writes, devices: this.readList() };
    this.listed = entry;
    entry.devices.catch(() => {
      if (this.listed === entry) this.listed = undefined;
    });
    return [...(await entry.devices)];
  }

  private async readList(): Promise<Device[]> {
    const rows = await this.db.selectFrom('devices').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toDevice);
  }

  /** A write to the devices table went through this connection: lists kept before it no longer hold. */
  private wrote(): void {
    localWrites.set(this.db, (localWrites.get(this.db) ?? 0) + 1);
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

  /**
   * A cached entry younger than CACHE_MS, else read again. `stale`: an older entry is answered at once and
   * read again behind it. Per message (`get`) that matters: a service that falls behind by more than
   * CACHE_MS per device (a flood) would otherwise query the database for every message, which made it fall
   * further behind (measured: 100,000 queries for 100,000 readings at 10,000/s over 1,000 devices).
   */
  private lookup(id: string, opts: { stale?: boolean } = {}): Promise<CacheEntry> | CacheEntry {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    if (hit && opts.stale) {
      this.load(id).catch(() => undefined); // the next look-up tries again
      return hit;
    }
    return this.load(id);
  }

  /** Reads a device into the cache; one read per id at a time, shared by whoever asks meanwhile. */
  private load(id: string): Promise<CacheEntry> {
    const running = this.loading.get(id);
    if (running) return running;
    const read = new Promise<CacheEntry>((resolve, reject) => {
      if (this.batch.size === 0) setImmediate(() => void this.readBatch());
      this.batch.set(id, { resolve, reject });
    }).finally(() => this.loading.delete(id));
    this.loading.set(id, read);
    return read;
  }

  /**
   * Reads the ids asked for in one turn of the event loop together, LOOKUP_IDS per query: after a restart
   * thousands of devices log in within seconds, and a query each (compiled and prepared every time) was
   * an eighth of the service's work in the reconnect storm of bench/fleet.ts.
   */
  private async readBatch(): Promise<void> {
    const batch = this.batch;
    this.batch = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += LOOKUP_IDS) {
      const slice = ids.slice(i, i + LOOKUP_IDS);
      try {
        const rows = new Map((await this.readRows(slice)).map((r) => [r.id, r]));
        const at = Date.now();
        for (const id of slice) {
          const row = rows.get(id);
          const entry = { at, device: row ? toDevice(row) : null, hash: row?.secret_hash ?? null };
          if (row) this.cache.set(id, entry);
          else this.cache.delete(id);
          batch.get(id)!.resolve(entry);
        }
      } catch (err) {
        for (const id of slice) batch.get(id)!.reject(err);
      }
    }
  }

  private readRows(ids: readonly string[]) {
    return this.db.selectFrom('devices').selectAll().where('id', 'in', ids).execute();
  }

  /**
   * The device with this id, or null; cached for a few seconds (ingest asks once per message). A change made
   * through this registry is seen at once; one made by another process within CACHE_MS and one more call.
   */
  async get(id: string): Promise<Device | null> {
    return (await this.lookup(id, { stale: true })).device;
  }

  /**
   * `get` without a promise when the answer is at hand (the same cache, the same rules): ingest asks once
   * per message, and a promise and an `await` each were a measurable part of the work per message.
   * A promise only when the device has to be read.
   */
  getNow(id: string): Device | null | Promise<Device | null> {
    const entry = this.lookup(id, { stale: true });
    return entry instanceof Promise ? entry.then((e) => e.device) : entry.device;
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
    this.wrote();
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
