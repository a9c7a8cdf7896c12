import { z } from 'zod';
import { isValidClaimPath } from '../auth/claim-path.js';
import { duration } from '../config/fields.js';
import { addressRangeProblem } from '../net/trusted-proxies.js';
import { FAIL_MODES } from '../store/store.js';
import { parseKeyPart, type KeyPart } from './key-parts.js';

const LAYER_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
/** Tier names are claim values such as `free` or `Pro`; braces would change the Redis slot. */
const TIER_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_REQUESTS = 1_000_000_000;
const MAX_IN_FLIGHT = 1_000_000;

const keyPart = z.string().transform((text, context): KeyPart => {
  const part = parseKeyPart(text);
  if (typeof part === 'string') {
    context.addIssue({ code: 'custom', message: part });
    return z.NEVER;
  }
  return part;
});

/**
 * One limit: `requests` per `per`. With GCRA, `burst` requests may arrive at once (default
 * `requests`) and then one every `per / requests`. `per` is a whole number of seconds, because
 * the RateLimit-Policy header states windows in seconds.
 */
const limitSchema = z
  .strictObject({
    requests: z.number().int().min(1).max(MAX_REQUESTS),
    per: duration(),
    burst: z.number().int().min(1).max(MAX_REQUESTS).optional(),
  })
  .superRefine((limit, context) => {
    if (limit.per < 1_000 || limit.per % 1_000 !== 0) {
      context.addIssue({
        code: 'custom',
        path: ['per'],
        message: 'must be whole seconds, at least 1s',
      });
    }
  });

const limitsSchema = z
  .array(limitSchema)
  .refine((limits) => new Set(limits.map((limit) => limit.per)).size === limits.length, {
    message: 'must not list two limits with the same per',
  });

const tierSchema = z.strictObject({
  limits: limitsSchema.optional(),
  max_in_flight: z.number().int().min(1).max(MAX_IN_FLIGHT).optional(),
});

const tiersSchema = z.strictObject({
  /** Claim whose value names the tier, as a dot path or a JSON Pointer. */
  claim: z.string().refine(isValidClaimPath, 'must be a dot path such as plan or a JSON Pointer'),
  /** Limits per claim value; a request whose claim matches none uses the layer's own. */
  values: z.record(
    z.string().regex(TIER_NAME, 'must be 1-64 characters of A-Z, a-z, 0-9, _ . : -'),
    tierSchema,
  ),
});

const exemptSchema = z.strictObject({
  /** Client addresses that skip the layer: CIDRs, addresses or named ranges such as private. */
  cidrs: z
    .array(
      z.string().superRefine((entry, context) => {
        const problem = addressRangeProblem(entry);
        if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
      }),
    )
    .default([]),
  /** Roles that skip the layer; the caller reads them from the token. */
  roles: z.array(z.string().min(1)).default([]),
});

/**
 * One rate-limit layer of a policy file. All layers that apply to a request are decided
 * together, and a request one layer rejects consumes nothing in the others.
 */
export const rateLimitLayerSchema = z
  .strictObject({
    name: z.string().regex(LAYER_NAME, 'must be 1-64 characters of a-z, 0-9, "_", "." and "-"'),
    /** Key parts; empty means one bucket for every request (a global limit). */
    key: z.array(keyPart).default([]),
    limits: limitsSchema.default([]),
    /** `gcra` admits bursts up to `burst` and then a steady rate; see `GcraCheck`. */
    algorithm: z.enum(['gcra', 'sliding_window']).default('gcra'),
    /** Units one request consumes. */
    cost: z.number().int().min(1).max(MAX_REQUESTS).default(1),
    /** Requests of one key in progress at once; a slot is held until the response ends. */
    max_in_flight: z.number().int().min(1).max(MAX_IN_FLIGHT).optional(),
    tiers: tiersSchema.optional(),
    /** Evaluate and report, but never reject. */
    shadow: z.boolean().default(false),
    exempt: exemptSchema.prefault({}),
    /** Route names the layer applies to; every route when omitted. */
    routes: z.array(z.string().min(1)).min(1).optional(),
    /** Behavior of the layer while Redis fails; the store's `fail_mode` when omitted. */
    fail_mode: z.enum(FAIL_MODES).optional(),
    /**
     * A request without a value for a key part (no token, no such header): `skip` leaves the
     * layer out for it, so pair a claim-keyed layer with a client_ip one. `shared` counts all
     * such requests in one bucket.
     */
    missing_key: z.enum(['skip', 'shared']).default('skip'),
  })
  .superRefine((layer, context) => {
    const issue = (path: (string | number)[], message: string) =>
      context.addIssue({ code: 'custom', path, message });
    const tiers = Object.entries(layer.tiers?.values ?? {});
    if (layer.limits.length === 0 && layer.max_in_flight === undefined) {
      issue(['limits'], 'set limits, max_in_flight or both');
    }
    for (const [tierName, tier] of tiers) {
      if (tier.limits?.length === 0 && (tier.max_in_flight ?? layer.max_in_flight) === undefined) {
        issue(['tiers', 'values', tierName, 'limits'], 'set limits, max_in_flight or both');
      }
    }
    const limitLists: [(string | number)[], z.output<typeof limitSchema>[]][] = [
      [['limits'], layer.limits],
      ...tiers.map(([tierName, tier]): [(string | number)[], z.output<typeof limitSchema>[]] => [
        ['tiers', 'values', tierName, 'limits'],
        tier.limits ?? [],
      ]),
    ];
    for (const [path, limits] of limitLists) {
      limits.forEach((limit, index) => {
        if (layer.algorithm === 'sliding_window' && limit.burst !== undefined) {
          issue([...path, index, 'burst'], 'is only used with algorithm gcra');
        }
        const capacity = limit.burst ?? limit.requests;
        if (layer.cost > capacity) {
          issue(
            ['cost'],
            `is larger than ${capacity}, so no request could pass ${path.join('.')}.${index}`,
          );
        }
      });
    }
  });

/** The `rate_limits:` list of a policy file. */
export const rateLimitsSchema = z.array(rateLimitLayerSchema).superRefine((layers, context) => {
  const seen = new Set<string>();
  layers.forEach((layer, index) => {
    if (seen.has(layer.name)) {
      context.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `layer name "${layer.name}" is used twice`,
      });
    }
    seen.add(layer.name);
  });
});

export type RateLimitLayerSettings = z.output<typeof rateLimitLayerSchema>;
export type LimitSettings = RateLimitLayerSettings['limits'][number];
