import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config.js';
import { connectionCap, openFileLimit, RESERVED_DESCRIPTORS } from '../../broker/connection-cap.js';

describe('how many MQTT connections the broker holds', () => {
  it('by default what the open-file limit leaves after the reserve: 20,000 → 19,488', () => {
    expect(connectionCap(undefined, 20_000)).toEqual({ cap: 20_000 - RESERVED_DESCRIPTORS, lowered: false });
  });
  it('the setting when the limit allows it; lowered (and said) when it does not', () => {
    expect(connectionCap(5_000, 20_000)).toEqual({ cap: 5_000, lowered: false });
    expect(connectionCap(50_000, 20_000)).toEqual({ cap: 19_488, lowered: true });
    expect(connectionCap(50_000, null)).toEqual({ cap: 50_000, lowered: false });
    expect(connectionCap(undefined, null)).toEqual({ cap: null, lowered: false });
  });
  it('reads the soft limit from /proc/self/limits (and null when it is unlimited or unreadable)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netzero-limits-'));
    const f = path.join(dir, 'limits');
    fs.writeFileSync(f, 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n');
    expect(openFileLimit(f)).toBe(20_000);
    fs.writeFileSync(f, 'Max open files            unlimited            unlimited            files\n');
    expect(openFileLimit(f)).toBeNull();
    expect(openFileLimit(path.join(dir, 'missing'))).toBeNull();
    fs.rmSync(dir, { recursive: true });
    expect(openFileLimit()).toBeGreaterThan(0);
  });
  it('NETZERO_MQTT_MAX_CONNECTIONS must be a whole number of connections', () => {
    expect(loadConfig({ NETZERO_MQTT_MAX_CONNECTIONS: '300' }).mqttMaxConnections).toBe(300);
    expect(loadConfig({}).mqttMaxConnections).toBeUndefined();
    for (const bad of ['lots', '0', '2.5', '-1']) {
      expect(() => loadConfig({ NETZERO_MQTT_MAX_CONNECTIONS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ NETZERO_MQTT_MAX_CONNECTIONS: bad })).toThrow(`NETZERO_MQTT_MAX_CONNECTIONS must be a whole number of connections between 1 and 10000000, got "${bad}"`);
    }
  });
});
