import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { StateDb, TableSet } from '../lib/state-db.js';
import { generateSecret, hashSecretNow, verifyFastSecret } from './credentials.js';
import type { FieldError } from './payload.js';
import { ID_PATTERN } from './topics.js';

/**
 * Facility operators: people who connect meters, inverters and chargers at their sites. Each has an id,
 * a name, the sites it may see and act on (one or more), and a secret of 192 random bits stored only as a
 * salted HMAC-SHA256 like a device's (devices/credentials.ts), shown once.
 */
export interface Operator {
  id: string;
  name: string;
  sites: string[];
  createdAt: string;
}

export interface OperatorsTable {
  id: string;
  name: string;
  sites: string; // JSON array of site ids
  secret_hash: string;
  created_at: string; // ISO
}

interface Tables {
  operators: OperatorsTable;
}

export const operatorTables: TableSet = {
  owner: 'operators',
  migrations: {
    '0001_operators': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('operators')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('sites', 'text', (c) => c.notNull())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
  },
};

/** An operator may be given this many sites at most (a facility company's portfolio, not the city). */
export const MAX_OPERATOR_SITES = 100;

const idText = (what: string) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a string') })
    .regex(ID_PATTERN, { error: `must be 1-64 characters of letters, digits, "_", "-" or "." for the ${what}` });

/** Body of `POST /api/operators` and flags of `netzero operators add`. Strict: an unknown field is named. */
export const newOperatorSchema = z.strictObject({
  id: idText('operator id').optional(),
  name: z
    .string({ error: (iss) => (iss.input === undefined ? 'required: a human name' : 'must be a string') })
    .trim()
    .min(1, { error: 'required: a human name' })
    .max(200, { error: 'must be at most 200 characters' }),
  sites: z
    .array(idText('site'), { error: (iss) => (iss.input === undefined ? 'required: the sites this operator may see (at least one)' : 'must be an array of site ids') })
    .min(1, { error: 'must name at least one site' })
    .max(MAX_OPERATOR_SITES, { error: `must name at most ${MAX_OPERATOR_SITES} sites` }),
});
export type NewOperator = z.infer<typeof newOperatorSchema>;

/** A new operator's body as field errors (`sites[1]`, `name`, an unknown key by name), or the operator. */
export function parseNewOperator(input: unknown): { success: true; data: NewOperator } | { success: false; errors: FieldError[] } {
  const r = newOperatorSchema.safeParse(input);
  if (r.success) return { success: true, data: { ...r.data, sites: [...new Set(r.data.sites)] } };
  const errors = r.error.issues.flatMap((i): FieldError[] =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: k.slice(0, 64) || '""', reason: 'is not a field of an operator (id, name, sites)' }))
      : [{ field: i.path.reduce<string>((out, k) => (typeof k === 'number' ? `${out}[${k}]` : out ? `${out}.${String(k)}` : String(k)), '') || 'body', reason: i.message }],
  );
  return { success: false, errors };
}

export class DuplicateOperatorError extends Error {}

function toOperator(row: OperatorsTable): Operator {
  return { id: row.id, name: row.name, sites: JSON.parse(row.sites) as string[], createdAt: row.created_at };
}

/** The operators' table: add (the secret shown once), list, remove, and the secret check. */
export class OperatorStore {
  private readonly db: Kysely<Tables>;

  constructor(state: StateDb) {
    this.db = state;
  }

  async add(input: NewOperator): Promise<{ operator: Operator; secret: string }> {
    const secret = generateSecret();
    const row: OperatorsTable = {
      id: input.id ?? `op-${randomBytes(4).toString('hex')}`,
      name: input.name,
      sites: JSON.stringify(input.sites),
      secret_hash: hashSecretNow(secret),
      created_at: new Date().toISOString(),
    };
    try {
      await this.db.insertInto('operators').values(row).execute();
    } catch (err) {
      if (/UNIQUE|PRIMARY KEY|duplicate key/i.test(String(err))) throw new DuplicateOperatorError(`operator id "${row.id}" is already taken`);
      throw err;
    }
    return { operator: toOperator(row), secret };
  }

  async list(): Promise<Operator[]> {
    const rows = await this.db.selectFrom('operators').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toOperator);
  }

  async get(id: string): Promise<Operator | null> {
    const row = await this.db.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toOperator(row) : null;
  }

  /** Removes an operator; true if there was one. Its open sessions end at their next request (the service checks the operator exists). */
  async remove(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('operators').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** The operator's stored hash, or null for an unknown id (the caller counts the attempt before checking). */
  async credentials(id: string): Promise<{ operator: Operator; hash: string } | null> {
    if (!ID_PATTERN.test(id)) return null;
    const row = await this.db.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? { operator: toOperator(row), hash: row.secret_hash } : null;
  }

  /** Constant-time check of a secret against the stored hash (microseconds). */
  static verify(secret: string, hash: string): boolean {
    return verifyFastSecret(secret, hash);
  }
}
