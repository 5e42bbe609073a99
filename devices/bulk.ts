import { parseRegistration, type KnownMeasure, type NewDevice, type NewViewer } from './registry.js';

/**
 * Many registrations at once (`POST /api/devices` with a JSON array, `netzero devices import FILE.csv`):
 * every item is checked with the rules of one (`parseRegistration`), an id given twice in the list is
 * refused at its second item, and nothing is registered unless every item passes.
 */

/** Registrations in one request or one import file, at most. */
export const MAX_REGISTRATIONS = 20_000;

/** A problem of one item: `index` in the list, `field` as `[index].field` (`[3].kind`, `[7].params.nameplate_kw`, `[9]` for the item itself). */
export interface ItemError {
  index: number;
  field: string;
  reason: string;
}

export type RegistrationsResult = { success: true; data: Array<NewDevice | NewViewer> } | { success: false; errors: ItemError[]; listError?: string };

/** `[3].kind` for item 3's `kind`; `[3]` for the item as a whole. */
export const itemField = (index: number, field: string): string => (field === 'body' || field === '' ? `[${index}]` : `[${index}].${field}`);

/** Items checked between two turns of the event loop (a service keeps acknowledging readings meanwhile). */
const YIELD_EVERY = 1000;

/**
 * Checks a list of registrations: its length (1 to MAX_REGISTRATIONS: else `listError`), each item as one
 * registration, and ids repeated within the list (the second and later items are refused, naming the first).
 */
export async function parseRegistrations(items: readonly unknown[], known: readonly KnownMeasure[], onProgress?: (done: number) => void): Promise<RegistrationsResult> {
  if (items.length === 0) return { success: false, errors: [], listError: 'holds no registration: send at least one' };
  if (items.length > MAX_REGISTRATIONS) {
    return { success: false, errors: [], listError: `holds ${items.length} registrations; at most ${MAX_REGISTRATIONS} at once: split the list` };
  }
  const errors: ItemError[] = [];
  const data: Array<NewDevice | NewViewer> = [];
  const firstOf = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) {
      onProgress?.(i);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const item = items[i];
    const parsed = parseRegistration(item, known);
    if (parsed.success) data.push(parsed.data);
    else for (const e of parsed.errors) errors.push({ index: i, field: itemField(i, e.field), reason: e.reason });
    const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
    if (typeof id !== 'string') continue;
    const first = firstOf.get(id);
    if (first === undefined) firstOf.set(id, i);
    else errors.push({ index: i, field: itemField(i, 'id'), reason: `repeats the id "${id}" of item [${first}]: each id once` });
  }
  onProgress?.(items.length);
  return errors.length === 0 ? { success: true, data } : { success: false, errors };
}
