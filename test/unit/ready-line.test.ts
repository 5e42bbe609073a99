import { describe, expect, it } from 'vitest';
import { readyLine } from '../../cli/ready-line.js';

/** The start line names every listener that is up, and says when Node-RED was asked for but is not. */

const config = { host: '0.0.0.0', dataDir: '/var/lib/netzero', mqttUrl: undefined, noderedPort: 1880 };

describe('readyLine', () => {
  it('prints every listener: dashboard, MQTT, WebSocket, Node-RED, OCPP', () => {
    expect(readyLine({ http: 8080, mqtt: 1883, ws: 8083, nodered: 1880, ocpp: 9000 }, config)).toBe(
      'netzero ready: dashboard http://localhost:8080/  mqtt://localhost:1883  ws://localhost:8083/mqtt  node-red http://localhost:1880/  ocpp ws://localhost:9000/ocpp/{device}  data /var/lib/netzero\n',
    );
  });

  it('leaves out a listener that is off (port 0), and names the external broker', () => {
    expect(readyLine({ http: 8080 }, { ...config, host: '127.0.0.1', mqttUrl: 'mqtt://emqx:1883', noderedPort: 0 })).toBe(
      'netzero ready: dashboard http://127.0.0.1:8080/  (ingest from mqtt://emqx:1883)  data /var/lib/netzero\n',
    );
  });

  it('says so when Node-RED was asked for but did not start', () => {
    expect(readyLine({ http: 8080, mqtt: 1883 }, config)).toContain('  node-red did not start (see the log)  ');
  });

  it('brackets an IPv6 host', () => {
    expect(readyLine({ http: 8080, mqtt: 1883 }, { ...config, host: '::1', noderedPort: 0 })).toContain('dashboard http://[::1]:8080/  mqtt://[::1]:1883');
  });
});
