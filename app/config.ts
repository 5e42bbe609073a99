import path from 'node:path';
import { z } from 'zod';
import type { InfluxSettings } from '../store/open-store.js';

/**
 * Every setting of the service, read from the environment and validated once at start.
 * Names and defaults are those of docs/contract.md ("Processes and ports").
 */

const port = (name: string, dflt: number, zero = 'pick a free port') =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return dflt;
      if (!/^\d+$/.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a port number 0-65535 (0 = ${zero}), got "${v}"` });
        return z.NEVER;
      }
      const n = Number(v);
      if (n > 65535) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a port number 0-65535, got ${n}` });
        return z.NEVER;
      }
      return n;
    });

/** A listener that may be switched off: "0" means "pick a free port" for required ones, but "off" here. */
const optionalPort = (name: string, dflt: number) => port(name, dflt, 'off');

const flag = (name: string, dflt: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return dflt;
      const s = v.trim().toLowerCase();
      if (['1', 'true', 'on', 'yes'].includes(s)) return true;
      if (['0', 'false', 'off', 'no'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be 1 or 0 (on/off), got "${v}"` });
      return z.NEVER;
    });

const url = (name: string, protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} is not a URL: "${v}"` });
        return z.NEVER;
      }
      if (!protocols.includes(u.protocol)) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must use one of ${protocols.join(' ')} (got ${u.protocol})`,
        });
        return z.NEVER;
      }
      return v;
    });

/** A whole number setting within bounds; the message names the setting, the bounds and the unit. */
const wholeNumber = (name: string, dflt: number, min: number, max: number, unit: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return dflt;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be whole ${unit} between ${min} and ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const timeZone = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const tz = v && v.trim() !== '' ? v.trim() : 'Asia/Taipei';
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      ctx.addIssue({ code: 'custom', message: `NETZERO_TZ is not an IANA time zone: "${tz}"` });
      return z.NEVER;
    }
    return tz;
  });

const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: () => 'NETZERO_LOG_LEVEL must be one of fatal error warn info debug trace silent',
  })
  .optional()
  .default('info');

export const envSchema = z
  .object({
    NETZERO_MQTT_PORT: port('NETZERO_MQTT_PORT', 1883),
    NETZERO_MQTT_WS_PORT: optionalPort('NETZERO_MQTT_WS_PORT', 8083),
    NETZERO_HTTP_PORT: port('NETZERO_HTTP_PORT', 8080),
    NETZERO_NODERED_PORT: optionalPort('NETZERO_NODERED_PORT', 1880),
    NETZERO_OCPP_PORT: optionalPort('NETZERO_OCPP_PORT', 9000),
    NETZERO_HOST: z.string().optional().default('0.0.0.0'),
    NETZERO_DATA_DIR: z.string().optional().default('./data'),
    NETZERO_ADMIN_TOKEN: z
      .string()
      .optional()
      .refine((v) => v === undefined || v === '' || v.length >= 16, {
        message: 'NETZERO_ADMIN_TOKEN must be at least 16 characters',
      }),
    NETZERO_TZ: timeZone,
    NETZERO_MQTT_URL: url('NETZERO_MQTT_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:']),
    NETZERO_MQTT_USERNAME: z.string().optional(),
    NETZERO_MQTT_PASSWORD: z.string().optional(),
    NETZERO_DEMO: flag('NETZERO_DEMO', true),
    NETZERO_DEMO_INTERVAL_S: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === '') return 10;
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0.1 || n > 3600) {
          ctx.addIssue({ code: 'custom', message: `NETZERO_DEMO_INTERVAL_S must be seconds between 0.1 and 3600, got "${v}"` });
          return z.NEVER;
        }
        return n;
      }),
    NETZERO_LOG_LEVEL: logLevel,
    NETZERO_GWP: z
      .enum(['ar4', 'ar5', 'ar6'], { error: () => 'NETZERO_GWP must be ar4, ar5 or ar6 (the IPCC set for CH4, one per report)' })
      .optional()
      .default('ar5'),
    NETZERO_ROLLUP_LATE_CHECK_S: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === '') return 300;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 86_400) {
          ctx.addIssue({ code: 'custom', message: `NETZERO_ROLLUP_LATE_CHECK_S must be whole seconds between 1 and 86400, got "${v}"` });
          return z.NEVER;
        }
        return n;
      }),
    NETZERO_MQTT_MAX_CONNECTIONS: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === '') return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 10_000_000) {
          ctx.addIssue({ code: 'custom', message: `NETZERO_MQTT_MAX_CONNECTIONS must be a whole number of connections between 1 and 10000000, got "${v}"` });
          return z.NEVER;
        }
        return n;
      }),
    NETZERO_SPOOL_MAX_BYTES: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === '') return 1024 ** 3;
        const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(v.trim());
        const unit = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }[(m?.[2] ?? 'b').toLowerCase() as 'b'];
        const n = m ? Math.floor(Number(m[1]) * unit) : NaN;
        if (!Number.isFinite(n) || n < 64 * 1024) {
          ctx.addIssue({ code: 'custom', message: `NETZERO_SPOOL_MAX_BYTES must be a size of at least 64KiB (e.g. 1073741824, 512MiB, 2GiB), got "${v}"` });
          return z.NEVER;
        }
        return n;
      }),
    NETZERO_HTTP_MAX_QUERIES: wholeNumber('NETZERO_HTTP_MAX_QUERIES', 4, 1, 64, 'requests'),
    NETZERO_HTTP_QUERY_BUDGET_S: wholeNumber('NETZERO_HTTP_QUERY_BUDGET_S', 15, 1, 600, 'seconds'),
    NETZERO_SUMMARY_MAX_DAYS: wholeNumber('NETZERO_SUMMARY_MAX_DAYS', 1100, 1, 36_600, 'days'),
    INFLUX_URL: url('INFLUX_URL', ['http:', 'https:']),
    INFLUX_TOKEN: z.string().optional(),
    INFLUX_ORG: z.string().optional(),
    INFLUX_BUCKET: z.string().optional(),
    INFLUX_API: z.enum(['v1', 'v2'], { error: () => 'INFLUX_API must be v1 or v2' }).optional().default('v2'),
    INFLUX_DB: z.string().optional(),
  })
  .superRefine((e, ctx) => {
    if (e.INFLUX_URL && e.INFLUX_API === 'v1' && !e.INFLUX_DB) {
      ctx.addIssue({ code: 'custom', path: ['INFLUX_DB'], message: 'INFLUX_DB is required when INFLUX_API=v1' });
    }
    if (e.INFLUX_URL && e.INFLUX_API === 'v2' && !e.INFLUX_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['INFLUX_BUCKET'], message: 'INFLUX_BUCKET is required with INFLUX_URL (v2 API)' });
    }
  });

export interface Config {
  mqttPort: number;
  mqttWsPort: number;
  /** MQTT connections held at most (default: what the open-file limit leaves; broker/connection-cap.ts) */
  mqttMaxConnections?: number;
  httpPort: number;
  noderedPort: number;
  ocppPort: number;
  host: string;
  dataDir: string;
  adminToken?: string;
  timeZone: string;
  mqttUrl?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  demo: boolean;
  demoIntervalS: number;
  logLevel: string;
  gwpSet: 'ar4' | 'ar5' | 'ar6';
  rollupLateCheckS: number;
  spoolMaxBytes: number;
  http: { maxQueries: number; queryBudgetMs: number; maxSummaryDays: number };
  influx?: InfluxSettings;
}

export class ConfigError extends Error {}

/** Parse the environment; a bad value throws ConfigError with one line naming the setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = issue.path.join('.');
    const msg = issue.message.includes(setting) ? issue.message : `${setting}: ${issue.message}`;
    throw new ConfigError(`invalid setting: ${msg}`);
  }
  const e = parsed.data;
  return {
    mqttPort: e.NETZERO_MQTT_PORT,
    mqttWsPort: e.NETZERO_MQTT_WS_PORT,
    mqttMaxConnections: e.NETZERO_MQTT_MAX_CONNECTIONS,
    httpPort: e.NETZERO_HTTP_PORT,
    noderedPort: e.NETZERO_NODERED_PORT,
    ocppPort: e.NETZERO_OCPP_PORT,
    host: e.NETZERO_HOST,
    dataDir: path.resolve(e.NETZERO_DATA_DIR),
    adminToken: e.NETZERO_ADMIN_TOKEN || undefined,
    timeZone: e.NETZERO_TZ,
    mqttUrl: e.NETZERO_MQTT_URL,
    mqttUsername: e.NETZERO_MQTT_USERNAME,
    mqttPassword: e.NETZERO_MQTT_PASSWORD,
    demo: e.NETZERO_DEMO,
    demoIntervalS: e.NETZERO_DEMO_INTERVAL_S,
    logLevel: e.NETZERO_LOG_LEVEL,
    gwpSet: e.NETZERO_GWP,
    rollupLateCheckS: e.NETZERO_ROLLUP_LATE_CHECK_S,
    spoolMaxBytes: e.NETZERO_SPOOL_MAX_BYTES,
    http: { maxQueries: e.NETZERO_HTTP_MAX_QUERIES, queryBudgetMs: e.NETZERO_HTTP_QUERY_BUDGET_S * 1000, maxSummaryDays: e.NETZERO_SUMMARY_MAX_DAYS },
    influx: e.INFLUX_URL
      ? { url: e.INFLUX_URL, token: e.INFLUX_TOKEN, org: e.INFLUX_ORG, bucket: e.INFLUX_BUCKET, api: e.INFLUX_API, db: e.INFLUX_DB }
      : undefined,
  };
}
