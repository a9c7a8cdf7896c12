import { readClaim } from '../../auth/claim-path.js';
import type { GatewayMetrics } from '../../monitoring/metrics.js';
import type { CompiledLayer } from '../../ratelimit/compile.js';
import { renderRateLimitHeaders } from '../../ratelimit/headers.js';
import { RateLimiter } from '../../ratelimit/limiter.js';
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
      const started = process.hrtime.bigint();
      const decision = await limiterFor(layers).decide(rateLimitRequest(context));
      const seconds = Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_SECOND;
      metrics.rateLimitDecisionDuration.observe(seconds);
      const route = context.route!.name;
      for (const layer of decision.outcome === 'unavailable' ? [] : decision.shadowLimited) {
        metrics.rateLimitDecisions.inc({ route, layer, outcome: 'shadow_limited' });
      }
      if (decision.outcome === 'unavailable') {
        metrics.rateLimitDecisions.inc({ route, layer: 'none', outcome: 'unavailable' });
        return reject('rate_limit_unavailable', decision.reason);
      }
      if (decision.outcome === 'limited') {
        metrics.rateLimitDecisions.inc({ route, layer: decision.layer, outcome: 'limited' });
        return reject(
          'rate_limited',
          `layer ${decision.layer}`,
          renderRateLimitHeaders(decision.headers),
        );
      }
      const outcome = decision.source === 'fallback' ? 'fail_mode' : 'allowed';
      metrics.rateLimitDecisions.inc({ route, layer: 'all', outcome });
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
