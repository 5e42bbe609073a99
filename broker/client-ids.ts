import type { Client } from 'aedes';
import type { Device } from '../devices/registry.js';
import { ID_PATTERN } from '../devices/topics.js';

/**
 * Who may use which MQTT client id. aedes closes the connection holding a client id when another
 * CONNECT brings the same id (MQTT 3.1.1 §3.1.4), and resumes a `clean: false` session for whoever
 * names its id; so without these rules one device could kick another off, or read what was queued
 * for it. An authenticated device may use a client id unless:
 *
 * - it is another registered device's (or viewer's) id: a device's own id is always its to use;
 * - a connection authenticated as a different device holds it now;
 * - a different device left a persistent session (`clean: false`) under it.
 *
 * Any other id is fine (mosquitto_pub's random `mosq-…`, MQTT.js's `mqttjs_…`, an empty id). The
 * session owners live in memory, like aedes's sessions themselves.
 */
export class ClientIdRules {
  /** client id → the connection holding it and the device it authenticated as */
  private readonly holders = new Map<string, { client: Client; deviceId: string }>();
  /** client id → the device whose persistent session it names */
  private readonly sessionOwners = new Map<string, string>();

  constructor(private readonly isRegisteredId: (id: string) => Promise<boolean>) {}

  /**
   * Null when `device` may use `clientId` (it is then claimed for this connection), else why not.
   * The registry look-up comes first; the check and the claim happen together after it, so two
   * devices racing for one id cannot both get it.
   */
  async claim(client: Client, clientId: string, device: Device, clean: boolean): Promise<string | null> {
    if (clientId !== device.id && ID_PATTERN.test(clientId) && (await this.isRegisteredId(clientId))) {
      return `client id "${clientId}" is another registered device's id`;
    }
    if (clientId !== device.id) {
      const holder = this.holders.get(clientId);
      if (holder && holder.deviceId !== device.id && !isClosed(holder.client)) {
        return `client id "${clientId}" is in use by another device`;
      }
      const owner = this.sessionOwners.get(clientId);
      if (owner !== undefined && owner !== device.id) {
        return `client id "${clientId}" names another device's persistent session`;
      }
    }
    if (isClosed(client)) return null; // gone meanwhile: nothing to claim (the caller drops it)
    this.holders.set(clientId, { client, deviceId: device.id });
    if (clean) this.sessionOwners.delete(clientId);
    else this.sessionOwners.set(clientId, device.id);
    const conn = (client as unknown as { conn?: NodeJS.EventEmitter }).conn;
    conn?.once('close', () => {
      if (this.holders.get(clientId)?.client === client) this.holders.delete(clientId);
    });
    return null;
  }

  /** Number of client ids held now (tests, metrics). */
  get held(): number {
    return this.holders.size;
  }
}

export function isClosed(client: Client): boolean {
  const c = client as unknown as { closed?: boolean; conn?: { destroyed?: boolean } };
  return !!c.closed || !!c.conn?.destroyed;
}
