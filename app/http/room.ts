import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Room } from '../../lib/rooms.js';
import { buildHttpServer, type HttpDeps } from './server.js';

/** The HTTP API and dashboard as a room: listens at start; closing ends open SSE streams too. */
export class HttpRoom implements Room {
  readonly name = 'http';
  private readonly app: FastifyInstance;
  private port?: number;

  constructor(
    deps: HttpDeps,
    private readonly listen: { host: string; port: number },
  ) {
    this.app = buildHttpServer(deps);
  }

  async start(): Promise<void> {
    await this.app.listen({ host: this.listen.host, port: this.listen.port });
    this.port = (this.app.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await this.app.close();
  }

  ports() {
    return { http: this.port };
  }
}
