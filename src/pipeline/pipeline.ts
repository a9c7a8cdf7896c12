import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { forward } from '../proxy/forward.js';
import { requestIdFrom } from '../proxy/request-id.js';
import type { Upstream } from '../proxy/upstream.js';
import type { RequestContext } from './context.js';
import { recordRequest } from './record.js';
import { sendRejection } from './respond.js';
import type { Stage } from './stage.js';
import { acceptStage } from './stages/accept.js';
import { canonicalAddress, clientIpStage } from './stages/client-ip.js';
import { routeStage } from './stages/route.js';

export interface PipelineOptions {
  config: GatewayConfig;
  /** Returns the current policy snapshot; called once per request. */
  policy: () => PolicySnapshot;
  upstream: Upstream;
  metrics: GatewayMetrics;
  log: Logger;
}

/** The request path: the stages in order, then forwarding, then recording. */
export class Pipeline {
  readonly stages: readonly Stage[];
  readonly #options: PipelineOptions;
  /** Requests whose response has not closed yet. */
  inFlight = 0;
  /** Set during shutdown: responses then close their connection instead of keeping it alive. */
  draining = false;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.stages = Object.freeze([
      acceptStage(options.config.limits),
      clientIpStage(options.config.client_ip),
      routeStage(),
    ]);
  }

  /** Handles one HTTP request from start to end; never throws. */
  async handle(req: IncomingMessage, response: ServerResponse): Promise<void> {
    const { metrics } = this.#options;
    const context = this.createContext(req, response);
    metrics.inFlight.inc();
    this.inFlight += 1;
    if (this.draining) response.shouldKeepAlive = false;
    // Recorded once the response has closed and forwarding has settled too: on a failure
    // mid-body, undici closes the response before forward() learns what failed.
    const closed = new Promise<void>((resolve) => response.once('close', () => resolve()));

    try {
      const rejection = await this.runStages(context);
      if (rejection) sendRejection(context, response, rejection, metrics);
      else await forward(context, response, this.#options.upstream, metrics);
    } catch (error) {
      if (!(error instanceof GatewayError)) {
        context.log.error({ err: error }, 'request failed unexpectedly');
      }
      const failure =
        error instanceof GatewayError
          ? error
          : new GatewayError('internal_error', 'unexpected error');
      sendRejection(context, response, failure, metrics);
    }

    await closed;
    metrics.inFlight.dec();
    this.inFlight -= 1;
    try {
      recordRequest(context, response, metrics);
    } catch (error) {
      context.log.error({ err: error }, 'recording the request failed');
    }
  }

  /** Runs the stages in order; returns the first rejection, or undefined when all passed. */
  async runStages(context: RequestContext): Promise<GatewayError | undefined> {
    for (const stage of this.stages) {
      const decision = await stage.run(context);
      if (decision.action === 'reject') return decision.error;
      if (context.signal.aborted) return new GatewayError('bad_request', 'client went away');
    }
    return undefined;
  }

  createContext(req: IncomingMessage, response: ServerResponse | undefined): RequestContext {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const controller = new AbortController();
    // Only the client leaves a response unfinished without an error; undici destroys it with
    // the upstream failure, which forward() reports instead.
    response?.once('close', () => {
      if (!response.writableFinished && !response.errored) controller.abort();
    });
    const peerAddress = canonicalAddress(req.socket.remoteAddress);
    return {
      requestId,
      req,
      socket: req.socket,
      method: req.method ?? 'GET',
      startedAt: process.hrtime.bigint(),
      config: this.#options.config,
      policy: this.#options.policy(),
      log: this.#options.log.child({ request_id: requestId }),
      signal: controller.signal,
      peerAddress,
      clientIp: peerAddress,
      host: undefined,
      target: undefined,
      route: undefined,
      params: {},
      upstreamStartedAt: undefined,
      upstreamEndedAt: undefined,
      bytesIn: 0,
      socketBytesWrittenAtStart: req.socket.bytesWritten,
      outcome: undefined,
      errorCode: undefined,
      errorReason: undefined,
    };
  }
}
