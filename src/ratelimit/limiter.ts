import type { RateLimitStore } from '../store/store.js';
import type { CompiledLayer } from './compile.js';
import type { RateLimitDecision } from './decision.js';
import { admittedHeaderValues, limitedHeaderValues, type DecidedCheck } from './header-values.js';
import { permitFor } from './permit.js';
import { planChecks, type RequestPlan } from './plan.js';
import type { RateLimitRequest } from './request.js';

/**
 * `Retry-After` for a request rejected by `max_in_flight`, in seconds. Slots free up when other
 * responses end, which no store can predict, so this is an estimate.
 */
const CONCURRENCY_RETRY_AFTER_SECONDS = 1;

export interface RateLimiterOptions {
  /** From `compileRateLimits`, in policy order. */
  readonly layers: readonly CompiledLayer[];
  readonly store: RateLimitStore;
}

/**
 * Makes one rate-limit decision per request over every layer that applies. The store decides
 * all checks together: a request that one layer rejects consumes nothing in the others.
 */
export class RateLimiter {
  constructor(private readonly options: RateLimiterOptions) {}

  async decide(request: RateLimitRequest): Promise<RateLimitDecision> {
    const plan = planChecks(this.options.layers, request);
    if (plan.checks.length === 0) {
      return {
        outcome: 'allowed',
        permit: permitFor(undefined),
        headers: undefined,
        shadowLimited: [],
        source: 'none',
      };
    }
    const decision = await this.options.store.decide(plan.checks);
    if (decision.status === 'unavailable') {
      return { outcome: 'unavailable', code: 'rate_limit_unavailable', reason: decision.reason };
    }
    const decided = decidedChecks(plan, decision.outcomes);
    const shadowLimited = shadowLayersThatRejected(decided);
    if (decision.committed) {
      const headers = admittedHeaderValues(decided);
      const permit = permitFor(decision.lease);
      return { outcome: 'allowed', permit, headers, shadowLimited, source: decision.source };
    }
    const rejecting = longestWait(decided);
    const retryAfterSeconds = retryAfterOf(rejecting);
    return {
      outcome: 'limited',
      code: 'rate_limited',
      layer: rejecting.target.layer.name,
      retryAfterSeconds,
      headers: limitedHeaderValues(decided, rejecting, retryAfterSeconds),
      shadowLimited,
      source: decision.source,
    };
  }
}

function decidedChecks(
  plan: RequestPlan,
  outcomes: readonly (DecidedCheck['outcome'] | undefined)[],
): DecidedCheck[] {
  return plan.targets.flatMap((target, index) => {
    const outcome = outcomes[index];
    return outcome === undefined ? [] : [{ target, outcome }];
  });
}

function shadowLayersThatRejected(decided: readonly DecidedCheck[]): string[] {
  const names = decided
    .filter((check) => check.target.layer.shadow && !check.outcome.allowed)
    .map((check) => check.target.layer.name);
  return [...new Set(names)];
}

/** Returns the enforced rejecting check with the longest wait. The store guarantees one exists. */
function longestWait(decided: readonly DecidedCheck[]): DecidedCheck {
  const rejecting = decided.filter((check) => !check.target.layer.shadow && !check.outcome.allowed);
  return rejecting.reduce((longest, check) =>
    retryAfterOf(check) > retryAfterOf(longest) ? check : longest,
  );
}

function retryAfterOf(check: DecidedCheck): number {
  if (check.target.limit === 'concurrency') return CONCURRENCY_RETRY_AFTER_SECONDS;
  return Math.max(1, Math.ceil(check.outcome.retryAfterMs / 1_000));
}
