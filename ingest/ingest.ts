import type { Logger } from 'pino';
import type { DeviceRegistry } from '../devices/registry.js';
import type { Room, RoomHealth } from '../lib/rooms.js';
import type { DeviceActivity } from './device-activity.js';
import { DeviceRateLimiter } from './device-limits.js';
import { GroupCommitter } from './group-commit.js';
import type { IngestMetrics } from './metrics.js';
import { IngestPipeline, type ErrorPublisher } from './pipeline.js';
import type { Quarantine } from './quarantine.js';
import type { DurableWriter } from './reading.js';

/** How long a message over its device's rate limit may wait for its turn before it is refused. */
const MAX_RATE_WAIT_MS = 20_000;

/**
 * The ingest room: the pipeline every source feeds and the group committer behind it. Stopping
 * commits what is queued (so the PUBACKs of messages in flight go out) and refuses new work; stop the
 * sources first so nothing new arrives.
 */
export class Ingest implements Room {
  readonly name = 'ingest';
  readonly committer: GroupCommitter;
  readonly pipeline: IngestPipeline;
  private running = false;

  constructor(deps: {
    registry: DeviceRegistry;
    writer: DurableWriter;
    quarantine: Quarantine;
    metrics: IngestMetrics;
    log: Logger;
    publishError: ErrorPublisher;
    activity?: DeviceActivity;
  }) {
    this.committer = new GroupCommitter(deps.writer, deps.metrics);
    this.pipeline = new IngestPipeline({ ...deps, committer: this.committer, limiter: new DeviceRateLimiter({ maxWaitMs: MAX_RATE_WAIT_MS }) });
  }

  async start(): Promise<void> {
    this.running = true;
  }

  async stop(): Promise<void> {
    await this.committer.drain();
    this.running = false;
  }

  /** Down while commits fail for a fault of the store, with the reason (the store's own health says more). */
  health(): RoomHealth {
    const fault = this.committer.fault;
    return { verdict: { ingest: this.running && !fault }, details: fault ? { ingest_error: { since: new Date(fault.at).toISOString(), reason: fault.message } } : {} };
  }
}
