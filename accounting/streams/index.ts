import type { Device } from '../../devices/registry.js';
import { biogasStream } from './biogas/stream.js';
import { electricitySavingStream } from './electricity_saving/stream.js';
import { evChargingStream } from './ev_charging/stream.js';
import { generationStream } from './generation/stream.js';
import { pvStream } from './pv/stream.js';
import type { StreamId } from './ids.js';
import type { MeasureInfo, StreamDefinition } from './stream.js';

/** Every stream, in the order of `STREAM_IDS`: the one list the ledger, the totals, reports and the dashboard follow. */
export const STREAMS: readonly StreamDefinition[] = [pvStream, biogasStream, evChargingStream, electricitySavingStream, generationStream];

/** The stream a device reports on, or undefined (a smart meter without a saving baseline is in the inventory only). */
export function streamOf(device: Device, measures: ReadonlyMap<string, MeasureInfo>): StreamDefinition | undefined {
  return STREAMS.find((s) => s.kind === device.kind && s.claims(device, measures));
}

export function streamById(id: StreamId): StreamDefinition {
  return STREAMS.find((s) => s.id === id)!;
}
