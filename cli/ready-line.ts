import type { Config } from '../app/config.js';
import type { Ports } from '../app/service.js';

/**
 * The line `netzero start` prints once every room is up: every listener's address, so an operator
 * knows where to point devices, chargers, browsers and Node-RED. A listener that is off is left out;
 * one that was asked for but did not come up (Node-RED keeps the service running when it fails) is
 * named as such.
 */
export function readyLine(ports: Ports, config: Pick<Config, 'host' | 'dataDir' | 'mqttUrl' | 'noderedPort'>): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const parts = [`dashboard http://${host}:${ports.http}/`];
  parts.push(ports.mqtt ? `mqtt://${host}:${ports.mqtt}` : `(ingest from ${config.mqttUrl})`);
  if (ports.ws) parts.push(`ws://${host}:${ports.ws}/mqtt`);
  if (ports.nodered) parts.push(`node-red http://${host}:${ports.nodered}/`);
  else if (config.noderedPort !== 0) parts.push('node-red did not start (see the log)');
  if (ports.ocpp) parts.push(`ocpp ws://${host}:${ports.ocpp}/ocpp/{device}`);
  parts.push(`data ${config.dataDir}`);
  return `netzero ready: ${parts.join('  ')}\n`;
}
