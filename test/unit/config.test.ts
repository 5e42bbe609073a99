import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config.js';

describe('settings', () => {
  it('uses the contract defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      mqttPort: 1883,
      mqttWsPort: 8083,
      httpPort: 8080,
      noderedPort: 1880,
      ocppPort: 9000,
      dataDir: path.resolve('./data'),
      timeZone: 'Asia/Taipei',
      demo: true,
    });
    expect(c.mqttUrl).toBeUndefined();
    expect(c.influx).toBeUndefined();
  });

  it.each([
    [{ NETZERO_MQTT_PORT: 'abc' }, /NETZERO_MQTT_PORT must be a port number/],
    [{ NETZERO_HTTP_PORT: '70000' }, /NETZERO_HTTP_PORT must be a port number 0-65535, got 70000/],
    [{ NETZERO_TZ: 'Mars/Olympus' }, /NETZERO_TZ is not an IANA time zone/],
    [{ NETZERO_DEMO: 'maybe' }, /NETZERO_DEMO must be 1 or 0/],
    [{ NETZERO_MQTT_URL: 'http://x' }, /NETZERO_MQTT_URL must use one of mqtt:/],
    [{ NETZERO_MQTT_URL: 'not a url' }, /NETZERO_MQTT_URL is not a URL/],
    [{ NETZERO_ADMIN_TOKEN: 'short' }, /NETZERO_ADMIN_TOKEN must be at least 16 characters/],
    [{ INFLUX_URL: 'http://localhost:8086', INFLUX_API: 'v1' }, /INFLUX_DB is required when INFLUX_API=v1/],
    [{ INFLUX_URL: 'http://localhost:8086', INFLUX_API: 'v3' }, /INFLUX_API must be v1 or v2/],
    [{ NETZERO_LOG_LEVEL: 'loud' }, /NETZERO_LOG_LEVEL must be one of/],
  ])('stops on %o with one line naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('accepts port 0 (pick a free port) and switches', () => {
    const c = loadConfig({ NETZERO_MQTT_PORT: '0', NETZERO_DEMO: 'off', NETZERO_MQTT_URL: 'mqtt://127.0.0.1:1883' });
    expect(c.mqttPort).toBe(0);
    expect(c.demo).toBe(false);
    expect(c.mqttUrl).toBe('mqtt://127.0.0.1:1883');
  });
});
