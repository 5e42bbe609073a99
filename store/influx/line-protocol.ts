/**
 * InfluxDB line protocol, written by hand so that timestamps stay exact decimal strings.
 *
 *   measurement[,tag=value...] field=value[,field=value...] timestampNs
 *
 * Escaping follows the line protocol reference (the same rules as `escape` in
 * @influxdata/influxdb-client):
 * - measurement: comma and space;
 * - tag keys, tag values, field keys: comma, equals sign and space;
 * - string field values: double quote and backslash, inside double quotes.
 *
 * What line protocol cannot carry portably is refused with a RangeError instead of being
 * written wrongly: a newline or carriage return in a name or tag value (it would end the
 * line), and a name or tag value ending in a backslash (it would escape the separator after
 * it; InfluxDB 1.x stores `\\` in tags literally, so doubling is not a portable escape).
 * Empty tag values are left out (line protocol has no empty tag; InfluxQL reads an absent
 * tag as empty).
 */

export type FieldValue = number | string | boolean | { int: number | bigint };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NS_PER_MS = 1_000_000n;
const SEQ_SLOTS = 1_000_000;

function checkName(what: string, value: string, allowEmpty = false): void {
  if (!allowEmpty && value.length === 0) throw new RangeError(`line protocol: empty ${what}`);
  if (/[\n\r]/.test(value)) throw new RangeError(`line protocol: ${what} ${JSON.stringify(value)} contains a line break`);
  if (value.endsWith('\\')) throw new RangeError(`line protocol: ${what} ${JSON.stringify(value)} ends with a backslash`);
}

/** Measurement names: `,` and space are escaped with a backslash. */
export function escapeMeasurement(name: string): string {
  checkName('measurement', name);
  return name.replace(/[, ]/g, '\\$&');
}

/** Tag keys and tag values: `,`, `=` and space are escaped with a backslash. */
export function escapeTag(value: string): string {
  checkName('tag key or value', value);
  return value.replace(/[,= ]/g, '\\$&');
}

/** Field keys: `,`, `=` and space are escaped with a backslash. */
export function escapeFieldKey(key: string): string {
  checkName('field key', key);
  return key.replace(/[,= ]/g, '\\$&');
}

/**
 * One field value:
 * - number → float, in JavaScript's shortest round-trip form (`String(v)`: 17 significant
 *   digits when needed, exponent form such as `1e+21` which InfluxDB parses); NaN and
 *   ±Infinity are refused (line protocol has no representation for them);
 * - `{ int }` → signed 64-bit integer with the `i` suffix (a number must be a safe integer,
 *   a bigint must fit int64);
 * - string → double-quoted, `"` and `\` escaped;
 * - boolean → `true` / `false`.
 * A field key must always get the same kind of value: InfluxDB rejects a type change.
 */
export function formatField(value: FieldValue): string {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError(`line protocol: float field must be finite, got ${value}`);
      return String(value);
    case 'string':
      return `"${value.replace(/["\\]/g, '\\$&')}"`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      const v = value.int;
      if (typeof v === 'bigint') {
        if (v < INT64_MIN || v > INT64_MAX) throw new RangeError(`line protocol: integer field out of int64 range: ${v}`);
        return `${v}i`;
      }
      if (!Number.isSafeInteger(v)) throw new RangeError(`line protocol: integer field must be a safe integer, got ${v}`);
      return `${v}i`;
    }
    default:
      throw new TypeError(`line protocol: unsupported field value ${String(value)}`);
  }
}

/**
 * One line. Tags are sorted by key (what InfluxDB recommends, and deterministic); fields keep
 * their order, `null`/`undefined` fields are left out, at least one field must remain.
 * `timestampNs` is a decimal string (see `nsTimestamp`) so nanoseconds beyond 2^53 stay exact.
 */
export function formatLine(
  measurement: string,
  tags: Record<string, string>,
  fields: Record<string, FieldValue | null | undefined>,
  timestampNs: string,
): string {
  if (!/^-?\d+$/.test(timestampNs)) throw new RangeError(`line protocol: timestamp must be a decimal integer string, got ${JSON.stringify(timestampNs)}`);
  let line = escapeMeasurement(measurement);
  for (const key of Object.keys(tags).sort()) {
    const v = tags[key];
    if (v === undefined || v === '') continue;
    line += `,${escapeTag(key)}=${escapeTag(v)}`;
  }
  let sep = ' ';
  for (const [key, v] of Object.entries(fields)) {
    if (v === null || v === undefined) continue;
    line += `${sep}${escapeFieldKey(key)}=${formatField(v)}`;
    sep = ',';
  }
  if (sep === ' ') throw new RangeError(`line protocol: ${measurement}: a point needs at least one field`);
  return `${line} ${timestampNs}`;
}

/**
 * The point time of a reading, in nanoseconds as a decimal string:
 *
 *   epochMs × 1e6 + ((seq ?? -1) + 1) mod 1e6
 *
 * A point in InfluxDB is identified by measurement + tag set + time, so this maps each
 * (device, ts, seq) to exactly one point: a resend of the same reading overwrites the same
 * point (idempotent), while two readings of one device in the same millisecond with different
 * sequence numbers stay two points. A reading without seq takes offset 0, seq n takes n + 1.
 * The point stays inside its own millisecond, so ms-precision queries see the device's ts.
 *
 * Collision limit: the offset has 1e6 slots, so two readings of one device at the same
 * millisecond whose seqs are equal modulo 1e6 (e.g. 5 and 1_000_005, or a missing seq and
 * 999_999) map to the same point and the later write wins.
 *
 * Built with BigInt: epochMs × 1e6 is beyond 2^53 for any date after 1970-04-15.
 */
export function nsTimestamp(epochMs: number, seq: number | null): string {
  if (!Number.isSafeInteger(epochMs)) throw new RangeError(`nsTimestamp: epochMs must be an integer, got ${epochMs}`);
  if (seq !== null && !Number.isSafeInteger(seq)) throw new RangeError(`nsTimestamp: seq must be an integer or null, got ${seq}`);
  const offset = ((((seq ?? -1) + 1) % SEQ_SLOTS) + SEQ_SLOTS) % SEQ_SLOTS;
  return (BigInt(epochMs) * NS_PER_MS + BigInt(offset)).toString();
}
