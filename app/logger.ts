import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout (pipe through `npx pino-pretty` to read them by eye). */
export function createLogger(level: string, name = 'netzero'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
