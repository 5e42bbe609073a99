import { topicFor } from '../devices/topics.js';

/** How a device is connected right now, as the source that reaches it sees it. */
export interface DeviceStatus {
  device: string;
  site: string;
  online: boolean;
  /** the source that set it: `ocpp`, `modbus`, … */
  source: string;
  /** when `online` last changed, ISO 8601 */
  since: string;
  /** when the source last set it, ISO 8601 */
  updated: string;
  /** what the source knows beyond up or down (an OCPP connector's state, a poll's last error), small and JSON */
  detail: Record<string, unknown>;
}

/** Publishes a retained message (the device's `status` topic on the embedded broker); absent with an external broker. */
export type RetainedPublisher = (topic: string, text: string) => void;

/**
 * The connection state of devices that the service itself reaches (an OCPP charger on the central
 * system, a Modbus device the poller reads): a device that speaks MQTT publishes its own retained
 * `status` (its Last Will says `offline`); for these, the source says it on the device's behalf, here
 * and on the same retained topic, so viewers and the operator see every device the same way.
 * In memory: a restart starts from "unknown" until each source has reached its devices again.
 */
export class DeviceStatusBoard {
  private readonly byDevice = new Map<string, DeviceStatus>();

  constructor(private readonly deps: { publishRetained?: RetainedPublisher; now?: () => number } = {}) {}

  /** Sets a device's state; publishes `online`/`offline` on its retained `status` topic when that changes. */
  set(device: { id: string; site: string }, online: boolean, source: string, detail: Record<string, unknown> = {}): DeviceStatus {
    return this.record(device, online, source, detail, true);
  }

  /**
   * What a device said itself on its retained `status` topic (an MQTT device, its Last Will included), seen by
   * the broker: kept here beside the sources' states, never published again (the device's own message is retained).
   */
  observed(device: { id: string; site: string }, online: boolean, source = 'mqtt'): DeviceStatus {
    return this.record(device, online, source, {}, false);
  }

  private record(device: { id: string; site: string }, online: boolean, source: string, detail: Record<string, unknown>, publish: boolean): DeviceStatus {
    const now = new Date((this.deps.now ?? Date.now)()).toISOString();
    const before = this.byDevice.get(device.id);
    const changed = !before || before.online !== online;
    const status: DeviceStatus = {
      device: device.id,
      site: device.site,
      online,
      source,
      since: changed ? now : before.since,
      updated: now,
      detail: { ...(changed ? {} : before.detail), ...detail },
    };
    this.byDevice.set(device.id, status);
    if (changed && publish) this.deps.publishRetained?.(topicFor(device.site, device.id, 'status'), online ? 'online' : 'offline');
    return status;
  }

  get(id: string): DeviceStatus | undefined {
    return this.byDevice.get(id);
  }

  list(): DeviceStatus[] {
    return [...this.byDevice.values()].sort((a, b) => a.device.localeCompare(b.device));
  }

  /** Forgets a device (its source no longer reaches it, e.g. its registration changed). */
  forget(id: string): void {
    this.byDevice.delete(id);
  }
}
