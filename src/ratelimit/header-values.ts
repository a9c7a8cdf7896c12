import type { CheckOutcome } from '../store/store.js';
import type { CompiledLayer } from './compile.js';
import type { QuotaPolicy, RateLimitHeaderValues, ServiceLimit } from './headers.js';
import type { CheckTarget } from './plan.js';

/** A check's position in the plan with its outcome; skipped checks have none. */
export interface DecidedCheck {
  readonly target: CheckTarget;
  readonly outcome: CheckOutcome;
}

/**
 * Header values for a limited request: the policies of the rejecting layer, and its rejecting
 * limit with `t` equal to `Retry-After`, so both name the same moment (draft section B.1.4).
 */
export function limitedHeaderValues(
  decided: readonly DecidedCheck[],
  rejecting: DecidedCheck,
  retryAfterSeconds: number,
): RateLimitHeaderValues {
  const limit: ServiceLimit = {
    policy: policyName(rejecting.target, decided),
    remaining: rejecting.outcome.remaining,
    resetSeconds: retryAfterSeconds,
  };
  return { policies: layerPolicies(rejecting.target.layer, decided), limit, retryAfterSeconds };
}

/**
 * Header values for an admitted request: the enforced limit with the fewest units left (ties go
 * to the longer reset), as the draft suggests reporting the limit closest to exhaustion.
 * Returns undefined when no enforced check was decided.
 */
export function admittedHeaderValues(
  decided: readonly DecidedCheck[],
): RateLimitHeaderValues | undefined {
  let closest: DecidedCheck | undefined;
  for (const check of decided) {
    if (check.target.layer.shadow) continue;
    if (closest === undefined || isCloserToLimit(check.outcome, closest.outcome)) closest = check;
  }
  if (closest === undefined) return undefined;
  const limit: ServiceLimit = {
    policy: policyName(closest.target, decided),
    remaining: closest.outcome.remaining,
    ...(closest.target.limit === 'concurrency'
      ? {}
      : { resetSeconds: Math.ceil(closest.outcome.resetMs / 1_000) }),
  };
  return { policies: layerPolicies(closest.target.layer, decided), limit };
}

function isCloserToLimit(candidate: CheckOutcome, current: CheckOutcome): boolean {
  if (candidate.remaining !== current.remaining) return candidate.remaining < current.remaining;
  return candidate.resetMs > current.resetMs;
}

function layerPolicies(layer: CompiledLayer, decided: readonly DecidedCheck[]): QuotaPolicy[] {
  return decided
    .filter((check) => check.target.layer === layer)
    .map((check) => {
      const name = policyName(check.target, decided);
      const limit = check.target.limit;
      if (limit === 'concurrency') {
        return { name, quota: check.target.tier.maxInFlight!, unit: 'concurrent-requests' };
      }
      return { name, quota: limit.requests, windowSeconds: limit.perMs / 1_000 };
    });
}

/**
 * Names a policy after its layer. A layer with several limits adds the window (`api-60s`) or
 * `concurrency`, so every policy name in the header is unique.
 */
function policyName(target: CheckTarget, decided: readonly DecidedCheck[]): string {
  const siblings = decided.filter((check) => check.target.layer === target.layer).length;
  if (siblings <= 1) return target.layer.name;
  if (target.limit === 'concurrency') return `${target.layer.name}-concurrency`;
  return `${target.layer.name}-${target.limit.perMs / 1_000}s`;
}
