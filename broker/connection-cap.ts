import fs from 'node:fs';

/** File descriptors kept for everything but MQTT connections: HTTP, the databases, the spool, workers, Node-RED. */
export const RESERVED_DESCRIPTORS = 512;

/** The process's soft limit on open files (Linux: /proc/self/limits), or null where it cannot be read. */
export function openFileLimit(limits = '/proc/self/limits'): number | null {
  try {
    const line = fs.readFileSync(limits, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    const n = Number(soft);
    return soft === 'unlimited' || !Number.isFinite(n) ? null : n;
  } catch {
    return null;
  }
}

/**
 * How many MQTT connections the broker holds at most: the setting (NETZERO_MQTT_MAX_CONNECTIONS), never
 * more than the open-file limit leaves after RESERVED_DESCRIPTORS, so a flood of devices cannot take the
 * descriptors HTTP and the store need. Null: no cap (no setting and no known limit).
 */
export function connectionCap(setting: number | undefined, fileLimit: number | null): { cap: number | null; lowered: boolean } {
  const room = fileLimit === null ? null : Math.max(1, fileLimit - RESERVED_DESCRIPTORS);
  if (setting === undefined) return { cap: room, lowered: false };
  if (room !== null && setting > room) return { cap: room, lowered: true };
  return { cap: setting, lowered: false };
}
