import type { Logger } from 'pino';

/**
 * A room of the service (state, store, ingest, broker, accounting, HTTP, …). Rooms are constructed
 * without I/O, started in order and stopped in reverse, so each one can rely on those before it.
 */
export interface Room {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * The parts of the service's up/down verdict this room answers for (`{store: true}`), and facts
   * worth showing on `/healthz` that do not decide it (`details`). Rooms the verdict does not depend
   * on return `{}`.
   */
  health?(): RoomHealth;
  /** The ports this room listens on once started (`{mqtt: 1883, ws: 8083}`), for `ports.json`. */
  ports?(): Record<string, number | undefined>;
}

export interface RoomHealth {
  verdict?: Record<string, boolean>;
  details?: Record<string, unknown>;
}

/**
 * Starts the rooms in order. If one fails, those already started are stopped in reverse and the
 * error is rethrown naming the room.
 */
export async function startRooms(rooms: readonly Room[], log: Logger): Promise<void> {
  const started: Room[] = [];
  for (const room of rooms) {
    try {
      await room.start();
    } catch (err) {
      await stopRooms(started, log);
      if (err instanceof Error) err.message = `${room.name}: ${err.message}`;
      throw err;
    }
    started.push(room);
  }
}

/** Stops the rooms in reverse order; a room that fails to stop is logged and the others still stop. */
export async function stopRooms(rooms: readonly Room[], log: Logger): Promise<void> {
  for (const room of [...rooms].reverse()) {
    try {
      await room.stop();
    } catch (err) {
      log.warn({ room: room.name, err: (err as Error).message }, 'room failed to stop cleanly');
    }
  }
}

/** The service's health: up when every verdict of every room is true; details merged beside. */
export function roomsHealth(rooms: readonly Room[]): { up: boolean; verdict: Record<string, boolean>; details: Record<string, unknown> } {
  const verdict: Record<string, boolean> = {};
  const details: Record<string, unknown> = {};
  for (const room of rooms) {
    const h = room.health?.() ?? {};
    Object.assign(verdict, h.verdict ?? {});
    Object.assign(details, h.details ?? {});
  }
  return { up: Object.values(verdict).every(Boolean), verdict, details };
}

/** Every room's ports, merged (a listener that is off is left out). */
export function roomsPorts(rooms: readonly Room[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const room of rooms) for (const [k, v] of Object.entries(room.ports?.() ?? {})) if (v !== undefined) out[k] = v;
  return out;
}
