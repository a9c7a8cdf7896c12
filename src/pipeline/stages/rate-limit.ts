import { readClaim } from '../../auth/claim-path.js';
import type { GatewayMetrics } from '../../monitoring/metrics.js';
import type { CompiledLayer } from '../../ratelimit/compile.js';
import { renderRateLimitHeaders } from '../../ratelimit/headers.js';
import type { RateLimitDecision } from '../../ratelimit/decision.js';
import { RateLimiter } from '../../ratelimit/limiter.js';
import { layerScope } from '../../ratelimit/plan.js';
import type { RateLimitRequest } from '../../ratelimit/request.js';
import type { RateLimitStore } from '../../store/store.js';
import type { RequestContext } from '../context.js';
import { CONTINUE, reject, type Stage } from '../stage.js';

const NANOSECONDS_PER_SECOND = 1e9;

/**
 * Decides every rate-limit layer of the request in one store call, after authentication, so
 * that layers keyed by claims only ever see verified claims. Allowed responses carry the
 * RateLimit headers of the most restrictive layer.
 */
export function rateLimitStage(store: RateLimitStore, metrics: GatewayMetrics): Stage {
  // One limiter per policy snapshot; a reload brings new layers and a new limiter.
  const limiters = new WeakMap<readonly CompiledLayer[], RateLimiter>();
  const limiterFor = (layers: readonly CompiledLayer[]): RateLimiter => {
    let limiter = limiters.get(layers);
    if (limiter === undefined) {
      limiter = new RateLimiter({ layers, store });
      limiters.set(layers, limiter);
    }
    return limiter;
  };

  return {
    name: 'rate_limit',
    async run(context) {
      const layers = context.policy.rateLimitLayers;
      if (layers.length === 0) return CONTINUE;
      const request = rateLimitRequest(context);
      const started = process.hrtime.bigint();
      const decision = await limiterFor(layers).decide(request);
      const seconds = Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_SECOND;
      metrics.rateLimitDecisionDuration.observe(seconds);
      countOutcomes(metrics, layers, request, decision);
      if (decision.outcome === 'unavailable') {
        return reject('rate_limit_unavailable', decision.reason);
      }
      if (decision.outcome === 'limited') {
        return reject(
          'rate_limited',
          `layer ${decision.layer}`,
          renderRateLimitHeaders(decision.headers),
        );
      }
      context.cleanup.push(() => decision.permit.release());
      if (decision.headers !== undefined) {
        // Lower-case names replace an upstream's own RateLimit fields instead of repeating them.
        for (const [name, value] of Object.entries(renderRateLimitHeaders(decision.headers))) {
          context.responseHeaders[name.toLowerCase()] = value;
        }
      }
      return CONTINUE;
    },
  };
}

function rateLimitRequest(context: RequestContext): RateLimitRequest {
  const claims = context.identity?.claims;
  const rolesClaim = context.route!.require?.roles?.claim ?? 'roles';
  const roles = claims === undefined ? undefined : stringList(readClaim(claims, rolesClaim));
  const session = claims === undefined ? undefined : readClaim(claims, 'sid');
  return {
    clientIp: context.clientIp,
    method: context.method,
    route: context.route!.name,
    headers: context.req.headers,
    claims,
    roles,
    session: typeof session === 'string' ? session : undefined,
  };
}

function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is string => typeof item === 'string');
}

/**
 * Counts one outcome for every layer that concerns the request: `exempt` for exempt callers,
 * `limited` for the rejecting layer, `shadow_limited` for shadow layers that would have
 * rejected, `unavailable` when the store could not decide, and otherwise `allowed`, or
 * `fail_mode` when the store's fail mode decided.
 */
function countOutcomes(
  metrics: GatewayMetrics,
  layers: readonly CompiledLayer[],
  request: RateLimitRequest,
  decision: RateLimitDecision,
): void {
  const route = request.route ?? 'none';
  const shadowLimited = decision.outcome === 'unavailable' ? [] : decision.shadowLimited;
  for (const layer of layers) {
    const scope = layerScope(layer, request);
    if (scope === 'other_route') continue;
    let outcome: string;
    if (scope === 'exempt') outcome = 'exempt';
    else if (decision.outcome === 'unavailable') outcome = 'unavailable';
    else if (decision.outcome === 'limited' && decision.layer === layer.name) outcome = 'limited';
    else if (shadowLimited.includes(layer.name)) outcome = 'shadow_limited';
    else outcome = decision.source === 'fallback' ? 'fail_mode' : 'allowed';
    metrics.rateLimitDecisions.inc({ route, layer: layer.name, outcome });
  }
}
