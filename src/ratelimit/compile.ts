import { compileAddressRanges, type AddressRanges } from '../net/trusted-proxies.js';
import type { FailMode } from '../store/store.js';
import type { KeyPart } from './key-parts.js';
import type { LimitSettings, RateLimitLayerSettings } from './schema.js';

/** One limit of a tier, in the units the store uses. */
export interface CompiledLimit {
  readonly requests: number;
  readonly perMs: number;
  /** GCRA only: units that may be used at once. */
  readonly burst: number;
}

/** The limits a layer applies to one tier of callers. */
export interface CompiledTier {
  /** The claim value, or `default` for callers that match no tier. */
  readonly name: string;
  readonly limits: readonly CompiledLimit[];
  readonly maxInFlight: number | undefined;
}

/** A layer ready for decisions; build once per policy snapshot. */
export interface CompiledLayer {
  readonly name: string;
  readonly keyParts: readonly KeyPart[];
  readonly algorithm: 'gcra' | 'sliding_window';
  readonly cost: number;
  readonly shadow: boolean;
  readonly failMode: FailMode;
  readonly missingKey: 'skip' | 'shared';
  /** Route names the layer applies to; undefined for every route. */
  readonly routes: ReadonlySet<string> | undefined;
  readonly exemptAddresses: AddressRanges;
  readonly exemptRoles: ReadonlySet<string>;
  /** Claim path that selects a tier; undefined when the layer has no tiers. */
  readonly tierClaim: string | undefined;
  readonly tiers: ReadonlyMap<string, CompiledTier>;
  readonly defaultTier: CompiledTier;
}

/** Name of the tier for callers whose claim matches no configured tier. */
export const DEFAULT_TIER = 'default';

/**
 * Compiles validated `rate_limits` layers. `defaultFailMode` is the store's `fail_mode`, used
 * by layers that set none.
 */
export function compileRateLimits(
  layers: readonly RateLimitLayerSettings[],
  defaultFailMode: FailMode,
): CompiledLayer[] {
  return layers.map((layer) => compileLayer(layer, defaultFailMode));
}

function compileLayer(layer: RateLimitLayerSettings, defaultFailMode: FailMode): CompiledLayer {
  const defaultTier: CompiledTier = {
    name: DEFAULT_TIER,
    limits: layer.limits.map(compileLimit),
    maxInFlight: layer.max_in_flight,
  };
  const tiers = new Map<string, CompiledTier>();
  for (const [name, tier] of Object.entries(layer.tiers?.values ?? {})) {
    tiers.set(name, {
      name,
      limits: (tier.limits ?? layer.limits).map(compileLimit),
      maxInFlight: tier.max_in_flight ?? layer.max_in_flight,
    });
  }
  return {
    name: layer.name,
    keyParts: layer.key,
    algorithm: layer.algorithm,
    cost: layer.cost,
    shadow: layer.shadow,
    failMode: layer.fail_mode ?? defaultFailMode,
    missingKey: layer.missing_key,
    routes: layer.routes === undefined ? undefined : new Set(layer.routes),
    exemptAddresses: compileAddressRanges(layer.exempt.cidrs),
    exemptRoles: new Set(layer.exempt.roles),
    tierClaim: layer.tiers?.claim,
    tiers,
    defaultTier,
  };
}

function compileLimit(limit: LimitSettings): CompiledLimit {
  return { requests: limit.requests, perMs: limit.per, burst: limit.burst ?? limit.requests };
}
