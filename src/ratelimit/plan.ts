import { parseIpAddress } from '../net/ip-address.js';
import type { LimitCheck } from '../store/store.js';
import type { CompiledLayer, CompiledLimit, CompiledTier } from './compile.js';
import { claimValue, layerKey } from './layer-key.js';
import type { RateLimitRequest } from './request.js';

/** The layer, tier and limit a check was made for, to map its outcome back to the layer. */
export type CheckTarget =
  | { readonly layer: CompiledLayer; readonly tier: CompiledTier; readonly limit: CompiledLimit }
  | { readonly layer: CompiledLayer; readonly tier: CompiledTier; readonly limit: 'concurrency' };

/** The checks of one request, and for each the layer and limit it stands for. */
export interface RequestPlan {
  readonly checks: readonly LimitCheck[];
  readonly targets: readonly CheckTarget[];
}

/**
 * Lists the checks of every layer that applies to the request. A layer does not apply when the
 * route is not among its `routes`, when the client address or a role is exempt, or when a key
 * part has no value and `missing_key` is `skip`.
 */
export function planChecks(
  layers: readonly CompiledLayer[],
  request: RateLimitRequest,
): RequestPlan {
  const checks: LimitCheck[] = [];
  const targets: CheckTarget[] = [];
  for (const layer of layers) {
    if (!appliesTo(layer, request)) continue;
    const tier = selectTier(layer, request);
    const key = layerKey(layer, tier, request);
    if (key === undefined) continue;
    for (const limit of tier.limits) {
      checks.push(rateCheck(layer, limit, key));
      targets.push({ layer, tier, limit });
    }
    if (tier.maxInFlight !== undefined) {
      checks.push({
        kind: 'concurrency',
        key: `${key}:c`,
        maxInFlight: tier.maxInFlight,
        shadow: layer.shadow,
        failMode: layer.failMode,
      });
      targets.push({ layer, tier, limit: 'concurrency' });
    }
  }
  return { checks, targets };
}

function appliesTo(layer: CompiledLayer, request: RateLimitRequest): boolean {
  return layerScope(layer, request) === 'applies';
}

/**
 * Whether a layer concerns a request: `other_route` when the route is not among its `routes`,
 * `exempt` when the client address or a role is exempt, `applies` otherwise.
 */
export function layerScope(
  layer: CompiledLayer,
  request: RateLimitRequest,
): 'other_route' | 'exempt' | 'applies' {
  if (
    layer.routes !== undefined &&
    (request.route === undefined || !layer.routes.has(request.route))
  ) {
    return 'other_route';
  }
  if (request.roles?.some((role) => layer.exemptRoles.has(role))) return 'exempt';
  if (layer.exemptAddresses.size === 0) return 'applies';
  const address = parseIpAddress(request.clientIp);
  const exempt = address !== undefined && layer.exemptAddresses.contains(address);
  return exempt ? 'exempt' : 'applies';
}

function selectTier(layer: CompiledLayer, request: RateLimitRequest): CompiledTier {
  if (layer.tierClaim === undefined) return layer.defaultTier;
  const value = claimValue(request.claims, layer.tierClaim);
  return (value !== undefined ? layer.tiers.get(value) : undefined) ?? layer.defaultTier;
}

/**
 * Builds the check of one limit. Its key names the algorithm and the window, because stored
 * state means something else under another algorithm or window. Changing either starts empty.
 */
function rateCheck(layer: CompiledLayer, limit: CompiledLimit, key: string): LimitCheck {
  const seconds = limit.perMs / 1_000;
  if (layer.algorithm === 'sliding_window') {
    return {
      kind: 'sliding_window',
      key: `${key}:s${seconds}`,
      cost: layer.cost,
      windowMs: limit.perMs,
      limit: limit.requests,
      shadow: layer.shadow,
      failMode: layer.failMode,
    };
  }
  return {
    kind: 'gcra',
    key: `${key}:g${seconds}`,
    cost: layer.cost,
    intervalMs: limit.perMs / limit.requests,
    burst: limit.burst,
    shadow: layer.shadow,
    failMode: layer.failMode,
  };
}
