import type { DeviceRegistry } from '../registry.js';
import { ensureDemoDevices, type DemoRegistry } from './demo-fleet.js';
import { SimulatedFleet } from './fleet.js';
import type { Logger } from 'pino';

export interface DemoRunnerOptions {
  registry: DemoRegistry & Pick<DeviceRegistry, 'countReal'>;
  /** the embedded broker, e.g. mqtt://127.0.0.1:1883 */
  mqttUrl: string;
  logger: Logger;
  /** live publish period, seconds (default 60) */
  intervalS?: number;
  /** hours of history published at start (default 48) */
  backfillHours?: number;
  /** how often to look for a real device, ms (default 10000) */
  recheckMs?: number;
}

/**
 * Runs the demo fleet while no real device is registered, so a fresh `npm start` shows live data.
 * The first real device registered stops it for good (until the next start).
 */
export class DemoRunner {
  private fleet: SimulatedFleet | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private starting: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: DemoRunnerOptions) {
    this.log = opts.logger;
  }

  get active(): boolean {
    return this.fleet?.active ?? false;
  }

  /** Starts the fleet if no real device is registered; a second call while running does nothing. */
  start(): Promise<void> {
    this.starting ??= this.run().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  private async run(): Promise<void> {
    this.stopped = false;
    const real = await this.opts.registry.countReal();
    if (real > 0) {
      this.log.info({ realDevices: real }, 'demo fleet off: real devices are registered');
      return;
    }
    const devices = await ensureDemoDevices(this.opts.registry);
    if (this.stopped) return;
    this.fleet = new SimulatedFleet(devices, {
      url: this.opts.mqttUrl,
      logger: this.log.child({ component: 'demo' }),
      intervalS: this.opts.intervalS ?? 60,
      backfillHours: this.opts.backfillHours ?? 48,
    });
    await this.fleet.start();
    this.log.info({ devices: devices.length }, 'demo fleet started (stops when a real device is registered; NETZERO_DEMO=0 turns it off)');
    this.timer = setInterval(() => void this.recheck(), this.opts.recheckMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.starting = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    const fleet = this.fleet;
    this.fleet = undefined;
    await fleet?.stop();
  }

  private async recheck(): Promise<void> {
    try {
      const real = await this.opts.registry.countReal();
      if (real === 0 || !this.fleet) return;
      this.log.info({ realDevices: real }, 'demo fleet stopping: a real device was registered');
      await this.stop();
    } catch (err) {
      this.log.warn({ err }, 'demo fleet: checking for real devices failed');
    }
  }
}
