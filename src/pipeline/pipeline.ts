import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Alerting } from '../alerts/alerting.js';
import type { TokenVerifier } from '../auth/verifier.js';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { EventHub } from '../monitoring/events/hub.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { forward } from '../proxy/forward.js';
import { requestIdFrom } from '../proxy/request-id.js';
import type { Upstream } from '../proxy/upstream.js';
import type { RevocationList } from '../revocation/revocation-list.js';
import type { RateLimitStore } from '../store/store.js';
import { RequestState, type RequestContext } from './context.js';
import { recordRequest } from './record.js';
import { sendAnswer, sendRejection } from './respond.js';
import { DirectAnswer, type Decision, type Stage } from './stage.js';
import { acceptStage } from './stages/accept.js';
import { canonicalAddress, clientIpStage } from './stages/client-ip.js';
import { authenticateStage } from './stages/authenticate.js';
import { authorizeStage } from './stages/authorize.js';
import { blockAddressStage, blockIdentityStage } from './stages/block.js';
import { corsStage } from './stages/cors.js';
import { inspectStage } from './stages/inspect.js';
import { rateLimitStage } from './stages/rate-limit.js';
import { routeStage } from './stages/route.js';
import { validateStage } from './stages/validate.js';

export interface PipelineOptions {
  config: GatewayConfig;
  /** Returns the current policy snapshot; called once per request. */
  policy: () => PolicySnapshot;
  upstream: Upstream;
  metrics: GatewayMetrics;
  log: Logger;
  /** The hub that security events are published to. */
  events: EventHub;
  /** Verifies tokens; undefined when the configuration has no `auth` section. */
  verifier?: TokenVerifier | undefined;
  /** Revoked tokens, checked after every verification. */
  revocations: RevocationList;
  /** Where rate-limit state lives. */
  store: RateLimitStore;
  /** Temporary blocks and the built-in detections. */
  alerting: Pick<Alerting, 'blocks' | 'privacy' | 'detections'>;
}

/**
 * The first rejection or direct answer of the stages, or undefined when every stage let the
 * request go on.
 */
type StagesResult = GatewayError | DirectAnswer | undefined;

/** Returned by afterDecision() when the next stage should run. */
const CONTINUE_STAGES = Symbol('continue');

function afterDecision(
  context: RequestContext,
  decision: Decision,
): StagesResult | typeof CONTINUE_STAGES {
  if (decision.action === 'reject') return decision.error;
  if (decision.action === 'respond') return decision.answer;
  if (context.clientGone) return new GatewayError('bad_request', 'client went away');
  return CONTINUE_STAGES;
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
    const blocks = { ...options.alerting, metrics: options.metrics };
    this.stages = Object.freeze([
      acceptStage(options.config.limits),
      clientIpStage(options.config.client_ip),
      blockAddressStage(blocks),
      routeStage(),
      corsStage(),
      authenticateStage(
        options.verifier,
        options.config.auth?.max_token_bytes ?? 0,
        options.revocations,
        options.metrics,
      ),
      blockIdentityStage({
        ...blocks,
        maxTokenBytes: options.config.auth?.max_token_bytes ?? 0,
      }),
      authorizeStage(options.metrics),
      rateLimitStage(options.store, options.metrics),
      validateStage(),
      inspectStage(options.metrics),
    ]);
  }

  /** Handles one HTTP request from start to end; never throws. */
  async handle(req: IncomingMessage, response: ServerResponse): Promise<void> {
    const { metrics } = this.#options;
    const context = this.#newContext(req);
    metrics.inFlight.inc();
    this.inFlight += 1;
    if (this.draining) response.shouldKeepAlive = false;
    // Recorded once the response has closed and forwarding has settled too: on a failure
    // mid-body, undici closes the response before forward() learns what failed. Whichever of
    // the two comes last records.
    let unsettled = 2;
    const settle = () => {
      unsettled -= 1;
      if (unsettled === 0) this.#finish(context, response);
    };
    response.once('close', () => {
      // Only the client leaves a response unfinished without an error; undici destroys it with
      // the upstream failure, which forward() reports instead.
      if (!response.writableFinished && !response.errored) context.abort();
      settle();
    });

    try {
      const stages = this.runStages(context);
      const result = stages instanceof Promise ? await stages : stages;
      if (result instanceof DirectAnswer) sendAnswer(context, response, result);
      else if (result) sendRejection(context, response, result, metrics);
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
    settle();
  }

  #finish(context: RequestState, response: ServerResponse): void {
    const { metrics, log } = this.#options;
    for (const release of context.cleanup) release();
    metrics.inFlight.dec();
    this.inFlight -= 1;
    try {
      recordRequest(context, response, metrics, log);
    } catch (error) {
      context.log.error({ err: error }, 'recording the request failed');
    }
  }

  /**
   * Runs the stages in order and returns the first rejection, or undefined when all passed.
   * Stages that decide synchronously are not awaited, so a request pays for a promise only
   * from the first stage that returns one.
   */
  runStages(context: RequestContext): StagesResult | Promise<StagesResult> {
    const { stages } = this;
    for (let index = 0; index < stages.length; index += 1) {
      const decision = stages[index]!.run(context);
      if (decision instanceof Promise) return this.#runStagesAsync(context, decision, index);
      const result = afterDecision(context, decision);
      if (result !== CONTINUE_STAGES) return result;
    }
    return undefined;
  }

  async #runStagesAsync(
    context: RequestContext,
    pending: Promise<Decision>,
    index: number,
  ): Promise<StagesResult> {
    const { stages } = this;
    let result = afterDecision(context, await pending);
    if (result !== CONTINUE_STAGES) return result;
    for (let next = index + 1; next < stages.length; next += 1) {
      result = afterDecision(context, await stages[next]!.run(context));
      if (result !== CONTINUE_STAGES) return result;
    }
    return undefined;
  }

  /**
   * Creates the context of a request. With `response`, the context's signal aborts when the
   * client goes away before the response has ended.
   */
  createContext(req: IncomingMessage, response: ServerResponse | undefined): RequestContext {
    const context = this.#newContext(req);
    response?.once('close', () => {
      if (!response.writableFinished && !response.errored) context.abort();
    });
    return context;
  }

  #newContext(req: IncomingMessage): RequestState {
    return new RequestState(
      this.#options,
      req,
      requestIdFrom(req.headers['x-request-id']),
      this.#options.policy(),
      canonicalAddress(req.socket.remoteAddress),
    );
  }
}
