import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../app/config.js';
import { createLogger } from '../app/logger.js';
import { Service } from '../app/service.js';
import { readyLine } from './ready-line.js';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('start the whole system: broker, ingest, store, accounting, HTTP API and dashboard (settings from the environment, see README)')
    .action(async () => {
      let config;
      try {
        config = loadConfig();
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`netzero: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      const log = createLogger(config.logLevel);
      const service = new Service(config, log);
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        const force = setTimeout(() => {
          log.error('shutdown took over 20 s; exiting');
          process.exit(1);
        }, 20_000);
        force.unref();
        service.stop().then(
          () => process.exit(0),
          (err: Error) => {
            log.error({ err: err.message }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      try {
        const ports = await service.start();
        process.stderr.write(readyLine(ports, config));
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const reason = e.code === 'EADDRINUSE' ? `a port is already in use (${e.message}); set the NETZERO_*_PORT settings` : e.message;
        process.stderr.write(`netzero: could not start: ${reason}\n`);
        await service.stop().catch(() => undefined);
        process.exit(1);
      }
    });
}
