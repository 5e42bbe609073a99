import type { Room, RoomHealth } from '../lib/rooms.js';
import type { ReadingStore } from './types.js';

/** The store as a room of the service: opened at start, closed after ingest has committed what it queued. */
export class StoreRoom implements Room {
  readonly name = 'store';

  constructor(readonly store: ReadingStore) {}

  start(): Promise<void> {
    return this.store.start();
  }

  stop(): Promise<void> {
    return this.store.close();
  }

  health(): RoomHealth {
    return { verdict: { store: this.store.healthy() }, details: { store_kind: this.store.name, ...this.store.details?.() } };
  }
}
