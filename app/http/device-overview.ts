import type { Device } from '../../devices/registry.js';
import type { ActivitySnapshot } from '../../ingest/device-activity.js';
import type { DeviceStatus } from '../../ingest/device-status.js';

/** A device's state as the operator view shows it: disabled wins; then what its source or its own `status` topic said; else unknown. */
export type OverviewStatus = 'online' | 'offline' | 'unknown' | 'disabled';
export const OVERVIEW_STATUSES = ['online', 'offline', 'unknown', 'disabled'] as const;

/** One row of `GET /api/operators/devices`. */
export interface OverviewRow {
  id: string;
  name: string | null;
  kind: string | null;
  site: string;
  sector: string | null;
  measure: string | null;
  /** `params.programme` when the device declares one */
  programme: string | null;
  created_at: string;
  status: OverviewStatus;
  /** who said it: `mqtt` (the device's retained status topic), `ocpp`, `modbus`; null when unknown or disabled */
  status_source: string | null;
  status_since: string | null;
  /** what the source knows beyond up or down (a connector's state, a poll's last error) */
  status_detail: Record<string, unknown>;
  disabled: { at: string; reason: string; by: string } | null;
  /** the polling or connection kind: `modbus` for a polled device, else how it reaches the service (`mqtt`, or `ocpp` for chargers) */
  connects_by: 'modbus' | 'ocpp' | 'mqtt';
  last_seen: string | null;
  last_reading: ActivitySnapshot['last_reading'];
  accepted_24h: number;
  rejected_24h: number;
  warned_24h: number;
  counted_since: string;
  /** held-out intervals of the device nobody has reviewed yet (the accounting review queue); null when the queue could not be read now */
  review_open: number | null;
}

export function statusOf(device: Device, status: DeviceStatus | undefined): OverviewStatus {
  if (device.disabled) return 'disabled';
  if (!status) return 'unknown';
  return status.online ? 'online' : 'offline';
}

export function overviewRow(device: Device, status: DeviceStatus | undefined, activity: ActivitySnapshot, reviewOpen: number | null): OverviewRow {
  const state = statusOf(device, status);
  const programme = (device.params as { programme?: unknown }).programme;
  return {
    id: device.id,
    name: device.name,
    kind: device.kind,
    site: device.site,
    sector: device.sector,
    measure: device.measure,
    programme: typeof programme === 'string' ? programme : null,
    created_at: device.createdAt,
    status: state,
    status_source: state === 'online' || state === 'offline' ? (status?.source ?? null) : null,
    status_since: state === 'online' || state === 'offline' ? (status?.since ?? null) : null,
    status_detail: state === 'disabled' ? {} : (status?.detail ?? {}),
    disabled: device.disabled ?? null,
    connects_by: device.params.modbus !== undefined ? 'modbus' : device.kind === 'ev_charger' && status?.source === 'ocpp' ? 'ocpp' : 'mqtt',
    last_seen: activity.last_seen,
    last_reading: activity.last_reading,
    accepted_24h: activity.accepted_24h,
    rejected_24h: activity.rejected_24h,
    warned_24h: activity.warned_24h,
    counted_since: activity.counted_since,
    review_open: reviewOpen,
  };
}
